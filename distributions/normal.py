"""Normal family: ``Normal(loc, scale)``; kernel params ``[loc, scale]``."""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np

from . import _kernel
from ._base import Distribution, Param
from ._elicit import Elicitable


class Normal(Elicitable, Distribution):
    family = "Normal"
    code = _kernel.CODE_NORMAL
    params = (Param("loc"), Param("scale", low=0.0))
    __slots__ = ()

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.norm(self.loc, self.scale)

    def _kernel_params(self) -> np.ndarray:
        return np.array([self.loc, self.scale])

    def mean(self) -> float:
        return self.loc

    def std(self) -> float:
        return self.scale

    def support(self) -> tuple[float, float]:
        return -math.inf, math.inf

    @classmethod
    def _from_two_quantiles(cls, q1: float, x1: float, q2: float, x2: float) -> Self:
        z1, z2 = _kernel.ndtri(q1), _kernel.ndtri(q2)
        scale = (x2 - x1) / (z2 - z1)
        return cls(loc=x1 - scale * z1, scale=scale)
