"""The yardsticks the kernel is measured against, each validated before it is timed.

- **Floor**: the run's random numbers and nothing else (``bench_simulate._random_numbers``): every
  driver's and shock's uniforms from the same addressed streams, and the drivers' normal scores.
  A fused design cannot be faster than drawing its inputs; the issue's target is <= 2x this.
- **numpy reference**: :func:`simcore.model.equations.simulate_reference` (numpy + scipy, vectorised
  over paths), the readable statement of the model.
- **Pure Python**: the kernel's own per-path source run by the CPython interpreter: the
  ``py_func`` of ``simulate_paths_serial`` with every jitted function it calls (transitively)
  replaced by its ``py_func`` as well, so nothing compiled runs (what ``NUMBA_DISABLE_JIT=1`` does,
  but inside this process). It is a plain per-path, per-year loop over numpy scalars, driven
  through the real facade (:func:`simcore.simulate`), and gives the kernel's bytes exactly.
"""

from __future__ import annotations

import contextlib
import functools
import types

import numpy as np
from numba.core.dispatcher import Dispatcher
from scipy import special

from distributions.streams import uniforms_numpy
from simcore.engine.core import _simulate
from simcore.model import _kernel
from simcore.model import equations as reference
from simcore.model._kernel import CHUNK  # paths per work item of _random_numbers
from simcore.model.compile import compile_scenario

from .bench_simulate import _random_numbers


# -- the floor ----------------------------------------------------------------------------------
class RandomNumbers:
    """The random numbers of an ``n``-path run of ``sc`` (the floor); call to generate them."""

    def __init__(self, sc, n: int, seed):
        self.sc, self.n = sc, int(n)
        self.ki = compile_scenario(sc, np.random.SeedSequence(seed))
        self.out = np.empty((self.n + CHUNK - 1) // CHUNK)

    def __call__(self) -> None:
        ki = self.ki
        _random_numbers(
            self.n,
            self.sc.horizon,
            ki.drv_k0,
            ki.drv_k1,
            ki.drv_years,
            ki.sh_k0,
            ki.sh_k1,
            self.out,
        )

    def check(self, chunks: int = 2) -> None:
        """Each work item's checksum (driver 0's normal score + shock 0's two uniforms, summed
        over its paths and years) equals the same numbers drawn with numpy."""
        self()
        ki = self.ki
        for c in range(min(chunks, self.out.size)):
            paths = np.arange(c * CHUNK, min((c + 1) * CHUNK, self.n), dtype=np.uint64)
            acc = 0.0
            for t in range(self.sc.horizon):
                drv = (ki.drv_k0[0], ki.drv_k1[0])
                sh = (ki.sh_k0[0], ki.sh_k1[0])
                acc += (
                    special.ndtri(uniforms_numpy(drv, paths, t, 0)).sum()
                    + uniforms_numpy(sh, paths, t, 0).sum()
                    + uniforms_numpy(sh, paths, t, 1).sum()
                )
            np.testing.assert_allclose(
                self.out[c], acc, rtol=1e-9, err_msg=f"random-number floor, work item {c}"
            )


# -- the numpy reference ------------------------------------------------------------------------
def numpy_reference(sc, n: int, seed) -> dict:
    return reference.simulate_reference(sc, n, seed)


# -- pure Python --------------------------------------------------------------------------------
def interpreted(dispatcher, _memo=None, _globals=None):
    """``dispatcher.py_func`` rebound to a copy of its module's globals in which every numba
    dispatcher is replaced, recursively, by its own interpreted twin."""
    memo = {} if _memo is None else _memo
    gmemo = {} if _globals is None else _globals
    if dispatcher in memo:
        return memo[dispatcher]
    f = getattr(dispatcher, "py_func", dispatcher)  # (a plain function as it is)
    key = id(f.__globals__)
    g = gmemo.get(key)
    fresh = g is None
    if fresh:
        g = gmemo[key] = dict(f.__globals__)
    twin = types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, f.__closure__)
    twin.__kwdefaults__ = f.__kwdefaults__
    memo[dispatcher] = twin
    if fresh:
        for name, value in list(g.items()):
            if isinstance(value, Dispatcher):
                g[name] = interpreted(value, memo, gmemo)
    for cell in f.__closure__ or ():
        if isinstance(cell.cell_contents, Dispatcher):
            raise TypeError(f"{f.__qualname__} closes over a jitted function; cannot interpret it")
    return twin


@contextlib.contextmanager
def _serial_kernel(fn):
    saved = _kernel.simulate_paths_serial
    _kernel.simulate_paths_serial = fn
    try:
        yield
    finally:
        _kernel.simulate_paths_serial = saved


@functools.cache
def _python_kernel():
    return interpreted(_kernel.simulate_paths_serial)


def python_simulate(sc, n: int, seed, **kwargs):
    """``simulate(sc, n, seed)`` with the kernel run as plain Python (slow: about 0.5 ms per
    path-year). The facade's serial path calls ``_kernel.simulate_paths_serial``; it is swapped for
    the interpreted twin for the duration of the call only."""
    with _serial_kernel(_python_kernel()):
        return _simulate(
            sc,
            n,
            seed,
            kwargs.pop("horizon", None),
            kwargs.pop("sampling", "mc"),
            serial=True,
            **kwargs,
        )
