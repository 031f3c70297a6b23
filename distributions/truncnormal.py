"""TruncatedNormal family: ``TruncatedNormal(loc, scale, low, high)``.

A Normal(loc, scale) conditioned on ``[low, high]``; ``low`` may be ``-inf`` and ``high``
``+inf`` (one-sided truncation). scipy: ``truncnorm(a, b, loc, scale)`` with standardised
bounds ``a = (low - loc) / scale``, ``b = (high - loc) / scale``.

Kernel params ``[loc, scale, low, high, Phi(a), Phi(-b), mass]`` with ``mass = Phi(b) - Phi(a)``
computed without cancellation; the kernel inverts in whichever tail keeps full precision
(see ``_kernel._truncnorm``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from . import _kernel
from ._base import Distribution, Param

MIN_MASS = 1e-200  # smallest Normal(loc, scale) probability of [low, high] that we accept


def _mass(a: float, b: float) -> float:
    """``Phi(b) - Phi(a)`` without cancellation in either tail."""
    if a > 0.0:
        return float(special.ndtr(-a) - special.ndtr(-b))
    if b < 0.0:
        return float(special.ndtr(b) - special.ndtr(a))
    return float(1.0 - special.ndtr(a) - special.ndtr(-b))


class TruncatedNormal(Distribution):
    family = "TruncatedNormal"
    code = _kernel.CODE_TRUNCNORMAL
    params = (
        Param("loc"),
        Param("scale", low=0.0),
        Param("low", low=-math.inf, low_closed=True, default=-math.inf, finite=False),
        Param("high", high=math.inf, high_closed=True, default=math.inf, finite=False),
    )
    __slots__ = ()

    def _check(self) -> None:
        if not self.low < self.high:
            raise ValueError(
                f"{self.family}: low={self.low!r} must be below high={self.high!r}"
            )
        a, b = self._ab()
        mass = _mass(a, b)
        if not mass >= MIN_MASS:
            raise ValueError(
                f"{self.family}: [low, high] = [{self.low!r}, {self.high!r}] holds probability "
                f"{mass:.3g} under Normal(loc={self.loc!r}, scale={self.scale!r}); it must be "
                f"at least {MIN_MASS:g}"
            )

    def _ab(self) -> tuple[float, float]:
        return (self.low - self.loc) / self.scale, (self.high - self.loc) / self.scale

    def to_scipy(self):
        a, b = self._ab()
        return stats.truncnorm(a, b, loc=self.loc, scale=self.scale)

    def _kernel_params(self):
        a, b = self._ab()
        return np.array([self.loc, self.scale, self.low, self.high, special.ndtr(a),
                         special.ndtr(-b), _mass(a, b)])

    def support(self) -> tuple[float, float]:
        return self.low, self.high
