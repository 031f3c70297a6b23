"""The Metalog family (Keelin 2016) beyond the generic family tests of ``test_families.py``.

Three tiers: known values (quantiles reproduced exactly, the 2-term metalog is a logistic,
closed-form moments of the 3-term one); the kernel against a plain numpy reference of Q(y)
written here from the paper's formulas, on both entry points, jitted and not; goodness of fit
of seeded draws. Then the errors, serialisation and a scenario whose driver is a Metalog.
"""

import copy
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

import distributions
import simcore
from distributions import Metalog, _kernel
from distributions.metalog import MAX_TERMS
from distributions.testing import SANE_PARAMS
from simcore.io.scenario_file import builtin_scenario_text, dumps_scenario, loads_scenario

SANE = [Metalog(**kw) for kw in SANE_PARAMS["Metalog"]]
SANE_IDS = [f"Metalog-{i}" for i in range(len(SANE))]
# a 10-term metalog (the maximum) through quantiles of a skewed distribution (a Gumbel)
Q10 = (0.01, 0.05, 0.1, 0.25, 0.4, 0.6, 0.75, 0.9, 0.95, 0.99)
WIDE = Metalog(Q10, tuple(float(v) for v in stats.gumbel_r(loc=2.0, scale=0.5).ppf(Q10)))
ALL = [*SANE, WIDE]
ALL_IDS = [*SANE_IDS, "Metalog-10-terms"]
U = np.concatenate(
    [
        [1e-15, 1e-12, 1e-9],
        np.logspace(-7, -1, 13),
        np.linspace(0.11, 0.89, 53),
        1.0 - np.logspace(-1, -7, 13),
        [1 - 1e-9, 1 - 1e-12, 1 - 1e-15],
    ]
)
SEED_KS = 20250314  # arbitrary fixed seeds, not chosen to pass
SEED_MOMENTS = 99
K_SE = 4  # tolerance of the moment tier in Monte Carlo standard errors


