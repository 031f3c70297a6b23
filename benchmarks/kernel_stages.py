"""Where the kernel's time goes, stage by stage, from the CPU's cycle counter.

Run: ``python -m benchmarks.kernel_stages [--paths 1000000] [--horizon 3] [--repeats 5]``

Taking a stage out of the kernel and timing the rest (an ablation) measures a few percent at a
time on a shared VM, inside its noise. Here every stage is timed in the same run instead: a copy
of ``simcore/model/_kernel.py`` is made with ``llvm.readcyclecounter`` reads before each of the
kernel's numbered stage comments (``# 1.`` to ``# 8.``), compiled, checked to give the kernel's
bytes, and run on one thread over the default scenario. The cycles of each stage are converted
to ns with the run's wall time. Stages 1 and 2 are the random numbers (the floor of
``bench_simulate``); the others are the rest of sampling and the model. The reads cost a few
tens of cycles each, seven per chunk of 512 paths and year and one more per chunk: well under
1% of the run.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

import simcore.model._kernel
from simcore.engine import core as engine
from simcore.io.scenario_file import default_scenario
from simcore.model.compile import Buffers, allocate, compile_scenario

STAGES = (
    "1 uniforms",
    "2 normal scores",
    "3 copula",
    "4 persistence + marginals",
    "5 shock draws",
    "6 shock effects",
    "7 income statement",
    "8 DCF (+ chunk set-up)",
)
_MARK = re.compile(r"^(?P<ind>[ \t]+)# (?P<k>[1-8])\. ", re.M)


@intrinsic
def _read_cycles(typingctx):
    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=fnty)
        return builder.call(fn, [])

    return types.int64(), codegen


@numba.njit
def cycles():
    """The CPU's cycle counter (x86: the time-stamp counter, constant rate)."""
    return _read_cycles()


def instrumented_source(src: str) -> str:
    """``simcore/model/_kernel.py`` with ``prof`` (int64[8], cycles per stage) as the first argument
    of ``simulate_block`` and ``simulate_paths`` and a cycle-counter read before each stage
    comment."""
    head = "def simulate_block(start,"
    outer = "def simulate_paths(start,"
    call = "    simulate_block(\n        start,"
    loop = "    for lo in range(0, n, B):\n"
    marks = list(_MARK.finditer(src))
    once = all(src.count(s) == 1 for s in (head, outer, call, loop))
    if not once or [m["k"] for m in marks] != list("12345678"):
        raise RuntimeError(
            "simcore/model/_kernel.py no longer has the layout this tool "
            "instruments "
            f"(one {head!r}, {outer!r}, {call!r} and {loop.strip()!r}, stage comments '# 1.' "
            f"to '# 8.' in order; found {[m['k'] for m in marks]})"
        )
    for m in reversed(marks):  # from the end: earlier offsets stay valid
        k = int(m["k"]) - 1
        probe = f"{m['ind']}T1 = _cycles(); prof[S_] += T1 - T0; T0 = T1; S_ = {k}\n"
        src = src[: m.start()] + probe + src[m.start() :]
    src = src.replace(loop, "    T0 = _cycles()\n    S_ = 7\n" + loop)
    src = src.replace(head, "def simulate_block(prof, start,")
    src = src.replace(outer, "def simulate_paths(prof, start,")
    src = src.replace(call, "    simulate_block(\n        prof, start,")
    src = re.sub(r"^from \.", "from simcore.", src, flags=re.M)  # the copy is not in simcore
    return src.replace(
        "from distributions.streams import uniform_run\n",
        "from distributions.streams import uniform_run\n"
        "from benchmarks.kernel_stages import cycles as _cycles\n",
    )


def _load(src: str, where: Path):
    path = where / "_kernel_stages_copy.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("_kernel_stages_copy", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=1_000_000)
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    n, H = args.paths, args.horizon
    sc = default_scenario().with_horizon(H)
    seed = np.random.SeedSequence(engine.DEFAULT_SEED)
    ki = compile_scenario(sc, seed)
    K, F = len(sc.shocks), len(sc.drivers)

    def buffers():
        return Buffers(*(np.zeros_like(a) for a in allocate(ki, n, False)))

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(simcore.model._kernel.__file__).read_text()
        copy = _load(instrumented_source(source), Path(tmp))
        bufs = buffers()
        no_sobol = np.empty((0, H, F + 2 * K + 1))
        prof = np.zeros(8, np.int64)

        def run():
            """One thread, the engine's tasks in order; (wall s, cycles)."""
            prof[:] = 0
            t, c = time.perf_counter(), cycles()
            for a in range(0, n, engine.TASK):
                copy.simulate_paths(
                    prof, a, min(engine.TASK, n - a), a, 0, 0, no_sobol, ki, bufs, False
                )
            c, t = cycles() - c, time.perf_counter() - t
            prof[7] += c - prof.sum()  # after the last probe: the last DCF and the calls
            return t, c

        run()  # compiles the copy
        ref = buffers()
        engine._run_kernel(ki, 0, seed, 0, 0, False, None, ref, True, None)
        for mine, theirs in zip(bufs[:3], ref[:3], strict=True):
            if mine.tobytes() != theirs.tobytes():
                raise RuntimeError("the instrumented copy does not give the kernel's bytes")
        shares, ns = [], []
        for _ in range(args.repeats):
            wall, total = run()
            shares.append(prof / total)
            ns.append(wall / (n * H) * 1e9)
    share = np.median(shares, axis=0)
    per = float(np.median(ns))
    stage_ns = share * per
    print(
        f"default scenario, {n:,} paths x {H} years, one thread, medians of {args.repeats}: "
        f"{per:.1f} ns per path-year"
    )
    for name, s, v in zip(STAGES, share, stage_ns, strict=True):
        print(f"  {name:28s} {v:6.1f} ns  {100 * s:5.1f}%")
    rng, rest = stage_ns[:2].sum(), stage_ns[2:].sum()
    print(
        f"  random numbers (1-2)         {rng:6.1f} ns; the rest (3-8) {rest:.1f} ns "
        f"= {rest / rng:.2f}x the random numbers"
    )
    return {"ns_per_path_year": per, "stages_ns": dict(zip(STAGES, stage_ns.tolist(), strict=True))}


if __name__ == "__main__":
    main()
