"""Parameter validation driven by the ``Param`` declarations, hypothesis properties of ppf, and
the scenario inputs that are well-formed but would break a run (sizes, text, magnitudes, files).

Invalid values are derived from each family's declared domains (NaN, infinities where not
allowed, bools, strings, values just outside the interval), so a new family is covered by
declaring its parameters. Valid random parameters come from the same declarations.
"""

import dataclasses
import io
import json
import math
import os
import subprocess
import sys
import unicodedata
import warnings
from importlib import resources

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import distributions
import simcore
from distributions import FAMILIES, Param, sampling
from distributions.copula import GaussianCopula, StudentTCopula
from distributions.streams import U_MIN
from distributions.testing import SANE_PARAMS, sane_distributions
from simcore.engine.core import design_columns
from simcore.io.scenario_file import (
    ScenarioError,
    default_scenario,
    dumps_scenario,
    load_scenario,
    loads_scenario,
)
from simcore.model import limits
from simcore.model.scenario import (
    FIXED_DRIVERS,
    Driver,
    Effect,
    Scenario,
    Segment,
    Shock,
    Stress,
    StressForce,
)
from simcore.report import charts
from simcore.report import pack as report

PARAM_FAMILIES = sorted(f for f, cls in FAMILIES.items() if cls.params)
SANE = sane_distributions()
# derandomize: the same examples on every run (a fixed seed per test, as for every other
# stochastic test here); no deadline: table builds and the first JIT compilation are slow
FIXED = settings(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def out_of_domain(p: Param) -> list:
    """Values just outside, on the open ends of, or far beyond the declared domain of ``p``."""
    bad = []
    if p.low > -math.inf:
        bad += [p.low - 1.0, np.nextafter(p.low, -math.inf)] + ([] if p.low_closed else [p.low])
    if p.high < math.inf:
        bad += [p.high + 1.0, np.nextafter(p.high, math.inf)] + ([] if p.high_closed else [p.high])
    bad += [v for v in (math.inf, -math.inf) if p.finite or not p.contains(v)]
    return bad


NOT_NUMBERS = [math.nan, True, np.True_, "5%", "5", None, 1 + 0j, [1.0]]
CASES = [
    (family, p.name, value)
    for family in PARAM_FAMILIES
    for p in FAMILIES[family].params
    for value in NOT_NUMBERS + out_of_domain(p)
]


@pytest.mark.parametrize(
    ("family", "name", "value"), CASES, ids=[f"{f}-{n}-{v!r}" for f, n, v in CASES]
)
def test_invalid_parameter_is_rejected_with_a_useful_message(family, name, value):
    kwargs = dict(SANE_PARAMS[family][0], **{name: value})
    with pytest.raises((TypeError, ValueError)) as info:
        FAMILIES[family](**kwargs)
    message = str(info.value)
    assert family in message and name in message
    if not isinstance(value, list | complex):
        assert repr(value) in message or str(value) in message


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: distributions.Uniform(1.0, 1.0), "low=1.0 must be below high=1.0"),
        (lambda: distributions.Uniform(2.0, 1.0), "low=2.0 must be below high=1.0"),
        (lambda: distributions.Uniform(-1e308, 1e308), "overflows"),
        (lambda: distributions.Triangular(0.0, 2.0, 1.0), "mode=2.0 must lie in [low, high]"),
        (lambda: distributions.Triangular(0.0, -0.5, 1.0), "mode=-0.5 must lie in [low, high]"),
        (lambda: distributions.Triangular(1.0, 1.0, 1.0), "low=1.0 must be below high=1.0"),
        (lambda: distributions.PERT(0.0, 5.0, 1.0), "mode=5.0 must lie in [low, high]"),
        (lambda: distributions.PERT(0.0, 0.5, 1.0, lam=0.0), "lam=0.0"),
        (lambda: distributions.Beta(2, 2, low=1.0, high=1.0), "low=1.0 must be below high=1.0"),
        (lambda: distributions.TruncatedNormal(0, 1, low=2.0, high=1.0), "low=2.0 must be below"),
        (lambda: distributions.TruncatedNormal(0, 1, low=40.0), "holds probability"),
        (lambda: distributions.TruncatedNormal(0, 1, low=math.inf), "low=inf"),
        (lambda: distributions.TruncatedNormal(0, 1, high=-math.inf), "high=-inf"),
        (lambda: distributions.Normal(0.0, 0.0), "scale=0.0"),
        (lambda: distributions.LogNormal(0.0, 0.0), "sigma=0.0"),
        (lambda: distributions.Gamma(2.0, -1.0), "scale=-1.0"),
        (lambda: distributions.StudentT(0.0), "df=0.0"),
        (lambda: distributions.Bernoulli(1.5), "p=1.5"),
        (lambda: distributions.Poisson(0.0), "mu=0.0"),
        (lambda: distributions.Normal(0.0, 1.0, 2.0), "at most 2 parameters"),
        (lambda: distributions.Normal(0.0, scael=1.0), "did you mean 'scale'"),
        (lambda: distributions.Normal(0.0), "missing parameter 'scale'"),
    ],
)
def test_cross_parameter_and_call_errors(make, needle):
    with pytest.raises((TypeError, ValueError)) as info:
        make()
    assert needle in str(info.value)
    assert str(info.value).split(":")[0].split()[0] in FAMILIES  # names the family first


