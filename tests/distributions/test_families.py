"""Every distribution family against scipy.stats, on the parameters of ``distributions.testing``.

Three tiers (see docs of the style guide): accuracy of ``ppf`` against scipy on a dense grid,
analytic means within k = 4 Monte Carlo standard errors, and goodness of fit (KS for continuous,
chi-square for discrete families) of seeded draws. Seeds are arbitrary fixed numbers, not tuned.
"""

import math
import warnings

import numba
import numpy as np
import pytest
from scipy import special, stats

import distributions
from distributions import FAMILIES, _kernel
from distributions.testing import EXACT_PATH, SANE_PARAMS, sane_distributions

SANE = sane_distributions()
IDS = [name for name, _ in SANE]
DISCRETE = {"Bernoulli", "Poisson", "Constant"}
CONTINUOUS = [(n, d) for n, d in SANE if d.family not in DISCRETE]
TABULATED = {"Beta", "PERT", "Gamma", "StudentT", "TruncatedNormal"}

# probabilities from 1e-10 to 1 - 1e-10: log-spaced into both tails plus a linear middle
Q = np.unique(
    np.concatenate(
        [
            np.logspace(-10, math.log10(0.5), 700),
            np.linspace(0.0005, 0.9995, 1000),
            1.0 - np.logspace(-10, math.log10(0.5), 700),
        ]
    )
)

SEED_KS = 20240611  # arbitrary fixed seed for the goodness-of-fit tier
SEED_MEAN = 7  # arbitrary fixed seed for the mean tier
K_SE = 4  # tolerance of the mean tier in Monte Carlo standard errors


def scipy_ppf(dist, q):
    with warnings.catch_warnings():
        # scipy's own Beta quantile warns on some tails (boost root finding); not our concern
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(dist.to_scipy().ppf(q), dtype=np.float64)


def assert_ppf_close(got, ref, dist, q):
    """|got - ref| <= 1e-8 |ref| + 1e-10 * spread: the accuracy target (spread = IQR or 1)."""
    iqr = float(scipy_ppf(dist, 0.75) - scipy_ppf(dist, 0.25))
    atol = 1e-10 * max(1.0, iqr)
    bad = ~(np.abs(got - ref) <= 1e-8 * np.abs(ref) + atol)
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        raise AssertionError(f"{dist!r}: ppf off at q={q[i]}: got {got[i]}, scipy {ref[i]}")


def in_slab(table, rows_before=5):
    """The table inside a bigger shared slab (as the simulation packs it) and its offset."""
    if table.shape[0] == 0:
        return np.zeros((1, 2)), -1
    junk = np.full((rows_before, 2), np.nan)
    return np.ascontiguousarray(np.vstack([junk, table, junk])), rows_before


@numba.njit
def user_ppf_u(code, p, tables, offset, u, out):
    # a user's own jitted code calling the library kernel, as the simulation kernel does
    for i in range(u.size):
        out[i] = _kernel.ppf_u(code, p, tables, offset, u[i])


@numba.njit
def user_ppf_z(code, p, tables, offset, z, out):
    for i in range(z.size):
        out[i] = _kernel.ppf_z(code, p, tables, offset, z[i])


# -- the parameter table itself -------------------------------------------------------------------
def test_every_family_has_sane_params():
    assert set(SANE_PARAMS) == set(FAMILIES)
    for family in FAMILIES:
        assert getattr(distributions, family) is FAMILIES[family]


@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_kernel_path_is_as_documented(name, dist):
    family, i = name.rsplit("-", 1)
    code, _, table = dist.kernel_args()
    if family in TABULATED:
        expected = "exact" if (family, int(i)) in EXACT_PATH else "table"
        assert dist.kernel_path() == expected
        assert code == (dist.code if expected == "exact" else _kernel.CODE_TABLE)
        assert table.shape == ((_kernel.TABLE_N, 2) if expected == "table" else (0, 2))
    else:
        assert code == dist.code


