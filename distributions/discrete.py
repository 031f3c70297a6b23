"""Discrete families: ``Bernoulli(p)`` and ``Poisson(mu)`` (values returned as floats).

- Bernoulli: scipy ``bernoulli(p)``; kernel ``[p, 1 - p]``: ``0`` if ``u <= 1 - p`` else ``1``.
  (scipy's Boost-based quantile breaks ties within ~10 ulp of ``1 - p`` differently.)
- Poisson: scipy ``poisson(mu)``; kernel ``[mu, k_lo, rows]`` with the CDF ``pdtr(k, mu)`` for
  ``k = k_lo .. k_lo + rows - 1`` as its table, searched in O(log rows); within 1e-9 of a CDF
  step, and without a table (``mu`` above :data:`POISSON_TABLE_MAX_MU`), the kernel runs scipy's
  own algorithm (``pdtrik`` then ``pdtr``), so the two agree exactly.

For these families ``pdf`` is the probability mass function (density with respect to counting
measure), also available as ``pmf``.
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from . import _kernel
from ._base import Distribution, Param

POISSON_TABLE_MAX_MU = 1e6  # above this, the table (about 80 * sqrt(mu) rows) is not built


class Bernoulli(Distribution):
    family = "Bernoulli"
    code = _kernel.CODE_BERNOULLI
    params = (Param("p", low=0.0, high=1.0, low_closed=True, high_closed=True),)
    __slots__ = ()

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.bernoulli(self.p)

    def _kernel_params(self) -> np.ndarray:
        return np.array([self.p, 1.0 - self.p])

    @overload
    def pmf(self, x: float) -> float: ...
    @overload
    def pmf(self, x: ArrayLike) -> np.ndarray: ...
    def pmf(self, x: ArrayLike) -> np.ndarray | float:
        return self.to_scipy().pmf(x)

    pdf = pmf

    def mean(self) -> float:
        return self.p

    def std(self) -> float:
        return math.sqrt(self.p * (1.0 - self.p))

    def support(self) -> tuple[float, float]:
        return 0.0, 1.0


class Poisson(Distribution):
    family = "Poisson"
    code = _kernel.CODE_POISSON
    params = (Param("mu", low=0.0),)
    __slots__ = ()

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.poisson(self.mu)

    def _table(self) -> np.ndarray | None:
        if "table" not in self._cache:
            self._cache["table"] = _poisson_cdf_table(self.mu)
        return None if self._cache["table"] is None else self._cache["table"][1]

    def _kernel_params(self) -> np.ndarray:
        if self._table() is None:
            return np.array([self.mu, 0.0, 0.0])
        k_lo, table = self._cache["table"]
        return np.array([self.mu, k_lo, table.shape[0]])

    @overload
    def pmf(self, x: float) -> float: ...
    @overload
    def pmf(self, x: ArrayLike) -> np.ndarray: ...
    def pmf(self, x: ArrayLike) -> np.ndarray | float:
        return self.to_scipy().pmf(x)

    pdf = pmf

    def mean(self) -> float:
        return self.mu

    def std(self) -> float:
        return math.sqrt(self.mu)

    def support(self) -> tuple[float, float]:
        return 0.0, math.inf


def _poisson_cdf_table(mu: float) -> tuple[int, np.ndarray] | None:
    """``(k_lo, table)``: rows ``[pdtr(k, mu), 0]`` for ``k = k_lo ..`` up to CDF 1.0 (double).

    ``k_lo`` sits 40 standard deviations below the mean, where the CDF is below 1e-300, far
    under the smallest uniform a stream produces (1.1e-16); the kernel falls back to the exact
    path for anything at or below the first row.
    """
    if mu > POISSON_TABLE_MAX_MU:
        return None
    sd = math.sqrt(mu)
    k_lo = max(0, math.floor(mu - 40.0 * sd - 40.0))
    k_hi = math.ceil(mu + 40.0 * sd + 60.0)
    cdf = special.pdtr(np.arange(k_lo, k_hi + 1, dtype=np.float64), mu)
    while cdf[-1] < 1.0:  # never taken for the bounds above; kept for safety
        k_hi *= 2
        cdf = special.pdtr(np.arange(k_lo, k_hi + 1, dtype=np.float64), mu)
    last = int(np.argmax(cdf >= 1.0))  # first row where the CDF reaches 1.0
    return k_lo, np.column_stack([cdf[: last + 1], np.zeros(last + 1)])