def reference_q(dist, u, uc):
    """Keelin's quantile function in plain numpy, from the paper's formulas (eqs. 6 and 7 and
    the log and logit transforms): a1 + a2 L + a3 (y - .5) L + a4 (y - .5) + a5 (y - .5)^2 +
    a6 (y - .5)^2 L + a7 (y - .5)^3 + a8 (y - .5)^3 L + ..."""
    u, uc = np.asarray(u, dtype=np.float64), np.asarray(uc, dtype=np.float64)
    a = dist.coefficients
    big_l = np.log(u / uc)
    t = u - 0.5
    terms = [np.ones_like(u), big_l, t * big_l, t]
    for j in range(5, a.size + 1):  # 1-based: odd j a power of t, even j a power times L
        terms.append(t ** ((j - 1) // 2) if j % 2 else t ** (j // 2 - 1) * big_l)
    m = sum(aj * b for aj, b in zip(a, terms, strict=False))
    lo, hi = dist.low, dist.high
    if dist.kind == 0:
        return m
    if dist.kind == 1:
        return lo + np.exp(m)
    if dist.kind == 2:
        return hi - np.exp(-m)
    return (lo + hi * np.exp(m)) / (1.0 + np.exp(m))


def spread(dist):
    return float(dist.ppf(0.75) - dist.ppf(0.25))


# -- tier 1: known values -----------------------------------------------------------------------
def test_three_terms_through_symmetric_quantiles():
    """q = (0.1, 0.5, 0.9): a1 = x50, a2 = (x90 - x10) / (2 ln 9),
    a3 = (x90 + x10 - 2 x50) / (0.8 ln 9), and the quantiles come back exactly."""
    x10, x50, x90 = -0.1, 0.02, 0.15
    dist = Metalog([0.1, 0.5, 0.9], [x10, x50, x90])
    ln9 = math.log(9.0)
    want = [x50, (x90 - x10) / (2 * ln9), (x90 + x10 - 2 * x50) / (0.8 * ln9)]
    np.testing.assert_allclose(dist.coefficients, want, rtol=1e-13)
    np.testing.assert_allclose(dist.ppf([0.1, 0.5, 0.9]), [x10, x50, x90], rtol=1e-13)


@pytest.mark.parametrize(
    "kw",
    [
        {"q": (0.1, 0.5, 0.9), "x": (10.0, 12.0, 20.0)},
        {"q": (0.05, 0.5, 0.95), "x": (1.0, 3.0, 10.0), "low": 0.0},
        {"q": (0.1, 0.5, 0.9), "x": (-30.0, -8.0, -5.0), "high": -4.0},
        {
            "q": (0.1, 0.3, 0.5, 0.7, 0.9),
            "x": (0.2, 0.32, 0.42, 0.53, 0.7),
            "low": 0.0,
            "high": 1.0,
        },
        {"q": (0.02, 0.2, 0.5, 0.8, 0.98, 0.99), "x": (-2.0, -0.8, 0.0, 0.9, 2.6, 3.3)},
        {"q": Q10, "x": WIDE.x},
    ],
)
def test_quantiles_hit_exactly_when_terms_equal_their_number(kw):
    dist = Metalog(**kw)
    assert dist.terms == len(kw["q"])
    np.testing.assert_allclose(dist.ppf(kw["q"]), kw["x"], rtol=1e-12, atol=1e-12 * spread(dist))
    np.testing.assert_allclose(dist.cdf(kw["x"]), kw["q"], rtol=1e-12)


def test_two_terms_are_a_logistic():
    """M(y) = a1 + a2 ln(y / (1 - y)) is the logistic quantile with loc a1 and scale a2."""
    dist = Metalog.from_quantiles(p25=1.0, p75=3.0)
    a1, a2 = dist.coefficients
    assert a1 == pytest.approx(2.0, rel=1e-15) and a2 == pytest.approx(1.0 / math.log(3.0))
    ref = stats.logistic(loc=a1, scale=a2)
    np.testing.assert_allclose(dist.ppf(U), ref.ppf(U), rtol=1e-13, atol=1e-13)
    x = np.linspace(-40.0, 40.0, 801)
    np.testing.assert_allclose(dist.cdf(x), ref.cdf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(dist.pdf(x), ref.pdf(x), rtol=1e-11, atol=0)
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-12)
    assert dist.std() == pytest.approx(ref.std(), rel=1e-12)


def test_three_term_moments_in_closed_form():
    """Unbounded 3 terms: mean a1 + a3 / 2, variance pi^2 a2^2 / 3 + (1/12 + pi^2/36) a3^2."""
    dist = SANE[0]
    a1, a2, a3 = dist.coefficients
    assert dist.mean() == pytest.approx(a1 + a3 / 2, rel=1e-12)
    var = math.pi**2 * a2**2 / 3 + (1 / 12 + math.pi**2 / 36) * a3**2
    assert dist.var() == pytest.approx(var, rel=1e-11)


def test_semi_bounded_tails_make_moments_infinite():
    """low + exp(M): the upper tail is (1 - y)^(-s), s = a2 + a3 / 2 for 3 terms: no mean for
    s >= 1, no variance for s >= 1/2; high - exp(-M) likewise in the lower tail."""
    heavy = Metalog([0.1, 0.5, 0.9], [1.0, 10.0, 1000.0], low=0.0)
    a = heavy.coefficients
    assert a[1] + a[2] / 2 >= 1.0
    assert heavy.mean() == math.inf and heavy.var() == math.inf and heavy.std() == math.inf
    middle = Metalog([0.1, 0.5, 0.9], [1.0, 3.0, 20.0], low=0.0)
    a = middle.coefficients
    assert 0.5 <= a[1] + a[2] / 2 < 1.0
    assert math.isfinite(middle.mean()) and middle.var() == math.inf
    # the mean as an integral in y, by another route than the module's (integrated in L)
    assert middle.mean() == pytest.approx(integral_in_y(lambda y: middle.ppf(y)), rel=1e-6)
    mirrored = Metalog([0.1, 0.5, 0.9], [-1000.0, -10.0, -1.0], high=0.0)
    assert mirrored.mean() == -math.inf and mirrored.var() == math.inf


def integral_in_y(fn):
    """``integral of fn(y) over (0, 1)`` by QUADPACK's QAGS (it extrapolates through the
    algebraic end singularities of semi-bounded tails; full_output: a heavy tail's
    "roundoff in the extrapolation table" is not an error here, the result is checked)."""
    return integrate.quad(fn, 0.0, 1.0, points=[0.5], limit=500, epsrel=1e-10, full_output=1)[0]


@pytest.mark.parametrize("dist", ALL, ids=ALL_IDS)
def test_moments_against_an_integral_in_y(dist):
    """The module integrates Q in L = ln(y / (1 - y)); here the kernel's ppf, in y."""
    mean = integral_in_y(lambda y: dist.ppf(y))
    var = integral_in_y(lambda y: (dist.ppf(y) - mean) ** 2)
    assert dist.mean() == pytest.approx(mean, rel=1e-8, abs=1e-10 * spread(dist))
    assert dist.var() == pytest.approx(var, rel=1e-7)


# -- tier 2: the kernel against the numpy reference ---------------------------------------------
@pytest.mark.parametrize("dist", ALL, ids=ALL_IDS)
def test_kernel_matches_numpy_reference_on_both_entry_points(dist):
    code, p, table = dist.kernel_args()
    assert code == _kernel.CODE_METALOG and table.shape == (dist.terms, 2)
    assert list(p[:4]) == [dist.terms, dist.kind, dist.low, dist.high]
    atol = 1e-13 * spread(dist)
    # in a bigger slab, at an offset, as the simulation packs tables
    slab = np.vstack([np.full((3, 2), np.nan), table, np.full((3, 2), np.nan)])
    out = np.empty_like(U)
    _kernel.ppf_u_many(code, p, slab, 3, U, out)
    np.testing.assert_allclose(out, reference_q(dist, U, 1.0 - U), rtol=1e-12, atol=atol)
    z = special.ndtri(U)
    _kernel.ppf_z_many(code, p, slab, 3, z, out)
    # the z path receives u = Phi(z) and, for z > 0, uc = Phi(-z) itself
    u, uc = special.ndtr(z), special.ndtr(-z)
    u = np.where(z > 0, 1.0 - uc, u)
    uc = np.where(z > 0, uc, 1.0 - u)
    np.testing.assert_allclose(out, reference_q(dist, u, uc), rtol=1e-12, atol=atol)
    assert np.all(np.diff(out) > 0.0) or dist.kind == 3  # a bounded one saturates at its ends


@pytest.mark.parametrize("dist", ALL, ids=ALL_IDS)
def test_kernel_helper_without_the_jit(dist):
    _, p, table = dist.kernel_args()
    jitted = np.array([_kernel._metalog(p, table, 0, u, 1.0 - u) for u in U])
    python = np.array([_kernel._metalog.py_func(p, table, 0, u, 1.0 - u) for u in U])
    np.testing.assert_allclose(python, jitted, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(python, reference_q(dist, U, 1.0 - U), rtol=1e-12, atol=1e-300)


def test_kernel_ends_and_missing_table():
    dist = SANE[2]  # bounded on [0, 1]
    _, p, table = dist.kernel_args()
    assert _kernel._metalog(p, table, 0, 0.0, 1.0) == 0.0
    assert _kernel._metalog(p, table, 0, 1.0, 0.0) == 1.0
    assert _kernel._metalog(p, table, 0, 5e-324, 1.0) >= 0.0
    unbounded = SANE[0]
    _, p, table = unbounded.kernel_args()
    assert _kernel._metalog(p, table, 0, 0.0, 1.0) == -math.inf
    assert math.isnan(_kernel._metalog(p, table, -1, 0.5, 0.5))  # no table: no metalog


@pytest.mark.parametrize("dist", ALL, ids=ALL_IDS)
def test_cdf_inverts_ppf(dist):
    x = dist.ppf(U)
    np.testing.assert_allclose(dist.cdf(x), U, rtol=1e-10, atol=0)
    np.testing.assert_allclose(dist.to_scipy().sf(x), 1.0 - U, rtol=1e-10, atol=1e-15)
    lo, hi = dist.support()
    assert dist.cdf(lo) == 0.0 and dist.cdf(hi) == 1.0 and np.isnan(dist.cdf(np.nan))
    assert isinstance(dist.cdf(0.5 * (x[0] + x[-1])), float)


@pytest.mark.parametrize("dist", ALL, ids=ALL_IDS)
def test_pdf_is_the_derivative_of_cdf_and_integrates_to_one(dist):
    x = dist.ppf(np.linspace(0.02, 0.98, 25))
    h = 1e-6 * spread(dist)
    numeric = (dist.cdf(x + h) - dist.cdf(x - h)) / (2 * h)
    np.testing.assert_allclose(dist.pdf(x), numeric, rtol=1e-6)
    # Gauss-Legendre on 200 cells between the quantiles at L = ln(y / (1 - y)) evenly spaced
    # from ln(1e-12) to -ln(1e-12): the density varies little within a cell, even in a tail
    edges = dist.ppf(special.expit(np.linspace(math.log(1e-12), -math.log(1e-12), 201)))
    nodes, weights = np.polynomial.legendre.leggauss(20)
    half = 0.5 * np.diff(edges)[:, None]
    x = 0.5 * (edges[:-1] + edges[1:])[:, None] + half * nodes
    assert np.sum(half * weights * dist.pdf(x)) == pytest.approx(1.0 - 2e-12, abs=1e-10)
    lo, hi = dist.support()
    outside = [v for v in (lo - 1.0, hi + 1.0) if math.isfinite(v)]
    assert np.all(dist.pdf(np.array(outside)) == 0.0)


# -- tier 3: goodness of fit --------------------------------------------------------------------
@pytest.mark.parametrize("dist", ALL, ids=ALL_IDS)
def test_draws_fit_the_cdf(dist):
    x = dist.rvs(20_000, seed=SEED_KS)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-3


@pytest.mark.parametrize("dist", [SANE[0], SANE[2], WIDE], ids=["unbounded", "bounded", "wide"])
def test_sample_moments_within_4_standard_errors(dist):
    """Mean and standard deviation; the standard error of s is sqrt((mu4 - sigma^4) / n) / (2
    sigma) (these three have every moment; the semi-bounded SANE entries have no fourth)."""
    n = 200_000
    x = dist.rvs(n, seed=SEED_MOMENTS)
    m, s = dist.mean(), dist.std()
    ys = (np.arange(1_000_000) + 0.5) / 1_000_000
    mu4 = float(np.mean((dist.ppf(ys) - m) ** 4))
    assert abs(x.mean() - m) <= K_SE * s / math.sqrt(n)
    assert abs(x.std() - s) <= K_SE * math.sqrt((mu4 - s**4) / n) / (2 * s)


# -- errors -------------------------------------------------------------------------------------
def test_infeasible_quantiles_are_refused_and_really_are_infeasible():
    q, x = [0.1, 0.5, 0.9], [0.0, 1.0, 1.1]
    # by hand: the exact 3-term solve and its quantile function on a grid
    ln9 = math.log(9.0)
    a = [x[1], (x[2] - x[0]) / (2 * ln9), (x[2] + x[0] - 2 * x[1]) / (0.8 * ln9)]
    y = np.linspace(0.5, 1 - 1e-9, 100_001)
    big_l = np.log(y / (1 - y))
    values = a[0] + a[1] * big_l + a[2] * (y - 0.5) * big_l
    assert np.any(np.diff(values) < 0.0)  # it does decrease, so no metalog exists
    with pytest.raises(ValueError, match=r"decreases for y in \(0\.7") as info:
        Metalog.from_quantiles(p10=0.0, p50=1.0, p90=1.1)
    message = str(info.value)
    assert "q=[0.1, 0.5, 0.9]" in message and "x=[0, 1, 1.1]" in message
    assert "fewer terms or add bounds" in message
    with pytest.raises(ValueError, match=r"decreases for y in \(0, 0\.2"):
        Metalog([0.1, 0.5, 0.9], [-1.1, -1.0, 0.0])  # the mirror image: the lower tail
    # the same quantiles are feasible with two terms fitted by least squares
    assert Metalog(q, x, terms=2).ppf(0.9) > Metalog(q, x, terms=2).ppf(0.5)


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"q": [0.5, 0.1, 0.9], "x": [0, 1, 2]}, "q must be strictly increasing; q[0]=0.5"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 2, 1]}, "x must be strictly increasing; x[1]=2.0"),
        ({"q": [0.1, 0.5, 0.5], "x": [0, 1, 2]}, "q must be strictly increasing"),
        ({"q": [0.0, 0.5, 0.9], "x": [0, 1, 2]}, "q[0]=0.0 must be a probability in (0, 1)"),
        ({"q": [0.1, 0.5, 1.0], "x": [0, 1, 2]}, "q[2]=1.0 must be a probability in (0, 1)"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1]}, "same length; got 3 probabilities and 2 values"),
        ({"q": [0.5], "x": [1]}, "at least two quantiles"),
        ({"q": [0.1, math.nan, 0.9], "x": [0, 1, 2]}, "q[1]=nan must be"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, math.inf, 2]}, "x[1]=inf must be"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "low": 0.0}, "x[0]=0.0 must lie strictly inside"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "high": 1.5}, "x[2]=2.0 must lie strictly inside"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "low": 3.0, "high": 2.0}, "low=3.0 must be below"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "low": math.nan}, "low=nan"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "low": math.inf}, "low=inf"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "high": -math.inf}, "high=-inf"),
        (
            {"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "terms": 4},
            "terms=4 must be an integer in [2, 3]",
        ),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "terms": 1}, "terms=1 must be"),
        ({"q": [0.1, 0.5, 0.9], "x": [0, 1, 2], "terms": 2.5}, "terms=2.5 must be"),
        ({"q": [[0.1, 0.5]], "x": [[0, 1]]}, "q must be 1-d"),
        (
            {"q": np.linspace(0.05, 0.95, MAX_TERMS + 1), "x": np.arange(MAX_TERMS + 1.0)},
            f"need terms=... (at most {MAX_TERMS})",
        ),
    ],
)
def test_invalid_values_are_refused_with_a_useful_message(kw, needle):
    with pytest.raises(ValueError) as info:
        Metalog(**kw)
    assert str(info.value).startswith("Metalog: ") and needle in str(info.value)


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"q": "0.1 0.5", "x": [0, 1]}, "q='0.1 0.5' must be a sequence"),
        ({"q": 0.5, "x": [0, 1]}, "q=0.5 must be a sequence"),
        ({"q": [0.1, "0.5"], "x": [0, 1]}, "q[1]='0.5' must be a finite real number"),
        ({"q": [0.1, 0.5], "x": [True, 1]}, "x[0]=True must be"),
        ({"q": [0.1, 0.5], "x": [0, 1], "terms": True}, "terms=True must be"),
        ({"q": [0.1, 0.5], "x": [0, 1], "high": "1"}, "high='1' must be"),
    ],
)
def test_wrong_types_are_refused_with_a_useful_message(kw, needle):
    with pytest.raises(TypeError) as info:
        Metalog(**kw)
    assert str(info.value).startswith("Metalog: ") and needle in str(info.value)