# -- tier 1: accuracy of ppf against scipy --------------------------------------------------------
@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_ppf_matches_scipy(name, dist):
    assert_ppf_close(dist.ppf(Q), scipy_ppf(dist, Q), dist, Q)


@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_ppf_inside_user_njit_code(name, dist):
    code, p, table = dist.kernel_args()
    slab, offset = in_slab(table)
    ref = scipy_ppf(dist, Q)
    got = np.empty_like(Q)
    user_ppf_u(code, p, slab, offset, Q, got)
    assert_ppf_close(got, ref, dist, Q)
    # the z entry point at the same probabilities: ppf_z(z) = ppf(Phi(z))
    user_ppf_z(code, p, slab, offset, special.ndtri(Q), got)
    assert_ppf_close(got, ref, dist, Q)


@pytest.mark.parametrize(
    ("name", "dist"),
    [(n, d) for n, d in SANE if d.family in TABULATED],
    ids=[n for n, d in SANE if d.family in TABULATED],
)
def test_exact_path_matches_scipy(name, dist):
    """The fallback path (family code, no table) is as accurate as the table everywhere."""
    _, p, _ = dist.kernel_args()
    got = np.empty_like(Q)
    user_ppf_u(dist.code, p, np.zeros((1, 2)), -1, Q, got)
    assert_ppf_close(got, scipy_ppf(dist, Q), dist, Q)


@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_ppf_z_upper_tail_keeps_precision(name, dist):
    """For z > 0 the u-families receive Phi(-z) itself, so ppf_z(z) = isf(Phi(-z)) far out."""
    z = np.linspace(1.0, 6.3, 60)
    code, p, table = dist.kernel_args()
    slab, offset = in_slab(table)
    got = np.empty_like(z)
    user_ppf_z(code, p, slab, offset, z, got)
    if dist.family == "Poisson":  # integers: the upper tail is no harder than the ppf
        ref = scipy_ppf(dist, special.ndtr(z))
    elif dist.family == "TruncatedNormal":  # scipy's isf cancels here (log of a difference)
        ref = np.array([truncnorm_isf_mp(dist, t) for t in special.ndtr(-z)])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.asarray(dist.to_scipy().isf(special.ndtr(-z)), dtype=np.float64)
    assert_ppf_close(got, ref, dist, special.ndtr(z))


def truncnorm_isf_mp(dist, q, lower=False):
    """x with P(X > x) = q (``lower``: P(X < x) = q) for a TruncatedNormal, in 50 digits."""
    import mpmath as mp

    with mp.workdps(50):
        a = (mp.mpf(dist.low) - dist.loc) / dist.scale
        b = (mp.mpf(dist.high) - dist.loc) / dist.scale
        cdf = lambda t: mp.erfc(-t / mp.sqrt(2)) / 2  # noqa: E731
        sf = lambda t: mp.erfc(t / mp.sqrt(2)) / 2  # noqa: E731
        q = 1 - mp.mpf(q) if lower else mp.mpf(q)  # exact at 50 digits, unlike 1 - q in double
        below = cdf(a) + (1 - q) * (cdf(b) - cdf(a))  # P(N < x), N the untruncated normal
        above = sf(b) + q * (sf(a) - sf(b))  # P(N > x)
        if below < 0.5:
            f = lambda t: mp.log(cdf(t)) - mp.log(below)  # noqa: E731
        else:
            f = lambda t: mp.log(sf(t)) - mp.log(above)  # noqa: E731
        lo = a if mp.isfinite(a) else b - 40
        hi = b if mp.isfinite(b) else a + 40
        rising = below < 0.5
        for _ in range(80):  # bisection: 40 / 2**80 is far below double resolution
            mid = (lo + hi) / 2
            if (f(mid) < 0) == rising:
                lo = mid
            else:
                hi = mid
        return float(dist.loc + dist.scale * (lo + hi) / 2)


