"""Known-answer models for sensitivity analysis, with their analytic indices.

Users can check an estimator on them before trusting it on the company model; the tests do.

- :func:`ishigami` (Ishigami and Homma 1990): ``f = sin x1 + a sin^2 x2 + b x3^4 sin x1``
  with ``x1, x2, x3`` independent uniform on ``[-pi, pi]`` (:func:`ishigami_inputs`);
  :func:`ishigami_indices` gives the exact first-order and total Sobol' indices.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from distributions import Distribution, Uniform

__all__ = ["ishigami", "ishigami_inputs", "ishigami_indices"]


def ishigami(x: ArrayLike, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami function on rows of ``x`` (m, 3): float64 (m,)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"x has shape {x.shape}; expected (m, 3)")
    s1 = np.sin(x[:, 0])
    return s1 + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * s1


def ishigami_inputs() -> dict[str, Distribution]:
    """The three independent inputs, uniform on [-pi, pi], as :mod:`distributions` specs."""
    return {f"x{i}": Uniform(-math.pi, math.pi) for i in (1, 2, 3)}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> pd.DataFrame:
    """Exact S1 and ST of :func:`ishigami` (index x1, x2, x3).

    With V1 = (1 + b pi^4 / 5)^2 / 2, V2 = a^2 / 8, V13 = b^2 pi^8 (1/18 - 1/50) and
    V = V1 + V2 + V13: S1 = (V1, V2, 0) / V and ST = (V1 + V13, V2, V13) / V.
    """
    pi4 = math.pi**4
    v1 = 0.5 * (1.0 + b * pi4 / 5.0) ** 2
    v2 = a * a / 8.0
    v13 = b * b * pi4 * pi4 * (1.0 / 18.0 - 1.0 / 50.0)
    v = v1 + v2 + v13
    return pd.DataFrame(
        {"S1": [v1 / v, v2 / v, 0.0], "ST": [(v1 + v13) / v, v2 / v, v13 / v]},
        index=pd.Index(["x1", "x2", "x3"], name="input"),
    )
