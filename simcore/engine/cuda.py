"""The GPU backend, ``simulate(..., backend="cuda")``: the simulation kernel on CUDA.

One GPU thread per path. Each thread runs :func:`simcore.model._kernel.simulate_block`, the
CPU kernel's own code compiled by numba-cuda for the device, on a chunk of one path with its
own column of a workspace (:func:`~simcore.model._kernel.thread_workspace`). The streams are
addressed by (path, year, slot), so a path's draws do not depend on where it runs, and the
model's arithmetic is the CPU's, in the same order.

Same bytes as the CPU:

- NVVM fuses ``a * b + c`` into one fused multiply-add (one rounding) by default; the CPU
  rounds twice. :func:`_fma_off` compiles with ``-fma=0``, so every ``+``, ``-``, ``*``, ``/``
  and ``sqrt`` is the same IEEE operation on both.
- No elementary function comes from a maths library: ``exp``, ``log`` and the normal CDF are
  the project's own (:mod:`distributions._exp`, ``_log``, ``_ndtr``), built from those
  operations, so they give the same bits on both (libdevice's ``log`` and ``erfc`` differ from
  the C library's in the last bit). ``min``/``max`` of doubles keep the CPU's NaN rule
  (:func:`_cpu_min_max`; numba-cuda's are libdevice's ``fmin``/``fmax``). The tests check that
  the kernel's PTX holds no fused multiply-add, no approximate instruction, no ``fmin``/
  ``fmax`` and no call to link.
- scipy's C functions do not run on a GPU: a scenario that needs one (the exact inverse of a
  Beta, PERT, Gamma or Student t, a Poisson, a Student-t copula) is refused before any work by
  :func:`check_supported`, naming the input.

Tested without a GPU: with ``NUMBA_ENABLE_CUDASIM=1`` numba-cuda's simulator runs this
module's kernel, thread by thread, on the CPU, and the tests compare its bytes with the CPU
backend's (the model each simulated thread calls is the CPU's machine code: this checks the
launches, workspaces and copies; the PTX checks cover the device arithmetic). The backend
needs the ``cuda`` extra (numba-cuda); only the engine imports this module, when asked for it
(summary-only runs on the GPU: :mod:`simcore.engine.cuda_summary`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from distributions.kernels import (
    CODE_BETA,
    CODE_GAMMA,
    CODE_PERT,
    CODE_POISSON,
    CODE_STUDENT_T,
    CPU_ONLY,
)
from simcore.engine.dask_backend import Progress
from simcore.model._kernel import PATH_ROWS, simulate_block, thread_workspace, workspace
from simcore.model.compile import Buffers, CompiledScenario, Packed
from simcore.model.scenario import Scenario

# numba-cuda's module (the simulator swaps in its own under NUMBA_ENABLE_CUDASIM=1); None
# without the extra. numba's own deprecated CUDA target is never used.
cuda: Any = None
if importlib.util.find_spec("numba_cuda") is not None:
    from numba import cuda

# the families whose inverse is scipy's C code unless tabulated (offset >= 0)
_EXACT = {CODE_BETA: "Beta", CODE_PERT: "PERT", CODE_GAMMA: "Gamma", CODE_STUDENT_T: "StudentT"}
BATCH = 1 << 22  # most paths per launch (about 3 KB of workspace per thread, default model)
MIN_CC = (7, 0)  # kernel parameters above 4 KB need Volta or newer (and a CUDA 12.1 driver)
THREADS_PER_BLOCK = 128


def _require() -> None:
    """A clear error when the ``cuda`` extra (numba-cuda) is not installed."""
    if cuda is None:
        raise RuntimeError(
            "backend='cuda' needs numba-cuda: pip install 'simcore[cuda]' (and an NVIDIA driver; "
            "NUMBA_ENABLE_CUDASIM=1 runs the kernels on numba-cuda's CPU simulator instead)"
        )


def simulator() -> bool:
    """True when numba-cuda's simulator stands in for a GPU (``NUMBA_ENABLE_CUDASIM=1``)."""
    _require()
    from numba.cuda import config

    return bool(config.ENABLE_CUDASIM)


