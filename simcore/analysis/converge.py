"""Sensitivity indices to a stated precision: double the sample until every index's 95%
half-width is at most the one asked for, or a cap is reached.

Each step is a whole analysis at its size with the same seed, so the table returned *is* the
fixed-size analysis of the final size (the same bytes); the steps cost at most as much again.
``attrs["precision"]`` records what was wanted, each step's size and widest half-width, and
why it stopped. :func:`simcore.analysis.sobol.sobol_analysis` (``precision=``, over ``n``) and
:func:`simcore.analysis.shapley.model_shapley` (``precision=``, over ``n_perm``) use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd


def check_precision(precision: float, first: int, cap: int, size: str) -> None:
    """Errors naming the argument, before any work."""
    if (
        not isinstance(precision, int | float)
        or isinstance(precision, bool)
        or not 0 < precision < math.inf
    ):
        raise ValueError(
            f"precision={precision!r} must be a positive number: the widest 95% half-width "
            "of the indices wanted (e.g. 0.02)"
        )
    if cap < first:
        raise ValueError(f"the cap on {size} ({cap:,}) is below the first step ({first:,})")


def until_precise(
    run: Callable[[int], pd.DataFrame],
    widest: Callable[[pd.DataFrame], float],
    precision: float,
    first: int,
    cap: int,
    size: str,
) -> pd.DataFrame:
    """``run(first)``, ``run(2 first)``, ... until ``widest(table) <= precision`` or the next
    size would pass ``cap``; the last table, with ``attrs["precision"]``."""
    steps = []
    n = first
    while True:
        table = run(n)
        worst = float(widest(table))
        steps.append({size: n, "widest_half_width": worst})
        if worst <= precision:
            stopped = "met"
            break
        if 2 * n > cap:
            stopped = f"the cap of {cap:,} {size}"
            break
        n *= 2
    table.attrs["precision"] = {
        "wanted_half_width": precision,
        "size": size,
        "cap": cap,
        "steps": steps,
        "stopped": stopped,
        "met": stopped == "met",
    }
    return table
