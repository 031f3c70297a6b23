"""Two-layer uncertainty: a driver's parameters drawn once per path from rows (a fit's
bootstrap), in the kernel and in the numpy reference, validated, written and read back."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from conftest import make_toy

from distributions import Empirical, Gamma, Normal, StudentT
from simcore import simulate
from simcore.analysis.sensitivity import pin_driver
from simcore.io.scenario_file import dumps_scenario, loads_scenario
from simcore.model import equations as reference
from simcore.model.errors import ScenarioError
from simcore.model.scenario import ParameterDraws, Scenario
from simcore.model.validate import validate


def _with(sc: Scenario, name: str, **changes) -> Scenario:
    return replace(
        sc, drivers=tuple(replace(d, **changes) if d.name == name else d for d in sc.drivers)
    )


LOCS = (-0.08, -0.03, 0.0, 0.03, 0.08)  # the rows' loc deviations, mean 0
SCALES = (0.05, 0.06, 0.07, 0.08, 0.09)


def _uncertain_growth() -> Scenario:
    rows = tuple(zip(LOCS, SCALES, strict=True))
    return _with(
        make_toy(),
        "growth.a",
        uncertainty=ParameterDraws(("loc", "scale"), rows, "five made-up rows"),
    )


@pytest.mark.parametrize(
    ("name", "dist", "params", "rows"),
    [
        ("growth.a", Normal(0.0, 0.1), ("loc", "scale"), ((-0.05, 0.08), (0.0, 0.1), (0.04, 0.12))),
        (
            "multiple.ps",
            Gamma(shape=50.0, scale=0.02),  # a tabulated family: the rows take its exact code
            ("shape", "scale"),
            ((40.0, 0.025), (50.0, 0.02), (60.0, 1 / 60)),
        ),
        ("margin.a", StudentT(df=5.0, loc=0.0, scale=0.01), ("df",), ((6.0,), (10.0,), (30.0,))),
    ],
)
def test_kernel_draws_match_the_numpy_reference(name, dist, params, rows):
    sc = _with(make_toy(), name, dist=dist, uncertainty=ParameterDraws(params, rows))
    r = simulate(sc, 3000, seed=9, keep_draws=True)
    drivers, _, _ = reference.sample(sc, 3000, 9)
    for n, x in drivers.items():
        np.testing.assert_allclose(r.draws["drivers"][n], x, rtol=1e-9, atol=1e-12, err_msg=n)


def test_each_path_keeps_its_row_and_every_other_draw_is_unchanged():
    plain = make_toy()
    sc = _with(
        plain,
        "growth.a",
        persistence=1.0,
        dist=Normal(0.0, 0.1),
        uncertainty=ParameterDraws(("loc",), tuple((v,) for v in LOCS)),
    )
    r = simulate(sc, 4000, seed=3, keep_draws=True)
    r0 = simulate(_with(plain, "growth.a", persistence=1.0), 4000, seed=3, keep_draws=True)
    g, g0 = r.draws["drivers"]["growth.a"], r0.draws["drivers"]["growth.a"]
    base = np.array([0.3, 0.25, 0.2])
    dev = g - base
    dev0 = g0 - base
    shift = dev - dev0  # the row's loc, the same in every year of a path
    np.testing.assert_allclose(shift, shift[:, :1].repeat(3, axis=1), atol=1e-12)
    assert set(np.round(shift[:, 0], 12)) == set(LOCS)
    for n in ("growth.b", "margin.a", "wacc"):
        assert np.array_equal(r.draws["drivers"][n], r0.draws["drivers"][n]), n


def test_the_mixture_has_the_law_of_total_variance():
    """Var X = E[Var X | row] + Var E[X | row]: scale^2 averaged plus the rows' loc spread,
    within 4 Monte Carlo standard errors of 200,000 draws (k = 4)."""
    sc = _uncertain_growth()
    n = 200_000
    x = simulate(sc, n, seed=1, keep_draws=True).draws["drivers"]["growth.a"][:, 0] - 0.3
    scales = np.array(SCALES)
    var = float(np.mean(scales**2) + np.var(LOCS))
    m4 = float(np.mean((x - x.mean()) ** 4))
    se = math.sqrt((m4 - var**2) / n)
    assert abs(float(x.var()) - var) <= 4.0 * se
    assert abs(float(x.mean())) <= 4.0 * math.sqrt(var / n)


def test_parameter_uncertainty_widens_the_fan():
    sc = _uncertain_growth()
    base = _with(make_toy(), "growth.a", dist=Normal(0.0, 0.07))  # the rows' mean scale
    w = simulate(sc, 20_000, seed=2).quantiles("net_profit_attributable", [0.05, 0.95])
    w0 = simulate(base, 20_000, seed=2).quantiles("net_profit_attributable", [0.05, 0.95])
    width = np.diff(w.to_numpy(), axis=1)  # years x (0.95 - 0.05)
    assert (width > np.diff(w0.to_numpy(), axis=1)).all()


def test_the_same_seed_gives_the_same_bytes_whatever_the_threads_and_the_split():
    sc = _uncertain_growth()
    a = simulate(sc, 30_000, seed=4, threads=1)
    b = simulate(sc, 30_000, seed=4, threads=2)
    first = simulate(sc, 12_000, seed=4, n_total=30_000)
    rest = simulate(sc, 18_000, seed=4, start=12_000, n_total=30_000)
    for k in ("net_profit_attributable", "price_dcf"):
        assert a[k].tobytes() == b[k].tobytes(), k
        assert a[k].tobytes() == np.concatenate([first[k], rest[k]]).tobytes(), k


def test_a_file_round_trip_keeps_the_rows():
    sc = _uncertain_growth()
    text = dumps_scenario(sc)
    assert '[drivers."growth.a".uncertainty]' in text
    back = loads_scenario(text)
    assert back.driver("growth.a").uncertainty == sc.driver("growth.a").uncertainty
    again = dumps_scenario(back)
    assert again == text, [
        (a, b) for a, b in zip(again.splitlines(), text.splitlines(), strict=False) if a != b
    ]


def _bad(uncertainty: ParameterDraws, dist=None, mode: str = "add", name="growth.a"):
    dist = Normal(0.0, 0.1) if dist is None else dist
    sc = _with(make_toy(), name, dist=dist, mode=mode, uncertainty=uncertainty)
    with pytest.raises(ScenarioError) as info:
        validate(sc)
    return str(info.value)


def test_bad_rows_are_refused_naming_the_driver_the_row_and_what_is_allowed():
    msg = _bad(ParameterDraws(("sacle",), ((0.1,), (0.2,))))
    assert "'sacle' is not a parameter of Normal" in msg and "did you mean 'scale'" in msg
    msg = _bad(ParameterDraws(("loc", "scale"), ((0.0, 0.1), (0.0, -0.2))))
    assert "uncertainty.scale[1]" in msg and "parameter row 1" in msg
    msg = _bad(ParameterDraws(("scale",), ((0.1,),)))
    assert "1 parameter rows; allowed 2 to 10,000 rows" in msg
    msg = _bad(ParameterDraws(("data",), ((1.0,), (2.0,))), dist=Empirical([0.0, 0.1, 0.2]))
    assert "parameters of a Empirical cannot be drawn per path" in msg
    msg = _bad(
        ParameterDraws(("loc",), ((1.0,), (-5.0,))),
        dist=Normal(1.0, 0.01),
        mode="mul",
        name="multiple.ps",
    )
    assert "parameter row 0" in msg or "can be negative" in msg
    msg = _bad(ParameterDraws(("scale",), ((0.1,), (float("nan"),))))
    assert "uncertainty.scale[1]" in msg or "nan" in msg.lower()


def test_a_file_with_unequal_rows_names_the_key_and_line():
    text = dumps_scenario(_uncertain_growth())
    bad = text.replace("scale = [0.05, 0.06, 0.07, 0.08, 0.09]", "scale = [0.05, 0.06]")
    assert bad != text
    with pytest.raises(ScenarioError, match=r"uncertainty\.scale \(line \d+\): 2 values where"):
        loads_scenario(bad, "toy.toml")


def test_the_limits_check_every_row():
    """A row that can take the driver out of its allowed range is refused like a dist."""
    rows = ((0.0, 0.01), (0.0, 0.01), (0.0, 40.0))  # a growth sd of 4,000 points
    msg = _bad(ParameterDraws(("loc", "scale"), rows))
    assert 'drivers."growth.a".uncertainty' in msg and "with its 3 parameter rows" in msg


def test_pinning_takes_the_mixture_quantile_and_drops_the_rows():
    sc = _uncertain_growth()
    d = sc.driver("growth.a")
    x = simulate(sc, 100_000, seed=6, keep_draws=True).draws["drivers"]["growth.a"][:, 0] - 0.3
    for q in (0.1, 0.5, 0.9):
        assert float(d.ppf(q)) == pytest.approx(float(np.quantile(x, q)), abs=4e-3)
    pinned = pin_driver(sc, "growth.a", 0.9).driver("growth.a")
    assert pinned.uncertainty is None and pinned.dist.value == pytest.approx(d.ppf(0.9))


def test_describe_and_the_notebook_repr_name_the_rows():
    sc = _uncertain_growth()
    u = sc.driver("growth.a").uncertainty
    assert u.describe().startswith("5 parameter rows, one per path (90% of rows: loc ")
    assert "parameter rows" in sc._repr_html_()


def test_a_design_fixes_the_parameter_row_and_sobol_sees_it_as_an_input():
    """The row's uniform is a design column (year 0): identical design rows give identical
    paths, and the Sobol' indices of the parameter rows are their own factor."""
    from simcore.analysis.sobol import default_groups, model_factors, sobol_analysis
    from simcore.engine.core import design_columns, evaluate_uniforms

    plain = make_toy()
    rows = tuple((m, 0.1) for m in np.linspace(-0.6, 0.4, 11))
    sc = _with(plain, "multiple.ps", uncertainty=ParameterDraws(("mu", "sigma"), rows, "made up"))
    cols = design_columns(sc)
    assert ("driver.parameters", "multiple.ps", 0) in cols
    assert len(cols) == len(design_columns(plain)) + sc.horizon
    H = sc.horizon
    u = np.full((8, H, len(cols) // H), 0.5)
    price = evaluate_uniforms(sc, u)["price_ps"][:, 0]
    assert np.all(price == price[0])
    assert "parameters.multiple.ps" in model_factors(sc)
    assert default_groups(sc)["parameter uncertainty"] == ["parameters.multiple.ps"]
    s = sobol_analysis(sc, 512, outputs="price_ps", groups="default", seed=1, n_boot=10)
    first = s.xs(sc.years[0], level="year").droplevel("output")
    assert first["S1"].sum() == pytest.approx(1.0, abs=0.08)  # additive here: S1 sum near 1
    assert first.loc["parameter uncertainty", "ST"] > 0.5  # the rows' mu spread dominates
    assert first.loc["margins and costs", "ST"] == pytest.approx(0.0, abs=0.02)


def test_shapley_treats_the_parameter_row_as_a_player():
    from simcore.analysis.shapley import model_shapley

    sc = _uncertain_growth()
    sh = model_shapley(sc, ["revenue"], n_perm=40, seed=3)
    last = sh.xs(sc.years[-1], level="year").droplevel("output")
    assert "parameters.growth.a" in last.index
    assert last.loc["parameters.growth.a", "shapley"] > 0.0


@pytest.mark.parametrize("sampling", ["lhs", "antithetic", "sobol"])
def test_the_row_is_sampled_like_every_other_input(sampling):
    """Rows with disjoint supports (row r draws from [r, r + 0.5)) tell which row a path took:
    Latin hypercube sampling gives every row exactly its share of the paths, antithetic pairs
    take mirrored rows (r and R - 1 - r), Sobol' sampling balances them too."""
    from distributions import Uniform

    R, n = 4, 1024  # Sobol': a power of two, whose points balance every dyadic interval
    rows = tuple((float(r), r + 0.5) for r in range(R))
    sc = _with(
        make_toy(),
        "growth.b",
        dist=Uniform(0.0, 0.5),
        uncertainty=ParameterDraws(("low", "high"), rows),
    )
    x = simulate(sc, n, seed=8, sampling=sampling, keep_draws=True).draws["drivers"]["growth.b"]
    row = np.floor(x[:, 0] - 0.1).astype(int)
    assert (row[:, None] == np.floor(x - 0.1).astype(int)).all()  # held in every year
    counts = np.bincount(row, minlength=R)
    if sampling == "antithetic":
        assert (row[0::2] + row[1::2] == R - 1).all()
    else:
        assert (counts == n // R).all(), counts


def test_a_scenario_without_rows_keeps_its_digest():
    """The manifests' scenario hash of the default is what it was before parameter rows
    existed (earlier runs' folders still match; golden value from commit d53bb2b)."""
    from simcore.io.scenario_file import default_scenario

    assert (
        default_scenario().digest()
        == "07ec54e7faa3062d6fb0131924ce21e3ee417445377d8629f69c23fc184b653b"
    )
    assert _uncertain_growth().digest() != make_toy().digest()
