"""``exp`` for the kernels: branch-free, so loops of it vectorise, and the same bytes everywhere.

``math.exp`` inside numba is a call to the platform's libm: one value at a time (LLVM does not
vectorise the call without a vector math library), and its last bit may differ between libm
versions. The simulation kernel evaluates a log-normal for every path, year and log-normal
driver: with libm, the default scenario's three cost about 11 ns of its 145 ns per path-year
more than with this one (one thread). :func:`exp` is the textbook
reduction ``exp(x) = 2**k * exp(r)``, ``k = round(x / ln 2)``, ``|r| <= ln(2) / 2``, with
``ln 2`` split in two (Cody and Waite) so ``r`` is exact, ``exp(r)`` as its Taylor polynomial of
degree 13 (truncation error below 1e-17 relative), and ``2**k`` built from its bit pattern in
two factors so that overflow to ``inf`` and gradual underflow come out right. Only ``+``, ``*``
and ``floor`` on doubles: the result is identical on every IEEE machine. It is within one ulp
of the exact value for every input tried (tests: mpmath at 200 bits; a review searched about
5e8 inputs around the worst cases of the polynomial and of the reduction and found 0.99 ulp at
worst, for ``r`` near ``-ln(2)/2``); the error terms' sum bounds it by about 1.1 ulp, so one
ulp is measured, not proven. The result is not always correctly rounded (``exp(1)``).
"""

from __future__ import annotations

import math
import struct

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ._numba import jit

_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_INV_LN2 = 1.44269504088896338700e00
_X_MAX = 710.0  # exp overflows above 709.78...
_X_MIN = -746.0  # and is 0 below -745.13...
# 1/j! for j = 13, 12, ..., 2 (the Taylor coefficients, Horner order)
_C13, _C12, _C11, _C10 = 1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0
_C9, _C8, _C7, _C6 = 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0
_C5, _C4, _C3, _C2 = 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5


def _double_from_bits(bits):
    """The float64 whose IEEE bit pattern is the int64 ``bits``. This is the pure-Python form
    (``NUMBA_DISABLE_JIT``, the benchmarks' interpreted kernel); jitted code gets the overload
    below, a no-op bitcast."""
    return struct.unpack("<d", struct.pack("<q", bits))[0]


@intrinsic
def _bitcast_to_double(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@overload(_double_from_bits, inline="always")
def _double_from_bits_jit(bits):
    if bits == types.int64:
        # numba passes typingctx itself: jitted code calls an intrinsic without it
        return lambda bits: _bitcast_to_double(bits)  # type: ignore[call-arg]
    return None


def _bits_of_double(x):
    """The int64 IEEE bit pattern of the float64 ``x`` (pure Python; jitted code gets the
    overload below, a no-op bitcast)."""
    return struct.unpack("<q", struct.pack("<d", x))[0]


@intrinsic
def _bitcast_to_int(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@overload(_bits_of_double, inline="always")
def _bits_of_double_jit(x):
    if x == types.float64:
        return lambda x: _bitcast_to_int(x)  # type: ignore[call-arg]
    return None


@jit(inline="always")
def _pow2(k):
    """``2.0**k`` for ``-1022 <= k <= 1023``."""
    return _double_from_bits((k + 1023) << 52)


@jit(inline="always")
def exp(x):
    """``e**x`` (within one ulp, see top), branch-free; ``inf`` above 709.78, 0 below -745.13,
    NaN kept."""
    y = min(max(x, _X_MIN), _X_MAX)
    y = 0.0 if y != y else y  # NaN: any finite stand-in, the result is x itself (below)
    kf = math.floor(y * _INV_LN2 + 0.5)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    p = _C13
    p = p * r + _C12
    p = p * r + _C11
    p = p * r + _C10
    p = p * r + _C9
    p = p * r + _C8
    p = p * r + _C7
    p = p * r + _C6
    p = p * r + _C5
    p = p * r + _C4
    p = p * r + _C3
    p = p * r + _C2
    p = 1.0 + (r + r * r * p)
    k = int(kf)  # -1077 <= k <= 1025: two factors keep each power of two normal
    k1 = k >> 1
    e = p * _pow2(k1) * _pow2(k - k1)
    return x if x != x else e
