"""PERT family: ``PERT(low, mode, high, lam=4)``, the modified-PERT Beta on ``[low, high]``.

``alpha = 1 + lam * (mode - low) / (high - low)`` and
``beta = 1 + lam * (high - mode) / (high - low)``, so the mean is
``(low + lam * mode + high) / (lam + 2)``; ``lam = 4`` is the classic PERT.
scipy: ``beta(alpha, beta, loc=low, scale=high - low)``. Kernel as :mod:`distributions.beta`
(``CODE_TABLE`` or the exact ``CODE_PERT`` path), params
``[low, high - low, alpha, beta, -, -, low, high]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from . import _kernel
from ._base import Param
from ._table import TabulatedDistribution
from .uniform import _check_mode


class PERT(TabulatedDistribution):
    family = "PERT"
    code = _kernel.CODE_PERT
    params = (Param("low"), Param("mode"), Param("high"), Param("lam", low=0.0, default=4.0))
    __slots__ = ()

    def _check(self) -> None:
        _check_mode(self)

    def shapes(self) -> tuple[float, float]:
        """The Beta shapes ``(alpha, beta)``."""
        width = self.high - self.low
        return (
            1.0 + self.lam * (self.mode - self.low) / width,
            1.0 + self.lam * (self.high - self.mode) / width,
        )

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        a, b = self.shapes()
        return stats.beta(a, b, loc=self.low, scale=self.high - self.low)

    def _standard(self) -> tuple[Callable, Callable, Callable]:
        a, b = self.shapes()
        return (
            lambda u: special.betaincinv(a, b, u),
            lambda q: special.betainccinv(a, b, q),
            lambda x: special.xlogy(a - 1, x) + special.xlog1py(b - 1, -x) - special.betaln(a, b),
        )

    def _kernel_params(self) -> np.ndarray:
        a, b = self.shapes()
        return np.array([self.low, self.high - self.low, a, b, 0.0, 0.0, self.low, self.high])

    def mean(self) -> float:
        a, b = self.shapes()
        return self.low + (self.high - self.low) * a / (a + b)

    def std(self) -> float:
        a, b = self.shapes()
        return (self.high - self.low) * math.sqrt(a * b / (a + b + 1.0)) / (a + b)

    def support(self) -> tuple[float, float]:
        return self.low, self.high