def check_supported(scenario: Scenario, rec: CompiledScenario) -> None:
    """Refuse, naming the input, what the GPU cannot evaluate: scipy's C inverses."""
    problems = []
    if rec.copula_df > 0.0:
        problems.append(
            "the Student-t copula (its chi-square mixing draw and t CDF are scipy's C code); "
            "use the Gaussian copula (no df)"
        )
    for f, d in enumerate(scenario.drivers):
        code, off = int(rec.drv.code[f]), int(rec.drv.offset[f])
        if code == CODE_POISSON or (code in _EXACT and off < 0):
            kind = "parameter rows" if d.uncertainty is not None else "the exact inverse"
            problems.append(f"driver {d.name!r} ({d.dist!r}: {kind} through scipy's C code)")
    for k, s in enumerate(scenario.shocks):
        code, off = int(rec.sev.code[k]), int(rec.sev.offset[k])
        if code == CODE_POISSON or (code in _EXACT and off < 0):
            problems.append(f"shock {s.name!r} severity ({s.severity!r}: scipy's C code)")
    if problems:
        raise ValueError(
            "backend='cuda' cannot run " + "; ".join(problems) + ". These run on the CPU "
            "backend (backend='local')."
        )


def device_name() -> str:
    """The GPU the backend runs on ("simulator" under NUMBA_ENABLE_CUDASIM)."""
    _require()
    if simulator():
        return "numba-cuda simulator"
    if not cuda.is_available():
        raise RuntimeError(
            "backend='cuda': numba-cuda finds no usable GPU (driver or device missing); "
            "NUMBA_ENABLE_CUDASIM=1 runs the kernels on its CPU simulator instead"
        )
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    if tuple(dev.compute_capability) < MIN_CC:
        raise RuntimeError(
            f"backend='cuda' needs an NVIDIA GPU of compute capability {MIN_CC[0]}.{MIN_CC[1]} "
            f"(Volta) or newer, and a CUDA 12.1 driver or newer: the kernel takes about 6.4 KB "
            f"of parameters, beyond the 4 KB older ones accept; {name} is "
            f"{'.'.join(map(str, dev.compute_capability))}"
        )
    return name


_KERNEL: Any = None


_IEEE_DEPTH = 0  # > 0 while this backend's kernels compile (ieee_compile)


def _fma_off() -> None:
    """Install the hook that compiles with NVVM's ``-fma=0`` inside :func:`ieee_compile`.
    numba-cuda passes no ``fma`` option, and NVVM's default contracts ``a * b + c`` into one
    rounding where the CPU kernel rounds twice. Other CUDA code in the process keeps NVVM's
    default."""
    from numba.cuda.cudadrv import nvvm

    if getattr(nvvm.compile_ir, "simcore_fma_off", False):
        return
    original = nvvm.compile_ir

    def compile_ir(llvmir: Any, **options: Any) -> Any:
        if _IEEE_DEPTH > 0 and not options.get("fastmath"):
            options.setdefault("fma", False)
        return original(llvmir, **options)

    compile_ir.simcore_fma_off = True  # type: ignore[attr-defined]
    nvvm.compile_ir = compile_ir


@contextlib.contextmanager
def ieee_compile() -> Iterator[None]:
    """Compile (numba-cuda compiles a kernel at its first launch) with ``-fma=0``."""
    global _IEEE_DEPTH
    _fma_off()
    _IEEE_DEPTH += 1
    try:
        yield
    finally:
        _IEEE_DEPTH -= 1