def test_zero_spread_only_for_constant_and_infinite_truncation_allowed():
    assert distributions.Constant(0.0).std() == 0.0
    one_sided = distributions.TruncatedNormal(0.0, 1.0, low=-math.inf, high=0.0)
    assert one_sided.support() == (-math.inf, 0.0)
    assert distributions.Bernoulli(0.0).ppf(0.999) == 0.0
    assert distributions.Bernoulli(1.0).ppf(1e-9) == 1.0


@pytest.mark.parametrize(
    ("data", "error", "needle"),
    [
        ("1,2,3", TypeError, "1-d sequence"),
        ([True, False], TypeError, "dtype bool"),
        (["1", "2"], TypeError, "dtype <U1"),
        ([[1.0, 2.0], [3.0, 4.0]], ValueError, "must be 1-d"),
        ([1.0, math.nan, 2.0], ValueError, "nan"),
        ([1.0, math.inf], ValueError, "inf"),
        ([1.0], ValueError, "two distinct values"),
        ([2.0, 2.0, 2.0], ValueError, "two distinct values"),
    ],
)
def test_empirical_rejects_bad_data(data, error, needle):
    with pytest.raises(error, match="Empirical") as info:
        distributions.Empirical(data)
    assert needle in str(info.value)


def test_empirical_is_frozen_and_sorted():
    d = distributions.Empirical(np.array([3.0, 1.0, 2.0]))
    assert d.data.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="read-only"):
        d.data[0] = 5.0


# -- hypothesis: invalid values always raise ------------------------------------------------------
def invalid_values(p: Param):
    outside = []
    if p.low > -math.inf:
        outside.append(
            st.floats(
                max_value=p.low,
                exclude_max=p.low_closed,
                allow_nan=False,
                allow_infinity=not p.finite,
            )
        )
    if p.high < math.inf:
        outside.append(
            st.floats(
                min_value=p.high,
                exclude_min=p.high_closed,
                allow_nan=False,
                allow_infinity=not p.finite,
            )
        )
    infinities = [v for v in (math.inf, -math.inf) if p.finite or not p.contains(v)]
    return st.one_of(
        st.just(math.nan),
        st.booleans(),
        st.text(max_size=4),
        st.none(),
        st.sampled_from(infinities) if infinities else st.nothing(),
        *outside,
    )


@st.composite
def family_param_and_invalid_value(draw):
    family = draw(st.sampled_from(PARAM_FAMILIES))
    p = draw(st.sampled_from(FAMILIES[family].params))
    return family, p.name, draw(invalid_values(p))


@given(family_param_and_invalid_value())
@settings(FIXED, max_examples=300)
def test_property_invalid_values_always_raise(case):
    family, name, value = case
    kwargs = dict(SANE_PARAMS[family][0], **{name: value})
    with pytest.raises((TypeError, ValueError), match=family):
        FAMILIES[family](**kwargs)


# -- hypothesis: ppf is monotone and inside the support -------------------------------------------
PROBS = st.lists(
    st.one_of(
        st.floats(0.0, 1.0),
        st.floats(0.0, 1e-9),
        st.floats(1.0 - 1e-9, 1.0),
        st.sampled_from([0.0, 1.0, 1e-300, 5e-324, 0.5, np.nextafter(1.0, 0.0)]),
    ),
    min_size=2,
    max_size=40,
)


def assert_monotone_inside(dist, qs):
    q = np.sort(np.asarray(qs, dtype=np.float64))
    x = dist.ppf(q)
    lo, hi = dist.support()
    assert not np.isnan(x).any(), (dist, q[np.isnan(x)])
    assert np.all(x[1:] >= x[:-1]), (dist, q, x)  # not np.diff: inf - inf
    assert np.all((x >= lo) & (x <= hi)), (dist, q, x)


@given(st.sampled_from(range(len(SANE))), PROBS)
@settings(FIXED, max_examples=200)
def test_property_ppf_monotone_inside_support_sane(i, qs):
    assert_monotone_inside(SANE[i][1], qs)


POSITIVE = st.floats(0.05, 50.0)
REAL = st.floats(-1e3, 1e3)


