"""Fit the dependence of yearly series: AR(1) persistence of normal scores and the correlation
of their innovations, the two things a scenario's drivers hold beside their marginals.

A driver's normal score follows ``z[t] = phi z[t-1] + sqrt(1 - phi^2) eps[t]`` with ``z``
standard normal in every year, and a Gaussian copula correlates the innovations ``eps`` of
different drivers. From a history, the scores are ``z = Phi^-1(F(x))`` with ``F`` the fitted
marginal; this module estimates ``phi`` from them and the copula's matrix from the innovations
they imply. Missing years are NaN: the likelihood spans a gap exactly (``phi^k`` across k
years) and correlations use the years both series have.

    ar = fit_ar1(z)                   # phi, its standard error and bootstrap interval
    eps = innovations(z, ar.phi)
    corr = fit_correlation(np.column_stack([eps1, eps2, eps3]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from ._nearest import nearest_correlation
from .normal import Normal

if TYPE_CHECKING:
    from .streams import SeedLike

__all__ = ["AR1Fit", "fit_ar1", "innovations", "CorrelationFit", "fit_correlation"]

PHI_BOUND = 0.99  # the search interval (-PHI_BOUND, PHI_BOUND) of the AR(1) coefficient
MIN_PAIRS = 3  # fewer years in common than this: a correlation is not estimated (set to 0)


def _scores(z: ArrayLike, what: str) -> np.ndarray:
    arr = np.asarray(z, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-d (one value per year); got shape {arr.shape}")
    if np.isinf(arr).any():
        raise ValueError(f"{what} holds an infinite score; missing years are NaN")
    return arr


def _pairs(z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The first observed score, and each later observed score with the one before it and the
    years between them (1 for consecutive years)."""
    at = np.flatnonzero(~np.isnan(z))
    return float(z[at[0]]), z[at[:-1]], z[at[1:]], np.diff(at)


def _loglik(phi: float, first: float, lag: np.ndarray, cur: np.ndarray, k: np.ndarray) -> float:
    """Exact Gaussian log-likelihood (constants dropped) of unit-variance AR(1) scores:
    ``z[t + k] | z[t] ~ N(phi^k z[t], 1 - phi^(2k))`` across ``k - 1`` missing years."""
    a = phi**k
    v = 1.0 - a * a
    r = cur - a * lag
    return -0.5 * (first * first + float(np.sum(r * r / v)) + float(np.sum(np.log(v))))


def _estimate(z: np.ndarray) -> float:
    args = _pairs(z)
    grid = np.linspace(-PHI_BOUND, PHI_BOUND, 199)
    ll = [_loglik(p, *args) for p in grid]
    i = int(np.argmax(ll))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda p: -_loglik(p, *args), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
    )
    return float(res.x)


@dataclass(frozen=True)
class AR1Fit:
    """The AR(1) coefficient of a series of normal scores.

    ``estimate`` is the maximum-likelihood value on ``(-0.99, 0.99)``; ``phi`` is what a
    scenario can hold (``persistence`` lies in [0, 1]: a negative estimate becomes 0).
    ``se`` is the standard error from the likelihood's curvature (the scores' unit variance
    is known, so it is far smaller near 1 than the textbook ``sqrt((1 - phi^2) / n)``);
    ``boot`` the parametric bootstrap estimates (same years missing), behind :meth:`interval`.
    On short series the estimate is biased towards 0 (Kendall 1954); the interval is the basic
    bootstrap's, ``2 * estimate - quantiles of boot``, which corrects for that bias.
    """

    estimate: float
    se: float
    n_pairs: int
    boot: np.ndarray = field(repr=False)

    @property
    def phi(self) -> float:
        return min(max(self.estimate, 0.0), 1.0)

    def interval(self, confidence: float = 0.9) -> tuple[float, float]:
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence={confidence!r} must be in (0, 1)")
        if not self.boot.size:
            raise ValueError("no bootstrap (fit_ar1 with n_boot > 0)")
        qlo, qhi = np.quantile(self.boot, [0.5 - confidence / 2, 0.5 + confidence / 2])
        lo, hi = 2.0 * self.estimate - qhi, 2.0 * self.estimate - qlo
        return float(max(lo, -1.0)), float(min(hi, 1.0))