def _cpu_min_max() -> None:
    """``min``/``max`` of two doubles as the CPU target computes them. numba-cuda lowers them
    to libdevice's ``fmin``/``fmax``, which return the other operand where one is NaN; numba's
    CPU target keeps Python's rule, ``max(a, b) = b if b > a else a`` (``min`` with ``<``):
    NaN when ``a`` is NaN, and ``a`` on ties (so ``max(-0.0, 0.0)`` is ``-0.0``). Registered
    after numba-cuda's own, so it is the one its target selects (the latest of equal
    signatures)."""
    from numba.cuda import cudaimpl

    types: Any = importlib.import_module("numba.cuda.types")  # (untyped for mypy)

    def choose(op: str) -> Any:
        def impl(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            a, b = (
                context.cast(builder, v, t, types.float64)
                for v, t in zip(args, sig.args, strict=True)
            )
            return builder.select(builder.fcmp_ordered(op, b, a), b, a)

        return impl

    for fn, op in ((max, ">"), (min, "<")):
        for sig in ((types.f8, types.f8), (types.f8, types.f4), (types.f4, types.f8)):
            cudaimpl.lower(fn, *sig)(choose(op))


def _nan_on_gpu() -> None:
    """The GPU's implementation of the CPU-only scipy stubs: NaN (never reached, because
    :func:`check_supported` refuses such scenarios first)."""
    from numba.extending import overload

    for stub, n_args in CPU_ONLY.items():
        if n_args == 2:
            overload(stub, target="cuda")(lambda x, y: lambda x, y: math.nan)
        else:
            overload(stub, target="cuda")(lambda x, y, w: lambda x, y, w: math.nan)


def _paths(  # pragma: no cover
    start: Any,
    n: Any,
    n_total: Any,
    method: Any,
    design: Any,
    sc: Any,
    bufs: Any,
    keep_draws: Any,
    ws: Any,
) -> None:
    """The CUDA kernel's body (:func:`kernel`): thread ``j`` simulates paths ``j, j + T, ...``
    of the launch (``T`` the workspace's width) with column ``j`` of the workspace. (The
    simulator runs it in Python threads, which coverage does not follow.)"""
    j = cuda.grid(1)
    width = ws[1].shape[0]
    if j >= width:
        return
    own = thread_workspace(ws, j)
    u_all = design[0]
    for i in range(j, n, width):
        u = u_all[i : i + 1] if u_all.shape[0] > 0 else u_all
        simulate_block(start + i, 1, i, n_total, method, u, sc, bufs, keep_draws, own)


def kernel() -> Any:
    """The CUDA kernel, compiled on first use (``-fma=0``, the scipy stubs as NaN)."""
    global _KERNEL
    if _KERNEL is None:
        _require()
        if not simulator():
            _cpu_min_max()
            _nan_on_gpu()
        _KERNEL = cuda.jit(_paths)
    return _KERNEL


def to_device(value: Any) -> Any:
    """``value`` with every array (also inside a NamedTuple) on the device. Under the simulator
    the host arrays are used as they are: it passes tuples to the kernel untouched."""
    if isinstance(value, np.ndarray):
        return value if simulator() else cuda.to_device(np.ascontiguousarray(value))
    if isinstance(value, CompiledScenario | Packed):
        return type(value)(*(to_device(v) for v in value))
    return value


def device_empty(shape: tuple[int, ...], dtype: Any) -> Any:
    """An uninitialised array on the device (a host array under the simulator)."""
    return np.empty(shape, dtype) if simulator() else cuda.device_array(shape, dtype)


def _to_host(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.copy_to_host()


def fitting_batch(rec: CompiledScenario, shapes: Buffers, cap: int = BATCH) -> int:
    """Paths per launch: ``cap`` (default :data:`BATCH`), or fewer where the device's free
    memory would not hold half again their workspace and output buffers (a multiple of the
    block size)."""
    if simulator():
        return cap
    per_path = sum(a.nbytes for a in workspace(rec, 1))  # (a path's rows: one too)
    per_path += sum(b.dtype.itemsize * int(np.prod(b.shape[:-1])) for b in shapes if b.shape[-1])
    free, _total = cuda.current_context().get_memory_info()
    fit = int(free / 1.5 / per_path) // THREADS_PER_BLOCK * THREADS_PER_BLOCK
    if fit < THREADS_PER_BLOCK:
        raise RuntimeError(
            f"backend='cuda': the GPU has {free / 2**20:,.0f} MiB free, too little for one "
            f"block of {THREADS_PER_BLOCK} paths ({per_path * THREADS_PER_BLOCK / 2**20:,.1f} MiB)"
        )
    return min(cap, fit)


class Device:
    """A compiled scenario on the GPU with a workspace and output buffers for launches of up to
    ``width`` paths (one GPU thread each). ``shapes`` are the host buffers' (their last axis
    the paths; 0 for the draws or statements not kept)."""

    def __init__(self, rec: CompiledScenario, width: int, shapes: Buffers) -> None:
        self.kernel = kernel()
        self.width = width
        self.sc = to_device(rec)
        # the workspace's shapes are the CPU's (one column there), one column per thread here
        one = workspace(rec, 1)
        rows_from = len(one) - PATH_ROWS  # one path's rows: the path on their first axis
        shapes_ws = [
            (width,) + a.shape[1:] if k >= rows_from else a.shape[:-1] + (width,)
            for k, a in enumerate(one)
        ]
        self.ws = tuple(device_empty(s, a.dtype) for s, a in zip(shapes_ws, one, strict=True))
        self.bufs = Buffers(
            *(device_empty(b.shape[:-1] + (width if b.shape[-1] else 0,), b.dtype) for b in shapes)
        )
        self.keep_draws = shapes.draws_out.shape[-1] > 0

    def launch(
        self,
        start: int,
        n: int,
        n_total: int,
        method: int,
        design: np.ndarray,
        into: Buffers | None = None,
    ) -> None:
        """Simulate paths ``start .. start + n`` (``n <= width``) into the first ``n`` columns
        of the device buffers (or of ``into``, device buffers of the same shapes); returns once
        queued (``cuda.synchronize()`` waits)."""
        blocks = -(-self.width // THREADS_PER_BLOCK)
        rows = (to_device(np.ascontiguousarray(design)),)
        bufs = self.bufs if into is None else into
        with ieee_compile():
            self.kernel[blocks, THREADS_PER_BLOCK](
                start, n, n_total, method, rows, self.sc, bufs, self.keep_draws, self.ws
            )

    def empty_buffers(self) -> Buffers:
        """New device buffers shaped like the launch's (for outputs kept on the device)."""
        return Buffers(*(device_empty(b.shape, b.dtype) for b in self.bufs))

    def copy_into(self, bufs: Buffers, done: int, n: int) -> None:
        """The last launch's ``n`` paths into columns ``done .. done + n`` of ``bufs``."""
        for host, d in zip(bufs, self.bufs, strict=True):
            if host.shape[-1]:
                host[..., done : done + n] = _to_host(d)[..., :n]


def run(
    rec: CompiledScenario,
    method: int,
    start: int,
    n_total: int,
    progress: Progress | None,
    bufs: Buffers,
    designs: Callable[[int, int], np.ndarray],
    *,
    batch: int | None = None,
) -> None:
    """Fill ``bufs`` with paths ``start ..`` of ``rec`` on the GPU, ``batch`` (default
    :data:`BATCH`) paths per launch, each copied back into its columns of ``bufs``;
    ``designs(done, n)`` gives the design rows of paths ``done .. done + n`` (empty in its first
    axis for the streams)."""
    n_paths = bufs.out.shape[2]
    device = Device(rec, min(batch or fitting_batch(rec, bufs), n_paths), bufs)
    done = 0
    while done < n_paths:
        n = min(device.width, n_paths - done)
        device.launch(start + done, n, n_total, method, designs(done, n))
        device.copy_into(bufs, done, n)
        done += n
        if progress is not None:
            progress(done, n_paths)
