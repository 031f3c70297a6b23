"""Memory and time of the streamed summary (``simcore.engine.dask.simulate_summary``) at sizes
whose paths could not be held in memory.

Run: ``python benchmarks/dask_scale.py [--paths 1e8] [--block 262144] [--dask-local N]``

1. Warm-up: compile (or load) every kernel with a tiny run.
2. Validation: at ``--check-paths`` (default 2e5) the streamed summary must equal the in-memory
   ``SimulationResult.summary()`` (quantiles and their MCSE: the same bytes; mean and std:
   relative 1e-11; probabilities: equal).
3. Measurement, in a fresh child process (so that its peak RSS is the run's alone):
   ``simulate_summary`` of the default scenario at ``--paths`` paths x 3 years, every output.
   Reported: wall time, passes and their seconds, the child's peak RSS
   (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and its ``tracemalloc`` peak (numpy's and
   Python's allocations), next to what the in-memory result would need
   (``simcore.engine.run_options.result_bytes``). With ``--dask-local N`` the blocks run on a local
   cluster of N single-threaded workers and each worker's peak RSS is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _number(text: str) -> int:
    return int(float(text.replace("_", "")))


def _peak_rss() -> int:
    """Peak resident set size of this process in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def validate(n_paths: int, block: int) -> None:
    from simcore import default_scenario, simulate
    from simcore.engine.dask import simulate_summary

    sc = default_scenario()
    ref = simulate(sc, n_paths, seed=1).summary()
    got = simulate_summary(sc, n_paths, seed=1, block=block)
    head = got.iloc[: len(ref)]
    assert (
        head[["output", "year", "statistic"]].to_numpy()
        == ref[["output", "year", "statistic"]].to_numpy()
    ).all()
    is_q = ref["statistic"].str.startswith("q").to_numpy()
    for col in ("value", "mcse"):
        a, b = head[col].to_numpy(), ref[col].to_numpy()
        assert a[is_q].tobytes() == b[is_q].tobytes(), f"quantile {col} differ"
        np.testing.assert_allclose(a[~is_q], b[~is_q], rtol=1e-11, atol=0)
    print(
        f"validated: streamed summary == in-memory summary at {n_paths:,} paths "
        f"(quantiles byte-identical, moments within 1e-11)",
        flush=True,
    )


def measure(n_paths: int, block: int, dask_local: int | None) -> dict:
    """The measured run (in the child process)."""
    from simcore import default_scenario
    from simcore.engine.dask import simulate_summary
    from simcore.engine.run_options import result_bytes

    sc = default_scenario()
    simulate_summary(sc, 1000, seed=1, block=500)  # load the compiled kernels
    client = cluster = None
    if dask_local:
        import logging

        from distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=dask_local,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            env={"NUMBA_NUM_THREADS": "1"},
        )
        client = Client(cluster)
        client.run(simulate_summary, sc, 1000, seed=1, block=500)  # warm the workers
    rss_before = _peak_rss()
    tracemalloc.start()
    t0 = time.perf_counter()
    df = simulate_summary(sc, n_paths, seed=1, block=block, client=client)
    wall = time.perf_counter() - t0
    _cur, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = {
        "n_paths": n_paths,
        "horizon": sc.horizon,
        "block": block,
        "wall_s": round(wall, 1),
        "passes": df.attrs["passes"],
        "pass_s": df.attrs["pass_seconds"],
        "peak_rss_mib": round(_peak_rss() / 2**20, 1),
        "peak_rss_before_run_mib": round(rss_before / 2**20, 1),
        "tracemalloc_peak_mib": round(traced / 2**20, 1),
        "in_memory_result_gib": round(
            result_bytes(n_paths, sc.horizon, len(sc.segments)) / 2**30, 1
        ),
        "paths_per_s": round(n_paths / wall),
        "median_npa_last_year": float(
            df[(df.output == "net_profit_attributable") & (df.statistic == "q0.5")]["value"].iloc[
                -1
            ]
        ),
    }
    if client is not None:
        rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        out["worker_peak_rss_mib"] = sorted(round(v / 2**20, 1) for v in rss.values())
        client.close()
        cluster.close()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--paths", type=_number, default=10**8)
    p.add_argument("--block", type=_number, default=1 << 18)
    p.add_argument("--check-paths", type=_number, default=200_000)
    p.add_argument("--dask-local", type=int, default=None, metavar="N")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.paths, args.block, args.dask_local)), flush=True)
        return 0
    validate(args.check_paths, min(args.block, 30_000))
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--paths",
        str(args.paths),
        "--block",
        str(args.block),
    ] + (["--dask-local", str(args.dask_local)] if args.dask_local else [])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return proc.returncode
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    for k, v in res.items():
        print(f"{k:>26}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