def fit_ar1(z: ArrayLike, *, n_boot: int = 200, seed: SeedLike = 0) -> AR1Fit:
    """Fit ``phi`` to yearly normal scores ``z`` (NaN for a missing year).

    Needs at least 3 pairs of consecutive observed years.
    """
    arr = _scores(z, "z")
    seen = ~np.isnan(arr)
    n_pairs = int(np.sum(seen[1:] & seen[:-1]))
    if n_pairs < 3:
        raise ValueError(
            f"fit_ar1: {n_pairs} pair(s) of consecutive years; at least 3 are needed to "
            f"estimate the persistence"
        )
    est = _estimate(arr)
    args = _pairs(arr)
    h = 1e-4 * (1.0 - abs(est)) + 1e-7  # inside (-1, 1) even at the search bounds
    curv = (_loglik(est + h, *args) - 2.0 * _loglik(est, *args) + _loglik(est - h, *args)) / (h * h)
    se = 1.0 / math.sqrt(-curv) if curv < 0.0 else math.inf
    boot = np.empty(0)
    if n_boot:
        e = Normal(0.0, 1.0).rvs((int(n_boot), arr.size), seed=seed, stream="fit/ar1")
        b = math.sqrt(1.0 - est * est)
        sim = np.empty_like(e)
        sim[:, 0] = e[:, 0]
        for t in range(1, arr.size):
            sim[:, t] = est * sim[:, t - 1] + b * e[:, t]
        sim[:, np.isnan(arr)] = np.nan
        boot = np.array([_estimate(row) for row in sim])
    return AR1Fit(estimate=est, se=se, n_pairs=n_pairs, boot=boot)


def innovations(z: ArrayLike, phi: float) -> np.ndarray:
    """``eps[t] = (z[t] - phi z[t-1]) / sqrt(1 - phi^2)``; across ``k - 1`` missing years the
    standardised ``(z[t] - phi^k z[t-k]) / sqrt(1 - phi^(2k))`` (a weighted sum of those years'
    innovations); in the first observed year ``eps = z``; NaN where ``z`` is."""
    arr = _scores(z, "z")
    if not -1.0 < phi < 1.0:
        raise ValueError(f"phi={phi!r} must lie in (-1, 1) to recover innovations")
    eps = np.full(arr.shape, np.nan)
    at = np.flatnonzero(~np.isnan(arr))
    if at.size:
        eps[at[0]] = arr[at[0]]
        a = phi ** np.diff(at)
        eps[at[1:]] = (arr[at[1:]] - a * arr[at[:-1]]) / np.sqrt(1.0 - a * a)
    return eps


@dataclass(frozen=True)
class CorrelationFit:
    """The correlation matrix of the columns, pairwise over the years both hold.

    ``raw`` is the pairwise estimate; ``matrix`` the one to use: ``raw`` itself when it is
    positive semi-definite, else the nearest correlation matrix (Higham 2002; ``repaired``
    True, ``max_change`` the largest entry it moved). ``n_common[i, j]``: years in common;
    pairs with fewer than :data:`MIN_PAIRS` get 0. ``se`` is the large-sample standard error
    ``(1 - r^2) / sqrt(n - 1)`` of each entry: on 8 years a correlation of 0.5 is +-0.28.
    """

    matrix: np.ndarray
    raw: np.ndarray
    n_common: np.ndarray
    repaired: bool
    max_change: float

    @property
    def se(self) -> np.ndarray:
        n = np.maximum(self.n_common, 2)
        return (1.0 - self.raw**2) / np.sqrt(n - 1.0)


def fit_correlation(x: ArrayLike) -> CorrelationFit:
    """Pairwise Pearson correlation of the columns of ``x`` (years x series, NaN = missing),
    repaired to the nearest correlation matrix when it is not positive semi-definite."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"fit_correlation: x must be years x (2 or more) series; got {arr.shape}")
    d = arr.shape[1]
    raw = np.eye(d)
    n_common = np.zeros((d, d), dtype=np.int64)
    for i in range(d):
        for j in range(d):
            both = ~np.isnan(arr[:, i]) & ~np.isnan(arr[:, j])
            n_common[i, j] = int(both.sum())
            if i < j and n_common[i, j] >= MIN_PAIRS:
                a, b = arr[both, i], arr[both, j]
                if a.std() > 0.0 and b.std() > 0.0:
                    raw[i, j] = raw[j, i] = float(np.corrcoef(a, b)[0, 1])
    if np.linalg.eigvalsh(raw).min() >= -1e-12:
        return CorrelationFit(raw, raw, n_common, False, 0.0)
    fixed, _, _ = nearest_correlation(raw)
    return CorrelationFit(fixed, raw, n_common, True, float(np.abs(fixed - raw).max()))
