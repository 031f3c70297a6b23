"""Sensitivity: Sobol' indices (generic and on the kernel), tornado/spider, rank correlations.

Seeds are arbitrary fixed integers unless a comment says otherwise. Sizes are small: the whole
file runs in well under a minute on two cores.
"""

import dataclasses

import numpy as np
import pytest
from conftest import make_toy

from distributions import Normal, Uniform
from simcore.analysis.known_models import ishigami, ishigami_indices, ishigami_inputs
from simcore.analysis.measures import statistic
from simcore.analysis.sensitivity import (
    INDEPENDENCE_NOTE,
    default_groups,
    model_factors,
    one_at_a_time,
    rank_correlation,
    sobol_analysis,
    sobol_indices,
    spider,
    tornado,
)
from simcore.engine.core import simulate
from simcore.report import sensitivity_charts as charts

NPA_2027 = ("median", "net_profit_attributable", 2027)


# -- generic Sobol' indices ------------------------------------------------------------------------
def test_ishigami_indices_match_the_analytic_values():
    """a=7, b=0.1 at N = 2^14: scrambled Sobol' estimates land within 1e-3 of the truth here;
    the issue's tolerance is 0.01 (the bootstrap half-widths are about 0.015)."""
    truth = ishigami_indices()
    np.testing.assert_allclose(truth["S1"], [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(truth["ST"], [0.5576, 0.4424, 0.2437], atol=1e-4)
    got = sobol_indices(ishigami, ishigami_inputs(), 2**14, seed=2)
    assert list(got.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert list(got.index) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(got["S1"], truth["S1"], atol=0.01)
    np.testing.assert_allclose(got["ST"], truth["ST"], atol=0.01)
    assert (got["S1_conf"] > 0).all() and (got["ST_conf"] > 0).all()
    assert got.attrs["n_evaluations"] == 2**14 * 5


def test_groups_follow_the_analytic_variance_decomposition():
    """Group {x1, x3}: S1 = (V1 + V13) / V = ST(x1); ST = 1 - S1(x2)."""
    truth = ishigami_indices()
    got = sobol_indices(
        ishigami, ishigami_inputs(), 2**13, seed=3, groups={"x1 and x3": ["x1", "x3"]}
    )
    assert list(got.index) == ["x1 and x3", "x2"]
    assert got.loc["x1 and x3", "S1"] == pytest.approx(truth.loc["x1", "ST"], abs=0.01)
    assert got.loc["x1 and x3", "ST"] == pytest.approx(1 - truth.loc["x2", "S1"], abs=0.01)


def test_constant_output_gives_exactly_zero_indices():
    got = sobol_indices(lambda x: np.full(x.shape[0], 3.5), ishigami_inputs(), 2**6, seed=1)
    assert (got.to_numpy() == 0.0).all()


def test_several_outputs_one_block_each_and_a_constant_column_is_zero():
    def two(x):
        return np.column_stack([ishigami(x), np.zeros(x.shape[0])])

    got = sobol_indices(two, ishigami_inputs(), 2**8, seed=1, output_names=["f", "zero"])
    assert got.index.names == ["output", "input"]
    assert (got.loc["zero"].to_numpy() == 0.0).all()
    assert got.loc[("f", "x2"), "S1"] > 0.3


def test_nan_outputs_raise_with_their_count():
    def leaky(x):
        y = ishigami(x)
        y[:7] = np.nan
        return y

    with pytest.raises(ValueError, match="7 NaN"):
        sobol_indices(leaky, ishigami_inputs(), 2**6, seed=1)


@pytest.mark.parametrize("n", [1000, 0, -8, 2.0, True, 3])
def test_invalid_sample_size_raises_naming_it(n):
    with pytest.raises(ValueError, match=f"n={n!r} must be a positive power of two"):
        sobol_indices(ishigami, ishigami_inputs(), n)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"groups": {"g": ["x9"]}}, "'x9' matches no input"),
        ({"groups": {"a": ["x1"], "b": ["x1"]}}, "'x1' is in two groups"),
        ({"groups": {"all": ["x*"]}}, "at least 2 inputs or groups"),
        ({"conf_level": 1.5}, "conf_level=1.5"),
        ({"n_boot": 1}, "n_boot=1"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sobol_indices(ishigami, ishigami_inputs(), 2**4, **kwargs)


def test_inputs_must_be_distribution_specs():
    with pytest.raises(TypeError, match="not a distributions spec"):
        sobol_indices(ishigami, {"x1": (0, 1), "x2": Uniform(0, 1), "x3": Uniform(0, 1)}, 16)


def test_linear_model_with_normal_inputs():
    """y = x1 + 2 x2 with independent normals: S1 = ST = (1/5, 4/5), additive (no interaction)."""
    inputs = {"x1": Normal(0.0, 1.0), "x2": Normal(0.0, 1.0)}
    got = sobol_indices(lambda x: x[:, 0] + 2 * x[:, 1], inputs, 2**12, seed=4)
    np.testing.assert_allclose(got["S1"], [0.2, 0.8], atol=0.01)
    np.testing.assert_allclose(got["ST"], [0.2, 0.8], atol=0.01)


# -- Sobol' on the company model -------------------------------------------------------------------
def test_model_sobol_per_year_with_exact_zeros_for_unused_factors():
    sc = make_toy()
    got = sobol_analysis(
        sc, 2**7, outputs=["net_profit_attributable", "price_ps"], seed=6, n_boot=20
    )
    factors = model_factors(sc)
    assert factors[-2:] == ["shock.tech", "shock.leak"]
    assert got.index.names == ["output", "year", "factor"]
    # the three copula-labelled drivers are one input (order-free): 22 factors, 20 inputs
    assert len(got) == 2 * 3 * (len(factors) - 2)
    assert got.attrs["note"] == INDEPENDENCE_NOTE
    assert got.attrs["n_evaluations"] == 2**7 * (len(factors) - 2 + 2)
    # valuation multiples and the DCF inputs never touch net profit: exactly zero, not ~0
    npa = got.loc[("net_profit_attributable", 2027)]
    for f in ("multiple.ps", "multiple.pe", "multiple.ev_ebitda", "wacc", "terminal_growth"):
        assert (npa.loc[f, ["S1", "S1_conf", "ST", "ST_conf"]] == 0.0).all(), f
    assert npa["ST"].idxmax() in ("correlated drivers", "shock.tech")


def test_model_sobol_default_groups_and_nan_outputs():
    sc = make_toy()
    groups = default_groups(sc)
    assert groups["correlated drivers"] == ["growth.a", "growth.b", "margin.a"]
    assert "a growth" not in groups and "b growth" not in groups  # inside the block
    assert groups["margins and costs"] == [
        "margin.b",
        "ratio.taxes_surcharges",
        "ratio.selling",
        "ratio.admin",
        "ratio.rnd",
        "fixed_growth.selling",
        "fixed_growth.admin",
        "fixed_growth.rnd",
        "ratio.impairment",
    ]
    assert groups["capital"] == ["capex_intensity"]
    assert groups["tech shock"] == ["shock.tech"]
    got = sobol_analysis(sc, 2**6, groups="default", seed=6, n_boot=10)
    assert list(got.loc[("net_profit_attributable", 2025)].index) == list(groups)
    assert got.loc[("net_profit_attributable", 2025, "margins and costs"), "members"].startswith(
        "margin.b, ratio"
    )
    with pytest.raises(ValueError, match=r"'dcf_terminal_share' is undefined \(NaN\) on \d+ of"):
        sobol_analysis(
            make_toy(tax_loss_carryforward=0.0, other_income=(-200,)),
            2**5,
            outputs=["dcf_terminal_share"],
            n_boot=10,
        )


# -- one at a time ---------------------------------------------------------------------------------
def test_tornado_factor_without_effect_has_zero_width_bar():
    sc = make_toy()
    t = tornado(sc, NPA_2027, factors=["margin.a", "multiple.pe", "growth.a"], n_paths=2000, seed=3)
    assert list(t.columns) == ["low_input", "high_input", "low", "high", "swing"]
    assert t.index[-1] == "multiple.pe"  # sorted by |swing|, no effect last
    row = t.loc["multiple.pe"]
    assert row["swing"] == 0.0 and row["low"] == row["high"] == t.attrs["base"]
    assert t.loc["margin.a", "swing"] > 0 and t.loc["margin.a", "low_input"] < 0
    # the chart draws a zero-width bar for it and says so
    fig = charts.tornado_chart(t)
    ax = fig.axes[0]
    bars = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    assert bars["low:multiple.pe"].get_width() == 0.0 == bars["high:multiple.pe"].get_width()
    assert bars["high:margin.a"].get_width() > 0
    assert any(t.get_text().strip() == "no effect" for t in ax.texts)
    assert ax.get_xlabel() == "median net profit attributable, 2027 (CNY m)"


def test_one_at_a_time_uses_common_random_numbers():
    """Pinning a driver at its median with persistence 0 and a symmetric marginal moves the
    statistic only through that driver: other drivers' draws are unchanged (same seed)."""
    sc = make_toy()
    oat = one_at_a_time(
        sc,
        ("mean", "revenue", 2025),
        factors=["ratio.rnd"],
        n_paths=1500,
        seed=5,
        levels=(0.2, 0.5),
    )
    # R&D ratio does not touch revenue: every level gives the base bit for bit
    assert (oat["value"] == oat.attrs["base"]).all()
    assert oat.loc[("ratio.rnd", 0.5), "input"] == 0.0


def test_spider_has_five_levels_and_its_chart_one_line_per_factor():
    sc = make_toy()
    sp = spider(
        sc, ("p5", "net_profit", 2026), factors=["growth.a", "ratio.selling"], n_paths=1000, seed=2
    )
    assert list(sp.columns) == [0.10, 0.25, 0.50, 0.75, 0.90]
    assert (np.diff(sp.loc["ratio.selling"].to_numpy()) <= 0).all()  # higher cost, lower profit
    fig = charts.spider_chart(sp)
    lines = [ln.get_gid() for ln in fig.axes[0].lines if (ln.get_gid() or "").startswith("line:")]
    assert lines == [f"line:{f}" for f in sp.index]  # widest range first
    assert sorted(sp.index) == ["growth.a", "ratio.selling"]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (("median", "profit"), "unknown output 'profit'"),
        (("median", "revenue", 2031), "year=2031 is not simulated"),
        (("p150", "revenue"), "needs a level in"),
        (("middle", "revenue"), "unknown stat 'middle'"),
        ("median", "must be"),
    ],
)
def test_statistic_specs_are_checked(spec, match):
    with pytest.raises(ValueError, match=match):
        statistic(spec, make_toy())


