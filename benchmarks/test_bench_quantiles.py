"""Quantiles of stored outputs: simcore's bucket selection (``simcore.results.quantiles.quantiles``,
rows in parallel) against ``np.quantile`` (``np.nanquantile`` where the output has NaN paths:
ROIC where the opening invested capital is not positive). Nine levels (``DEFAULT_Q``) of each
of the 3 years of one output of a default-scenario run."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from simcore.engine.core import simulate
from simcore.results.quantiles import quantiles
from simcore.results.result import DEFAULT_Q

from .checks import check_quantiles
from .harness import DEFAULT_HORIZON, PATHS, SEED, record, scenario, timed

Q = np.asarray(DEFAULT_Q)
OUTPUTS = ("net_profit_attributable", "price_pe")


@functools.lru_cache(maxsize=1)
def _run(n_paths):
    return simulate(scenario(DEFAULT_HORIZON), n_paths, seed=SEED)


def _numpy(x):
    return np.nanquantile(x, Q, axis=1) if np.isnan(x).any() else np.quantile(x, Q, axis=1)


@pytest.mark.parametrize("impl", ["simcore", "numpy"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("n_paths", PATHS, ids=lambda n: f"paths={n:.0e}")
def test_quantiles(benchmark, n_paths, output, impl):
    x = np.ascontiguousarray(_run(n_paths)[output].T)  # (years, paths)
    nan = bool(np.isnan(x).any())
    record(
        benchmark,
        f"quantiles of {output} ({n_paths:,} paths x {x.shape[0]} years)",
        n_paths=n_paths,
        horizon=x.shape[0],
        output=output,
        impl=impl,
        numpy_function="nanquantile" if nan else "quantile",
    )
    fn = (lambda: quantiles(x, Q)) if impl == "simcore" else (lambda: _numpy(x).T)
    check_quantiles(fn(), x, Q)  # warm-up and validation: numpy's bytes
    timed(benchmark, fn)
