"""The one place that sets numba policy for both packages.

Every jitted function in ``distributions`` and ``simcore`` is decorated with :func:`jit`
(serial) or :func:`pjit` (parallel).  The policy:

- ``cache=True``: compiled machine code is cached next to the sources, so only the first run
  after an install pays for compilation.
- ``error_model="numpy"``: division by zero gives inf/nan like numpy instead of raising;
  kernels never divide by user-controlled zero because the facades validate first.
- ``fastmath=False``: we need IEEE semantics (NaN checks, reproducible bytes across
  thread counts). No exception is currently made.
- ``nogil=True``: lets Python threads (e.g. a Dask worker) run kernels concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba

JIT_OPTIONS = {"cache": True, "error_model": "numpy", "fastmath": False, "nogil": True}


def jit(fn: Callable[..., Any] | None = None, **overrides: Any) -> Any:
    """``numba.njit`` with the project policy (serial)."""
    options = {**JIT_OPTIONS, **overrides}
    if fn is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(fn)


def pjit(fn: Callable[..., Any] | None = None, **overrides: Any) -> Any:
    """``numba.njit(parallel=True)`` with the project policy.

    Use only for loops whose ``prange`` iterations write disjoint slices of ``out``;
    every parallel kernel keeps a serial twin (``.py_func`` or a ``jit`` variant) that a test
    compares byte for byte.
    """
    return jit(fn, parallel=True, **overrides)


def parallel_map(fn: Callable[..., object], tasks: Iterable[tuple[Any, ...]]) -> None:
    """Run ``fn(*task)`` for every task on numba's thread count of Python threads.

    ``fn`` is a serial jitted function (``nogil=True`` by the policy above), so the threads run
    in parallel; each task writes its own slice of the outputs, so the bytes do not depend on
    the thread count or the order tasks finish in. Used instead of ``prange`` for coarse work
    (blocks of paths, rows of a result): no parallel-region compilation (about 10 s per kernel
    on first run) and no dependence on numba's threading layer. One thread runs them in order.
    Ctrl-C cancels the tasks not yet started; running ones finish their (short) slice.
    """
    tasks = list(tasks)
    n = 1 if _SERIAL else min(numba.get_num_threads(), len(tasks))
    if n <= 1:
        for task in tasks:
            fn(*task)
        return
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="simcore")
    try:
        for future in [pool.submit(fn, *task) for task in tasks]:
            future.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


_SERIAL = False  # set in a forked child by serial_in_this_process


def serial_in_this_process() -> None:
    """Run :func:`parallel_map`'s tasks in order on the calling thread from now on, never
    asking numba for its threads: for a forked child process, which must not touch numba's
    process-wide threading-layer lock (a child killed while holding it would leave the parent
    waiting on it for ever) and whose parent uses the cores."""
    global _SERIAL
    _SERIAL = True


def set_threads(n: int | None) -> int:
    """Set numba's thread count (None: leave as is); returns the count in force."""
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"threads={n!r} must be a positive integer")
        n = min(n, numba.config.NUMBA_NUM_THREADS)
        numba.set_num_threads(n)
    return numba.get_num_threads()