def test_statistic_values():
    r = simulate(make_toy(), 4000, seed=9)
    x = r["net_profit_attributable"][:, -1]
    assert statistic("median net_profit_attributable")(r) == np.quantile(x, 0.5)
    assert statistic(("p5", "net_profit_attributable", 2027))(r) == np.quantile(x, 0.05)
    assert statistic(("prob_loss", "net_profit_attributable"))(r) == np.mean(x < 0)
    cut = np.quantile(x, 0.05)
    assert statistic(("es5", "net_profit_attributable"))(r) == x[x <= cut].mean()
    p = r["price_pe"][:, 0]
    assert statistic(("prob_above_market", "price_pe", 2025))(r) == np.mean(p > 20.0)
    assert statistic(("median", "price_pe", 2025))(r) == np.quantile(p[~np.isnan(p)], 0.5)
    assert statistic(lambda res: 1.5)(r) == 1.5


# -- sampling-based --------------------------------------------------------------------------------
def test_rank_correlation_and_contribution_to_variance():
    sc = make_toy()
    r = simulate(sc, 6000, seed=4, keep_draws=True)
    rc = rank_correlation(r, ["net_profit_attributable", "price_pe"])
    assert rc.index.names == ["output", "year", "factor"]
    for (out, year), block in rc.groupby(level=["output", "year"], sort=False):
        assert block["contribution"].sum() == pytest.approx(1.0, abs=1e-12), (out, year)
        assert (block["spearman"].abs() <= 1).all()
    npa = rc.loc[("net_profit_attributable", 2025)]
    assert npa["spearman"]["margin.a"] > 0.3 and npa["spearman"]["ratio.selling"] < 0
    assert npa["spearman"]["shock.tech"] < 0
    pe = rc.loc[("price_pe", 2025)]
    assert (pe["n_used"] < 6000).all() == bool(np.isnan(r["price_pe"][:, 0]).any())
    fig = charts.rank_correlation_chart(rc)
    assert len(fig.axes[0].patches) == len(model_factors(sc))
    with pytest.raises(ValueError, match="keep_draws=True"):
        rank_correlation(simulate(sc, 100, seed=1))


