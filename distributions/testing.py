"""Sane parameters of every family: one table feeding unit tests, property tests and benchmarks.

``SANE_PARAMS[family]`` lists keyword dicts for ``FAMILIES[family](**kw)``, chosen to cover each
family's kernel paths and regimes (symmetric and skewed, light and heavy tails, bounded ends,
parameters where the inverse-CDF table applies and where it falls back to the exact path).
``EXACT_PATH`` names the entries expected to take the exact (scipy.special) kernel path.
"""

from __future__ import annotations

import math

import numpy as np

from ._base import FAMILIES, Distribution

__all__ = ["SANE_PARAMS", "EXACT_PATH", "sane_distributions", "EMPIRICAL_DATA"]

# 60 draws of a right-skewed sample; a fixed literal seed, not chosen to pass tests
EMPIRICAL_DATA = tuple(
    float(x) for x in np.round(np.random.default_rng(20240611).lognormal(1.0, 0.6, 60), 6)
)

SANE_PARAMS: dict[str, list[dict]] = {
    "Normal": [
        {"loc": 0.0, "scale": 1.0},
        {"loc": -3.5, "scale": 0.2},
        {"loc": 1.2e3, "scale": 75.0},
    ],
    "LogNormal": [
        {"mu": 0.0, "sigma": 1.0},
        {"mu": 2.3, "sigma": 0.25},
        {"mu": -1.0, "sigma": 2.0},
    ],
    "TruncatedNormal": [
        {"loc": 0.0, "scale": 1.0, "low": -1.0, "high": 2.0},
        {"loc": 10.0, "scale": 3.0, "low": 0.0, "high": math.inf},
        {"loc": 0.0, "scale": 1.0, "low": 3.0, "high": 9.0},  # all mass in the upper tail
        {"loc": 5.0, "scale": 2.0, "low": -math.inf, "high": -3.0},  # ... and in the lower tail
    ],
    "Uniform": [
        {"low": 0.0, "high": 1.0},
        {"low": -4.0, "high": 250.0},
    ],
    "Triangular": [
        {"low": 0.0, "mode": 0.3, "high": 1.0},
        {"low": -5.0, "mode": -5.0, "high": 5.0},  # mode at the lower end
        {"low": 10.0, "mode": 20.0, "high": 20.0},  # mode at the upper end
    ],
    "PERT": [
        {"low": 0.0, "mode": 2.0, "high": 10.0},
        {"low": 100.0, "mode": 150.0, "high": 400.0, "lam": 6.0},
        {"low": 0.0, "mode": 1.0, "high": 1.0},  # mode at the upper end: Beta(5, 1)
    ],
    "Beta": [
        {"a": 2.0, "b": 5.0},
        {"a": 0.7, "b": 0.4, "low": -1.0, "high": 3.0},  # U-shaped, both ends infinite density
        {"a": 30.0, "b": 12.0},
        {"a": 0.8, "b": 2.0},
        {"a": 0.3, "b": 0.6},  # small shape a: the table misses 2e-9 in the lower tail: exact
    ],
    "Gamma": [
        {"shape": 2.0, "scale": 1.5},
        {"shape": 0.4, "scale": 10.0},  # small shape: the table misses 2e-9 deep in the lower
        # tail, so the exact path (as for Beta with a < ~0.6)
        {"shape": 50.0, "scale": 0.1},
        {"shape": 1.0, "scale": 3.0},  # exponential
    ],
    "StudentT": [
        {"df": 3.0, "loc": 0.0, "scale": 1.0},
        {"df": 7.5, "loc": 100.0, "scale": 15.0},
        {"df": 1.2, "loc": -2.0, "scale": 0.5},  # heavy tails: finite mean, infinite variance
        {"df": 0.3, "loc": 0.0, "scale": 1.0},  # no mean; table misses 2e-9 at |z| > 8: exact
    ],
    "Bernoulli": [
        {"p": 0.3},
        {"p": 0.02},
        {"p": 0.95},
    ],
    "Poisson": [
        {"mu": 0.7},
        {"mu": 4.2},
        {"mu": 150.0},
    ],
    "Empirical": [
        {"data": EMPIRICAL_DATA},
        {"data": (-1.0, 0.0, 0.5, 4.0)},
        {"data": (3.0, 1.0, 2.0, 2.0, 2.0, 7.5)},  # ties: an atom of mass 2/5 at 2
    ],
    "Metalog": [
        {"q": (0.1, 0.5, 0.9), "x": (-0.1, 0.0, 0.15)},  # unbounded, 3 terms, right skew
        # 5 terms, lower bound (log transform): skewed, heavy right tail (variance finite)
        {"q": (0.05, 0.25, 0.5, 0.75, 0.95), "x": (1.0, 2.2, 3.0, 4.1, 7.5), "low": 0.0},
        # bounded (logit transform), 4 terms fitted to 5 quantiles by least squares
        {
            "q": (0.1, 0.3, 0.5, 0.7, 0.9),
            "x": (0.15, 0.3, 0.42, 0.55, 0.8),
            "low": 0.0,
            "high": 1.0,
            "terms": 4,
        },
        # upper bound (x = high - exp(-M)), 3 terms fitted to 5 quantiles
        {
            "q": (0.1, 0.25, 0.5, 0.75, 0.9),
            "x": (85.0, 88.0, 90.0, 92.0, 93.5),
            "high": 95.0,
            "terms": 3,
        },
    ],
    "Constant": [
        {"value": 0.0},
        {"value": -3.7},
    ],
}

# (family, index into SANE_PARAMS[family]) of the entries whose table fails its check
EXACT_PATH = {("Beta", 4), ("Gamma", 1), ("StudentT", 3)}


def sane_distributions() -> list[tuple[str, Distribution]]:
    """``[(id, distribution)]`` for every entry of :data:`SANE_PARAMS`, ids like ``Beta-2``."""
    return [
        (f"{family}-{i}", FAMILIES[family](**kw))
        for family, entries in SANE_PARAMS.items()
        for i, kw in enumerate(entries)
    ]