@st.composite
def valid_distribution(draw, family):
    """Random valid parameters from the family's ``Param`` declarations (bounded ranges)."""
    cls = FAMILIES[family]
    if family == "Empirical":
        data = draw(st.lists(REAL, min_size=2, max_size=30).filter(lambda v: min(v) < max(v)))
        return cls(data)
    if family == "Metalog":  # quantiles, not declared parameters; infeasible ones rejected
        n = draw(st.integers(2, 5))
        q = draw(st.lists(st.floats(0.01, 0.99), min_size=n, max_size=n, unique=True))
        x = draw(st.lists(REAL, min_size=n, max_size=n, unique=True))
        try:
            return cls(sorted(q), sorted(x))
        except ValueError:
            from hypothesis import reject

            reject()
    names = [p.name for p in cls.params]
    kw = {}
    for p in cls.params:
        if p.name in ("low", "mode", "high"):
            continue
        if p.low == 0.0 and p.high == 1.0:
            kw[p.name] = draw(st.floats(0.0, 1.0))
        elif p.low == 0.0:
            kw[p.name] = draw(POSITIVE)
        else:
            kw[p.name] = draw(REAL)
    bounds = [n for n in ("low", "mode", "high") if n in names]
    if family == "TruncatedNormal":  # bounds in standard units, so that the mass is sane
        a, b = sorted(draw(st.lists(st.floats(-8.0, 8.0), min_size=2, max_size=2, unique=True)))
        kw["low"] = draw(st.sampled_from([-math.inf, kw["loc"] + a * kw["scale"]]))
        kw["high"] = draw(st.sampled_from([math.inf, kw["loc"] + b * kw["scale"]]))
    elif bounds:
        values = sorted(draw(st.lists(REAL, min_size=len(bounds), max_size=len(bounds))))
        kw.update(zip(bounds, values, strict=True))
    try:
        return cls(**kw)
    except ValueError:  # e.g. low == high after sorting, or a zero-width bound pair
        from hypothesis import reject

        reject()


@pytest.mark.parametrize("family", sorted(FAMILIES))
@given(data=st.data(), qs=PROBS)
@settings(FIXED, max_examples=15)
def test_property_ppf_monotone_inside_support_random_params(family, data, qs):
    assert_monotone_inside(data.draw(valid_distribution(family)), qs)


# -- scenario inputs that are well-formed but would break the run -------------------------------
# Bad input never crashes deep inside a run and never yields NaN silently: it is refused before
# any work starts with a ScenarioError naming the file, key, line, value and what is allowed.
PARATERA = resources.files("simcore").joinpath("scenarios/paratera.toml").read_text("utf-8")
ODD = r"Acme $\undefinedmacro{x}$ 50% a_b^c $"  # mathtext that fails to parse, and its specials


def refused(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="paratera.toml")
    assert str(info.value).startswith("paratera.toml: ")
    return info.value


def swap(old: str, new: str, text: str = PARATERA) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_user_text_is_drawn_literally(tmp_path):
    sc = default_scenario()
    rat = {"rationale": ODD}
    sc = dataclasses.replace(
        sc,
        name=ODD,
        ticker=ODD,
        currency="US$",
        source=ODD,
        description=ODD,
        segments=tuple(dataclasses.replace(s, **rat) for s in sc.segments),
        drivers=tuple(dataclasses.replace(d, **rat) for d in sc.drivers),
        shocks=tuple(
            dataclasses.replace(
                s, effects=tuple(dataclasses.replace(e, **rat) for e in s.effects), **rat
            )
            for s in sc.shocks
        ),
        notes={**sc.notes, "market": ODD, "odd $x$ note": ODD},
        stresses=(
            Stress(
                "odd_stress", (StressForce(sc.shocks[0].name, sc.base_year + 1),), rationale=ODD
            ),
        ),
    )
    result = simcore.simulate(sc, n_paths=2000, seed=1)  # seed 1: arbitrary, fixed
    for make in (
        charts.fan_chart_net_profit,
        charts.fan_chart_valuation,
        charts.distribution_net_profit,
        charts.fan_chart_revenue_segments,
    ):
        fig = make(result)
        charts.save_figure(fig, io.BytesIO(), "png")  # drawing parses every text
        assert fig._suptitle.get_text().startswith(f"{ODD} ({ODD}): ")
        assert any(t.get_text().endswith(f"source: {ODD}") for t in fig.texts)
    from simcore.analysis.pack_analyses import pack_analyses

    pdf = report.write_pack(
        result,
        tmp_path / "pack.pdf",  # every page, sensitivity included
        analyses=pack_analyses(result),
    )
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name = "Paratera"', 'name = "Para\\u001b[31mtera"', "name"),  # an ANSI colour
        ('name = "Paratera"', 'name = "Para\\ntera"', "name"),
        ('ticker = "839493.BJ"', 'ticker = "839493\\u202e.BJ"', "ticker"),  # a bidi override
        ('currency = "CNY"', 'currency = "CNY\\r"', "currency"),
        ('currency = "CNY"', 'currency = "C\\u0000NY"', "currency"),
        ('source = "Sell-side', 'source = "\\u001b]0;x\\u0007Sell-side', "source"),
        ('name = "Paratera"', 'name = "Para\\ufefftera"', "name"),  # a byte-order mark inside
        ('name = "Paratera"', 'name = "Para\\ttera"', "name"),  # tabs only in multi-line text
        (
            '[segments.other]\nrevenue = 41\nrationale = "2024',
            '[segments.other]\nrevenue = 41\nrationale = "\\u001b[2J2024',
            "segments.other.rationale",
        ),
        ("[history.eps]", '[history."e\\u001bps"]', 'history."e\\u001bps"'),
        ("[history]", '[notes]\n"k\\u0085ey" = "x"\n\n[history]', 'notes."k\\u0085ey"'),
        ("[history]", '[notes]\nkey = "a\\u2029b"\n\n[history]', "notes.key"),
    ],
)
def test_control_characters_in_text_are_refused(old, new, key):
    err = refused(swap(old, new))
    assert err.key_path == key and err.line is not None
    assert "control or format characters" in str(err) and "U+" in str(err)
    assert not any(unicodedata.category(c)[0] in "CZ" and c != " " for c in str(err))


