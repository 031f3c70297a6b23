"""StudentT family: ``StudentT(df, loc=0, scale=1)``, a location-scale Student t.

scipy: ``t(df, loc, scale)``. Kernel: a verified inverse-CDF table (``CODE_TABLE``) or the exact
path through ``scipy.special.stdtrit`` (``CODE_STUDENT_T``); params
``[loc, scale, df, -, -, -, -inf, inf]``. The mean exists for ``df > 1`` and the standard
deviation for ``df > 2`` (infinite for ``1 < df <= 2``); asking for an undefined one raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Self

import numpy as np
from scipy import special

from . import _kernel
from ._base import Param, check_real
from ._elicit import Elicitable
from ._table import TabulatedDistribution


class StudentT(Elicitable, TabulatedDistribution):
    family = "StudentT"
    code = _kernel.CODE_STUDENT_T
    params = (Param("df", low=0.0), Param("loc", default=0.0), Param("scale", low=0.0, default=1.0))
    __slots__ = ()
    _elicit_extra = ("df",)

    @classmethod
    def _from_two_quantiles(
        cls, q1: float, x1: float, q2: float, x2: float, df: float | None = None
    ) -> Self:
        if df is None:
            raise TypeError(
                f"{cls.family}.from_quantiles/from_interval: give the degrees of freedom, "
                f"e.g. df=4 (two quantiles fix only loc and scale)"
            )
        nu = check_real(cls.family, "df", df)
        if not nu > 0.0:
            raise ValueError(f"{cls.family}: df={df!r} must be a finite real number in (0, inf)")
        t1, t2 = special.stdtrit(nu, q1), special.stdtrit(nu, q2)
        scale = (x2 - x1) / (t2 - t1)
        return cls(df=nu, loc=x1 - scale * t1, scale=scale)

    def to_scipy(self) -> Any:
        from scipy import stats  # on first use: importing it costs 0.3 s

        return stats.t(self.df, loc=self.loc, scale=self.scale)

    def _standard(self) -> tuple[Callable, Callable, Callable]:
        nu = self.df
        return (
            lambda u: special.stdtrit(nu, u),
            lambda q: -special.stdtrit(nu, q),
            lambda x: _t_logpdf(x, nu),
        )

    def _kernel_params(self) -> np.ndarray:
        return np.array([self.loc, self.scale, self.df, 0.0, 0.0, 0.0, -math.inf, math.inf])

    def mean(self) -> float:
        if self.df <= 1.0:
            raise ValueError(f"{self!r}: the mean is undefined for df <= 1")
        return self.loc

    def std(self) -> float:
        if self.df <= 1.0:
            raise ValueError(f"{self!r}: the standard deviation is undefined for df <= 1")
        if self.df <= 2.0:
            return math.inf
        return self.scale * math.sqrt(self.df / (self.df - 2.0))

    def var(self) -> float:
        return self.std() ** 2

    def support(self) -> tuple[float, float]:
        return -math.inf, math.inf


def _t_logpdf(x: np.ndarray, nu: float) -> np.ndarray:
    """log density of the standard Student t with ``nu`` degrees of freedom (scipy.stats.t's
    formula, without importing scipy.stats)."""
    c = special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2) - 0.5 * np.log(nu * np.pi)
    return c - (nu + 1) / 2 * np.log1p(np.square(x) / nu)
