"""The GPU backend (``backend="cuda"``) without a GPU.

- numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``, set before numba-cuda loads, so in a
  subprocess) runs the backend's kernel thread by thread on the CPU: its bytes equal the CPU
  backend's for every sampling method, with the draws and the statements kept, across several
  launches.
- NVVM compiles the real kernel to PTX for an H100/H200 (compute capability 9.0): every
  function the model reaches compiles for the device, nothing is left to link (scipy's C code
  is NaN there and refused before work), and ``a * b + c`` is not fused (``-fma=0``).
- Scenarios the GPU cannot evaluate are refused before any work, naming the input.

The simulated runs are a few dozen paths: the simulator runs a Python thread per GPU thread.
"""

import dataclasses
import importlib.util
import json
import math
import os
import struct
import subprocess
import sys
import textwrap

import pytest
from conftest import make_toy

from distributions import Gamma
from simcore import default_scenario, simulate
from simcore.engine import cuda as gpu
from simcore.model.scenario import ParameterDraws

pytest.importorskip("numba_cuda")  # the cuda extra (in the test extra too)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SIMULATED = textwrap.dedent(
    """
    import json
    import numpy as np
    import simcore
    from simcore.engine import cuda as gpu

    def arrays(r):
        out = [r._out, r._seg, r._hits]
        for d in (r.draws or {}).values():
            out += list(d.values())
        out += list((r._statements or {}).values()) if hasattr(r, "_statements") else []
        return out

    gpu.BATCH = 16  # 40 paths: three launches, the last one short
    checks = {}
    for sampling in ["mc", "antithetic", "lhs", "sobol"]:
        kw = dict(n_paths=40, seed=11, sampling=sampling, keep_draws=True)
        a = simcore.simulate(**kw)
        b = simcore.simulate(**kw, backend="cuda")
        checks[sampling] = [x.tobytes() == y.tobytes() for x, y in zip(arrays(a), arrays(b))]
        checks[sampling + " backend"] = b.manifest["backend"]
    kw = dict(n_paths=24, seed=5, horizon=5, statements=True, start=1000)
    a = simcore.simulate(**kw)
    b = simcore.simulate(**kw, backend="cuda")
    checks["statements"] = [
        a.statements[k].tobytes() == b.statements[k].tobytes() for k in a.statements
    ] + [a._out.tobytes() == b._out.tobytes()]
    print(json.dumps(checks))
    """
)


