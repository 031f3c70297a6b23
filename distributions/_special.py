"""scipy.special functions callable from numba kernels, with the kernels still cacheable.

The exact (slow) inverse-CDF paths of Beta, PERT, Gamma and StudentT and the Poisson ppf call
``scipy.special.cython_special`` C functions. Each one is found by name in the module's
``__pyx_capi__`` table; fused functions exist in several variants (``__pyx_fuse_0betaincinv``,
``__pyx_fuse_1betaincinv``, ...) whose float/double order differs per function, so the variant
is chosen by its capsule's C signature, which must read exactly
``double (double, ..., int __pyx_skip_dispatch)`` (the trailing ``__pyx_skip_dispatch`` argument
is always passed 0).

Binding: numba's usual recipe (a ``ctypes.CFUNCTYPE`` object as a global) embeds the raw
address in the compiled code, which makes every caller -- up to the simulation kernel --
uncacheable ("dynamic globals"). Instead the address is registered with LLVM under a stable
symbol name (``llvmlite.binding.add_symbol``) and called through
``numba.types.ExternalFunction``; cached machine code refers to the symbol, which this module
registers at import, before any cached kernel is loaded. With ``NUMBA_DISABLE_JIT=1`` the same
names are ``ctypes`` function objects so the pure-Python kernels still run.

The C code runs on the CPU only. Each function reaches numba through a stub with an
implementation for the CPU target alone (:data:`CPU_ONLY`); the GPU backend
(:mod:`simcore.engine.cuda`) gives the stubs a NaN of its own and refuses, before any work, a
scenario that would reach one.
"""

from __future__ import annotations

import ctypes

import llvmlite.binding as llvm
import numba
import scipy.special.cython_special as _cython_special
from numba import types
from numba.extending import get_cython_function_address, overload

from ._numba import jit

__all__ = [
    "betaincinv",
    "betainccinv",
    "gammaincinv",
    "gammainccinv",
    "stdtrit",
    "pdtrik",
    "pdtr",
    "stdtr",
    "c_signature",
    "CPU_ONLY",
]

_MODULE = "scipy.special.cython_special"

_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype = ctypes.c_char_p
_capsule_name.argtypes = [ctypes.py_object]


def c_signature(name: str) -> str:
    """The C signature of ``cython_special``'s exported function ``name`` (its capsule name)."""
    return _capsule_name(_cython_special.__pyx_capi__[name]).decode()


def _bind(name: str, n_args: int):
    """A numba-callable ``double name(double * n_args, int skip_dispatch)`` from cython_special."""
    want = "double (" + "double, " * n_args + "int __pyx_skip_dispatch)"
    capi = _cython_special.__pyx_capi__
    candidates = [name] + [f"__pyx_fuse_{i}{name}" for i in range(4)]
    for exported in candidates:
        if exported in capi and c_signature(exported) == want:
            break
    else:
        found = {c: c_signature(c) for c in candidates if c in capi}
        raise ImportError(f"{_MODULE}: no {want!r} variant of {name!r}; found {found}")
    address = get_cython_function_address(_MODULE, exported)
    if numba.config.DISABLE_JIT:
        proto = ctypes.CFUNCTYPE(ctypes.c_double, *([ctypes.c_double] * n_args), ctypes.c_int)
        return proto(address)
    symbol = f"distributions_cython_special_{name}"
    llvm.add_symbol(symbol, address)
    return types.ExternalFunction(symbol, types.float64(*([types.float64] * n_args), types.intc))


# stub -> its number of arguments: the functions numba may call on the CPU target only
CPU_ONLY: dict = {}


def _two(external):
    def stub(x, y):
        return external(x, y, 0)

    def typer(x, y):
        return lambda x, y: external(x, y, 0)

    return stub, typer


def _three(external):
    def stub(x, y, w):
        return external(x, y, w, 0)

    def typer(x, y, w):
        return lambda x, y, w: external(x, y, w, 0)

    return stub, typer


def _cpu_only(name: str, n_args: int):
    """A stub for cython_special's ``name`` that numba code calls with ``n_args`` doubles: on the
    CPU target it is the C function (the trailing ``skip_dispatch`` passed 0); other targets have
    no implementation until they register one (:data:`CPU_ONLY`)."""
    external = _bind(name, n_args)
    stub, typer = (_two if n_args == 2 else _three)(external)
    stub.__name__ = stub.__qualname__ = f"{name}_c"
    overload(stub, target="cpu")(typer)
    CPU_ONLY[stub] = n_args
    return stub


_betaincinv = _cpu_only("betaincinv", 3)
_betainccinv = _cpu_only("betainccinv", 3)
_gammaincinv = _cpu_only("gammaincinv", 2)
_gammainccinv = _cpu_only("gammainccinv", 2)
_stdtrit = _cpu_only("stdtrit", 2)
_pdtrik = _cpu_only("pdtrik", 2)
_pdtr = _cpu_only("pdtr", 2)
_stdtr = _cpu_only("stdtr", 2)


@jit
def betaincinv(a, b, y):
    """``x`` with ``I_x(a, b) = y`` (regularised incomplete beta)."""
    return _betaincinv(a, b, y)


@jit
def betainccinv(a, b, y):
    """``x`` with ``1 - I_x(a, b) = y``."""
    return _betainccinv(a, b, y)


@jit
def gammaincinv(a, y):
    """``x`` with ``P(a, x) = y`` (regularised lower incomplete gamma)."""
    return _gammaincinv(a, y)


@jit
def gammainccinv(a, y):
    """``x`` with ``Q(a, x) = y`` (regularised upper incomplete gamma)."""
    return _gammainccinv(a, y)


@jit
def stdtrit(df, p):
    """Student t inverse CDF with ``df`` degrees of freedom."""
    return _stdtrit(df, p)


@jit
def pdtrik(p, mu):
    """Continuous ``k`` with ``pdtr(k, mu) = p`` (scipy's helper for the Poisson ppf)."""
    return _pdtrik(p, mu)


@jit
def pdtr(k, mu):
    """Poisson CDF ``P(X <= k)`` for mean ``mu``."""
    return _pdtr(k, mu)


@jit
def stdtr(df, t):
    """Student-t CDF ``t_df.cdf(t)``."""
    return _stdtr(df, t)
