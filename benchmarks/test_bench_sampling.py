"""Each sampling method at horizon 3, default threads: plain Monte Carlo, antithetic pairs,
Latin hypercube (a keyed Feistel permutation per stream, year and slot) and scrambled Sobol
(points from scipy, evaluated by the kernel block by block)."""

from __future__ import annotations

import pytest

from simcore.engine.core import simulate

from .checks import check_simulation
from .harness import DEFAULT_HORIZON, PATHS, SAMPLINGS, SEED, path_years, record, scenario, timed


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("n_paths", PATHS, ids=lambda n: f"paths={n:.0e}")
def test_sampling(benchmark, n_paths, sampling):
    sc = scenario(DEFAULT_HORIZON)
    record(
        benchmark,
        f"sampling, {n_paths:,} paths x {DEFAULT_HORIZON} years",
        path_years=path_years(n_paths, DEFAULT_HORIZON),
        n_paths=n_paths,
        horizon=DEFAULT_HORIZON,
        sampling=sampling,
    )

    def run():
        return simulate(sc, n_paths, seed=SEED, sampling=sampling)

    # warm-up; then the last paths, recomputed as a block of their own with their draws kept,
    # must equal the run and match the numpy reference on those draws
    check_simulation(run(), seed=SEED, sampling=sampling)
    timed(benchmark, run)