def test_from_quantiles_parses_any_number_of_percentiles():
    dist = Metalog.from_quantiles(p90=0.15, p10=-0.1, p50=0.0)
    assert dist == Metalog([0.1, 0.5, 0.9], [-0.1, 0.0, 0.15])
    five = Metalog.from_quantiles(p5=1, p25=2.2, p50=3, p75=4.1, p95=7.5, low=0.0, terms=4)
    assert five.q == (0.05, 0.25, 0.5, 0.75, 0.95) and five.terms == 4 and five.low == 0.0
    with pytest.raises(
        TypeError, match="unknown keyword 'p0'; give two or more quantiles as pNN=value"
    ):
        Metalog.from_quantiles(p0=1.0, p50=2.0)
    with pytest.raises(TypeError, match="unknown keyword 'median'"):
        Metalog.from_quantiles(median=1.0, p90=2.0)
    with pytest.raises(TypeError, match="needs at least two quantiles"):
        Metalog.from_quantiles(p50=1.0)
    with pytest.raises(ValueError, match="p50=3.0 must be below p90=2.0"):
        Metalog.from_quantiles(p10=1.0, p50=3.0, p90=2.0)
    with pytest.raises(ValueError, match="Metalog: p50=nan must be"):
        Metalog.from_quantiles(p10=1.0, p50=math.nan)


