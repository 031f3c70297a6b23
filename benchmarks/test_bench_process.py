"""Whole processes, timed from spawn to exit (interpreter start and imports included).

- ``test_cold_start``: the first-ever run (10^6 x 3, simulate + every output's quantiles) with a
  fresh, empty ``NUMBA_CACHE_DIR``, so every kernel compiles; one round (each round would need
  another fresh cache). Target: <= 30 s. In tiny mode it keeps the warm cache (the smoke test
  checks the plumbing; a real cold start takes tens of seconds).
- ``test_warm_process``: the same run in a fresh process with the warm cache (what the CLI costs
  before it writes anything).
- ``test_cli_warm``: ``simcore run --no-charts`` at 10^6 paths, warm cache. Target: <= 2 s.
  Skipped while ``simcore.cli`` does not exist.
"""

from __future__ import annotations

import tempfile

import pytest

from .harness import DEFAULT_HORIZON, DEFAULT_PATHS, ROUNDS, TINY, path_years, record, timed
from .process import api_process, check_cli_output, cli_missing_reason, cli_run, cold_start

N = DEFAULT_PATHS
H = DEFAULT_HORIZON


@pytest.fixture(scope="module")
def validated():
    """The run every process benchmark below times, done once in a child process that checks it
    against the numpy reference (compiled code does not depend on where it is cached, so this
    validates the cold start's run too); also the warm-up of the cache."""
    res = api_process(N, H, validate=True)
    assert res["validated"]
    return res


def test_cold_start(benchmark, validated):
    record(
        benchmark,
        "whole process",
        path_years=path_years(N, H),
        n_paths=N,
        horizon=H,
        fresh_numba_cache=not TINY,
    )
    child = {}

    def run():
        child.update(cold_start(N, H, fresh_cache=not TINY))

    timed(benchmark, run, rounds=1)
    benchmark.extra_info.update({k: child[k] for k in ("import_s", "simulate_s", "quantiles_s")})


def test_warm_process(benchmark, validated):
    record(benchmark, "whole process", path_years=path_years(N, H), n_paths=N, horizon=H)
    timed(benchmark, lambda: api_process(N, H))


@pytest.mark.skipif(cli_missing_reason() is not None, reason=str(cli_missing_reason()))
def test_cli_warm(benchmark, tmp_path):
    record(
        benchmark,
        "whole process",
        path_years=path_years(N, H),
        n_paths=N,
        horizon=H,
        command="simcore run --no-charts",
    )
    first = tmp_path / "warmup"
    first.mkdir()
    cli_run(N, first)  # warm-up (fills the cache if needed)
    check_cli_output(first, N)

    def setup():
        return (N, tempfile.mkdtemp(dir=tmp_path)), {}

    timed(benchmark, cli_run, setup=setup, rounds=min(ROUNDS, 5))
