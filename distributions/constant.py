"""Constant family: ``Constant(value)``, a point mass (a driver held fixed).

scipy has no degenerate continuous distribution; ``to_scipy()`` is the one-point
``rv_discrete(values=([value], [1.0]))``. Kernel params ``[value]``.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike

from . import _kernel
from ._base import Distribution, Param


class Constant(Distribution):
    family = "Constant"
    code = _kernel.CODE_CONSTANT
    params = (Param("value"),)
    __slots__ = ()

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.rv_discrete(name="constant", values=([self.value], [1.0]))()

    def _kernel_params(self) -> np.ndarray:
        return np.array([self.value])

    @overload
    def cdf(self, x: float) -> float: ...
    @overload
    def cdf(self, x: ArrayLike) -> np.ndarray: ...
    def cdf(self, x: ArrayLike) -> np.ndarray | float:
        """Step function: 0 below ``value``, 1 from ``value`` on."""
        out = (np.asarray(x, dtype=np.float64) >= self.value).astype(np.float64)
        return out[()] if out.ndim == 0 else out

    @overload
    def pmf(self, x: float) -> float: ...
    @overload
    def pmf(self, x: ArrayLike) -> np.ndarray: ...
    def pmf(self, x: ArrayLike) -> np.ndarray | float:
        """1 at ``value``, 0 elsewhere (a point mass has no density)."""
        out = (np.asarray(x, dtype=np.float64) == self.value).astype(np.float64)
        return out[()] if out.ndim == 0 else out

    pdf = pmf

    def mean(self) -> float:
        return self.value

    def std(self) -> float:
        return 0.0

    def var(self) -> float:
        return 0.0

    def support(self) -> tuple[float, float]:
        return self.value, self.value