def test_multiline_text_keeps_newlines_and_tabs():
    text = swap(
        'rationale = "2024 integration', 'rationale = "line one\\n\\tline two; 2024 integration'
    )
    assert loads_scenario(text).segments[-1].rationale.startswith("line one\n\tline two")
    text = swap('name = "Paratera"', 'name = "Para\\u200dtera \\u00a0 x"')  # joiner, nbsp
    assert loads_scenario(text).name == "Para\u200dtera \u00a0 x"


IMPAIRMENT = (
    'dist = { family = "LogNormal", mu = -0.125, sigma = 0.5 }\nrationale = "Report\'s credit'
)


@pytest.mark.parametrize(
    ("old", "new", "key", "fragments"),
    [
        (
            IMPAIRMENT,
            IMPAIRMENT.replace("mu = -0.125", "mu = 800"),
            'drivers."ratio.impairment".dist',
            ["ratio.impairment can reach inf", "normal score of +-11.19", "[-10000, 10000]"],
        ),
        (
            "[segments.other]\nrevenue = 41",
            "[segments.other]\nrevenue = 1e306",
            "segments.other.revenue",
            ["1e+306 is out of range", "(0, 1e+15]"],
        ),
        (
            "mu = -0.15125, sigma = 0.55",
            "mu = 750, sigma = 0.55",
            'drivers."multiple.pe".dist',
            ["multiple.pe can reach", "inf", "[-1e+20, 1e+20]"],
        ),
        (
            "mu = -0.15125, sigma = 0.55",
            "mu = 30, sigma = 0.55",
            'drivers."multiple.pe".dist',
            ["3.28912e+29", "normal score of +-"],
        ),  # finite, but beyond the limit
        ("shares = 58.85", "shares = 1e-300", "market.shares", ["[1e-06, 1e+15]"]),
        ("price = 157.80", "price = 1e300", "market.price", ["(0, 1e+15]"]),
        (
            "[schedules.opening_debt]\nvalue = 512",
            "[schedules.opening_debt]\nvalue = 1e200",
            "schedules.opening_debt.value",
            ["[0, 1e+15]"],
        ),
        ("value = 0.114", "value = 1e-300", "schedules.terminal_roic.value", ["[0.0001, 10000]"]),
        (
            "[history.eps]\n2023 = -1.37",
            "[history.eps]\n2023 = -1e308",
            "history.eps.2023",
            ["[-1e+15, 1e+15]"],
        ),
        # a severity that reaches 3e16 at the most extreme uniform
        (
            'severity = { family = "LogNormal", mu = -0.5, sigma = 1.0 }',
            'severity = { family = "LogNormal", mu = 30, sigma = 1.0 }',
            "shocks.data_leak.severity",
            ["reaches", "[-1e+10, 1e+10]"],
        ),
        # an uncapped effect: size 10 x severity up to 2230
        (
            "size = 0.01\nprofile = [1.0]\ncap = 0.05",
            "size = 10\nprofile = [1.0]",
            "shocks.data_leak.effects[0]",
            ["one_off_loss can reach 0 .. 22295", "this effect alone"],
        ),
        # WACC only just above terminal growth: the Gordon value would divide by ~0
        (
            "[drivers.terminal_growth]\nbase = 0.025",
            "[drivers.terminal_growth]\nbase = 0.0649995",
            "drivers.wacc.dist",
            ["by at least 1e-06"],
        ),
        (
            'shift = [{ driver = "interest_rate", add = 0.02 }, { driver = "wacc", add = 0.02 }]',
            'shift = [{ driver = "multiple.pe", scale = 1e9 }]',
            "stress.rates_up_200bp.shift",
            ["under this stress", "multiple.pe can reach"],
        ),
    ],
)
def test_values_that_would_overflow_are_refused(old, new, key, fragments):
    err = refused(swap(old, new))
    msg = str(err)
    assert err.key_path == key and f"{key} (line {err.line}): " in msg, msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_python_built_scenarios_meet_the_same_limits():
    sc = default_scenario()
    seg = dataclasses.replace(sc.segments[0], base_revenue=1e306)
    with pytest.raises(ScenarioError, match=r"segments\.\w+\.revenue .*\(0, 1e\+15\]"):
        simcore.simulate(dataclasses.replace(sc, segments=(seg, *sc.segments[1:])), n_paths=8)
    pe = dataclasses.replace(sc.driver("multiple.pe"), dist=distributions.LogNormal(750, 0.45))
    drivers = tuple(pe if d.name == "multiple.pe" else d for d in sc.drivers)
    with pytest.raises(ScenarioError, match=r'drivers\."multiple\.pe"\.dist'):
        simcore.simulate(dataclasses.replace(sc, drivers=drivers), n_paths=8)


