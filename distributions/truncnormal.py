"""TruncatedNormal family: ``TruncatedNormal(loc, scale, low, high)``.

A Normal(loc, scale) conditioned on ``[low, high]``; ``low`` may be ``-inf`` and ``high``
``+inf`` (one-sided truncation). scipy: ``truncnorm(a, b, loc, scale)`` with standardised
bounds ``a = (low - loc) / scale``, ``b = (high - loc) / scale``.

Kernel: a verified inverse-CDF table in z (``CODE_TABLE``, about 3 ns against about 70 ns for the
exact path, which needs an ``erfc`` and an ``ndtri`` per draw), or where the table cannot meet
the accuracy target, the exact path (``CODE_TRUNCNORMAL``, see ``_kernel._truncnorm``: it
inverts in whichever tail keeps full precision). Params
``[loc, scale, Phi(a), Phi(-b), mass, -, low, high]`` with ``mass = Phi(b) - Phi(a)`` computed
without cancellation; both codes read ``loc``, ``scale`` and the clamp ``[low, high]``.
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

MIN_MASS = 1e-200  # smallest Normal(loc, scale) probability of [low, high] that we accept


def _mass(a: float, b: float) -> float:
    """``Phi(b) - Phi(a)`` without cancellation in either tail."""
    if a > 0.0:
        return float(special.ndtr(-a) - special.ndtr(-b))
    if b < 0.0:
        return float(special.ndtr(b) - special.ndtr(a))
    return float(1.0 - special.ndtr(a) - special.ndtr(-b))


class TruncatedNormal(TabulatedDistribution):
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
            raise ValueError(f"{self.family}: low={self.low!r} must be below high={self.high!r}")
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

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        a, b = self._ab()
        return stats.truncnorm(a, b, loc=self.loc, scale=self.scale)

    def _kernel_params(self) -> np.ndarray:
        a, b = self._ab()
        return np.array(
            [
                self.loc,
                self.scale,
                special.ndtr(a),
                special.ndtr(-b),
                _mass(a, b),
                0.0,
                self.low,
                self.high,
            ]
        )

    # the library's accuracy statement: 1e-8 relative, 1e-10 absolute near zero (a bounded
    # truncated normal crosses zero inside its support; there only the absolute error counts)
    _verify_atol = 1e-10

    def _standard(self) -> tuple[Callable, Callable, Callable]:
        """The standardised inverse CDF, inverse survival function and log density, with the
        same tail-exact arithmetic as the kernel's exact path (scipy's isf cancels in tails)."""
        a, b = self._ab()
        pa, pnb, mass = special.ndtr(a), special.ndtr(-b), _mass(a, b)

        def from_u(u: np.ndarray, uc: np.ndarray) -> np.ndarray:
            v = pa + u * mass
            with np.errstate(invalid="ignore"):
                x = np.where(v <= 0.5, special.ndtri(v), -special.ndtri(pnb + uc * mass))
            return np.clip(x, a, b)

        def logpdf(x: np.ndarray) -> np.ndarray:
            return -0.5 * x * x - 0.5 * math.log(2.0 * math.pi) - math.log(mass)

        return (lambda u: from_u(u, 1.0 - u)), (lambda q: from_u(1.0 - q, q)), logpdf

    def support(self) -> tuple[float, float]:
        return self.low, self.high
