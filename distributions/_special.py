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
"""

from __future__ import annotations

import ctypes

import llvmlite.binding as llvm
import numba
import scipy.special.cython_special as _cython_special
from numba import types
from numba.extending import get_cython_function_address

from ._numba import jit

__all__ = [
    "betaincinv",
    "betainccinv",
    "gammaincinv",
    "gammainccinv",
    "stdtrit",
    "pdtrik",
    "pdtr",
    "c_signature",
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


_betaincinv = _bind("betaincinv", 3)
_betainccinv = _bind("betainccinv", 3)
_gammaincinv = _bind("gammaincinv", 2)
_gammainccinv = _bind("gammainccinv", 2)
_stdtrit = _bind("stdtrit", 2)
_pdtrik = _bind("pdtrik", 2)
_pdtr = _bind("pdtr", 2)


@jit
def betaincinv(a, b, y):
    """``x`` with ``I_x(a, b) = y`` (regularised incomplete beta)."""
    return _betaincinv(a, b, y, 0)


@jit
def betainccinv(a, b, y):
    """``x`` with ``1 - I_x(a, b) = y``."""
    return _betainccinv(a, b, y, 0)


@jit
def gammaincinv(a, y):
    """``x`` with ``P(a, x) = y`` (regularised lower incomplete gamma)."""
    return _gammaincinv(a, y, 0)


@jit
def gammainccinv(a, y):
    """``x`` with ``Q(a, x) = y`` (regularised upper incomplete gamma)."""
    return _gammainccinv(a, y, 0)


@jit
def stdtrit(df, p):
    """Student t inverse CDF with ``df`` degrees of freedom."""
    return _stdtrit(df, p, 0)


@jit
def pdtrik(p, mu):
    """Continuous ``k`` with ``pdtr(k, mu) = p`` (scipy's helper for the Poisson ppf)."""
    return _pdtrik(p, mu, 0)


@jit
def pdtr(k, mu):
    """Poisson CDF ``P(X <= k)`` for mean ``mu``."""
    return _pdtr(k, mu, 0)
