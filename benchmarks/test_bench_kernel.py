"""Kernel throughput on the default scenario, and its yardsticks at the same size.

Groups are one configuration each (``N paths x H years``), so pytest-benchmark's table sets side
by side: ``simulate`` at 1, 2 (and all) threads, the end-to-end run (simulate + the quantiles of
every output), the random numbers alone (the floor), and at 10^5 paths the numpy reference.
10^7 paths only with ``SIMCORE_BENCH_LARGE=1``. The pure-Python loop runs on a few paths (group
``pure python``); compare ns per path-year in the summary at the end.
"""

from __future__ import annotations

import numpy as np
import pytest

from simcore.engine.core import simulate
from simcore.results.result import DEFAULT_Q

from .baselines import RandomNumbers, numpy_reference, python_simulate
from .checks import assert_close_to_kernel, check_quantiles, check_simulation
from .harness import (
    CHECK_PATHS,
    HORIZONS,
    LARGE,
    LARGE_PATHS,
    PATHS,
    ROUNDS,
    SEED,
    TINY,
    path_years,
    record,
    scenario,
    thread_counts,
    timed,
)

SIZES = PATHS + (LARGE_PATHS if LARGE else ())
PYTHON_PATHS = 20 if TINY else 200


def _group(n_paths, horizon):
    return f"{n_paths:,} paths x {horizon} years"


def _simulate_or_skip(sc, n_paths, **kwargs):
    try:
        return simulate(sc, n_paths, seed=SEED, **kwargs)
    except MemoryError as exc:
        pytest.skip(f"does not fit in memory here: {exc}")


@pytest.mark.parametrize("threads", thread_counts(), ids=lambda t: f"threads={t}")
@pytest.mark.parametrize("horizon", HORIZONS, ids=lambda h: f"H={h}")
@pytest.mark.parametrize("n_paths", SIZES, ids=lambda n: f"paths={n:.0e}")
def test_simulate(benchmark, n_paths, horizon, threads):
    """``simcore.simulate`` (sample + model, every stored output)."""
    sc = scenario(horizon)
    record(
        benchmark,
        _group(n_paths, horizon),
        path_years=path_years(n_paths, horizon),
        n_paths=n_paths,
        horizon=horizon,
        threads=threads,
    )
    r = _simulate_or_skip(sc, n_paths, threads=threads)  # warm-up: compiles, maps the pages
    check_simulation(r, seed=SEED)
    del r
    timed(benchmark, lambda: simulate(sc, n_paths, seed=SEED, threads=threads))


@pytest.mark.parametrize("horizon", HORIZONS, ids=lambda h: f"H={h}")
@pytest.mark.parametrize("n_paths", PATHS, ids=lambda n: f"paths={n:.0e}")
def test_end_to_end(benchmark, n_paths, horizon):
    """What a run does before reporting: simulate, then the quantiles of every output (default
    threads). The issue's target: 10^6 x 3 in <= 0.3 s warm."""
    sc = scenario(horizon)
    record(
        benchmark,
        _group(n_paths, horizon),
        path_years=path_years(n_paths, horizon),
        n_paths=n_paths,
        horizon=horizon,
    )

    def run():
        r = simulate(sc, n_paths, seed=SEED)
        qt = r.quantile_table(DEFAULT_Q)  # every stored output, one parallel call
        return r, {name: qt.loc[name] for name in r.names}

    r, qs = run()
    check_simulation(r, seed=SEED)
    for name, df in qs.items():
        check_quantiles(df.to_numpy(), r[name].T, np.asarray(DEFAULT_Q))
    del r, qs
    timed(benchmark, run)


@pytest.mark.parametrize("horizon", HORIZONS, ids=lambda h: f"H={h}")
@pytest.mark.parametrize("n_paths", SIZES, ids=lambda n: f"paths={n:.0e}")
def test_random_numbers_floor(benchmark, n_paths, horizon):
    """Only the run's random numbers (uniforms of every stream, drivers' normal scores)."""
    sc = scenario(horizon)
    record(
        benchmark,
        _group(n_paths, horizon),
        path_years=path_years(n_paths, horizon),
        n_paths=n_paths,
        horizon=horizon,
    )
    floor = RandomNumbers(sc, n_paths, SEED)
    floor.check()  # warm-up and validation against numpy's draws of the same streams
    timed(benchmark, floor)


@pytest.mark.parametrize("horizon", HORIZONS, ids=lambda h: f"H={h}")
@pytest.mark.parametrize("n_paths", PATHS[:1], ids=lambda n: f"paths={n:.0e}")
def test_numpy_reference(benchmark, n_paths, horizon):
    """``simcore.model.equations.simulate_reference`` (numpy + scipy, vectorised over paths)."""
    sc = scenario(horizon)
    record(
        benchmark,
        _group(n_paths, horizon),
        path_years=path_years(n_paths, horizon),
        n_paths=n_paths,
        horizon=horizon,
    )
    m = min(CHECK_PATHS, n_paths)
    # the reference samples with scipy's ppfs, the kernel with its own: equal to ~1e-11
    assert_close_to_kernel(numpy_reference(sc, m, SEED), simulate(sc, m, seed=SEED), rtol=1e-8)
    timed(benchmark, lambda: numpy_reference(sc, n_paths, SEED))


@pytest.mark.parametrize("horizon", HORIZONS, ids=lambda h: f"H={h}")
def test_pure_python(benchmark, horizon):
    """The kernel's own per-path code run by the interpreter, on a few paths (very slow)."""
    sc = scenario(horizon)
    n = PYTHON_PATHS
    record(benchmark, "pure python", path_years=path_years(n, horizon), n_paths=n, horizon=horizon)
    # the same code as the kernel, so the kernel's bytes (and the numpy reference's values)
    check_simulation(python_simulate(sc, n, SEED), seed=SEED)
    timed(benchmark, lambda: python_simulate(sc, n, SEED), rounds=min(ROUNDS, 3))
