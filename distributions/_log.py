"""``log`` for the kernels: the same bits on every IEEE machine, CPU or GPU.

``math.log`` inside numba is the platform's libm on a CPU and libdevice on an NVIDIA GPU, and
their last bits differ. :func:`log` is the textbook reduction ``x = 2**k * m`` with ``m`` in
``[sqrt(1/2), sqrt(2))``, then ``log(m) = log(1 + f) = 2 atanh(s)``, ``s = f / (2 + f)``,
written as ``f - (hfsq - s (hfsq + R))`` with ``hfsq = f**2 / 2`` and ``R`` the series
``sum_j 2 s**(2j) / (2j + 1)`` to ``j = 10`` (``s**2 <= 0.0295``, so the first term left out
is below 5e-17 of ``R``), and ``k ln 2`` added in two parts (Cody and Waite, ``ln 2`` split as
in :mod:`distributions._exp`). Only ``+``, ``-``, ``*``, ``/`` and bit operations on doubles:
the same bits wherever IEEE arithmetic is (the GPU backend compiles without fused
multiply-add). Branch-free, so loops of it vectorise. Within one ulp (tests: mpmath).
"""

from __future__ import annotations

import math

from ._exp import _LN2_HI, _LN2_LO, _bits_of_double, _double_from_bits
from ._numba import jit

_DBL_MIN = 2.2250738585072014e-308  # smallest normal double
_TWO54 = 18014398509481984.0  # 2**54: scales a subnormal to a normal
_MANTISSA = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000  # the exponent bits of 1.0
_SQRT2_BITS = 0x3FF6A09E667F3BCD  # sqrt(2) with 1.0's exponent, rounded up: m above it halves
_HALF_STEP = 0x0010000000000000  # one unit of the exponent
# 2 / (2j + 1) for j = 10, 9, ..., 1 (Horner order)
_R10, _R9, _R8, _R7, _R6 = 2.0 / 21.0, 2.0 / 19.0, 2.0 / 17.0, 2.0 / 15.0, 2.0 / 13.0
_R5, _R4, _R3, _R2, _R1 = 2.0 / 11.0, 2.0 / 9.0, 2.0 / 7.0, 2.0 / 5.0, 2.0 / 3.0


@jit(inline="always")
def log(x):
    """Natural logarithm (within one ulp): ``-inf`` at 0, NaN below 0 and for NaN, ``inf`` at
    ``inf``."""
    sub = x < _DBL_MIN
    xs = x * _TWO54 if sub else x
    bits = _bits_of_double(xs)
    k = ((bits >> 52) & 0x7FF) - (1077 if sub else 1023)
    mb = (bits & _MANTISSA) | _ONE_BITS  # m in [1, 2)
    big = mb > _SQRT2_BITS
    mb = mb - _HALF_STEP if big else mb  # m in [sqrt(1/2), sqrt(2))
    k = k + 1 if big else k
    f = _double_from_bits(mb) - 1.0  # exact (Sterbenz)
    s = f / (2.0 + f)
    z = s * s
    r = _R10
    r = r * z + _R9
    r = r * z + _R8
    r = r * z + _R7
    r = r * z + _R6
    r = r * z + _R5
    r = r * z + _R4
    r = r * z + _R3
    r = r * z + _R2
    r = r * z + _R1
    r = r * z
    hfsq = 0.5 * f * f
    kf = float(k)
    y = kf * _LN2_HI - ((hfsq - (s * (hfsq + r) + kf * _LN2_LO)) - f)
    y = x if x == math.inf else y
    y = -math.inf if x == 0.0 else y
    return y if x >= 0.0 else math.nan  # below 0, or NaN
