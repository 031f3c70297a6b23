"""Frozen distribution specs with scipy.stats names and parameter domains declared as data."""

from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, overload

import numpy as np
from numpy.typing import ArrayLike

from . import _kernel

if TYPE_CHECKING:
    from .streams import SeedLike

__all__ = ["Param", "Distribution", "FAMILIES", "from_dict"]

FAMILIES: dict[str, type[Distribution]] = {}


@dataclass(frozen=True)
class Param:
    """A parameter's declaration: its name, domain and whether it must be an integer.

    The domain drives validation at construction, the error message, the hypothesis
    strategies of the tests and the benchmark tables.
    """

    name: str
    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = False
    high_closed: bool = False
    integer: bool = False
    default: float | None = None
    finite: bool = True  # False: an infinite end of the domain may be taken (truncation bounds)

    def interval(self) -> str:
        lo = "[" if self.low_closed else "("
        hi = "]" if self.high_closed else ")"
        if self.integer:
            kind = "an integer"
        else:
            kind = "a finite real number" if self.finite else "a real number"
        return f"{kind} in {lo}{self.low:g}, {self.high:g}{hi}"

    def contains(self, x: float) -> bool:
        above = x >= self.low if self.low_closed else x > self.low
        below = x <= self.high if self.high_closed else x < self.high
        return above and below