# -- identity and serialisation -----------------------------------------------------------------
def test_to_dict_holds_only_what_was_given():
    assert Metalog([0.1, 0.5, 0.9], [-0.1, 0.0, 0.15]).to_dict() == {
        "family": "Metalog",
        "q": [0.1, 0.5, 0.9],
        "x": [-0.1, 0.0, 0.15],
    }
    bounded = Metalog([0.1, 0.5, 0.7, 0.9], [1, 2, 3, 5], low=0, high=10, terms=3)
    assert bounded.to_dict() == {
        "family": "Metalog",
        "q": [0.1, 0.5, 0.7, 0.9],
        "x": [1.0, 2.0, 3.0, 5.0],
        "low": 0.0,
        "high": 10.0,
        "terms": 3,
    }
    assert (
        repr(bounded) == "Metalog(q=[0.1, 0.5, 0.7, 0.9], x=[1, 2, 3, 5], low=0, high=10, terms=3)"
    )
    assert Metalog([0.1, 0.9], [0, 1], terms=2) == Metalog([0.1, 0.9], [0, 1])  # the default


@pytest.mark.parametrize("dist", ALL, ids=ALL_IDS)
def test_round_trips_and_is_frozen(dist):
    clone = distributions.from_dict(dist.to_dict())
    assert clone == dist and hash(clone) == hash(dist) and clone is not dist
    assert np.array_equal(clone.ppf(U), dist.ppf(U))
    copied = copy.deepcopy(dist)  # the state travels without the cache; the fit is redone
    assert copied == dist and np.array_equal(copied.coefficients, dist.coefficients)
    with pytest.raises(AttributeError, match="immutable"):
        dist.terms = 2
    with pytest.raises(ValueError, match="read-only"):
        dist.coefficients[0] = 1.0
    assert dist != Metalog(dist.q, dist.x[:-1] + (dist.x[-1] + 1e-9,), dist.low, dist.high)