def _run(code: str, *args: str, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow  # the simulator's kernel compiles simulate_block anew (about a minute)
def test_simulator_gives_the_cpu_bytes():
    checks = json.loads(_run(SIMULATED, NUMBA_ENABLE_CUDASIM="1").splitlines()[-1])
    for sampling in ["mc", "antithetic", "lhs", "sobol"]:
        assert checks[sampling] and all(checks[sampling]), (sampling, checks[sampling])
        assert checks[sampling + " backend"] == {"kind": "cuda", "device": "numba-cuda simulator"}
    assert len(checks["statements"]) > 40 and all(checks["statements"])


PTX = textwrap.dedent(
    """
    import re
    import sys
    import numpy as np
    from numba import cuda, float64, typeof
    import numba.cuda.dispatcher as dispatcher

    class H200:  # NVVM needs a compute capability, not a GPU: the H100/H200's
        compute_capability = (9, 0)

    dispatcher.get_current_device = lambda: H200()
    import simcore
    from distributions.kernels import exp
    from simcore.engine import cuda as gpu
    from simcore.model._kernel import workspace
    from simcore.model.compile import allocate, compile_scenario
    from simcore.model.dcf import fade_value

    def arith(a, out):
        i = cuda.grid(1)
        v, tv = fade_value(a[i], 0.1, 0.2, 0.3, 0.09, 0.02, 5, 0.1, 0.12, np.nan)
        out[i] = exp(a[i] * 0.5 + out[i]) + v * tv + a[i] * 2.5 + out[i]

    sig = (float64[:], float64[:])
    fused = cuda.compile_ptx(arith, sig, cc=(9, 0))[0].count("fma.rn.f64")
    gpu._cpu_min_max()
    gpu._nan_on_gpu()
    with gpu.ieee_compile():
        after = cuda.compile_ptx(arith, sig, cc=(9, 0))[0].count("fma.rn.f64")
    again = cuda.compile_ptx(arith, sig, cc=(9, 0))[0].count("fma.rn.f64")  # outside: NVVM's
    sc = simcore.default_scenario()
    rec = compile_scenario(sc, np.random.SeedSequence(1))
    design = (np.empty((0, sc.horizon, 10)),)
    args = (0, 8, 0, 0, design, rec, allocate(rec, 8, True, True), True, workspace(rec, 8))
    with gpu.ieee_compile():
        ptx = cuda.compile_ptx(gpu._paths, tuple(typeof(a) for a in args), cc=(9, 0))[0]
    extern = len(re.findall(r"[.]extern", ptx))
    with open(sys.argv[1], "w") as fh:
        fh.write(ptx)
    libdevice_like = sum(ptx.count(op) for op in ("max.f64", "min.f64", "cvt.sat"))
    print(
        fused, again, after, len(ptx), extern, ".entry" in ptx, ptx.count("fma."),
        ptx.count(".approx"), libdevice_like,
    )
    """
)


@pytest.mark.slow  # NVVM compiles the whole model and ptxas assembles it (about 70 s)
def test_nvvm_compiles_the_kernel_to_ieee_operations_only(tmp_path):
    """The kernel's PTX has IEEE-rounded ``+ - * / sqrt`` only: no fused multiply-add, no
    approximate instruction, no libdevice function (those use both), no ``fmin``/``fmax``
    (libdevice's NaN rule differs from the CPU's), nothing to link; and ptxas (the toolkit
    wheel's) assembles it for sm_90, kernel parameters and all."""
    ptx_file = tmp_path / "kernel.ptx"
    out = subprocess.run(
        [sys.executable, "-c", PTX, str(ptx_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    fused, again, after, size, externs, entry, fma, approx, minmax = out.stdout.split()[-9:]
    assert int(fused) > 0  # NVVM's default fuses: the checks below can fail
    assert int(again) == int(fused)  # -fma=0 only inside ieee_compile: other CUDA code keeps it
    assert int(after) == 0  # with -fma=0 every multiply and add rounds as on the CPU
    assert int(size) > 100_000 and entry == "True"  # the whole model, one kernel entry
    assert int(externs) == 0  # nothing left to link: no scipy C call on the device
    assert int(fma) == 0 and int(approx) == 0  # own exp, log and normal CDF: no libdevice
    assert int(minmax) == 0  # min/max as compare-and-select (the CPU's NaN rule), not fmin/fmax
    nvcc = importlib.util.find_spec("nvidia.cuda_nvcc")
    assert nvcc is not None and nvcc.submodule_search_locations  # the cuda extra's toolkit
    ptxas = os.path.join(list(nvcc.submodule_search_locations)[0], "bin", "ptxas")
    cubin = tmp_path / "kernel.cubin"
    asm = subprocess.run(
        [ptxas, "-arch=sm_90", "-v", str(ptx_file), "-o", str(cubin)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert asm.returncode == 0, asm.stderr[-2000:]
    assert cubin.stat().st_size > 100_000 and "registers" in asm.stderr


def test_refuses_what_the_gpu_cannot_evaluate_before_any_work():
    t = dataclasses.replace(default_scenario(), copula="student_t", copula_df=5.0)
    with pytest.raises(ValueError, match="Student-t copula"):
        simulate(t, 16, backend="cuda")
    toy = make_toy()
    rows = ParameterDraws(("shape", "scale"), ((40.0, 0.025), (60.0, 1 / 60)))
    drivers = tuple(
        dataclasses.replace(d, dist=Gamma(shape=50.0, scale=0.02), uncertainty=rows)
        if d.name == "multiple.ps"
        else d
        for d in toy.drivers
    )
    exact = dataclasses.replace(toy, drivers=drivers)  # Gamma rows take scipy's exact inverse
    simulate(exact, 16)  # the CPU runs it
    with pytest.raises(ValueError, match="driver 'multiple.ps'.*parameter rows"):
        simulate(exact, 16, backend="cuda")


def test_without_a_gpu_the_error_says_what_to_do(monkeypatch):
    monkeypatch.setattr(gpu, "simulator", lambda: False)
    monkeypatch.setattr(gpu.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="no usable GPU.*NUMBA_ENABLE_CUDASIM"):
        simulate(make_toy(), 16, backend="cuda")
    monkeypatch.setattr(gpu, "cuda", None)
    with pytest.raises(RuntimeError, match=r"pip install 'simcore\[cuda\]'"):
        simulate(make_toy(), 16, backend="cuda")


def test_cpu_min_max_rule_is_the_one_lowered_for_the_gpu():
    """numba's CPU max/min of doubles is ``b if b > a else a`` (``<`` for min): NaN in the
    first place propagates, in the second does not, ties keep the first. The GPU backend
    lowers min/max to exactly that compare-and-select (gpu._cpu_min_max; the PTX test checks
    no fmin/fmax remains)."""
    import numba

    @numba.njit(cache=False)
    def both(a, b):
        return max(a, b), min(a, b)

    values = [math.nan, -0.0, 0.0, -1.5, 2.0, math.inf, -math.inf]
    for a in values:
        for b in values:
            got = both(a, b)
            want = (b if b > a else a, b if b < a else a)
            assert [struct.pack("<d", v) for v in got] == [struct.pack("<d", v) for v in want]


def test_cuda_takes_no_dask_arguments():
    with pytest.raises(ValueError, match="only used with backend='dask'"):
        simulate(make_toy(), 16, backend="cuda", block=8)


@pytest.mark.slow  # the simulator runs the CLI's 48 paths a Python thread each
def test_cli_backend_cuda_writes_the_cpu_tables(tmp_path):
    """``simcore run --backend cuda`` under the simulator: the summary and risk tables are the
    CPU run's bytes, and the manifest names the device."""
    run = [sys.executable, "-m", "simcore", "run", "--paths", "48", "--no-charts", "--quiet"]
    _run_cli(run + ["--out", str(tmp_path / "cpu")])
    _run_cli(run + ["--out", str(tmp_path / "gpu"), "--backend", "cuda"])
    for name in ("summary.csv", "risk.csv"):
        assert (tmp_path / "cpu" / name).read_bytes() == (tmp_path / "gpu" / name).read_bytes()
    manifest = json.loads((tmp_path / "gpu" / "manifest.json").read_text())
    assert manifest["backend"] == {"kind": "cuda", "device": "numba-cuda simulator"}
    assert manifest["run"]["identity"]["backend"] == "cuda"


def _run_cli(argv: list[str]) -> None:
    out = subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "NUMBA_ENABLE_CUDASIM": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]


def test_cli_refuses_cuda_with_dask(tmp_path, capsys):
    from simcore.cli import main

    assert main(["run", "--backend", "cuda", "--dask-local", "2", "--out", str(tmp_path)]) == 2
    assert "choose one" in capsys.readouterr().err


@pytest.mark.slow  # the device benchmark at toy sizes under the simulator (its smoke run)
def test_device_benchmark_runs_and_finds_the_same_bytes(tmp_path):
    out = tmp_path / "gpu.json"
    argv = ["--paths", "64", "--batch", "32", "--check", "32", "--repeats", "1", "--horizon", "3"]
    argv += ["--block", "32", "--json", str(out)]
    code = (
        "from simcore.results import streaming; streaming.LANES = 4\n"  # few simulated threads
        f"from benchmarks.gpu import main; main({argv!r})"
    )
    _run(code, NUMBA_ENABLE_CUDASIM="1")
    report = json.loads(out.read_text())
    assert report["same_bytes"]["values_differing"] == 0
    assert report["same_bytes"]["summary_rows"] > 100
    assert report["same_bytes"]["summary_rows_differing"] == 0
    assert set(report["throughput"]["seconds"]) == {"kernel", "in_memory", "floor"}
    assert report["throughput"]["kernel_over_floor"] > 0
    e = report["end_to_end"]
    assert e["paths"] == 64 and e["block"] == 32 and e["passes"] >= 3 and e["over_floor"] > 0


SUMMARY = textwrap.dedent(
    """
    import json
    import simcore
    from simcore.engine import cuda_summary
    from simcore.engine.dask import simulate_summary
    from simcore.results import streaming

    streaming.LANES = 6  # a Python thread per (row, lane) under the simulator; any count folds
    checks = {}
    segments = len(simcore.default_scenario().segment_names)
    block_bytes = lambda block: block * 2 * (21 + segments) * 8 + block * 2 * 4  # with hit masks
    cases = [
        ("mc", 600, 256, 0),  # every pass simulates its blocks again
        ("mc", 600, 256, 2),  # two of three blocks kept on the device between passes
        ("antithetic", 300, 128, 3),
        ("lhs", 200, 64, 1),
        ("sobol", 90, 64, 0),
    ]
    for sampling, n, block, kept in cases:
        outputs = None if sampling != "lhs" else ["eps", "price_pe", "eps"]  # a repeat
        cuda_summary.KEEP_BYTES = kept * block_bytes(block)
        # 40 values a pass at most: buckets are refined and collected over several passes
        kw = dict(n_paths=n, seed=3, horizon=2, block=block, max_values=40, outputs=outputs)
        kw["shortfall"] = (0.95,) if outputs is None else ()
        a = simulate_summary(sampling=sampling, **kw)
        b = simulate_summary(sampling=sampling, backend="cuda", **kw)
        va, vb = (t[["value", "mcse", "defined"]].to_numpy() for t in (a, b))
        same = list(a["statistic"]) == list(b["statistic"]) and va.tobytes() == vb.tobytes()
        checks[f"{sampling} {kept}"] = [same, len(a), a.attrs["passes"], b.attrs["passes"],
                                        b.attrs["backend"], b.attrs["device"],
                                        b.attrs["blocks_kept"] == kept]
    print(json.dumps(checks))
    """
)


@pytest.mark.slow  # the simulator runs every summary kernel a Python thread per (row, lane)
def test_simulator_streams_the_cpu_summary():
    """``simulate_summary(backend="cuda")``: each pass simulates and summarises its blocks on
    the device (moments in lanes, bucket counts by atomics, collected values, shortfall sums),
    or reuses the blocks kept there; under the simulator the table is the CPU's, byte for byte,
    for every sampling method, with none, some or all blocks kept."""
    checks = json.loads(_run(SUMMARY, NUMBA_ENABLE_CUDASIM="1").splitlines()[-1])
    assert len(checks) == 5
    for case, (same, rows, passes_cpu, passes_gpu, backend, device, kept) in checks.items():
        assert same, case
        assert rows > 40 and passes_gpu == passes_cpu >= 2  # refined, collected (shortfall)
        assert (backend, device) == ("cuda", "numba-cuda simulator") and kept, case


@pytest.mark.slow  # the simulator runs a CLI summary-only run a Python thread per GPU thread
def test_cli_summary_only_on_cuda_writes_the_cpu_tables(tmp_path):
    run = ["run", "--paths", "300", "--summary-only", "--quiet"]
    code = (
        "import sys\nfrom simcore.results import streaming\nstreaming.LANES = 8\n"
        "from simcore.cli import main\nsys.exit(main(sys.argv[1:]))"
    )
    for name, extra in (("cpu", []), ("gpu", ["--backend", "cuda"])):
        _run_cli([sys.executable, "-c", code, *run, "--out", str(tmp_path / name), *extra])
    for name in ("summary.csv", "risk.csv"):
        assert (tmp_path / "cpu" / name).read_bytes() == (tmp_path / "gpu" / name).read_bytes()
    manifest = json.loads((tmp_path / "gpu" / "manifest.json").read_text())
    streamed = manifest["summary_only"]
    assert streamed["backend"] == "cuda" and streamed["device"] == "numba-cuda simulator"


SUMMARY_PTX = textwrap.dedent(
    """
    import re
    import sys
    import numpy as np
    from numba import cuda, typeof
    import numba.cuda.dispatcher as dispatcher

    class H200:  # NVVM needs a compute capability, not a GPU
        compute_capability = (9, 0)

    dispatcher.get_current_device = lambda: H200()
    from simcore.engine import cuda as gpu
    from simcore.engine import cuda_summary as cs

    gpu._cpu_min_max()
    gpu._nan_on_gpu()
    R, L, M, N = 4, 8, 3, 16
    f, s = np.zeros((3, 2, N)), np.zeros((2, 2, N))
    src, bits, rows = (f, s), (f.view(np.uint64), s.view(np.uint64)), np.zeros((R, 3), np.int64)
    i8, u8 = np.int64, np.uint64
    args = {
        "_stats": (src, rows, np.zeros((R, 3)), N, np.zeros((R, L, 5)), np.zeros((R, L, 3), i8)),
        "_fold": (np.zeros((R, L, 5)), np.zeros((2, R, 5)), 1, True),
        "_buckets": (
            src, bits, rows, N, np.zeros(R, i8), np.zeros((R, M), u8), np.zeros((R, M), u8),
            np.zeros((R, M), i8), np.zeros((R, M), i8), np.zeros(2 * 4096, i8),
            np.zeros(2 * 4096, u8), np.zeros(2 * 4096, u8), np.zeros((R, L, M + 1), i8),
            np.zeros((R, L, 2), u8), np.zeros(1, i8), np.zeros(5, np.int32),
            np.zeros(5, np.int32), np.zeros(5),
        ),
        "_tail": (f, np.zeros((2, 2)), N, np.zeros((4, L, 3))),
    }
    for name, a in args.items():
        with gpu.ieee_compile():
            ptx = cuda.compile_ptx(getattr(cs, name), tuple(typeof(x) for x in a), cc=(9, 0))[0]
        with open(f"{sys.argv[1]}/{name}.ptx", "w") as fh:
            fh.write(ptx)
        print(
            name, ptx.count("fma."), ptx.count(".approx"),
            sum(ptx.count(op) for op in ("max.f64", "min.f64", "cvt.sat")),
            len(re.findall(r"[.]extern", ptx)), ptx.count("atom."),
        )
    """
)


@pytest.mark.integration  # NVVM in a subprocess (a few seconds)
def test_nvvm_compiles_the_summary_kernels_to_ieee_operations_only(tmp_path):
    """The summary kernels, like the model's: no fused multiply-add, no approximate or
    libdevice instruction, nothing to link; the bucket kernel's counts are atomics; ptxas
    assembles each for sm_90."""
    stdout = _run(SUMMARY_PTX, str(tmp_path))
    got = {line.split()[0]: [int(v) for v in line.split()[1:]] for line in stdout.splitlines()}
    assert set(got) == {"_stats", "_fold", "_buckets", "_tail"}
    for name, (fma, approx, libdevice, externs, atomics) in got.items():
        assert fma == approx == libdevice == externs == 0, name
        assert (atomics > 0) == (name == "_buckets"), name
    nvcc = importlib.util.find_spec("nvidia.cuda_nvcc")
    ptxas = os.path.join(list(nvcc.submodule_search_locations)[0], "bin", "ptxas")
    for name in got:
        asm = subprocess.run(
            [ptxas, "-arch=sm_90", str(tmp_path / f"{name}.ptx"), "-o", str(tmp_path / "k.cubin")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert asm.returncode == 0, (name, asm.stderr[-2000:])


def test_summary_backend_is_checked_before_any_work():
    from simcore.engine.dask import simulate_summary

    with pytest.raises(ValueError, match="backend='gpu'.*allowed 'local'"):
        simulate_summary(make_toy(), 100, backend="gpu")
    with pytest.raises(ValueError, match="pass client=None"):
        simulate_summary(make_toy(), 100, backend="cuda", client=object())
    t = dataclasses.replace(default_scenario(), copula="student_t", copula_df=5.0)
    with pytest.raises(ValueError, match="Student-t copula"):
        simulate_summary(t, 100, backend="cuda")
