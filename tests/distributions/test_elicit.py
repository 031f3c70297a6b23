"""Elicitation constructors (from_quantiles, from_interval, from_mean_sd): round trips, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distributions import Beta, Gamma, LogNormal, Normal, StudentT, Uniform

ROUND_TRIPS = [
    (Normal, {"p10": 4.0, "p90": 12.0}),
    (Normal, {"p50": -1.0, "p95": 3.0}),
    (LogNormal, {"p10": 2.0, "p90": 50.0}),
    (LogNormal, {"p25": 0.01, "p75": 0.02}),
    (Uniform, {"p5": 1.0, "p95": 2.0}),
    (Uniform, {"p25": -3.0, "p50": 0.0}),
    (StudentT, {"df": 4.0, "p10": -2.0, "p90": 6.0}),
    (StudentT, {"df": 1.5, "p1": 100.0, "p50": 120.0}),
    (Gamma, {"p10": 1.0, "p90": 5.0}),
    (Gamma, {"p5": 0.001, "p95": 30.0}),  # strongly skewed: shape < 1
    (Gamma, {"p25": 99.0, "p75": 101.0}),  # nearly normal: shape in the thousands
    (Beta, {"p10": 0.2, "p90": 0.6}),
    (Beta, {"p5": 2.0, "p50": 3.0, "low": 1.0, "high": 10.0}),
    (Beta, {"p5": 0.001, "p95": 0.999}),  # U-shaped
]


@pytest.mark.parametrize(
    ("cls", "kwargs"), ROUND_TRIPS, ids=[f"{c.family}-{'-'.join(k)}" for c, k in ROUND_TRIPS]
)
def test_from_quantiles_round_trips(cls, kwargs):
    dist = cls.from_quantiles(**kwargs)
    for key, value in kwargs.items():
        if key.startswith("p"):
            assert dist.ppf(int(key[1:]) / 100) == pytest.approx(value, rel=1e-9, abs=1e-12)
    for key in ("df", "low", "high"):
        if key in kwargs:
            assert getattr(dist, key) == kwargs[key]


@pytest.mark.parametrize("cls", [Normal, LogNormal, Uniform, Gamma, Beta])
@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.99])
def test_from_interval_is_central(cls, confidence):
    lo, hi = (0.2, 0.7) if cls is Beta else (2.0, 9.0)
    dist = cls.from_interval(lo, hi, confidence=confidence)
    tail = (1.0 - confidence) / 2.0
    np.testing.assert_allclose(dist.ppf([tail, 1.0 - tail]), [lo, hi], rtol=1e-9)


def test_from_interval_passes_extra_parameters():
    t = StudentT.from_interval(-1.0, 1.0, confidence=0.5, df=3.0)
    assert t.df == 3.0 and t.loc == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(t.ppf([0.25, 0.75]), [-1.0, 1.0], rtol=1e-12)
    b = Beta.from_interval(10.0, 20.0, low=0.0, high=100.0)
    assert (b.low, b.high) == (0.0, 100.0)
    np.testing.assert_allclose(b.ppf([0.05, 0.95]), [10.0, 20.0], rtol=1e-9)
    n = Normal.from_interval(low=1.0, high=3.0, confidence=0.5)  # by keyword where unambiguous
    np.testing.assert_allclose(n.ppf([0.25, 0.75]), [1.0, 3.0], rtol=1e-12)
    with pytest.raises(TypeError, match="Normal.from_interval: give the interval"):
        Normal.from_interval(1.0)


@given(
    st.floats(-1e6, 1e6),
    st.floats(1e-3, 1e6),
    st.sampled_from([5, 10, 25, 50]),
    st.sampled_from([75, 90, 95, 99]),
)
@settings(derandomize=True, max_examples=60, deadline=None)
def test_property_normal_and_uniform_round_trip(x1, width, k1, k2):
    x2 = x1 + width
    for cls in (Normal, Uniform):
        dist = cls.from_quantiles(**{f"p{k1}": x1, f"p{k2}": x2})
        scale = abs(x1) + abs(x2)
        assert dist.ppf(k1 / 100) == pytest.approx(x1, rel=1e-9, abs=1e-12 * scale)
        assert dist.ppf(k2 / 100) == pytest.approx(x2, rel=1e-9, abs=1e-12 * scale)


@given(st.floats(1e-6, 1e6), st.floats(1.001, 1e3))
@settings(derandomize=True, max_examples=40, deadline=None)
def test_property_lognormal_round_trip(x1, ratio):
    dist = LogNormal.from_quantiles(p10=x1, p90=x1 * ratio)
    np.testing.assert_allclose(dist.ppf([0.1, 0.9]), [x1, x1 * ratio], rtol=1e-9)


@pytest.mark.parametrize(
    ("call", "error", "needles"),
    [
        (
            lambda: Normal.from_quantiles(p10=5.0, p90=5.0),
            ValueError,
            ["Normal", "p10=5.0", "p90=5.0"],
        ),
        (
            lambda: Normal.from_quantiles(p10=6.0, p90=5.0),
            ValueError,
            ["Normal", "p10=6.0", "p90=5.0"],
        ),
        (lambda: Normal.from_quantiles(p10=1.0), TypeError, ["Normal", "exactly two"]),
        (lambda: Normal.from_quantiles(p10=1.0, p50=2.0, p90=3.0), TypeError, ["exactly two"]),
        (lambda: Normal.from_quantiles(p10=1.0, q90=2.0), TypeError, ["Normal", "'q90'"]),
        (lambda: Normal.from_quantiles(p0=1.0, p90=2.0), TypeError, ["'p0'"]),
        (lambda: Normal.from_quantiles(p10="1", p90=2.0), TypeError, ["Normal", "p10='1'"]),
        (lambda: Normal.from_quantiles(p10=math.nan, p90=2.0), ValueError, ["p10=nan"]),
        (
            lambda: LogNormal.from_quantiles(p10=-1.0, p90=2.0),
            ValueError,
            ["LogNormal", "-1.0", "positive"],
        ),
        (lambda: LogNormal.from_quantiles(p10=0.0, p90=2.0), ValueError, ["LogNormal", "0.0"]),
        (lambda: Gamma.from_quantiles(p10=-1.0, p90=2.0), ValueError, ["Gamma", "-1.0"]),
        (lambda: Gamma.from_quantiles(p10=1.0, p90=1.0 + 1e-12), ValueError, ["Gamma", "no Gamma"]),
        (lambda: StudentT.from_quantiles(p10=1.0, p90=2.0), TypeError, ["StudentT", "df"]),
        (lambda: StudentT.from_quantiles(df=-1.0, p10=1.0, p90=2.0), ValueError, ["df=-1.0"]),
        (lambda: Beta.from_quantiles(p10=0.5, p90=1.5), ValueError, ["Beta", "1.5", "(low, high)"]),
        (lambda: Normal.from_interval(3.0, 1.0), ValueError, ["Normal", "low=3.0", "high=1.0"]),
        (lambda: Normal.from_interval(1.0, 3.0, confidence=1.0), ValueError, ["confidence=1.0"]),
        (lambda: Normal.from_interval(1.0, 3.0, confidence=True), TypeError, ["confidence=True"]),
        (lambda: Normal.from_interval(1.0, 3.0, df=3), TypeError, ["Normal", "df"]),
        (lambda: LogNormal.from_mean_sd(-1.0, 1.0), ValueError, ["LogNormal", "mean=-1.0"]),
        (lambda: LogNormal.from_mean_sd(1.0, 0.0), ValueError, ["LogNormal", "sd=0.0"]),
        (lambda: Beta.from_mean_sd(0.5, 0.5), ValueError, ["Beta", "sd=0.5"]),
        (lambda: Beta.from_mean_sd(1.5, 0.1), ValueError, ["Beta", "mean=1.5"]),
        (lambda: Beta.from_mean_sd(5.0, 1.0, low=4.0, high=4.0), ValueError, ["Beta", "mean=5.0"]),
    ],
)
def test_impossible_elicitation_names_family_and_values(call, error, needles):
    with pytest.raises(error) as info:
        call()
    for needle in needles:
        assert needle in str(info.value)


@pytest.mark.parametrize(("mean", "sd"), [(1.0, 0.5), (250.0, 400.0), (0.01, 1e-4)])
def test_lognormal_from_mean_sd(mean, sd):
    d = LogNormal.from_mean_sd(mean, sd)
    assert d.mean() == pytest.approx(mean, rel=1e-12)
    assert d.std() == pytest.approx(sd, rel=1e-12)


@pytest.mark.parametrize(
    ("mean", "sd", "low", "high"),
    [(0.3, 0.1, 0.0, 1.0), (7.0, 2.0, 0.0, 10.0), (-0.5, 0.9, -2.0, 2.0)],
)
def test_beta_from_mean_sd(mean, sd, low, high):
    d = Beta.from_mean_sd(mean, sd, low=low, high=high)
    assert (d.low, d.high) == (low, high)
    assert d.mean() == pytest.approx(mean, rel=1e-12)
    assert d.std() == pytest.approx(sd, rel=1e-12)
    assert d.to_scipy().mean() == pytest.approx(mean, rel=1e-12)