def test_from_dict_names_where_it_failed():
    with pytest.raises(ValueError, match=r"^drivers\.g: Metalog: x must be strictly increasing"):
        distributions.from_dict(
            {"family": "Metalog", "q": [0.1, 0.9], "x": [2.0, 1.0]}, where="drivers.g"
        )


# -- a scenario with a Metalog driver -----------------------------------------------------------
TOY_NORMAL = 'dist = { family = "Normal", loc = 0, scale = 0.05 }'
TOY_METALOG = 'dist = { family = "Metalog", q = [0.1, 0.5, 0.9], x = [-0.1, 0.0, 0.15] }'


def test_scenario_with_a_metalog_driver_loads_simulates_and_round_trips():
    text = builtin_scenario_text("toy")
    assert text.count(TOY_NORMAL) == 1  # growth.core's deviation
    scenario = loads_scenario(text.replace(TOY_NORMAL, TOY_METALOG), source="toy.toml")
    (growth,) = [d for d in scenario.drivers if d.name == "growth.core"]
    assert growth.dist == Metalog([0.1, 0.5, 0.9], [-0.1, 0.0, 0.15])
    again = loads_scenario(dumps_scenario(scenario), source="dumped.toml")
    assert [d.dist for d in again.drivers] == [d.dist for d in scenario.drivers]

    result = simcore.simulate(scenario, n_paths=2000, seed=1, keep_draws=True)
    draws = result.draws["drivers"]["growth.core"]  # base 0.10 + a Metalog deviation each year
    assert draws.shape == (2000, scenario.horizon) and np.isfinite(draws).all()
    for year in range(scenario.horizon):
        assert stats.kstest(draws[:, year] - 0.10, growth.dist.cdf).pvalue > 1e-3
    assert np.isfinite(result["net_profit"]).all()
    replay = simcore.simulate(scenario, n_paths=2000, seed=1, keep_draws=True)
    assert np.array_equal(replay.draws["drivers"]["growth.core"], draws)
    assert np.array_equal(replay["net_profit"], result["net_profit"])


def test_scenario_names_the_key_of_an_infeasible_metalog():
    text = builtin_scenario_text("toy").replace(
        TOY_NORMAL, 'dist = { family = "Metalog", q = [0.1, 0.5, 0.9], x = [0.0, 1.0, 1.1] }'
    )
    with pytest.raises(ValueError, match=r"growth\.core.*decreases for y in"):
        loads_scenario(text, source="toy.toml")
