"""Parameter validation driven by the ``Param`` declarations, and hypothesis properties of ppf.

Invalid values are derived from each family's declared domains (NaN, infinities where not
allowed, bools, strings, values just outside the interval), so a new family is covered by
declaring its parameters. Valid random parameters come from the same declarations.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import distributions
from distributions import FAMILIES, Param
from distributions.testing import SANE_PARAMS, sane_distributions

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


@pytest.mark.parametrize(("family", "name", "value"), CASES,
                         ids=[f"{f}-{n}-{v!r}" for f, n, v in CASES])
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
        outside.append(st.floats(max_value=p.low, exclude_max=p.low_closed, allow_nan=False,
                                 allow_infinity=not p.finite))
    if p.high < math.inf:
        outside.append(st.floats(min_value=p.high, exclude_min=p.high_closed, allow_nan=False,
                                 allow_infinity=not p.finite))
    infinities = [v for v in (math.inf, -math.inf) if p.finite or not p.contains(v)]
    return st.one_of(
        st.just(math.nan), st.booleans(), st.text(max_size=4), st.none(),
        st.sampled_from(infinities) if infinities else st.nothing(), *outside,
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
    st.one_of(st.floats(0.0, 1.0), st.floats(0.0, 1e-9), st.floats(1.0 - 1e-9, 1.0),
              st.sampled_from([0.0, 1.0, 1e-300, 5e-324, 0.5, np.nextafter(1.0, 0.0)])),
    min_size=2, max_size=40,
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