def test_student_t_copula_that_could_reach_an_infinite_score():
    # 64 equal weights: a row 1-norm of 8; at df = 1e6 the t tail underflows (ndtri(0))
    factor = np.full((1, 64), 1 / 8)
    assert math.isinf(limits.score_bounds([0.0], [0], factor, 1e6)[0])
    assert limits.score_bounds([0.0], [0], factor, 0.0)[0] == pytest.approx(8 * limits.Z_EDGE)
    assert limits.score_bounds([0.0], [0], factor, 5.0)[0] < 11.0


def test_ar_gain_and_reach_of_the_default():
    assert limits.ar_gain(0.0) == limits.ar_gain(1.0) == 1.0
    assert limits.ar_gain(0.8) == pytest.approx(3.0, abs=0.01)
    assert max(limits.ar_gain(p) for p in np.linspace(0, 1, 1001)) < 5.19
    # the widest reach of the default: P/E, about 3e16 at a score of 59 (ten correlated labels)
    sc = default_scenario()
    d = sc.driver("multiple.pe")
    names = [x.name for x in sc.drivers]
    z = limits.score_bounds(
        [x.persistence for x in sc.drivers],
        [names.index(lab) for lab in sc.correlation_labels],
        GaussianCopula(list(sc.correlation_labels), sc.correlation).factor,
    )
    lo, hi = limits.ppf_z_range(d.dist, float(z[names.index("multiple.pe")]))
    assert 1e16 < limits.driver_range(d.base, d.mode, lo, hi)[1] < 1e17


# the property: a scenario at the edge of every limit simulates with every output finite
EDGE = 1 - 1e-6  # just inside each limit


