"""Tabulated inverse CDFs: Beta, PERT, Gamma, StudentT (no closed-form ppf) and TruncatedNormal
(whose closed form needs an ``erfc`` and an ``ndtri`` per draw).

A table holds the standardised ``x(z) = ppf(Phi(z))`` and ``dx/dz = phi(z) / pdf(x)`` on the
kernel's fixed grid ``TABLE_Z0 + k * TABLE_H`` (``k < TABLE_N``), evaluated by cubic Hermite
interpolation in :func:`distributions._kernel.table_eval` (about 20 ns against 300-700 ns for
scipy's inverse incomplete beta/gamma/t). The values come from ``scipy.special``: the lower
half (``z <= 0``) from the inverse CDF at ``Phi(z)``, the upper half from the inverse survival
function at ``Phi(-z)``, so both tails carry full relative precision.

Every table is verified when it is built, by evaluating the kernel's own interpolation at the
midpoints of the grid (where the Hermite error peaks) against the exact values: it is used only
if the relative error stays within :data:`VERIFY_RTOL` everywhere on the grid (a margin below the
library's 1e-8 accuracy target). Slopes are capped so that the interpolant is provably monotone
(Fritsch-Carlson), which matters only where ``x(z)`` saturates in double precision.
Otherwise :meth:`TabulatedDistribution._table` returns None and the distribution keeps its
family code, whose kernel path calls ``scipy.special`` directly: exact, but slower.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from . import _kernel
from ._base import Distribution

__all__ = ["VERIFY_RTOL", "VERIFY_ATOL", "build_table", "TabulatedDistribution"]

VERIFY_RTOL = 2e-9  # relative error allowed at the grid midpoints (target: 1e-8, 5x margin)
VERIFY_ATOL = 1e-280  # below this, absolute error is enough (underflow of x(z))

GRID = _kernel.TABLE_Z0 + np.arange(_kernel.TABLE_N) * _kernel.TABLE_H
MIDPOINTS = GRID[:-1] + 0.5 * _kernel.TABLE_H
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _x_of_z(lower: Callable, upper: Callable, z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    low = z <= 0.0
    below = lower(special.ndtr(z[low]))
    out[low] = np.where((below >= 0.0) & (below <= _kernel.DBL_MIN), 0.0, below)  # as the kernel
    out[~low] = upper(special.ndtr(-z[~low]))
    return out


def build_table(
    lower: Callable, upper: Callable, logpdf: Callable, atol: float = VERIFY_ATOL
) -> np.ndarray | None:
    """The verified float64[TABLE_N, 2] table of a standardised distribution, or None.

    ``lower(u)`` is the inverse CDF, ``upper(q)`` the inverse survival function and
    ``logpdf(x)`` the log density, all vectorised over numpy arrays. ``atol``: the absolute error
    allowed where the value is near zero (in standardised units).
    """
    with np.errstate(all="ignore"):
        x = _x_of_z(lower, upper, GRID)
        dxdz = np.exp(-0.5 * GRID * GRID - _LOG_SQRT_2PI - logpdf(x))
        exact = _x_of_z(lower, upper, MIDPOINTS)
    if not (np.isfinite(x).all() and np.isfinite(exact).all()) or np.isnan(dxdz).any():
        return None
    step = np.diff(x)
    # rounding can make the exact values step back by an ulp where two formulas meet or the
    # value saturates; flatten such steps (the verification below still applies), reject others
    if (step < -1e-13 * np.maximum(np.abs(x[1:]), 1.0)).any() or (dxdz < 0.0).any():
        return None
    if (step < 0.0).any():
        x = np.maximum.accumulate(x)
        step = np.diff(x)
    # Fritsch-Carlson: a cubic Hermite piece is monotone if both slopes times h are at most
    # 3 * step. Where x(z) is smooth this holds as is; where it saturates in double precision
    # (a Beta's upper end, a Gamma underflowing to 0) the slopes are capped, which keeps the
    # interpolant monotone and inside the support; the verification below still applies.
    cap = 3.0 * np.minimum(np.concatenate([[np.inf], step]), np.concatenate([step, [np.inf]]))
    dxdz = np.minimum(dxdz, cap / _kernel.TABLE_H)
    table = np.ascontiguousarray(np.column_stack([x, dxdz]))
    got = np.empty_like(MIDPOINTS)
    _kernel._table_eval_array(table, 0, MIDPOINTS, got)
    if not (np.abs(got - exact) <= VERIFY_RTOL * np.abs(exact) + atol).all():
        return None
    return table


class TabulatedDistribution(Distribution):
    """A family whose kernel path is a verified table, or the exact scipy.special path.

    Subclasses provide ``_standard()``: ``(lower, upper, logpdf)`` of the standardised
    distribution (see :func:`build_table`), and lay out ``_kernel_params`` as
    ``[loc, scale, shape...]`` so that ``CODE_TABLE`` and the family's exact code share it.
    """

    __slots__ = ()
    _verify_atol = VERIFY_ATOL  # absolute tolerance near zero, standardised units

    def _standard(self) -> tuple[Callable, Callable, Callable]:
        raise NotImplementedError

    def _table(self) -> np.ndarray | None:
        if "table" not in self._cache:
            self._cache["table"] = build_table(*self._standard(), atol=self._verify_atol)
        return self._cache["table"]

    def _kernel_code(self, table: np.ndarray | None) -> int:
        return _kernel.CODE_TABLE if table is not None else self.code

    def kernel_path(self) -> str:
        """``"table"`` (fast interpolation) or ``"exact"`` (scipy.special through numba)."""
        return "table" if self._table() is not None else "exact"
