"""What every benchmark shares: sizes (and the environment variables that change them), timing,
memory measurement, machine information and the default scenario.

Environment variables (read once, at import):

- ``SIMCORE_BENCH_TINY=1``: every size becomes tiny (``TINY_PATHS`` paths) and every benchmark runs
  one round; the cold start reuses the warm compilation cache. This is what the smoke test
  (``tests/test_benchmarks_smoke.py``) runs: it checks that each benchmark runs and validates, not
  how fast it is.
- ``SIMCORE_BENCH_LARGE=1``: also run the kernel at 10^7 paths (about 3.5 GB of stored results at
  horizon 3 and 11.6 GB at horizon 10; skipped when that does not fit in memory).
- ``SIMCORE_BENCH_ROUNDS=N``: timed rounds per benchmark (default 5; the cold start always runs 1).
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import functools
import gc
import os
import platform
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from importlib import metadata
from pathlib import Path

import numba
import numpy as np

from simcore.engine.core import DEFAULT_SEED
from simcore.engine.run_options import result_bytes
from simcore.model.scenario import OUTPUTS


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


TINY = _flag("SIMCORE_BENCH_TINY")
LARGE = _flag("SIMCORE_BENCH_LARGE")
ROUNDS = 1 if TINY else int(os.environ.get("SIMCORE_BENCH_ROUNDS", "5"))
TINY_PATHS = 1_000

SEED = DEFAULT_SEED
HORIZONS = (3, 10)
PATHS = (TINY_PATHS,) if TINY else (100_000, 1_000_000)
LARGE_PATHS = (TINY_PATHS * 2,) if TINY else (10_000_000,)  # opt-in (SIMCORE_BENCH_LARGE=1)
DEFAULT_PATHS = TINY_PATHS if TINY else 1_000_000  # the default run: 10^6 x 3
DEFAULT_HORIZON = 3
SAMPLINGS = ("mc", "antithetic", "lhs", "sobol")
CHECK_PATHS = 2_000  # paths checked against the numpy reference before timing
REPO = Path(__file__).resolve().parent.parent


def all_threads() -> int:
    """numba's thread pool size (the most ``simulate(threads=...)`` can use)."""
    return int(numba.config.NUMBA_NUM_THREADS)


def thread_counts() -> tuple[int, ...]:
    """1 and 2 threads (the issue), and every core when the machine has more."""
    return tuple(sorted({1, min(2, all_threads()), all_threads()}))


# -- the scenario and stored runs ---------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def scenario(horizon: int = DEFAULT_HORIZON):
    from simcore.io.scenario_file import default_scenario

    return default_scenario().with_horizon(horizon)


def stored_bytes(n_paths: int, horizon: int) -> int:
    """Bytes of the stored results of a default-scenario run (what ``simulate`` allocates)."""
    sc = scenario(horizon)
    return result_bytes(n_paths, horizon, len(sc.segments))


def path_years(n_paths: int, horizon: int) -> int:
    return int(n_paths) * int(horizon)


# -- timing -------------------------------------------------------------------------------------
def time_once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    """Median wall time of ``repeats`` calls of ``fn`` (already warm) and every timing."""
    ts = [time_once(fn) for _ in range(max(1, int(repeats)))]
    return float(np.median(ts)), ts


def median_times(fns, repeats: int) -> list[tuple[float, list[float]]]:
    """:func:`median_time` of each of ``fns``, timed in turns (``fns[0]``, ``fns[1]``, ...,
    ``repeats`` rounds), so that a machine that slows down or speeds up during the measurement
    (a shared VM) biases none of them against the others: ratios of these medians compare like
    with like."""
    ts = [[] for _ in fns]
    for _ in range(max(1, int(repeats))):
        for i, fn in enumerate(fns):
            ts[i].append(time_once(fn))
    return [(float(np.median(t)), t) for t in ts]


# -- pytest-benchmark helpers ------------------------------------------------------------------
ROWS: list[tuple[str, str, int, float]] = []  # (group, name, path-years, median s) for the summary


def record(benchmark, group: str, *, path_years: int | None = None, **info) -> None:
    """Set the benchmark's group and extra information (before timing)."""
    benchmark.group = group
    benchmark.extra_info.update(info)
    if path_years is not None:
        benchmark.extra_info["path_years"] = int(path_years)


def timed(benchmark, fn, *, rounds: int = ROUNDS, setup=None) -> None:
    """Time ``fn`` (warm and validated already); keep nothing it returns between rounds."""

    def run(*args, **kwargs):
        fn(*args, **kwargs)

    benchmark.pedantic(run, setup=setup, rounds=rounds, iterations=1, warmup_rounds=0)
    stats = getattr(benchmark, "stats", None)
    py = benchmark.extra_info.get("path_years")
    if stats is not None and py:
        med = stats.stats.median
        benchmark.extra_info["ns_per_path_year"] = med / py * 1e9
        ROWS.append((benchmark.group, benchmark.name, py, med))


# -- memory -------------------------------------------------------------------------------------
def current_rss() -> int:
    """Resident set size now, in bytes (Linux ``/proc/self/statm``; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return 0


def max_rss() -> int:
    """The process's peak resident set size so far, in bytes (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def release_free_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the OS (glibc ``malloc_trim``),
    so that the resident set size counts live memory only."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def peak_rss(fn, interval: float = 0.001) -> dict:
    """Extra resident memory a call of ``fn`` needs at its peak: the highest resident set size
    seen while it runs (``/proc/self/statm`` read every ``interval`` seconds by a thread; the
    kernels release the GIL) minus the resident set size before it, after
    :func:`release_free_memory`. Counts every allocation: numpy's, numba's runtime's, the
    threads' scratch. ``maxrss`` is the same from ``ru_maxrss``, a cross-check that is only
    meaningful when the call sets a new high-water mark for the process (``maxrss_new_peak``;
    measure the largest configurations last)."""
    release_free_memory()
    before = current_rss()
    peak_before = max_rss()
    seen = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            seen.append(current_rss())
            done.wait(interval)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        fn()
    finally:
        done.set()
        watcher.join()
    seen.append(current_rss())
    peak_after = max_rss()
    return {
        "rss": max(seen) - before,
        "maxrss": max(peak_after - before, 0),
        "maxrss_new_peak": peak_after > peak_before,
    }


def peak_traced(fn) -> int:
    """The peak of memory allocated through Python's allocators during a call of ``fn``
    (tracemalloc: numpy arrays included; numba's allocations inside jitted code are not seen).
    tracemalloc's own bookkeeping raises the process's RSS: measure :func:`peak_rss` first."""
    release_free_memory()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


# -- machine information ------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or platform.machine()


def _mem_total() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):  # pragma: no cover - not Linux
        pass
    return None


def _git(*args) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine_info() -> dict:
    """CPU, cores, memory, load, library versions and the git commit, for saved results."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    versions = {"python": platform.python_version()}
    for pkg in ("numpy", "numba", "llvmlite", "scipy", "pandas", "matplotlib", "pytest-benchmark"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": usable,
        "numba_threads": all_threads(),
        "numba_threading_layer_config": numba.config.THREADING_LAYER,
        "memory_total_bytes": _mem_total(),
        "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
    }


def output_names(sc) -> list[str]:
    return list(OUTPUTS) + [f"revenue.{s}" for s in sc.segment_names]