@pytest.mark.parametrize("params", SANE_PARAMS["TruncatedNormal"])
def test_truncated_normal_tails_against_50_digits(params):
    dist = distributions.TruncatedNormal(**params)
    q = np.array([1e-10, 1e-7, 1e-4, 0.3, 0.7, 1 - 1e-4, 1 - 1e-7, 1 - 1e-10])
    ref = np.array([truncnorm_isf_mp(dist, t, lower=True) for t in q])
    # loc + scale * x rounds at the level of eps * (|loc| + scale), as in scipy: values close
    # to zero (a bound at 0) are accurate in absolute, not relative, terms
    atol = 1e-12 * (abs(dist.loc) + dist.scale)
    np.testing.assert_allclose(dist.ppf(q), ref, rtol=1e-12, atol=atol)


@pytest.mark.parametrize(("name", "dist"), CONTINUOUS, ids=[n for n, _ in CONTINUOUS])
def test_cdf_of_ppf_is_identity(name, dist):
    q = np.linspace(0.001, 0.999, 999)
    x = dist.ppf(q)
    back = dist.cdf(x)
    if dist.family == "Empirical":  # ties are atoms: cdf jumps over their quantile range
        data = dist.data
        tied = np.isin(x, data[:-1][np.diff(data) == 0.0])
        assert np.all(back[tied] >= q[tied] - 1e-12)
        q, back = q[~tied], back[~tied]
    np.testing.assert_allclose(back, q, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_ppf_ends_and_support(name, dist):
    lo, hi = dist.support()
    assert dist.ppf(0.0) == lo and dist.ppf(1.0) == hi
    assert (lo, hi) == tuple(float(v) for v in scipy_support(dist))
    x = dist.ppf(Q)
    assert np.all(np.diff(x) >= 0.0) and x.min() >= lo and x.max() <= hi
    assert np.isscalar(dist.ppf(0.5)) and dist.ppf(np.full((2, 3), 0.5)).shape == (2, 3)
    with pytest.raises(ValueError, match=dist.family):
        dist.ppf([0.5, 1.5])
    with pytest.raises(ValueError, match=dist.family):
        dist.ppf(np.nan)


def scipy_support(dist):
    if dist.family == "Constant":
        return dist.value, dist.value
    return dist.to_scipy().support()


@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_moments_agree_with_scipy(name, dist):
    ref = dist.to_scipy()
    if dist.family == "StudentT" and dist.df <= 1.0:
        with pytest.raises(ValueError, match="undefined"):
            dist.mean()
        with pytest.raises(ValueError, match="undefined"):
            dist.std()
        return
    assert dist.mean() == pytest.approx(float(ref.mean()), rel=1e-12, abs=1e-12)
    assert dist.std() == pytest.approx(float(ref.std()), rel=1e-10, abs=1e-12)
    x = dist.ppf(np.array([0.2, 0.5, 0.8]))
    if dist.family in DISCRETE:
        np.testing.assert_allclose(dist.pdf(x), ref.pmf(x), rtol=1e-14)
    else:
        np.testing.assert_allclose(dist.pdf(x), ref.pdf(x), rtol=1e-12)
    np.testing.assert_allclose(dist.cdf(x), ref.cdf(x), rtol=1e-12)


# -- tier 2: analytic means, k = 4 standard errors ------------------------------------------------
# (a StudentT with df <= 2 has infinite variance, so no standard error: its KS test checks it)
FINITE_VARIANCE = [(n, d) for n, d in SANE if not (d.family == "StudentT" and d.df <= 2.0)]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "dist"), FINITE_VARIANCE, ids=[n for n, _ in FINITE_VARIANCE])
def test_sample_mean_within_4_standard_errors(name, dist):
    n = 1_000_000
    x = dist.rvs(n, seed=SEED_MEAN)
    se = dist.std() / math.sqrt(n)
    if se == 0.0:  # Constant
        assert np.all(x == dist.mean())
    else:
        assert abs(x.mean() - dist.mean()) <= K_SE * se


# -- tier 3: goodness of fit ----------------------------------------------------------------------
def has_atoms(dist):
    return dist.family == "Empirical" and bool(np.any(np.diff(dist.data) == 0.0))