def check_real(
    family: str,
    name: str,
    value: object,
    what: str = "a finite real number",
    allow_inf: bool = False,
) -> float:
    """``value`` as a float, or a ValueError/TypeError naming family, parameter and value.

    NaN is always rejected; +-inf only unless ``allow_inf`` (the caller then checks the domain).
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{family}: {name}={value!r} must be {what}; got {type(value).__name__}")
    x = float(value)
    if math.isnan(x) or (not allow_inf and math.isinf(x)):
        raise ValueError(f"{family}: {name}={value!r} must be {what}")
    return x


class Distribution:
    """Base class of every family: immutable, validated, scipy.stats vocabulary.

    Subclasses declare ``family`` (the name used in scenario files), ``code`` (the kernel
    family code), ``params`` (a tuple of :class:`Param`) and implement ``to_scipy``,
    ``_kernel_params`` (float64[8] in the kernel's layout) and, where needed, ``_check``
    (cross-parameter constraints) and ``_table`` (a tabulated inverse).
    """

    family: ClassVar[str]
    code: ClassVar[int]
    params: ClassVar[tuple[Param, ...]] = ()
    __slots__ = ("_values", "_cache")
    _values: dict[str, Any]  # the validated parameters, read as attributes (__getattr__)
    _cache: dict[str, Any]  # kernel arguments and tables, built on first use

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" in cls.__dict__:
            FAMILIES[cls.family] = cls

    def __init__(self, *args: float, **kwargs: float) -> None:
        names = [p.name for p in self.params]
        if len(args) > len(names):
            raise TypeError(f"{self.family} takes at most {len(names)} parameters {names}")
        values = dict(zip(names, args, strict=False))
        for k, v in kwargs.items():
            if k not in names:
                hint = difflib.get_close_matches(k, names, n=1)
                tip = f"; did you mean {hint[0]!r}?" if hint else ""
                raise TypeError(f"{self.family}: unknown parameter {k!r}, allowed {names}{tip}")
            if k in values:
                raise TypeError(f"{self.family}: parameter {k!r} given twice")
            values[k] = v
        checked: dict[str, float] = {}
        for p in self.params:
            if p.name not in values:
                if p.default is None:
                    raise TypeError(f"{self.family}: missing parameter {p.name!r}")
                values[p.name] = p.default
            x = check_real(self.family, p.name, values[p.name], p.interval(), not p.finite)
            if (p.integer and x != int(x)) or not p.contains(x):
                raise ValueError(
                    f"{self.family}: {p.name}={values[p.name]!r} must be {p.interval()}"
                )
            checked[p.name] = x
        object.__setattr__(self, "_values", checked)
        object.__setattr__(self, "_cache", {})
        self._check()

    # -- immutability and identity ---------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{self.family} is immutable; build a new one instead")

    # pickle (Dask tasks, multiprocessing): the validated values travel, the cache is rebuilt
    def __getstate__(self) -> dict[str, Any]:
        return {"_values": self._values}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", state["_values"])
        object.__setattr__(self, "_cache", {})

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._values == other._values

    def __hash__(self) -> int:
        return hash((self.family, tuple(self._values.items())))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:g}" for k, v in self._values.items())
        return f"{self.family}({inner})"

    def to_dict(self) -> dict[str, Any]:
        """``{"family": name, **parameters}``: what a scenario file holds."""
        return {"family": self.family, **self._values}

    # -- to be provided by families ------------------------------------------------------------
    def _check(self) -> None:
        """Cross-parameter constraints (raise ValueError naming the parameters)."""

    def to_scipy(self) -> Any:  # a frozen scipy.stats distribution (scipy has no types)
        """The equivalent frozen ``scipy.stats`` distribution."""
        raise NotImplementedError

    def _kernel_params(self) -> np.ndarray:
        raise NotImplementedError

    def _table(self) -> np.ndarray | None:
        """float64[n, 2] table slab for the kernel, or None."""
        return None

    def _kernel_code(self, table: np.ndarray | None) -> int:
        """The kernel code for this instance (tabulated families switch to ``CODE_TABLE``)."""
        return self.code

    # -- kernel interface ----------------------------------------------------------------------
    def kernel_args(self) -> tuple[int, np.ndarray, np.ndarray]:
        """``(code, params float64[8], table float64[n, 2])`` for the numba kernels."""
        if "kernel" not in self._cache:
            table = self._table()
            code = int(self._kernel_code(table))
            if table is None:
                table = np.empty((0, 2))
            p = np.zeros(_kernel.N_PARAMS)
            kp = np.asarray(self._kernel_params(), dtype=np.float64)
            p[: kp.size] = kp
            self._cache["kernel"] = (code, p, np.ascontiguousarray(table, dtype=np.float64))
        return self._cache["kernel"]

    def exact_kernel_args(self) -> tuple[int, np.ndarray]:
        """``(code, params float64[8])`` of the family's exact kernel path, without a table:
        for parameters that change from path to path, where a table per value would not pay
        (the tabulated families' exact codes read the same params as their tables)."""
        p = np.zeros(_kernel.N_PARAMS)
        kp = np.asarray(self._kernel_params(), dtype=np.float64)
        p[: kp.size] = kp
        return int(self.code), p

    # -- scipy.stats vocabulary ----------------------------------------------------------------
    @overload
    def ppf(self, q: float) -> float: ...
    @overload
    def ppf(self, q: ArrayLike) -> np.ndarray: ...
    def ppf(self, q: ArrayLike) -> np.ndarray | float:
        """Inverse CDF on an array of probabilities in [0, 1] (NaN raises)."""
        q_arr = np.asarray(q, dtype=np.float64)
        if np.isnan(q_arr).any():
            raise ValueError(f"{self.family}.ppf: q contains NaN")
        if ((q_arr < 0) | (q_arr > 1)).any():
            raise ValueError(f"{self.family}.ppf: q must lie in [0, 1]")
        code, p, table = self.kernel_args()
        flat = np.ascontiguousarray(q_arr.ravel())
        out = np.empty_like(flat)
        _kernel.ppf_u_many(code, p, table, 0 if table.shape[0] else -1, flat, out)
        lo, hi = self.support()
        out[flat == 0.0] = lo
        out[flat == 1.0] = hi
        out = out.reshape(q_arr.shape)
        return out[()] if out.ndim == 0 else out

    @overload
    def cdf(self, x: float) -> float: ...
    @overload
    def cdf(self, x: ArrayLike) -> np.ndarray: ...
    def cdf(self, x: ArrayLike) -> np.ndarray | float:
        return self.to_scipy().cdf(x)

    @overload
    def pdf(self, x: float) -> float: ...
    @overload
    def pdf(self, x: ArrayLike) -> np.ndarray: ...
    def pdf(self, x: ArrayLike) -> np.ndarray | float:
        return self.to_scipy().pdf(x)

    def mean(self) -> float:
        return float(self.to_scipy().mean())

    def var(self) -> float:
        return float(self.to_scipy().var())

    def std(self) -> float:
        return float(self.to_scipy().std())

    def support(self) -> tuple[float, float]:
        lo, hi = self.to_scipy().support()
        return float(lo), float(hi)

    def rvs(
        self, size: int | tuple[int, ...], seed: SeedLike = None, stream: str = "rvs"
    ) -> np.ndarray:
        """Draws, uniform first: addressed uniforms from :mod:`distributions.streams`, then ppf."""
        from .streams import uniforms

        n = int(np.prod(size))
        return self.ppf(uniforms(seed, stream, 0, n)).reshape(size)


def from_dict(spec: dict[str, Any], where: str = "distribution") -> Distribution:
    """Build a distribution from ``{"family": name, **parameters}`` (a scenario file entry)."""
    if not isinstance(spec, dict):
        raise TypeError(f"{where}: expected a table with a 'family' key, got {spec!r}")
    if "family" not in spec:
        raise ValueError(f"{where}: missing key 'family' (one of {sorted(FAMILIES)})")
    name = spec["family"]
    if name not in FAMILIES:
        hint = difflib.get_close_matches(str(name), list(FAMILIES), n=1)
        tip = f"; did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"{where}: unknown family {name!r}, allowed {sorted(FAMILIES)}{tip}")
    params = {k: v for k, v in spec.items() if k != "family"}
    try:
        return FAMILIES[name](**params)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None
