"""The GPU backend on a GPU: the same bytes as the CPU, its throughput and its floor.

Run: ``python -m benchmarks.gpu [--paths 1e8] [--horizon 5] [--batch 4194304] [--check 100000]
[--block 1048576] [--repeats 3] [--json FILE]`` on a machine with an NVIDIA GPU and
``simcore[cuda]``; sized to finish in a few minutes of device time at the defaults (10^8 paths x
5 years). Under ``NUMBA_ENABLE_CUDASIM=1`` it runs at toy sizes on the CPU (the smoke test does
that).

1. **Same bytes.** ``simulate(--check paths, backend="cuda")`` against the CPU backend: every
   stored output, segment revenue and hit mask compared bit for bit (the count that differ, and
   the largest difference in ulp); and the summary-only table of ``--check`` paths in blocks of
   a quarter of them (``simulate_summary(backend="cuda")`` against the CPU's), value by value.
2. **Kernel.** The default scenario at ``--horizon`` years, ``--paths`` paths in launches of
   ``--batch`` paths, the outputs left on the device: path-years per second.
3. **In memory.** The same with every launch's outputs copied back to the host, as
   ``simulate(backend="cuda")`` does.
4. **Floor.** The run's random numbers alone on the same GPU: every driver's Philox uniform
   and its normal score (AS241) and every shock's two uniforms per path-year, from the same
   addressed streams, one thread per path, summed so nothing is optimised away.

5. **End to end.** A summary-only run of ``--paths`` paths on the GPU in blocks of ``--block``
   (``simulate_summary(backend="cuda")``: every pass simulates its blocks and summarises them on
   the device; moments, exact quantiles, probabilities and, where the report forecasts every
   year, the expected shortfall), only the summaries copied back.

Reported: medians of ``--repeats``, timed in turns; the end-to-end and kernel ratios to the floor
(target <= 2) and path-years per second (target >= 1e10 end to end).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import Any

import numpy as np
from numba import cuda  # numba-cuda's (the simulator swaps in its own)

import simcore
from distributions.kernels import ndtri
from distributions.streams import counter_words, philox4x32, to_unit
from simcore.engine import cuda as gpu
from simcore.engine.dask import simulate_summary
from simcore.model.compile import allocate, compile_scenario


def _number(text: str) -> int:
    return int(float(text.replace("_", "")))


def _floor(n, H, drv_k0, drv_k1, drv_years, sh_k0, sh_k1, out):  # pragma: no cover (GPU)
    i = cuda.grid(1)
    if i >= n:
        return
    acc = 0.0
    for t in range(H):
        c0, c1, c2, c3 = counter_words(i, t, 0)
        for f in range(drv_k0.size):
            if t < drv_years[f]:
                r0, r1, r2, r3 = philox4x32(c0, c1, c2, c3, drv_k0[f], drv_k1[f])
                acc += ndtri(to_unit(r0, r1))
        for k in range(sh_k0.size):
            r0, r1, r2, r3 = philox4x32(c0, c1, c2, c3, sh_k0[k], sh_k1[k])
            acc += to_unit(r0, r1) + to_unit(r2, r3)
    out[i] = acc


def _sync() -> None:
    if not gpu.simulator():
        cuda.synchronize()


def _timed(fn) -> float:
    _sync()
    t = time.perf_counter()
    fn()
    _sync()
    return time.perf_counter() - t


def _ulps(a: np.ndarray, b: np.ndarray) -> int:
    ia, ib = a.view(np.int64).ravel(), b.view(np.int64).ravel()
    same = (a.ravel() == b.ravel()) | (np.isnan(a.ravel()) & np.isnan(b.ravel()))
    return int(np.abs(ia - ib)[~same].max(initial=0))


def check(n: int, seed: int) -> dict[str, Any]:
    """Step 1: the GPU's bytes against the CPU's."""
    a = simcore.simulate(n_paths=n, seed=seed)
    b = simcore.simulate(n_paths=n, seed=seed, backend="cuda")
    differ, worst = 0, 0
    for x, y in ((a._out, b._out), (a._seg, b._seg), (a._hits, b._hits)):
        if x.dtype == np.float64:
            worst = max(worst, _ulps(x, y))
        differ += int((x.view(np.uint8) != y.view(np.uint8)).reshape(x.shape + (-1,)).any(-1).sum())
    kw = dict(n_paths=n, seed=seed, block=max(2, n // 4 // 2 * 2), shortfall=_shortfall(a.horizon))
    ta = simulate_summary(**kw)
    tb = simulate_summary(**kw, backend="cuda")
    va, vb = (t[["value", "mcse", "defined"]].to_numpy() for t in (ta, tb))
    summary_differ = int((va.view(np.uint64) != vb.view(np.uint64)).any(axis=1).sum())
    return {
        "paths": n,
        "values_differing": differ,
        "largest_ulps": worst,
        "summary_rows": len(ta),
        "summary_rows_differing": summary_differ,
    }


def _shortfall(horizon: int) -> tuple[float, ...]:
    """The summary's shortfall levels: the CLI's, where the report forecasts every year."""
    fc = simcore.default_scenario().forecast.net_profit_attributable
    return (0.95, 0.99) if len(fc) >= horizon else ()


def end_to_end(n_paths: int, horizon: int, block: int, repeats: int, seed: int) -> dict[str, Any]:
    """Step 5: summary-only runs on the GPU (after one small run that compiles)."""
    kw = dict(seed=seed, horizon=horizon, shortfall=_shortfall(horizon), backend="cuda")
    block = min(block, n_paths)
    simulate_summary(n_paths=min(n_paths, 2 * block), block=block, **kw)
    times, table = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        table = simulate_summary(n_paths=n_paths, block=block, **kw)
        times.append(time.perf_counter() - t)
    assert table is not None
    med = float(np.median(times))
    return {
        "paths": n_paths,
        "block": block,
        "seconds": med,
        "path_years_per_s": n_paths * horizon / med,
        "passes": table.attrs["passes"],
        "blocks_kept": table.attrs["blocks_kept"],
        "blocks": -(-n_paths // block),
        "pass_seconds": table.attrs["pass_seconds"],
        "all_seconds": times,
    }


def measure(n_paths: int, horizon: int, batch: int, repeats: int, seed: int) -> dict[str, Any]:
    """Steps 2-4."""
    sc = simcore.default_scenario()
    sc = simcore.simulate(sc, 2, seed=seed, horizon=horizon).scenario  # the horizon applied
    rec = compile_scenario(sc, np.random.SeedSequence(seed))
    width = min(batch, n_paths)
    host = allocate(rec, width, False)
    device = gpu.Device(rec, width, host)
    empty = np.empty((0, horizon, 1))

    def kernel(copy: bool) -> None:
        done = 0
        while done < n_paths:
            n = min(width, n_paths - done)
            device.launch(done, n, 0, 0, empty)
            if copy:
                device.copy_into(host, 0, n)
            done += n

    floor_k = cuda.jit(_floor)
    keys = [
        gpu.to_device(np.ascontiguousarray(a))
        for a in (rec.drv_k0, rec.drv_k1, rec.drv_years, rec.sh_k0, rec.sh_k1)
    ]
    acc = gpu.device_empty((width,), np.float64)
    blocks = -(-width // gpu.THREADS_PER_BLOCK)

    def floor() -> None:
        done = 0
        while done < n_paths:
            n = min(width, n_paths - done)
            floor_k[blocks, gpu.THREADS_PER_BLOCK](n, horizon, *keys, acc)
            done += n

    for fn in (lambda: kernel(False), floor):  # compile and warm up
        fn()
    times: dict[str, list[float]] = {"kernel": [], "in_memory": [], "floor": []}
    for _ in range(repeats):
        times["kernel"].append(_timed(lambda: kernel(False)))
        times["in_memory"].append(_timed(lambda: kernel(True)))
        times["floor"].append(_timed(floor))
    py = n_paths * horizon
    med = {k: float(np.median(v)) for k, v in times.items()}
    return {
        "paths": n_paths,
        "horizon": horizon,
        "batch": width,
        "seconds": med,
        "path_years_per_s": {k: py / v for k, v in med.items()},
        "kernel_over_floor": med["kernel"] / med["floor"],
        "in_memory_over_floor": med["in_memory"] / med["floor"],
        "all_seconds": times,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paths", type=_number, default=10**8)
    ap.add_argument("--horizon", type=int, default=5)
    ap.add_argument("--batch", type=_number, default=gpu.BATCH)
    ap.add_argument("--check", type=_number, default=100_000)
    ap.add_argument("--block", type=_number, default=1 << 20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20250605)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    report: dict[str, Any] = {
        "device": gpu.device_name(),
        "host": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
    }
    t = time.perf_counter()
    report["same_bytes"] = check(args.check, args.seed)
    report["check_seconds"] = time.perf_counter() - t
    report["throughput"] = measure(args.paths, args.horizon, args.batch, args.repeats, args.seed)
    report["end_to_end"] = end_to_end(args.paths, args.horizon, args.block, args.repeats, args.seed)
    s, r, e = report["same_bytes"], report["throughput"], report["end_to_end"]
    e["over_floor"] = e["seconds"] / r["seconds"]["floor"]
    print(f"device: {report['device']}")
    print(
        f"same bytes: {s['values_differing']:,} of the stored values differ from the CPU's "
        f"({s['paths']:,} paths; largest difference {s['largest_ulps']} ulp); summary-only: "
        f"{s['summary_rows_differing']} of {s['summary_rows']} rows differ"
    )
    print(
        f"{'end to end (summary)':>20}: {e['seconds']:8.3f} s  {e['path_years_per_s']:.3g} "
        f"path-years/s ({e['passes']} passes, {e['blocks_kept']} of {e['blocks']} blocks of "
        f"{e['block']:,} kept on the device; / floor "
        f"{e['over_floor']:.2f})"
    )
    for key, label in (
        ("kernel", "kernel"),
        ("in_memory", "kernel + copy back"),
        ("floor", "random numbers"),
    ):
        print(
            f"{label:>20}: {r['seconds'][key]:8.3f} s  "
            f"{r['path_years_per_s'][key]:.3g} path-years/s"
        )
    print(
        f"end to end / floor {e['over_floor']:.2f} (target <= 2); kernel / floor "
        f"{r['kernel_over_floor']:.2f}; in memory / floor {r['in_memory_over_floor']:.2f}; "
        "target >= 1e10 path-years/s end to end"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
    return report


if __name__ == "__main__":
    main()
