"""Normal family: ``Normal(loc, scale)``; kernel params ``[loc, scale]``."""

from __future__ import annotations

import numpy as np
from scipy import stats

from . import _kernel
from ._base import Distribution, Param


class Normal(Distribution):
    family = "Normal"
    code = _kernel.CODE_NORMAL
    params = (Param("loc"), Param("scale", low=0.0))
    __slots__ = ()

    def to_scipy(self):
        return stats.norm(self.loc, self.scale)

    def _kernel_params(self):
        return np.array([self.loc, self.scale])

    def mean(self) -> float:
        return self.loc

    def std(self) -> float:
        return self.scale
