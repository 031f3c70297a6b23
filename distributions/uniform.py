"""Uniform and Triangular families on ``[low, high]`` (closed-form inverse CDFs).

- ``Uniform(low, high)``: scipy ``uniform(loc=low, scale=high - low)``; kernel ``[low, high]``.
- ``Triangular(low, mode, high)``: scipy ``triang(c, loc=low, scale=high - low)`` with
  ``c = (mode - low) / (high - low)``; kernel ``[low, high - low, c, high]``.
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np

from . import _kernel
from ._base import Distribution, Param
from ._elicit import Elicitable


def _check_bounds(dist: Distribution) -> None:
    if not dist.low < dist.high:
        raise ValueError(f"{dist.family}: low={dist.low!r} must be below high={dist.high!r}")
    if not math.isfinite(dist.high - dist.low):
        raise ValueError(
            f"{dist.family}: high - low = {dist.high!r} - {dist.low!r} overflows; "
            f"the width must be a finite number"
        )


def _check_mode(dist: Distribution) -> None:
    """``low < high`` and ``low <= mode <= high`` (Triangular, PERT)."""
    _check_bounds(dist)
    if not dist.low <= dist.mode <= dist.high:
        raise ValueError(
            f"{dist.family}: mode={dist.mode!r} must lie in [low, high] = "
            f"[{dist.low!r}, {dist.high!r}]"
        )


class Uniform(Elicitable, Distribution):
    family = "Uniform"
    code = _kernel.CODE_UNIFORM
    params = (Param("low"), Param("high"))
    __slots__ = ()

    def _check(self) -> None:
        _check_bounds(self)

    @classmethod
    def _from_two_quantiles(cls, q1: float, x1: float, q2: float, x2: float) -> Self:
        width = (x2 - x1) / (q2 - q1)
        low = x1 - q1 * width
        return cls(low=low, high=low + width)

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.uniform(loc=self.low, scale=self.high - self.low)

    def _kernel_params(self) -> np.ndarray:
        return np.array([self.low, self.high])

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)

    def support(self) -> tuple[float, float]:
        return self.low, self.high


class Triangular(Distribution):
    family = "Triangular"
    code = _kernel.CODE_TRIANGULAR
    params = (Param("low"), Param("mode"), Param("high"))
    __slots__ = ()

    def _check(self) -> None:
        _check_mode(self)

    def _c(self) -> float:
        return (self.mode - self.low) / (self.high - self.low)

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.triang(self._c(), loc=self.low, scale=self.high - self.low)

    def _kernel_params(self) -> np.ndarray:
        return np.array([self.low, self.high - self.low, self._c(), self.high])

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def std(self) -> float:
        c, w = self.mode - self.low, self.high - self.low  # shifted to low = 0: no cancellation
        return math.sqrt((w * w + c * c - w * c) / 18.0)

    def support(self) -> tuple[float, float]:
        return self.low, self.high
