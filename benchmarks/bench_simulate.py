"""End-to-end speed of the default scenario: kernel + quantiles vs its random-number floor and
the numpy reference, measured side by side in one process.

Run: ``python -m benchmarks.bench_simulate [--paths 1000000] [--horizon 3] [--repeats 5]
[--threads N]``

- ``simulate``: ``simcore.simulate`` (sample + model, all stored outputs) followed by the
  quantiles (``DEFAULT_Q``) of every stored output; warm (compiled before timing). Also timed
  apart: ``simulate`` alone; the kernel alone into output arrays already in memory (so the
  difference to ``simulate`` is mostly the first touch of fresh memory); the quantiles alone.
- ``random numbers only``: the same run's random numbers and nothing else: every driver's and
  shock's uniforms from the same streams and the driver normal scores, in the years the kernel
  draws them (the floor of this design).
- ``numpy reference``: ``simcore.model.equations.simulate_reference`` (numpy + scipy, vectorised) on
  ``--ref-paths`` paths, scaled linearly to ``--paths``.
Before timing, the kernel is validated against the reference on the same draws.
"""

from __future__ import annotations

import argparse

import numba
import numpy as np
from numba import prange

from benchmarks.harness import median_time, median_times
from distributions.kernels import ndtri_many, pjit, set_threads
from distributions.streams import uniform_run
from simcore.engine.core import DEFAULT_SEED, _run_kernel, simulate
from simcore.io.scenario_file import default_scenario
from simcore.model import equations as reference
from simcore.model._kernel import CHUNK
from simcore.model.compile import Buffers, compile_scenario
from simcore.model.scenario import OUTPUTS
from simcore.results.result import DEFAULT_Q


def _median(fn, repeats):
    return median_time(fn, repeats)[0]


@pjit
def _random_numbers(n, H, drv_k0, drv_k1, drv_years, sh_k0, sh_k1, out):
    """The run's random numbers, laid out and generated as the kernel does (chunks of
    ``CHUNK`` paths; per chunk, year and stream: ``uniform_run`` over the chunk's paths, then
    the drivers' normal scores by ``ndtri_many``; a driver's in the years the model reads,
    ``t < drv_years[f]``, as in the kernel); ``out[c]`` is a checksum of chunk ``c`` (driver
    0's normal score + shock 0's two uniforms, summed over paths and years; driver 0 must be
    drawn every year)."""
    F = drv_k0.size
    K = sh_k0.size
    for c in prange((n + CHUNK - 1) // CHUNK):
        u = np.empty((F, CHUNK))  # scratch per chunk, as in the kernel
        spare = np.empty(CHUNK)
        z = np.empty((F, CHUNK))
        s0 = np.empty((K, CHUNK))
        s1 = np.empty((K, CHUNK))
        tails = np.empty(CHUNK, np.int64)
        work = np.empty((5, CHUNK))
        lo = c * CHUNK
        m = min(CHUNK, n - lo)
        acc = 0.0
        for t in range(H):
            for f in range(F):
                if t < drv_years[f]:
                    uniform_run(drv_k0[f], drv_k1[f], lo, t, 0, u[f, :m], spare[:m])
                    ndtri_many(u[f, :m], z[f, :m], tails, work)
            for k in range(K):
                uniform_run(sh_k0[k], sh_k1[k], lo, t, 0, s0[k, :m], s1[k, :m])
            for i in range(m):
                acc += z[0, i] + s0[0, i] + s1[0, i]
        out[c] = acc


def validate(sc, seed):
    r = simulate(sc, 2000, seed=seed, keep_draws=True)
    hits = {s.name: r.shock_hit(s.name).astype(float) for s in sc.shocks}
    ref = reference.evaluate(sc, r.draws["drivers"], hits, r.draws["severity"])
    for name in OUTPUTS:
        np.testing.assert_allclose(r[name], ref[name], rtol=1e-12, equal_nan=True)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=1_000_000)
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--ref-paths", type=int, default=100_000)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    sc = default_scenario().with_horizon(args.horizon)
    seed = DEFAULT_SEED
    validate(sc, seed)
    n = args.paths

    def full():
        r = simulate(sc, n, seed=seed)
        r.quantile_table(DEFAULT_Q)  # every output and year in one parallel call

    def simulate_only():
        simulate(sc, n, seed=seed)

    ki = compile_scenario(sc, np.random.SeedSequence(seed))
    r0 = simulate(sc, n, seed=seed)
    touched = Buffers(
        r0._out,
        r0._seg,
        r0._hits,
        np.empty((len(sc.drivers), sc.horizon, 0)),
        np.empty((len(sc.shocks), sc.horizon, 0)),
        np.empty((0, sc.horizon, 0)),
    )

    def kernel_into_touched_memory():  # rewrites r0's arrays with the same bytes (same seed)
        _run_kernel(ki, 0, np.random.SeedSequence(seed), 0, 0, False, None, touched, False, None)

    def quantiles_only():
        r0.quantile_table(DEFAULT_Q)

    scratch = np.empty((n + CHUNK - 1) // CHUNK)

    def rng():
        _random_numbers(
            n, sc.horizon, ki.drv_k0, ki.drv_k1, ki.drv_years, ki.sh_k0, ki.sh_k1, scratch
        )

    full()  # warm-up: compiles everything
    rng()
    # in turns: a shared VM's drifting speed then biases none of them against the others
    times = median_times(
        [full, simulate_only, rng, kernel_into_touched_memory, quantiles_only], args.repeats
    )
    (t_full, _), (t_kernel, _), (t_rng, _), (t_touched, _), (t_q, _) = times
    res = {
        "paths": n,
        "horizon": sc.horizon,
        "threads": numba.get_num_threads(),
        "simulate_plus_quantiles_s": t_full,
        "simulate_s": t_kernel,
        "kernel_into_touched_memory_s": t_touched,
        "quantiles_s": t_q,
        "random_numbers_s": t_rng,
        "ratio_to_random_numbers": t_full / t_rng,
        "ns_per_path_year": t_full / (n * sc.horizon) * 1e9,
    }
    if not args.no_reference:
        m = min(args.ref_paths, n)
        t_ref = _median(lambda: reference.simulate_reference(sc, m, seed), 1) * n / m
        res["numpy_reference_s_scaled"] = t_ref
        res["speedup_vs_reference"] = t_ref / t_full
    print(
        f"default scenario, {n:,} paths x {sc.horizon} years, {res['threads']} threads, "
        f"medians of {args.repeats}"
    )
    print(
        f"  simulate + quantiles of every output : {t_full:8.3f} s "
        f"({res['ns_per_path_year']:.0f} ns per path-year)"
    )
    print(
        f"  random numbers alone (the floor)     : {t_rng:8.3f} s  -> ratio {t_full / t_rng:.2f}x"
    )
    print("  timed apart, and their ratios to the floor:")
    print(f"    simulate (sample + model)          : {t_kernel:8.3f} s  {t_kernel / t_rng:5.2f}x")
    print(f"    the kernel into touched memory     : {t_touched:8.3f} s  {t_touched / t_rng:5.2f}x")
    print(f"    quantiles of every output          : {t_q:8.3f} s  {t_q / t_rng:5.2f}x")
    if "speedup_vs_reference" in res:
        print(
            f"  numpy reference (scaled from {m:,})  : {res['numpy_reference_s_scaled']:8.3f} s"
            f"  -> kernel is {res['speedup_vs_reference']:.1f}x faster"
        )
    return res


if __name__ == "__main__":
    main()