@st.composite
def edge_scenarios(draw):
    n_seg = draw(st.integers(1, 3))
    names = [f"{r}.s{i}" for r in ("growth", "margin") for i in range(n_seg)] + list(FIXED_DRIVERS)
    phi = {n: draw(st.sampled_from([0.0, 0.5, 0.966, 1.0]), label=n) for n in names}
    labels, corr, df, factor = (), np.zeros((0, 0)), 0.0, None
    copula = draw(st.sampled_from(["none", "gaussian", "student_t"]))
    if copula != "none":
        labels = tuple(draw(st.lists(st.sampled_from(names), min_size=2, max_size=6, unique=True)))
        corr = np.full((len(labels), len(labels)), draw(st.sampled_from([0.0, 0.5, 0.95])))
        np.fill_diagonal(corr, 1.0)
        df = draw(st.sampled_from([1.0, 5.0, 50.0])) if copula == "student_t" else 0.0
        factor = (StudentTCopula(labels, corr, df) if df else GaussianCopula(labels, corr)).factor
    zs = limits.score_bounds(
        [phi[n] for n in names], [names.index(lab) for lab in labels], factor, df
    )
    z = dict(zip(names, zs, strict=True))

    def normal(name, base, low, high):  # base + a Normal deviation that reaches the limits
        scale = min(high - base, base - low) / z[name] * EDGE
        return Driver(name, (base,), distributions.Normal(0.0, scale), persistence=phi[name])

    drivers = [normal(n, 10.0, -limits.MAX_RATE, 50.0) for n in names[:n_seg]]  # + 50 shock
    drivers += [normal(n, 0.5, -limits.MAX_RATE, 1.0) for n in names[n_seg : 2 * n_seg]]
    for n in names[2 * n_seg : -5]:
        if n.startswith("fixed_growth."):  # a fixed cost grows at most +10,000% a year
            drivers.append(normal(n, 0.5, -0.95, limits.MAX_GROWTH))
        elif n in ("interest_rate", "tax_rate"):  # interest and tax at most what they are on
            drivers.append(normal(n, 0.0, -1.0, 1.0))
        else:
            drivers.append(normal(n, 0.5, -limits.MAX_RATE, limits.MAX_RATE))
    for n in ("multiple.ps", "multiple.pe", "multiple.ev_ebitda"):
        if draw(st.booleans(), label=f"{n} lognormal"):
            dist = distributions.LogNormal(math.log(limits.MAX_MULTIPLE * EDGE) - z[n], 1.0)
            drivers.append(Driver(n, (1.0,), dist, "mul", phi[n]))
        else:
            drivers.append(normal(n, 1e10, -limits.MAX_MULTIPLE, limits.MAX_MULTIPLE))
    if draw(st.booleans(), label="lowest discount rate"):  # 1 + WACC at 0.5, g just below
        w_lo = limits.MIN_WACC * EDGE
        wacc = Driver("wacc", (0.01,), distributions.Uniform(w_lo - 0.01, 0.0), persistence=1.0)
        tg = Driver(
            "terminal_growth", (w_lo - 2 * limits.MIN_DISCOUNT_SPREAD,), distributions.Constant(0.0)
        )
        roic = limits.MIN_TERMINAL_ROIC
    else:  # WACC up to the rate limit, g from -1e4 to just below the lowest WACC (1)
        wacc = Driver("wacc", (1.0,), distributions.Uniform(0.0, limits.MAX_RATE * EDGE - 1.0))
        tg = Driver(
            "terminal_growth",
            (0.5,),
            distributions.Uniform(
                -limits.MAX_RATE * EDGE - 0.5, 0.5 - 3 * limits.MIN_DISCOUNT_SPREAD
            ),
        )
        roic = limits.MAX_TERMINAL_ROIC
    drivers += [wacc, tg]
    cap = limits.MAX_RATE * EDGE
    severity = distributions.LogNormal(math.log(limits.MAX_SEVERITY * EDGE) - limits.Z_EDGE, 1.0)
    effects = [Effect("growth", 1.0, (1.0,), cap=50.0 * EDGE)]
    if draw(st.booleans(), label="churn"):  # (churn >= 1 wipes revenue out)
        effects.append(Effect("churn", 1.0, (1.0, 1.0), cap=cap))
    if draw(st.booleans(), label="one-off loss"):
        effects.append(Effect("one_off_loss", draw(st.sampled_from([-1.0, 1.0])), (1.0,), cap=cap))
    effects.append(Effect("multiple", -1.0, (1.0,), cap=cap))  # multiples times up to 1 + 1e4
    shock = Shock("edge", 1.0, severity, tuple(effects))  # hits every year
    money = limits.MAX_MONEY
    sign = st.sampled_from([-1.0, 1.0])
    return Scenario(
        name="edge",
        ticker="EDGE",
        currency="CNY",
        base_year=2024,
        horizon=limits.MAX_HORIZON,
        segments=tuple(Segment(f"s{i}", money) for i in range(n_seg)),
        drivers=tuple(drivers),
        correlation_labels=labels,
        correlation=corr,
        shocks=(shock,),
        # an opening balance sheet at the money limit (it balances: equity takes the rest)
        opening_cash=money,
        opening_receivables=money,
        opening_fixed_assets=money,
        opening_other_noncurrent_assets=money,
        opening_debt=money,
        opening_payables=money,
        opening_equity=money,
        opening_minority_equity=money,
        useful_life=draw(st.sampled_from([1e-6, 100.0])),
        remaining_life=draw(st.sampled_from([1e-6, 100.0])),
        other_income=(draw(sign) * money,),
        non_operating=(draw(sign) * money,),
        minority_share=(draw(st.sampled_from([0.0, 1.0])),),
        fixed_selling=money,
        fixed_admin=draw(st.sampled_from([0.0, money])),
        maintenance_capex=(draw(st.sampled_from([0.0, limits.MAX_RATE])),),
        receivables_ratio=(limits.MAX_RATE,),
        inventory_ratio=(draw(st.sampled_from([0.0, limits.MAX_RATE])),),
        payables_ratio=(draw(st.sampled_from([0.0, limits.MAX_RATE])),),
        other_current_liabilities_ratio=(draw(st.sampled_from([0.0, limits.MAX_RATE])),),
        other_noncurrent_assets=(0.0, money),
        other_noncurrent_liabilities=(money, 0.0),
        repayment=(money,),
        minimum_cash=(draw(st.sampled_from([0.0, money])),),
        dividend_payout=(draw(st.sampled_from([0.0, 1.0])),),
        sweep=draw(st.sampled_from([0.0, 1.0])),
        terminal_roic=roic,
        tax_loss_carryforward=draw(st.sampled_from([0.0, money])),
        shares=limits.MIN_SHARES,
        market_price=money,
        market_date="2025-01-01",
        copula="student_t" if df else "gaussian",
        copula_df=df,
    )


