"""The public face of ``distributions`` for code compiled with numba against it.

A package that runs its own numba kernel over these distributions (``simcore``'s simulation
kernel, the benchmarks) imports from here, never from the private modules, which may change:

**Numba policy.** :func:`jit` (serial) and :func:`pjit` (parallel) are ``numba.njit`` with the
one policy of both packages (:data:`JIT_OPTIONS`: cached machine code, numpy's error model, IEEE
arithmetic without fastmath, no GIL). :func:`parallel_map` runs a serial jitted function over
tasks on numba's thread count; :func:`set_threads` sets that count;
:func:`serial_in_this_process` makes it run its tasks in order (a forked child process).

**A distribution as kernel data.** ``Distribution.kernel_args()`` gives ``(code, p, table)``:
``code`` is a family code (``CODE_*``, stable within a release), ``p`` a float64[:data:`N_PARAMS`]
vector in the family's layout (:data:`LAYOUT`: code -> the meaning of each ``p[i]``), ``table``
the family's rows of a float64[M, 2] slab shared by every factor of a run (``offset`` is the
first row, -1 for none). Tabulated families (``CODE_TABLE``) use a grid of :data:`TABLE_N`
points in z from :data:`TABLE_Z0` with step :data:`TABLE_H`.

**Kernels, callable from numba code.** ``ppf_u_many(code, p, tables, offset, u, out)`` and
``ppf_z_many(code, p, tables, offset, z, out)``: the inverse CDF of a uniform or of a standard
normal (``ppf(Phi(z))``) for an array; ``ppf_u``/``ppf_z`` the scalar forms;
``table_eval_many`` a tabulated ``x(z)``; ``ndtri``/``ndtri_many`` the standard normal's
inverse CDF (Wichura's AS241); ``ndtr`` its CDF; :func:`exp`, an ``exp`` that vectorises and
gives the same bits on every IEEE machine.

**Other numba targets.** :data:`CPU_ONLY`: the stubs through which the kernels call scipy's C
code, implemented for the CPU target only (a GPU target registers its own; stub -> number of
arguments).
"""

from ._exp import exp
from ._kernel import (
    CODE_BERNOULLI,
    CODE_BETA,
    CODE_CONSTANT,
    CODE_EMPIRICAL,
    CODE_GAMMA,
    CODE_LOGNORMAL,
    CODE_METALOG,
    CODE_NORMAL,
    CODE_PERT,
    CODE_POISSON,
    CODE_STUDENT_T,
    CODE_TABLE,
    CODE_TRIANGULAR,
    CODE_TRUNCNORMAL,
    CODE_UNIFORM,
    LAYOUT,
    N_PARAMS,
    TABLE_H,
    TABLE_N,
    TABLE_Z0,
    ndtr,
    ndtri,
    ndtri_many,
    ppf_u,
    ppf_u_many,
    ppf_z,
    ppf_z_many,
    table_eval_many,
)
from ._numba import JIT_OPTIONS, jit, parallel_map, pjit, serial_in_this_process, set_threads
from ._special import CPU_ONLY

__all__ = [
    "JIT_OPTIONS",
    "jit",
    "pjit",
    "parallel_map",
    "serial_in_this_process",
    "set_threads",
    "CODE_CONSTANT",
    "CODE_NORMAL",
    "CODE_LOGNORMAL",
    "CODE_TRUNCNORMAL",
    "CODE_UNIFORM",
    "CODE_TRIANGULAR",
    "CODE_PERT",
    "CODE_BETA",
    "CODE_GAMMA",
    "CODE_STUDENT_T",
    "CODE_BERNOULLI",
    "CODE_POISSON",
    "CODE_EMPIRICAL",
    "CODE_TABLE",
    "CODE_METALOG",
    "LAYOUT",
    "N_PARAMS",
    "TABLE_N",
    "TABLE_Z0",
    "TABLE_H",
    "ppf_u",
    "ppf_z",
    "ppf_u_many",
    "ppf_z_many",
    "table_eval_many",
    "ndtr",
    "ndtri",
    "ndtri_many",
    "exp",
    "CPU_ONLY",
]
