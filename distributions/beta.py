"""Beta family: ``Beta(a, b, low=0, high=1)``, a Beta(a, b) rescaled to ``[low, high]``.

scipy: ``beta(a, b, loc=low, scale=high - low)``. Kernel: a verified inverse-CDF table
(``CODE_TABLE``) or, where the table cannot meet the accuracy target, the exact path through
``scipy.special.betaincinv`` (``CODE_BETA``); params ``[low, high - low, a, b, -, -, low, high]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Self

import numpy as np
from scipy import special

from . import _kernel
from ._base import Param, check_real
from ._elicit import Elicitable, solve_increasing, solve_on_grid
from ._table import TabulatedDistribution
from .uniform import _check_bounds


class Beta(Elicitable, TabulatedDistribution):
    family = "Beta"
    code = _kernel.CODE_BETA
    params = (
        Param("a", low=0.0),
        Param("b", low=0.0),
        Param("low", default=0.0),
        Param("high", default=1.0),
    )
    __slots__ = ()
    _elicit_extra = ("low", "high")

    def _check(self) -> None:
        _check_bounds(self)

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float, low: float = 0.0, high: float = 1.0) -> Beta:
        """The Beta on ``[low, high]`` with the given mean and standard deviation."""
        m = check_real(cls.family, "mean", mean)
        s = check_real(cls.family, "sd", sd)
        lo = check_real(cls.family, "low", low)
        hi = check_real(cls.family, "high", high)
        if not lo < m < hi:
            raise ValueError(
                f"{cls.family}.from_mean_sd: mean={mean!r} must lie strictly inside "
                f"(low, high) = ({low!r}, {high!r})"
            )
        limit = math.sqrt((m - lo) * (hi - m))
        if not 0.0 < s < limit:
            raise ValueError(
                f"{cls.family}.from_mean_sd: sd={sd!r} must be in (0, {limit:.6g}); a Beta on "
                f"[{low!r}, {high!r}] with mean {mean!r} has "
                f"sd < sqrt((mean - low) * (high - mean))"
            )
        mu = (m - lo) / (hi - lo)
        var = (s / (hi - lo)) ** 2
        k = mu * (1.0 - mu) / var - 1.0
        return cls(a=mu * k, b=(1.0 - mu) * k, low=lo, high=hi)

    @classmethod
    def _from_two_quantiles(
        cls, q1: float, x1: float, q2: float, x2: float, low: float = 0.0, high: float = 1.0
    ) -> Self:
        lo = check_real(cls.family, "low", low)
        hi = check_real(cls.family, "high", high)
        if not (lo < x1 and x2 < hi):
            raise ValueError(
                f"{cls.family}: quantiles {x1!r} (q={q1:g}) and {x2!r} (q={q2:g}) must lie "
                f"strictly inside (low, high) = ({low!r}, {high!r})"
            )
        y1, y2 = (x1 - lo) / (hi - lo), (x2 - lo) / (hi - lo)
        a, b = _beta_from_quantiles(q1, y1, q2, y2, cls.family)
        return cls(a=a, b=b, low=lo, high=hi)

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.beta(self.a, self.b, loc=self.low, scale=self.high - self.low)

    def _standard(self) -> tuple[Callable, Callable, Callable]:
        a, b = self.a, self.b
        return (
            lambda u: special.betaincinv(a, b, u),
            lambda q: special.betainccinv(a, b, q),
            lambda x: special.xlogy(a - 1, x) + special.xlog1py(b - 1, -x) - special.betaln(a, b),
        )

    def _kernel_params(self) -> np.ndarray:
        return np.array(
            [self.low, self.high - self.low, self.a, self.b, 0.0, 0.0, self.low, self.high]
        )

    def mean(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)

    def std(self) -> float:
        a, b = self.a, self.b
        return (self.high - self.low) * math.sqrt(a * b / (a + b + 1.0)) / (a + b)

    def support(self) -> tuple[float, float]:
        return self.low, self.high


def _beta_from_quantiles(
    q1: float, y1: float, q2: float, y2: float, family: str
) -> tuple[float, float]:
    """Shapes ``(a, b)`` of the standard Beta with quantiles ``y1`` at ``q1`` and ``y2`` at ``q2``.

    Nested 1-d root finding in log-shape: for a given ``log a``, ``b`` is fixed by the first
    quantile (the ``q1``-quantile decreases in ``b``); along that curve the ``q2``-quantile
    falls towards ``y1`` as the distribution concentrates (``a`` grows). The outer root is
    bracketed on a grid because ``b`` has no solution in range for extreme ``a``.
    """
    lo_log, hi_log = math.log(1e-3), math.log(1e7)

    def b_for(log_a: float) -> float:
        a = math.exp(log_a)
        return math.exp(
            solve_increasing(
                lambda t: -special.betaincinv(a, math.exp(t), q1),
                -y1,
                lo_log,
                hi_log,
                f"{family}: no b for a={a:g}",
            )
        )

    def q2_quantile(log_a: float) -> float:
        try:
            return special.betaincinv(math.exp(log_a), b_for(log_a), q2)
        except ValueError:
            return math.nan

    log_a = solve_on_grid(
        q2_quantile,
        y2,
        np.linspace(lo_log, math.log(1e6), 49),
        f"{family}.from_quantiles: no Beta has quantiles {y1!r} at q={q1:g} and {y2!r} at "
        f"q={q2:g} (standardised to [0, 1]) with shapes in [1e-3, 1e6]",
    )
    return math.exp(log_a), b_for(log_a)