def assert_finite(result):
    eps = result["eps"]
    for name in result.names:
        x = result[name]
        if name == "price_pe":  # no value (0) where EPS <= 0, by design
            assert np.isfinite(x).all() and (x[eps <= 0] == 0.0).all()
        elif name == "dcf_terminal_share":  # NaN where the enterprise value is not positive
            assert not np.isinf(x).any()
        elif name == "roic":  # undefined where the opening invested capital is not positive
            sc = result.scenario
            opening = sc.opening_equity + sc.opening_minority_equity + sc.opening_debt
            invested = result["equity"] + result["debt"] - result["cash"]
            invested = np.concatenate(
                [np.full((len(x), 1), opening - sc.opening_cash), invested[:, :-1]], axis=1
            )
            assert np.array_equal(np.isnan(x), invested <= 0) and np.isfinite(x[invested > 0]).all()
        else:
            assert np.isfinite(x).all(), name
    with warnings.catch_warnings():  # the MC error of the std squares it twice (not checked)
        warnings.simplefilter("ignore", RuntimeWarning)
        table = result.summary()
    values = table.loc[table["defined"] > 0, "value"].to_numpy()
    assert np.isfinite(values).all()
    return max(np.abs(result[n][np.isfinite(result[n])]).max(initial=0.0) for n in result.names)


@given(edge_scenarios())
@settings(FIXED, max_examples=12)
def test_property_a_scenario_at_the_edge_of_every_limit_stays_finite(sc):
    sc = loads_scenario(dumps_scenario(sc))  # inside every limit, just
    # extreme uniforms (2**-53 or 1 - 2**-53), each driver's the same every year (which
    # persistence amplifies most); seed 5: arbitrary, fixed
    rng = np.random.default_rng(5)
    width = len(design_columns(sc)) // sc.horizon
    hi = rng.random((32, 1, width)) < 0.5
    hi[0], hi[1] = True, False
    hi = np.repeat(hi, sc.horizon, axis=1)
    hi[:, :, len(sc.drivers) + 1] = rng.random((32, sc.horizon)) < 0.5  # the severities
    u = np.where(hi, 1.0 - U_MIN, U_MIN)
    assert assert_finite(simcore.evaluate_uniforms(sc, u)) < 1e130  # docs/model.md
    assert_finite(simcore.simulate(sc, n_paths=256, seed=5, sampling="lhs"))


def test_latin_hypercube_uniforms_stay_inside_the_samplers_range(monkeypatch):
    # (n - 1 + v) / n rounds to 1.0 for v = 1 - 2**-53, and v / n is below 2**-53
    key = np.array([3, 4], np.uint64)
    for v in (U_MIN, 1.0 - U_MIN):
        monkeypatch.setattr(sampling, "uniform", lambda *_args, v=v: v)
        got = [sampling.sample_uniform.py_func(2, key, p, 0, 0, 2) for p in range(2)]
        assert U_MIN <= min(got) and max(got) <= 1.0 - U_MIN and len(set(got)) == 2

        def pairs(k0s, k1s, path, year, pair, out0, out1, v=v):
            out0[:] = v
            out1[:] = v

        monkeypatch.setattr(sampling, "uniform_pairs", pairs)
        out = np.empty((2, 2, 1))
        for p in range(2):
            sampling.sample_pairs.py_func(2, key[:1], key[1:], p, 0, 0, 2, out[p, 0], out[p, 1])
        assert U_MIN <= out.min() and out.max() <= 1.0 - U_MIN


