"""Constant family: ``Constant(value)``, a point mass (a driver held fixed).

scipy has no degenerate continuous distribution; ``to_scipy()`` is the one-point
``rv_discrete(values=([value], [1.0]))``. Kernel params ``[value]``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from . import _kernel
from ._base import Distribution, Param


class Constant(Distribution):
    family = "Constant"
    code = _kernel.CODE_CONSTANT
    params = (Param("value"),)
    __slots__ = ()

    def to_scipy(self):
        return stats.rv_discrete(name="constant", values=([self.value], [1.0]))()

    def _kernel_params(self):
        return np.array([self.value])

    def cdf(self, x):
        """Step function: 0 below ``value``, 1 from ``value`` on."""
        x = np.asarray(x, dtype=np.float64)
        out = (x >= self.value).astype(np.float64)
        return out[()] if out.ndim == 0 else out

    def pmf(self, x):
        """1 at ``value``, 0 elsewhere (a point mass has no density)."""
        x = np.asarray(x, dtype=np.float64)
        out = (x == self.value).astype(np.float64)
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
