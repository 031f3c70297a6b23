"""distributions.fit_series: AR(1) persistence of normal scores, innovations, correlation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from distributions.fit_series import (
    fit_ar1,
    fit_correlation,
    innovations,
)

RNG_SEED = 31  # a literal seed, not chosen to pass


def _ar1(phi: float, n: int, rng: np.random.Generator) -> np.ndarray:
    e = rng.standard_normal(n)
    z = np.empty(n)
    z[0] = e[0]
    for t in range(1, n):
        z[t] = phi * z[t - 1] + math.sqrt(1.0 - phi * phi) * e[t]
    return z


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_a_long_ar1_recovers_its_coefficient_within_four_standard_errors(phi):
    z = _ar1(phi, 400, np.random.default_rng(RNG_SEED))
    f = fit_ar1(z, n_boot=100)
    assert abs(f.estimate - phi) <= 4.0 * f.se, (f.estimate, f.se)
    # the curvature's standard error agrees with the bootstrap's spread (within 30%)
    assert f.se == pytest.approx(float(np.std(f.boot)), rel=0.3)
    lo, hi = f.interval(0.9)
    assert lo < f.estimate < hi


def test_the_exact_likelihood_maximum_matches_a_fine_grid():
    z = _ar1(0.6, 30, np.random.default_rng(RNG_SEED + 1))
    grid = np.linspace(-0.99, 0.99, 19_801)
    ll = [
        -0.5 * (z[0] ** 2 + np.sum((z[1:] - p * z[:-1]) ** 2) / (1 - p * p))
        - 0.5 * 29 * math.log(1 - p * p)
        for p in grid
    ]
    assert fit_ar1(z, n_boot=0).estimate == pytest.approx(grid[int(np.argmax(ll))], abs=2e-4)


def test_the_likelihood_spans_a_gap_exactly():
    """With missing years, the AR(1) likelihood is the multivariate normal density of the
    observed years (covariance phi^|i - j|), up to its constant."""
    from scipy import stats

    from distributions.fit_series import _loglik, _pairs

    z = np.array([0.1, 0.5, np.nan, -0.3, 0.2, 0.4, 0.9, np.nan, np.nan, 0.1])
    at = np.flatnonzero(~np.isnan(z))
    const = 0.5 * at.size * math.log(2 * math.pi)
    for phi in (-0.4, 0.0, 0.6, 0.9):
        cov = phi ** np.abs(np.subtract.outer(at, at)).astype(float)
        exact = stats.multivariate_normal(np.zeros(at.size), cov).logpdf(z[at])
        assert _loglik(phi, *_pairs(z)) - const == pytest.approx(exact, rel=1e-12, abs=1e-12)
    f = fit_ar1(z, n_boot=20)
    assert f.n_pairs == 4  # consecutive years: (0,1), (3,4), (4,5), (5,6)
    assert np.isnan(f.boot).sum() == 0
    e = innovations(z, 0.5)
    assert np.isnan(e[[2, 7, 8]]).all() and e[0] == z[0]
    assert e[3] == pytest.approx((z[3] - 0.25 * z[1]) / math.sqrt(1 - 0.0625))  # across a gap
    assert e[4] == pytest.approx((z[4] - 0.5 * z[3]) / math.sqrt(0.75))


def test_a_negative_estimate_becomes_persistence_zero():
    z = _ar1(-0.6, 200, np.random.default_rng(RNG_SEED + 2))
    f = fit_ar1(z, n_boot=0)
    assert f.estimate < -0.3 and f.phi == 0.0


def test_innovations_invert_the_recursion():
    rng = np.random.default_rng(RNG_SEED + 3)
    e = rng.standard_normal(12)
    z = np.empty(12)
    z[0] = e[0]
    for t in range(1, 12):
        z[t] = 0.7 * z[t - 1] + math.sqrt(1 - 0.49) * e[t]
    np.testing.assert_allclose(innovations(z, 0.7), e, rtol=1e-12, atol=1e-14)


def test_fit_ar1_refuses_what_it_cannot_estimate():
    with pytest.raises(ValueError, match="at least 3 are needed"):
        fit_ar1([0.1, np.nan, 0.3, 0.2])
    with pytest.raises(ValueError, match="1-d"):
        fit_ar1(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="infinite"):
        fit_ar1([0.1, np.inf, 0.3, 0.2, 0.1])
    with pytest.raises(ValueError, match=r"phi=1.0 must lie in \(-1, 1\)"):
        innovations([0.1, 0.2], 1.0)


def test_a_known_correlation_is_recovered_within_four_standard_errors():
    rng = np.random.default_rng(RNG_SEED + 4)
    c = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.1], [-0.3, 0.1, 1.0]])
    x = rng.standard_normal((500, 3)) @ np.linalg.cholesky(c).T
    f = fit_correlation(x)
    assert not f.repaired and f.max_change == 0.0
    assert (np.abs(f.matrix - c) <= 4.0 * f.se + 1e-12).all()
    assert (f.n_common == 500).all()


def test_a_pairwise_estimate_that_is_not_a_correlation_matrix_is_repaired():
    """a and b agree on years 0-9, b and c on 10-19, a and c disagree on 20-29: pairwise
    correlations near +1, +1, -1, which no correlation matrix holds."""
    rng = np.random.default_rng(RNG_SEED + 5)
    x = np.full((30, 3), np.nan)
    s = rng.standard_normal(30)
    x[:10, 0], x[:10, 1] = s[:10], s[:10] + 0.01 * rng.standard_normal(10)
    x[10:20, 1], x[10:20, 2] = s[10:20], s[10:20] + 0.01 * rng.standard_normal(10)
    x[20:, 0], x[20:, 2] = s[20:], -s[20:] + 0.01 * rng.standard_normal(10)
    f = fit_correlation(x)
    assert f.repaired and f.max_change > 0.3
    assert np.linalg.eigvalsh(f.matrix).min() > 0.0
    np.testing.assert_allclose(np.diag(f.matrix), 1.0)
    assert np.linalg.eigvalsh(f.raw).min() < 0.0


def test_pairs_without_enough_common_years_get_zero():
    x = np.full((8, 2), np.nan)
    x[:5, 0] = [0.1, 0.5, -0.2, 0.3, 0.0]
    x[4:, 1] = [0.2, 0.1, -0.4, 0.3]
    f = fit_correlation(x)
    assert f.n_common[0, 1] == 1 and f.matrix[0, 1] == 0.0
    with pytest.raises(ValueError, match="2 or more"):
        fit_correlation(np.zeros((5, 1)))


@pytest.mark.slow
def test_the_ar1_interval_covers_the_coefficient_at_the_stated_rate():
    """90% basic-bootstrap intervals of phi from 30 years cover the truth (0.5) in 90% of
    series, within 3.3 binomial standard errors of 100 series."""
    rng = np.random.default_rng(RNG_SEED + 6)
    m, hits = 100, 0
    for i in range(m):
        lo, hi = fit_ar1(_ar1(0.5, 30, rng), n_boot=100, seed=i).interval(0.9)
        hits += lo <= 0.5 <= hi
    assert abs(hits / m - 0.9) <= 3.3 * math.sqrt(0.09 / m), hits / m