def test_sizes_are_limited():
    note = '\n[notes]\nbig = "{}"\n'
    err = refused(PARATERA + note.format("x" * (50 << 20)))  # 50 MB: refused before parsing
    assert "bytes, too large" in str(err) and "4,194,304" in str(err) and err.line is None
    err = refused(PARATERA + note.format("x" * 20_001))
    assert err.key_path == "notes.big" and "at most 20,000 characters" in str(err)
    err = refused(swap('name = "Paratera"', f'name = "{"x" * 200_000}"'))
    assert err.key_path == "name" and "(200,000 characters)" in str(err)
    assert len(str(err)) < 400  # the message shows the start of the value only
    seg = '[segments."{}"]\nrevenue = 1\n'
    err = refused(
        swap(
            "[segments.other]", "".join(seg.format(f"s{i}") for i in range(61)) + "[segments.other]"
        )
    )
    assert err.key_path == "segments.other" and "65 segments are too many" in str(err)
    dist = 'dist = { family = "TruncatedNormal", loc = 0, scale = 0.02, low = -0.05, high = 0.05 }'
    line = f"persistence = 0.8\n{dist}\nrationale = \"Report's tax"

    def empirical(data):
        return line.replace(dist, f'dist = {{ family = "Empirical", data = [{data}] }}')

    err = refused(swap(line, empirical(", ".join(str(i) for i in range(100_001)))))
    assert err.key_path == "drivers.tax_rate.dist.data" and "100,000 data points" in str(err)
    err = refused(swap(line, empirical(", ".join("0" for _ in range(3_000_000)))))  # 9 MB
    assert "too large" in str(err)
    sc = default_scenario()
    many = dataclasses.replace(
        sc.driver("tax_rate"), dist=distributions.Empirical(np.linspace(-0.01, 0.01, 100_001))
    )
    with pytest.raises(ScenarioError, match="100,000 data points"):
        simcore.simulate(
            dataclasses.replace(
                sc, drivers=tuple(many if d.name == "tax_rate" else d for d in sc.drivers)
            ),
            8,
        )


def extra_shocks(n: int) -> str:
    block = (
        '[shocks.x{i}]\nprobability = 0.01\nseverity = {{ family = "Constant", value = 1 }}'
        '\n\n[[shocks.x{i}.effects]]\ntarget = "ratio.admin"\nsize = 0.001\n\n'
    )
    return "".join(block.format(i=i) for i in range(n))


def test_shock_count_is_one_rule():
    assert simcore.engine.core.MAX_SHOCKS is limits.MAX_SHOCKS == 32
    assert (
        len(loads_scenario(PARATERA.replace("[stress.", extra_shocks(28) + "[stress.", 1)).shocks)
        == 32
    )
    err = refused(PARATERA.replace("[stress.", extra_shocks(29) + "[stress.", 1))
    assert err.key_path == "shocks.x28" and "33 shocks are too many; allowed at most 32" in str(err)
    effects = "".join(
        '[[shocks.data_leak.effects]]\ntarget = "ratio.admin"\nsize = 0.001\n\n' for _ in range(14)
    )
    err = refused(PARATERA.replace("[stress.", effects + "[stress.", 1))
    assert err.key_path == "shocks.data_leak.effects[16]" and "at most 16 effects" in str(err)
    stress = '[stress.s{}]\nshift = [{{ driver = "wacc", add = 0.001 }}]\n\n'
    err = refused(PARATERA + "".join(stress.format(i) for i in range(28)))
    assert "33 stress scenarios are too many" in str(err)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and /dev/zero")
def test_special_files_are_refused_without_reading(tmp_path):
    fifo, zero = tmp_path / "pipe.toml", tmp_path / "zero.toml"
    os.mkfifo(fifo)
    zero.symlink_to("/dev/zero")
    # in a child with a time and memory limit: reading either would block or never end
    script = (
        "import json, sys\n"
        "from simcore.io.scenario_file import ScenarioError, load_scenario\n"
        "out = []\nfor p in sys.argv[1:]:\n    try:\n        load_scenario(p)\n"
        "        out.append('loaded')\n    except ScenarioError as exc:\n"
        "        out.append(str(exc))\nprint(json.dumps(out))\n"
    )

    def limit_memory():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    proc = subprocess.run(
        [sys.executable, "-c", script, str(fifo), str(zero), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,
    )
    assert proc.returncode == 0, proc.stderr
    fifo_err, zero_err, dir_err = json.loads(proc.stdout)
    assert fifo_err == (
        f"{fifo}: (top level): is a FIFO (named pipe), not a regular file; "
        "allowed a regular TOML file"
    )
    assert zero_err.startswith(f"{zero}: (top level): is a character device")
    assert "is a directory" in dir_err
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:
        fh.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: refused by its size, not read
    with pytest.raises(ScenarioError, match="4,194,305 bytes, too large"):
        load_scenario(big)


def test_errors_name_the_file_and_line(tmp_path):
    deep = PARATERA + "\n[notes]\ndeep = " + "[" * 5000 + "]" * 5000 + "\n"
    err = refused(deep)  # tomllib runs out of recursion
    assert err.line == PARATERA.count("\n") + 3 and "nested too deeply" in str(err)
    err = refused(swap("[history.revenue]\n2023", '[history.revenue]\n"²"'))
    assert err.key_path == 'history.revenue."²"' and err.line is not None
    assert "'²' is not a year" in str(err)
    bom = tmp_path / "bom.toml"  # a leading byte-order mark is accepted
    bom.write_bytes(b"\xef\xbb\xbf" + PARATERA.encode())
    assert load_scenario(bom) == default_scenario() == loads_scenario("\ufeff" + PARATERA)