# KS assumes a continuous CDF; Empirical data with ties are checked by chi-square below
NO_ATOMS = [(n, d) for n, d in CONTINUOUS if not has_atoms(d)]


@pytest.mark.parametrize(("name", "dist"), NO_ATOMS, ids=[n for n, _ in NO_ATOMS])
def test_ks_against_scipy(name, dist):
    x = dist.rvs(100_000, seed=SEED_KS)
    assert stats.kstest(x, dist.to_scipy().cdf).pvalue > 1e-3


@pytest.mark.parametrize("data", [d["data"] for d in SANE_PARAMS["Empirical"]])
def test_empirical_cells_chi_square(data):
    """Each gap between neighbouring data points holds 1/(n-1); a value repeated m times is an
    atom of mass (m-1)/(n-1). Cells: the atoms and the open gaps between distinct values."""
    dist = distributions.Empirical(data)
    d = dist.data
    n_draws = 100_000
    x = dist.rvs(n_draws, seed=SEED_KS)
    values, mult = np.unique(d, return_counts=True)
    observed = [np.sum(x == v) for v, m in zip(values, mult, strict=True) if m > 1]
    expected = [(m - 1) / (d.size - 1) for m in mult if m > 1]
    for lo, hi in zip(values[:-1], values[1:], strict=True):
        observed.append(np.sum((x > lo) & (x < hi)))
        expected.append(1.0 / (d.size - 1))
    assert sum(observed) == n_draws  # u is never 0 or 1, so no draw sits on an end value
    assert stats.chisquare(observed, n_draws * np.array(expected)).pvalue > 1e-3


@pytest.mark.parametrize(
    ("name", "dist"),
    [(n, d) for n, d in SANE if d.family in DISCRETE],
    ids=[n for n, d in SANE if d.family in DISCRETE],
)
def test_discrete_frequencies_chi_square(name, dist):
    n = 100_000
    x = dist.rvs(n, seed=SEED_KS)
    if dist.family == "Constant":
        assert np.all(x == dist.value)
        return
    assert np.all(x == np.round(x)) and x.min() >= 0
    k_max = int(x.max())
    ks = np.arange(k_max + 1)
    observed = np.bincount(x.astype(np.int64), minlength=k_max + 1).astype(float)
    expected = n * dist.to_scipy().pmf(ks)
    expected[-1] += n * dist.to_scipy().sf(k_max)
    # pool the thin tails so that every cell expects at least 5
    obs_cells, exp_cells, o_acc, e_acc = [], [], 0.0, 0.0
    for o, e in zip(observed, expected, strict=True):
        o_acc, e_acc = o_acc + o, e_acc + e
        if e_acc >= 5.0:
            obs_cells.append(o_acc)
            exp_cells.append(e_acc)
            o_acc = e_acc = 0.0
    obs_cells[-1] += o_acc
    exp_cells[-1] += e_acc
    exp_cells = np.array(exp_cells) * (n / np.sum(exp_cells))
    assert len(obs_cells) >= 2
    assert stats.chisquare(obs_cells, exp_cells).pvalue > 1e-3


# -- identity, immutability, serialisation --------------------------------------------------------
@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_frozen_repr_and_round_trip(name, dist):
    assert repr(dist).startswith(f"{dist.family}(")
    with pytest.raises(AttributeError, match="immutable"):
        dist.loc = 3.0
    clone = distributions.from_dict(dist.to_dict())
    assert clone == dist and hash(clone) == hash(dist)
    assert np.array_equal(clone.ppf(Q[::50]), dist.ppf(Q[::50]))


def test_repr_reads_well():
    assert repr(distributions.PERT(1, 2, 5)) == "PERT(low=1, mode=2, high=5, lam=4)"
    assert repr(distributions.TruncatedNormal(0, 1, low=0)) == (
        "TruncatedNormal(loc=0, scale=1, low=0, high=inf)"
    )
    assert repr(distributions.Empirical([3, 1, 2])) == "Empirical(n=3, min=1, median=2, max=3)"
