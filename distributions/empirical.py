"""Empirical family: ``Empirical(data)``, the piecewise-linear inverse through the sorted data.

``ppf(q)`` is ``np.quantile(data, q, method="linear")`` bit for bit: quantile ``k / (n - 1)``
is the k-th smallest value and straight lines join them, i.e. a density that is constant
(``1 / ((n - 1) * gap)``) between neighbouring data points. Repeated values are allowed and
become atoms. Kernel params ``[n]``; the sorted data are the kernel table's column 0.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _kernel
from ._base import Distribution


class Empirical(Distribution):
    family = "Empirical"
    code = _kernel.CODE_EMPIRICAL
    params = ()
    __slots__ = ()

    def __init__(self, data: ArrayLike) -> None:
        object.__setattr__(self, "_values", {"data": _check_data(self.family, data)})
        object.__setattr__(self, "_cache", {})

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and np.array_equal(self.data, other.data)

    def __hash__(self) -> int:
        return hash((self.family, self.data.tobytes()))

    def __repr__(self) -> str:
        d = self.data
        return f"{self.family}(n={d.size}, min={d[0]:g}, median={np.median(d):g}, max={d[-1]:g})"

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "data": self.data.tolist()}

    def to_scipy(self) -> Any:
        return empirical_gen()(self.data)()

    def _table(self) -> np.ndarray:
        return np.column_stack([self.data, np.zeros(self.data.size)])

    def _kernel_params(self) -> np.ndarray:
        return np.array([float(self.data.size)])

    def mean(self) -> float:
        return _mean_var(self.data)[0]

    def std(self) -> float:
        return float(np.sqrt(_mean_var(self.data)[1]))

    def var(self) -> float:
        return _mean_var(self.data)[1]

    def support(self) -> tuple[float, float]:
        return float(self.data[0]), float(self.data[-1])


def _check_data(family: str, data: ArrayLike) -> np.ndarray:
    if isinstance(data, str | bytes):
        raise TypeError(f"{family}: data={data!r} must be a 1-d sequence of real numbers")
    arr = np.asarray(data)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{family}: data must be a 1-d sequence of real numbers; got dtype {arr.dtype}"
        )
    if arr.ndim != 1:
        raise ValueError(f"{family}: data must be 1-d; got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)][0]
        raise ValueError(f"{family}: data must be finite; found {bad!r}")
    if arr.size < 2 or arr.min() == arr.max():
        raise ValueError(
            f"{family}: data must hold at least two distinct values (use Constant for one); "
            f"got {arr.size} value(s)"
        )
    arr = np.sort(arr)
    arr.flags.writeable = False
    return arr


def _mean_var(d: np.ndarray) -> tuple[float, float]:
    """Mean and variance of the piecewise-linear quantile function through ``d``."""
    a, b = d[:-1], d[1:]
    m = float(np.mean(0.5 * (a + b)))
    da, db = a - m, b - m
    return m, float(np.mean((da * da + da * db + db * db) / 3.0))


@functools.cache
def empirical_gen() -> type:
    """The scipy distribution class behind :meth:`Empirical.to_scipy` (built on first use:
    importing scipy.stats costs 0.3 s)."""
    from scipy import stats

    class EmpiricalGen(stats.rv_continuous):
        """scipy distribution whose ppf is ``np.quantile(data, q, method="linear")``."""

        def __init__(self, data: ArrayLike, *args: Any, **kwargs: Any) -> None:
            self._data = np.sort(np.asarray(data, dtype=np.float64))
            kwargs["a"] = self.a = self._data[0]
            kwargs["b"] = self.b = self._data[-1]
            kwargs.setdefault("name", "empirical")
            super().__init__(*args, **kwargs)

        def _ppf(self, q: np.ndarray) -> np.ndarray:
            return np.quantile(self._data, q, method="linear")

        def _cdf(self, x: np.ndarray) -> np.ndarray:
            d = self._data
            n = d.size
            # last data index at or below x: ties resolve to the top of the atom (right-continuous)
            k = np.clip(np.searchsorted(d, x, side="right") - 1, 0, n - 2)
            lo, hi = d[k], d[k + 1]
            gap = hi - lo
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(gap > 0.0, (x - lo) / gap, 1.0)
            return np.clip((k + np.clip(frac, 0.0, 1.0)) / (n - 1), 0.0, 1.0)

        def _pdf(self, x: np.ndarray) -> np.ndarray:
            d = self._data
            n = d.size
            k = np.searchsorted(d, x, side="right") - 1
            inside = (k >= 0) & (k < n - 1)
            kk = np.clip(k, 0, n - 2)
            gap = d[kk + 1] - d[kk]
            with np.errstate(divide="ignore"):
                dens = np.where(gap > 0.0, 1.0 / ((n - 1) * gap), 0.0)
            return np.where(inside, dens, 0.0)

        def _stats(self) -> tuple[float, float, None, None]:
            m, v = _mean_var(self._data)
            return m, v, None, None

        def _updated_ctor_param(self) -> dict[str, Any]:
            dct = super()._updated_ctor_param()
            dct["data"] = self._data
            return dct

    return EmpiricalGen
