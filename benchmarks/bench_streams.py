"""Standard normals through simcore's addressed streams and ppf path vs numpy's SFC64.

Run: ``python -m benchmarks.bench_streams [--n 20000000] [--repeats 7]``

Our path: Philox4x32-10 uniforms addressed by (stream, path, year, slot), vectorised across
paths, then the AS241 inverse normal, inside a parallel numba kernel (both threads).
numpy's: ``Generator(SFC64()).standard_normal(n)`` called from Python (ziggurat, one thread).
Both produce n float64 standard normals into a preallocated array; medians of ``--repeats``
timings measured side by side in one process; the JIT is warmed up and the output validated
(mean, std, KS against N(0, 1)) before timing.
"""

from __future__ import annotations

import argparse

import numba
import numpy as np
from numba import prange
from scipy import stats

from benchmarks.harness import median_time as _median_times
from distributions.kernels import ndtri_many, pjit
from distributions.streams import stream_key, uniform_run

N_STREAMS = 16  # one (path, year) draws this many streams at once, as the simulation kernel does


def _median(fn, repeats):
    return _median_times(fn, repeats)[0]


@pjit
def _normals(k0s, k1s, n_paths, out):
    """out[2 s + j, p] = standard normal of stream s, path p, year 0, slot j (two per Philox
    call), generated as the simulation kernel does: per chunk of paths and stream,
    ``uniform_run`` over the chunk's paths, then ``ndtri_many``."""
    chunk = 512
    for c in prange((n_paths + chunk - 1) // chunk):
        u0 = np.empty(chunk)  # scratch per chunk: allocation per path would dominate
        u1 = np.empty(chunk)
        tails = np.empty(chunk, np.int64)
        work = np.empty((3, chunk))
        lo = c * chunk
        hi = min(lo + chunk, n_paths)
        for s in range(k0s.size):
            uniform_run(k0s[s], k1s[s], lo, 0, 0, u0[: hi - lo], u1[: hi - lo])
            ndtri_many(u0[: hi - lo], out[2 * s, lo:hi], tails, work)
            ndtri_many(u1[: hi - lo], out[2 * s + 1, lo:hi], tails, work)


def ours(n: int, seed: int = 0):
    keys = np.array([stream_key(seed, f"bench.{i}") for i in range(N_STREAMS // 2)])
    k0 = np.ascontiguousarray(keys[:, 0])
    k1 = np.ascontiguousarray(keys[:, 1])
    out = np.empty((N_STREAMS, n // N_STREAMS))

    def run():
        _normals(k0, k1, out.shape[1], out)
        return out

    return run


def numpy_sfc64(n: int, seed: int = 0):
    gen = np.random.Generator(np.random.SFC64(seed))
    out = np.empty(n)

    def run():
        gen.standard_normal(out=out)
        return out

    return run


def validate(x: np.ndarray) -> None:
    x = x.ravel()
    se = 1 / np.sqrt(x.size)
    assert abs(x.mean()) < 5 * se, x.mean()
    assert abs(x.std() - 1) < 5 * se, x.std()
    assert stats.kstest(x[:200_000], "norm").pvalue > 1e-4


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    a, b = ours(args.n), numpy_sfc64(args.n)
    validate(a())  # warm-up (compiles) and validation
    validate(b())
    ta, tb = _median(a, args.repeats), _median(b, args.repeats)
    res = {
        "n": args.n,
        "threads": numba.get_num_threads(),
        "ours_s": ta,
        "numpy_sfc64_s": tb,
        "ours_M_per_s": args.n / ta / 1e6,
        "numpy_M_per_s": args.n / tb / 1e6,
        "speedup_vs_numpy": tb / ta,
    }
    print(f"standard normals, n={args.n:,}, medians of {args.repeats}")
    label = f"simcore streams + AS241 ppf ({res['threads']} threads):"
    print(f"  {label:<56}{res['ours_M_per_s']:8.1f} M/s")
    print(
        f"  {'numpy Generator(SFC64).standard_normal (1 thread):':<56}"
        f"{res['numpy_M_per_s']:8.1f} M/s"
    )
    print(f"  ratio (ours / numpy): {res['speedup_vs_numpy']:.2f}x")
    return res


if __name__ == "__main__":
    main()