def test_sobol_chart_draws_s1_and_st_with_intervals_per_year():
    got = sobol_analysis(make_toy(), 2**6, groups="default", seed=1, n_boot=10)
    fig = charts.sobol_chart(got)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["2025", "2026", "2027"]
    n_groups = len(got.loc[("net_profit_attributable", 2025)])
    for ax in fig.axes:
        assert sum(p.get_gid() == "S1" for p in ax.patches) == n_groups
        assert sum(p.get_gid() == "ST" for p in ax.patches) == n_groups
        assert ax.get_xlabel() == "share of output variance"
    assert len(fig.axes[0].get_yticklabels()) == n_groups


# -- order-free indices under dependence -----------------------------------------------------------
def _permuted(sc, order):
    labels = [sc.correlation_labels[i] for i in order]
    corr = np.asarray(sc.correlation)[np.ix_(order, order)]
    return dataclasses.replace(sc, correlation_labels=tuple(labels), correlation=corr)


@pytest.mark.parametrize("groups", [None, "default"])
def test_sobol_indices_do_not_depend_on_the_order_of_the_copula_labels(groups):
    """The same joint distribution with the labels reordered gives the same indices (within
    their confidence intervals): the copula block is one input, never split."""
    sc = make_toy()
    other = _permuted(sc, [2, 0, 1])
    a = sobol_analysis(sc, 2**9, groups=groups, seed=3, n_boot=50)
    b = sobol_analysis(other, 2**9, groups=groups, seed=4, n_boot=50)
    assert list(a.index) == list(b.index)
    assert "correlated drivers" in a.index.get_level_values("factor")
    assert not {"growth.a", "growth.b", "margin.a"} & set(a.index.get_level_values("factor"))
    for col in ("S1", "ST"):
        gap = (a[col] - b[col]).abs()
        tol = 2 * np.hypot(a[f"{col}_conf"], b[f"{col}_conf"]) + 0.02
        assert (gap <= tol).all(), gap[gap > tol]
    block = a.loc[("net_profit_attributable", 2027, "correlated drivers"), "members"]
    assert block == "growth.a, growth.b, margin.a"


