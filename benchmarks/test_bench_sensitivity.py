"""Sobol sensitivity analysis.

- ``test_sobol_design``: the kernel's share of a Sobol analysis, always available: a Saltelli
  design (matrices A, B and the D matrices A with column i from B; N * (D + 2) rows over the
  D = horizon * len(design_columns) uniforms of a path) evaluated by
  :func:`simcore.engine.evaluate_uniforms`.
- ``test_sobol_analysis``: the whole analysis, :func:`simcore.analysis.sensitivity.sobol_analysis`
(design,
  kernel, SALib's estimators and bootstrap); skipped while that module does not exist.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from simcore.engine.core import design_columns, evaluate_uniforms

from .checks import assert_matches_reference
from .harness import CHECK_PATHS, DEFAULT_HORIZON, SEED, TINY, record, scenario, timed

N_BASE = 8 if TINY else 2048  # base sample size N of the design (a power of two)
N_ANALYSIS = 8 if TINY else 2**13  # sobol_analysis's own default n


def saltelli_design(sc, n_base: int, seed) -> np.ndarray:
    """float64 (n_base * (D + 2), horizon, width): rows A, B, then AB_1 .. AB_D."""
    width = len(design_columns(sc)) // sc.horizon
    d = sc.horizon * width
    pts = qmc.Sobol(2 * d, scramble=True, rng=np.random.default_rng(seed)).random(n_base)
    pts = np.clip(pts, 2.0**-53, 1.0 - 2.0**-53)
    a, b = pts[:, :d], pts[:, d:]
    ab = np.repeat(a[None], d, axis=0)
    ab[np.arange(d), :, np.arange(d)] = b.T
    return np.concatenate([a, b, ab.reshape(-1, d)]).reshape(-1, sc.horizon, width)


def test_sobol_design(benchmark):
    sc = scenario(DEFAULT_HORIZON)
    u = saltelli_design(sc, N_BASE, SEED)
    rows = u.shape[0]
    record(
        benchmark,
        "sobol analysis",
        path_years=rows * sc.horizon,
        n_base=N_BASE,
        n_paths=rows,
        horizon=sc.horizon,
        dimensions=u.shape[1] * u.shape[2],
    )

    def run():
        return evaluate_uniforms(sc, u)

    r = run()  # warm-up
    m = min(CHECK_PATHS, rows)
    tail = evaluate_uniforms(sc, u[rows - m :], keep_draws=True)
    for name in r.names:
        np.testing.assert_array_equal(r[name][rows - m :], tail[name], err_msg=name)
    assert_matches_reference(tail)
    del r, tail
    timed(benchmark, run)


@pytest.mark.skipif(
    importlib.util.find_spec("simcore.analysis.sensitivity") is None,
    reason="simcore.analysis.sensitivity does not exist yet (Sobol analysis API "
    "being "
    "written); test_sobol_design covers the kernel's part meanwhile",
)
def test_sobol_analysis(benchmark):
    """``simcore.analysis.sensitivity.sobol_analysis`` on the default scenario (single factors, net
    profit attributable, every year; SALib estimators with bootstrap intervals)."""
    from simcore.analysis.sensitivity import sobol_analysis

    sc = scenario(DEFAULT_HORIZON)
    record(benchmark, "sobol analysis", n_base=N_ANALYSIS, horizon=sc.horizon)

    def run():
        return sobol_analysis(sc, N_ANALYSIS, seed=SEED)

    first = run()  # warm-up
    # the kernel's outputs on a Saltelli design are checked against the numpy reference in
    # test_sobol_design; here: the indices are a function of the seed, and finite
    pd.testing.assert_frame_equal(first, run())
    assert np.isfinite(first[["S1", "ST"]].to_numpy()).all()
    benchmark.extra_info["n_evaluations"] = int(first.attrs["n_evaluations"])
    timed(benchmark, run)
