"""Gamma family: ``Gamma(shape, scale)`` on ``[0, inf)``.

scipy: ``gamma(a=shape, scale=scale)``. Kernel: a verified inverse-CDF table (``CODE_TABLE``)
or the exact path through ``scipy.special.gammaincinv`` (``CODE_GAMMA``); params
``[0, scale, shape, -, -, -, 0, inf]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Self

import numpy as np
from scipy import special

from . import _kernel
from ._base import Param
from ._elicit import Elicitable, solve_on_grid
from ._table import TabulatedDistribution


class Gamma(Elicitable, TabulatedDistribution):
    family = "Gamma"
    code = _kernel.CODE_GAMMA
    params = (Param("shape", low=0.0), Param("scale", low=0.0))
    __slots__ = ()

    @classmethod
    def _from_two_quantiles(cls, q1: float, x1: float, q2: float, x2: float) -> Self:
        if x1 <= 0.0:
            raise ValueError(
                f"{cls.family}: quantiles must be positive (a Gamma lives on (0, inf)); "
                f"got {x1!r} at q={q1:g} and {x2!r} at q={q2:g}"
            )

        # log(x2 / x1) = log(g2 / g1) with g = gammaincinv(shape, q); the ratio falls as the
        # shape grows (the coefficient of variation shrinks), hence the minus sign
        def minus_log_ratio(log_shape: float) -> float:
            s = math.exp(log_shape)
            g1, g2 = special.gammaincinv(s, q1), special.gammaincinv(s, q2)
            return -(math.log(g2) - math.log(g1)) if g1 > 0.0 else math.nan

        log_shape = solve_on_grid(
            minus_log_ratio,
            -(math.log(x2) - math.log(x1)),
            np.linspace(math.log(1e-3), math.log(1e9), 49),
            f"{cls.family}.from_quantiles: no Gamma has quantiles {x1!r} at q={q1:g} and "
            f"{x2!r} at q={q2:g} with shape in [1e-3, 1e9] (an interval this narrow is "
            f"better described by a Normal)",
        )
        shape = math.exp(log_shape)
        return cls(shape=shape, scale=x1 / special.gammaincinv(shape, q1))

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.gamma(self.shape, scale=self.scale)

    def _standard(self) -> tuple[Callable, Callable, Callable]:
        a = self.shape
        return (
            lambda u: special.gammaincinv(a, u),
            lambda q: special.gammainccinv(a, q),
            lambda x: special.xlogy(a - 1, x) - x - special.gammaln(a),
        )

    def _kernel_params(self) -> np.ndarray:
        return np.array([0.0, self.scale, self.shape, 0.0, 0.0, 0.0, 0.0, math.inf])

    def mean(self) -> float:
        return self.shape * self.scale

    def std(self) -> float:
        return math.sqrt(self.shape) * self.scale

    def support(self) -> tuple[float, float]:
        return 0.0, math.inf
