"""Scalar inverse-CDF kernels, callable from numba code (the simulation kernel) and from numpy.

A distribution reaches the kernel as plain data (see ``Distribution.kernel_args``):

- ``code``: int64 family code (the ``CODE_*`` constants below);
- ``p``: float64[8] parameters in the family's own layout (documented at each family);
- ``tables``/``offset``: a float64[M, 2] slab shared by all factors of a run and the row where
  this distribution's table starts (-1 if none). Families without a closed-form inverse keep a
  cubic-Hermite table of ``x(z) = ppf(Phi(z))`` on the fixed grid ``TABLE_Z0 + k * TABLE_H``,
  column 0 the value and column 1 ``dx/dz``; the Empirical family keeps its sorted data there.

Two entry points: ``ppf_u(u)`` for a uniform and ``ppf_z(z)`` for a standard normal (what a
Gaussian copula produces), both returning the same quantity ``ppf(u) = ppf(Phi(z))``. Normal-like
families are exact and cheapest in z; the others in u.
"""

from __future__ import annotations

import math

import numpy as np

from ._numba import jit

# family codes (stable: they are part of the kernel ABI, not of any file format)
CODE_CONSTANT = 0
CODE_NORMAL = 1
CODE_LOGNORMAL = 2
CODE_TRUNCNORMAL = 3
CODE_UNIFORM = 4
CODE_TRIANGULAR = 5
CODE_PERT = 6
CODE_BETA = 7
CODE_GAMMA = 8
CODE_STUDENT_T = 9
CODE_BERNOULLI = 10
CODE_POISSON = 11
CODE_EMPIRICAL = 12
CODE_TABLE = 13  # generic tabulated inverse: p[0] = loc, p[1] = scale, table x(z)

N_PARAMS = 8
TABLE_N = 2**13 + 1
TABLE_Z0 = -8.5
TABLE_H = 17.0 / (TABLE_N - 1)

_SQRT2 = math.sqrt(2.0)

# Wichura (1988) AS241 PPND16 coefficients: |relative error| < 1e-16.
_A = np.array([3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
               1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
               3.3430575583588128105e4, 2.5090809287301226727e3])
_B = np.array([1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
               2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
               5.2264952788528545610e3])
_C = np.array([1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
               3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
               2.27238449892691845833e-2, 7.74545014278341407640e-4])
_D = np.array([1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
               1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
               1.05075007164441684324e-9])
_E = np.array([6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
               2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
               2.71155556874348757815e-5, 2.01033439929228813265e-7])
_F = np.array([1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1,
               1.48753612908506148525e-2, 7.86869131145613259100e-4, 1.84631831751005468180e-5,
               1.42151175831644588870e-7, 2.04426310338993978564e-15])


@jit
def _poly(c, x):
    r = c[7]
    for i in range(6, -1, -1):
        r = r * x + c[i]
    return r


@jit
def ndtri(u):
    """Standard normal inverse CDF (AS241). ``u`` outside (0, 1) gives -inf/+inf/NaN."""
    q = u - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = u if q < 0.0 else 1.0 - u
    if r <= 0.0:
        if r == 0.0:
            return -np.inf if q < 0.0 else np.inf
        return np.nan
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        val = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        val = _poly(_E, r) / _poly(_F, r)
    return -val if q < 0.0 else val


@jit
def ndtr(z):
    """Standard normal CDF."""
    return 0.5 * math.erfc(-z / _SQRT2)


@jit
def table_eval(tables, offset, z):
    """Cubic Hermite interpolation of a tabulated ``x(z)``; clamps beyond the grid ends."""
    s = (z - TABLE_Z0) / TABLE_H
    if s <= 0.0:
        return tables[offset, 0]
    if s >= TABLE_N - 1:
        return tables[offset + TABLE_N - 1, 0]
    k = int(s)
    t = s - k
    i = offset + k
    x0 = tables[i, 0]
    x1 = tables[i + 1, 0]
    d0 = tables[i, 1] * TABLE_H
    d1 = tables[i + 1, 1] * TABLE_H
    t2 = t * t
    t3 = t2 * t
    return ((2.0 * t3 - 3.0 * t2 + 1.0) * x0 + (t3 - 2.0 * t2 + t) * d0
            + (-2.0 * t3 + 3.0 * t2) * x1 + (t3 - t2) * d1)


@jit
def _z_family(code):
    """True for families whose inverse is cheapest from a normal score z."""
    return code == CODE_NORMAL or code == CODE_LOGNORMAL or code == CODE_TABLE


@jit
def _from_z(code, p, tables, offset, z):
    """Families defined in z (see ``_z_family``)."""
    if code == CODE_NORMAL:
        return p[0] + p[1] * z
    if code == CODE_LOGNORMAL:
        return math.exp(p[0] + p[1] * z)
    return p[0] + p[1] * table_eval(tables, offset, z)  # CODE_TABLE


@jit
def _from_u(code, p, tables, offset, u):
    """Families defined in u (everything not in ``_z_family``)."""
    if code == CODE_CONSTANT:
        return p[0]
    if code == CODE_UNIFORM:
        return p[0] + u * (p[1] - p[0])
    return np.nan  # unreachable for codes produced by Distribution.kernel_args


# ppf_z and ppf_u never call each other (numba cannot compile mutual recursion): each
# dispatches to the non-recursive _from_z/_from_u.
@jit
def ppf_z(code, p, tables, offset, z):
    """``ppf(Phi(z))`` for the distribution ``(code, p, tables, offset)``."""
    if _z_family(code):
        return _from_z(code, p, tables, offset, z)
    return _from_u(code, p, tables, offset, ndtr(z))


@jit
def ppf_u(code, p, tables, offset, u):
    """``ppf(u)`` for the distribution ``(code, p, tables, offset)``; ``u`` in (0, 1)."""
    if _z_family(code):
        return _from_z(code, p, tables, offset, ndtri(u))
    return _from_u(code, p, tables, offset, u)


@jit
def _ppf_array(code, p, tables, offset, u, out):
    for i in range(u.size):
        out[i] = ppf_u(code, p, tables, offset, u[i])