def test_a_group_that_splits_the_block_is_merged_into_it():
    sc = make_toy()
    got = sobol_analysis(sc, 2**6, groups={"growth": ["growth.*"]}, seed=1, n_boot=10)
    factors = set(got.index.get_level_values("factor"))
    assert "correlated drivers" in factors and "growth" not in factors
    whole = sobol_analysis(sc, 2**6, groups={"demand": ["growth.*", "margin.a"]}, seed=1, n_boot=10)
    assert "demand" in set(whole.index.get_level_values("factor"))  # holds the whole block


def test_contribution_to_variance_gives_nothing_to_an_input_that_does_not_enter():
    from simcore.io.scenario_file import default_scenario

    sc = default_scenario()
    r = simulate(sc, 4000, seed=2, keep_draws=True)
    rc = rank_correlation(r, ["net_profit_attributable", "price_ps"])
    npa = rc.loc[("net_profit_attributable", 2027)]
    for name in ("multiple.ps", "multiple.pe", "multiple.ev_ebitda", "wacc", "terminal_growth"):
        assert npa.loc[name, "contribution"] == 0.0 and not npa.loc[name, "enters"], name
    # they still correlate through the copula (the association is shown, not attributed)
    assert abs(npa.loc["multiple.ps", "spearman"]) > 0.05
    assert npa["contribution"].sum() == pytest.approx(1.0)
    ps = rc.loc[("price_ps", 2027)]
    assert ps.loc["margin.ai_cloud", "contribution"] == 0.0
    assert ps.loc["multiple.ps", "contribution"] > 0.1


@pytest.mark.parametrize("groups", [None, ["a", "a", "b", "c", "b", "d", "a"]])
@pytest.mark.parametrize("n", [8, 100, 1024])
def test_saltelli_design_is_salibs_own(groups, n):
    """The vectorised Saltelli design gives SALib's ``sample.sobol.sample`` (first order, scrambled)
    bit for bit, with and without groups, for a power of two and not."""
    import warnings

    from SALib.sample import sobol as salib_sample

    from simcore.analysis.sobol import saltelli

    d = 7
    problem = {"num_vars": d, "names": [f"v{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    if groups:
        problem["groups"] = groups
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's balance warning for n not a power of two
        want = salib_sample.sample(
            problem, n, calc_second_order=False, scramble=True, seed=np.random.default_rng(5)
        )
        got = saltelli(problem, n, np.random.default_rng(5))
    assert got.shape == want.shape == (n * (len(set(groups or range(d))) + 2), d)
    assert got.tobytes() == want.tobytes()
