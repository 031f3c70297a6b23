"""LogNormal family: ``LogNormal(mu, sigma)``, i.e. ``exp(Normal(mu, sigma))``.

scipy: ``lognorm(s=sigma, scale=exp(mu))``. Kernel params ``[mu, sigma]``; exact in z:
``ppf(Phi(z)) = exp(mu + sigma * z)``.
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np

from . import _kernel
from ._base import Distribution, Param, check_real
from ._elicit import Elicitable


class LogNormal(Elicitable, Distribution):
    family = "LogNormal"
    code = _kernel.CODE_LOGNORMAL
    params = (Param("mu"), Param("sigma", low=0.0))
    __slots__ = ()

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> LogNormal:
        """The LogNormal with the given mean and standard deviation (of X, not of log X)."""
        m = check_real(cls.family, "mean", mean)
        s = check_real(cls.family, "sd", sd)
        if m <= 0.0:
            raise ValueError(f"{cls.family}.from_mean_sd: mean={mean!r} must be positive")
        if s <= 0.0:
            raise ValueError(f"{cls.family}.from_mean_sd: sd={sd!r} must be positive")
        sigma2 = math.log1p((s / m) ** 2)
        return cls(mu=math.log(m) - 0.5 * sigma2, sigma=math.sqrt(sigma2))

    @classmethod
    def _from_two_quantiles(cls, q1: float, x1: float, q2: float, x2: float) -> Self:
        if x1 <= 0.0:
            raise ValueError(
                f"{cls.family}: quantiles must be positive (a LogNormal lives on (0, inf)); "
                f"got {x1!r} at q={q1:g} and {x2!r} at q={q2:g}"
            )
        z1, z2 = _kernel.ndtri(q1), _kernel.ndtri(q2)
        sigma = (math.log(x2) - math.log(x1)) / (z2 - z1)
        return cls(mu=math.log(x1) - sigma * z1, sigma=sigma)

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.lognorm(s=self.sigma, scale=math.exp(self.mu))

    def _kernel_params(self) -> np.ndarray:
        return np.array([self.mu, self.sigma])

    def mean(self) -> float:
        return math.exp(self.mu + 0.5 * self.sigma**2)

    def std(self) -> float:
        return math.sqrt(math.expm1(self.sigma**2)) * self.mean()

    def support(self) -> tuple[float, float]:
        return 0.0, math.inf
