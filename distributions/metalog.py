"""Metalog family (Keelin 2016, "The Metalog Distributions", Decision Analysis 13(4)).

``Metalog(q, x, low=-inf, high=inf, terms=None)`` is the distribution whose quantile function
passes through (``terms == len(q)``) or is fitted by least squares to (``terms < len(q)``) the
expert quantiles ``x[i] = Q(q[i])``. Its quantile function is linear in ``k = terms``
coefficients::

    M(y) = a1 + a2 L + a3 t L + a4 t + a5 t^2 + a6 t^2 L + a7 t^3 + a8 t^3 L + ...,
    L = ln(y / (1 - y)),  t = y - 1/2

(coefficient ``j`` of ``a1 .. ak`` multiplies ``t**((j - 1) // 2)``, times ``L`` for
``j = 2, 3`` and even ``j >= 6``). The bounds choose Keelin's transform: unbounded
``Q = M``; ``low`` only: ``Q = low + exp(M)``; ``high`` only: ``Q = high - exp(-M)``; both:
``Q = (low + high exp(M)) / (1 + exp(M))``. The coefficients are fitted to the transformed
``x`` (``x``, ``ln(x - low)``, ``-ln(high - x)``, ``ln((x - low) / (high - x))``).

Feasibility: ``Q`` must increase on all of (0, 1). Writing ``M = mu(t) + L s(t)``,
``y (1 - y) M'(y) = y (1 - y) (mu'(t) + L s'(t)) + s(t)``; it is checked positive on a grid of
``L`` out to ``|L| = 750`` (probabilities down to the smallest double either side), and its
limits, the tail coefficients ``s(-1/2)`` (``y -> 0``) and ``s(1/2)`` (``y -> 1``), must be
positive too. Quantiles that fail raise ValueError naming them and where ``Q`` decreases.

``ppf`` runs in the numba kernel (``CODE_METALOG``; params ``[k, kind, low, high]``, the
coefficients are the kernel table's column 0). ``cdf`` inverts ``Q`` by bisection in ``L``
(64 halvings of ``[-750, 750]``: ``|error in L| < 1e-16``, so ``cdf`` is accurate to about
1e-16 relative in either tail); ``pdf`` is ``1 / Q'(y)`` there. ``mean``/``var`` integrate
``Q`` numerically; a semi-bounded metalog has a power-law tail ``(1 - y)^(-s(1/2))`` (or
``y^(-s(-1/2))``), so its mean is infinite when that exponent is >= 1 and its variance when
it is >= 1/2: they are then returned as ``inf`` (``-inf`` for the mean of an upper-bounded
one), not approximated.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.polynomial import polynomial
from numpy.typing import ArrayLike
from scipy import special

from . import _kernel
from ._base import Distribution, check_real
from ._elicit import quantile_keywords

__all__ = ["Metalog", "MAX_TERMS", "basis", "metalog_gen"]

MAX_TERMS = 10  # the most coefficients a Metalog takes (Keelin's workbooks stop at 10 or 16)

# transform kinds, as the kernel reads them from p[1]
_UNBOUNDED, _LOWER, _UPPER, _BOUNDED = 0, 1, 2, 3
_L_MAX = 750.0  # |L| beyond which y or 1 - y is below the smallest double
_BISECTIONS = 64  # halvings of [-_L_MAX, _L_MAX]: 1500 / 2**64 < 1e-16 in L
# the feasibility grid in L: sinh-spaced, about 1e-3 apart in y around the median
_GRID_L = np.sinh(np.linspace(-math.asinh(_L_MAX), math.asinh(_L_MAX), 20_001))


def _is_log_term(j: int) -> bool:
    """Whether coefficient ``j`` (0-based) multiplies ``L`` (``a2, a3, a6, a8, a10, ...``)."""
    return j in (1, 2) or (j >= 5 and j % 2 == 1)


def basis(y: ArrayLike, k: int) -> np.ndarray:
    """The metalog basis: float64[n, k], row ``i`` the ``k`` terms at probability ``y[i]``."""
    y = np.asarray(y, dtype=np.float64)
    yc = 1.0 - y
    big_l = np.log(y) - np.log(yc)
    t = np.where(y <= 0.5, y - 0.5, 0.5 - yc)
    cols = [t ** (j // 2) * (big_l if _is_log_term(j) else 1.0) for j in range(k)]
    return np.column_stack(cols)


@dataclass(frozen=True, eq=False)
class _Curve:
    """A fitted metalog as numpy functions: ``M = mu(t) + L s(t)`` and its transform.

    ``mu``/``s`` are polynomial coefficients in ``t``, lowest power first.
    """

    mu: np.ndarray
    s: np.ndarray
    kind: int
    low: float
    high: float

    @classmethod
    def from_coefficients(cls, a: np.ndarray, kind: int, low: float, high: float) -> _Curve:
        mu = np.zeros((a.size + 1) // 2)
        s = np.zeros_like(mu)
        for j, aj in enumerate(a):
            (s if _is_log_term(j) else mu)[j // 2] += aj
        return cls(mu, s, kind, low, high)

    # -- M and its transform --------------------------------------------------------------
    def m_of_logit(self, big_l: np.ndarray) -> np.ndarray:
        """``M`` at ``L = ln(y / (1 - y))`` (``t = tanh(L / 2) / 2``)."""
        t = 0.5 * np.tanh(0.5 * big_l)
        return polynomial.polyval(t, self.mu) + big_l * polynomial.polyval(t, self.s)

    def slope(self, big_l: np.ndarray) -> np.ndarray:
        """``y (1 - y) M'(y)`` at ``L``: positive wherever the quantile function increases."""
        t = 0.5 * np.tanh(0.5 * big_l)
        d_mu = polynomial.polyval(t, polynomial.polyder(self.mu))
        d_s = polynomial.polyval(t, polynomial.polyder(self.s))
        return _weight(big_l) * (d_mu + big_l * d_s) + polynomial.polyval(t, self.s)

    def tail_coefficients(self) -> tuple[float, float]:
        """``(s(-1/2), s(1/2))``: ``M ~ s(-1/2) L`` as ``y -> 0`` and ``s(1/2) L`` as ``y -> 1``."""
        return (
            float(polynomial.polyval(-0.5, self.s)),
            float(polynomial.polyval(0.5, self.s)),
        )

    def x_of_m(self, m: np.ndarray) -> np.ndarray:
        lo, hi = self.low, self.high
        with np.errstate(over="ignore"):
            if self.kind == _UNBOUNDED:
                x = m
            elif self.kind == _LOWER:
                x = lo + np.exp(m)
            elif self.kind == _UPPER:
                x = hi - np.exp(-m)
            else:  # logistic of m from the nearer end: no overflow, both ends accurate
                e = np.exp(-np.abs(m))
                r = (hi - lo) * (e / (1.0 + e))
                x = np.where(m < 0.0, lo + r, hi - r)
        return np.clip(x, lo, hi)

    def m_of_x(self, x: np.ndarray) -> np.ndarray:
        """The transformed value ``z`` with ``x = transform(z)``, for ``x`` inside the support."""
        return _transformed(self.kind, self.low, self.high, x)

    def dm_dx(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.low, self.high
        if self.kind == _UNBOUNDED:
            return np.ones_like(x)
        if self.kind == _LOWER:
            return 1.0 / (x - lo)
        if self.kind == _UPPER:
            return 1.0 / (hi - x)
        return 1.0 / (x - lo) + 1.0 / (hi - x)

    # -- scipy.stats vocabulary on arrays ------------------------------------------------
    def quantile(self, y: np.ndarray, yc: np.ndarray) -> np.ndarray:
        """``Q(y)`` given ``y`` and ``yc = 1 - y`` (each as accurate as the caller has it)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            big_l = np.log(y) - np.log(yc)
            t = np.where(y <= 0.5, y - 0.5, 0.5 - yc)
            m = polynomial.polyval(t, self.mu) + big_l * polynomial.polyval(t, self.s)
            x = self.x_of_m(m)
        x = np.where(y <= 0.0, self.low, x)
        return np.where(yc <= 0.0, self.high, x)

    def logit_cdf(self, x: np.ndarray) -> np.ndarray:
        """``L = ln(F / (1 - F))`` at ``x`` inside the support, by bisection (see top)."""
        z = self.m_of_x(x)
        lo = np.full(z.shape, -_L_MAX)
        hi = np.full(z.shape, _L_MAX)
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            below = self.m_of_logit(mid) < z
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def _inside(self, x: ArrayLike, outside_low: float, outside_high: float, fn: Any) -> Any:
        """``fn(x)`` inside the open support, the given values beyond it, NaN kept."""
        x = np.asarray(x, dtype=np.float64)
        out = np.where(x <= self.low, outside_low, outside_high)
        inside = (x > self.low) & (x < self.high)
        out[inside] = fn(x[inside])
        out[np.isnan(x)] = np.nan
        return out

    def cdf(self, x: ArrayLike) -> np.ndarray:
        return self._inside(x, 0.0, 1.0, lambda v: special.expit(self.logit_cdf(v)))

    def sf(self, x: ArrayLike) -> np.ndarray:
        return self._inside(x, 1.0, 0.0, lambda v: special.expit(-self.logit_cdf(v)))

    def pdf(self, x: ArrayLike) -> np.ndarray:
        def density(v: np.ndarray) -> np.ndarray:
            big_l = self.logit_cdf(v)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = _weight(big_l) / self.slope(big_l) * self.dm_dx(v)
            return np.where(np.isfinite(f), f, 0.0)

        return self._inside(x, 0.0, 0.0, density)

    @functools.cached_property
    def moments(self) -> tuple[float, float]:
        """``(mean, variance)``: infinite where a semi-bounded tail makes them so (see top),
        else ``integral of Q(y)`` and ``(Q(y) - mean)^2`` over (0, 1), integrated in ``L``."""
        c_lo, c_hi = self.tail_coefficients()
        exponent = c_hi if self.kind == _LOWER else c_lo if self.kind == _UPPER else 0.0
        sign = -1.0 if self.kind == _UPPER else 1.0
        if exponent >= 1.0:
            return sign * math.inf, math.inf
        mean = self._integrate(1, 0.0)
        if exponent >= 0.5:
            return mean, math.inf
        return mean, self._integrate(2, mean)

    def _integrate(self, power: int, centre: float) -> float:
        """``integral of (Q(y) - centre)**power dy`` over (0, 1), as an integral in ``L``."""
        from scipy import integrate  # on first use: it costs 0.1 s to import

        total = 0.0
        for a, b in ((-math.inf, 0.0), (0.0, math.inf)):
            value, err, *rest = integrate.quad(
                self._moment_integrand,
                a,
                b,
                args=(power, centre),
                epsabs=0.0,
                epsrel=1e-12,
                limit=400,
                full_output=1,
            )
            if rest[1:] and err > 1e-8 * abs(value):
                warnings.warn(
                    f"Metalog: a moment integral converged only to {err:.2g}: {rest[1]}",
                    RuntimeWarning,
                    stacklevel=2,
                )
            total += value
        return total

    def _moment_integrand(self, big_l: float, power: int, centre: float) -> float:
        """``(Q - centre)**power * dy/dL`` at ``L``; where a semi-bounded metalog's
        exponential overflows (only far out, where ``dy/dL`` is tiny) its leading term,
        ``exp(power * |M| + ln(dy/dL))``, computed in logarithms."""
        if abs(big_l) > _L_MAX:
            return 0.0
        m = float(self.m_of_logit(np.array(big_l)))
        log_w = -abs(big_l) - 2.0 * math.log1p(math.exp(-abs(big_l)))
        sign = {_LOWER: 1.0, _UPPER: -1.0}.get(self.kind, 0.0)
        if sign * m > 700.0:
            return sign**power * math.exp(power * sign * m + log_w)
        x = float(self.x_of_m(np.array(m)))
        return (x - centre) ** power * math.exp(log_w)


def _transformed(kind: int, lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    """Keelin's transform of values ``x`` inside ``(lo, hi)``: what ``M`` is fitted to."""
    with np.errstate(divide="ignore"):
        if kind == _UNBOUNDED:
            return x
        if kind == _LOWER:
            return np.log(x - lo)
        if kind == _UPPER:
            return -np.log(hi - x)
        return np.log(x - lo) - np.log(hi - x)


def _weight(big_l: np.ndarray) -> np.ndarray:
    """``dy/dL = y (1 - y)`` at ``L`` (0 where it underflows)."""
    with np.errstate(over="ignore"):
        return 0.25 / np.cosh(0.5 * big_l) ** 2


class Metalog(Distribution):
    """Keelin's metalog through (or fitted to) expert quantiles; see the module docstring.

    Parameters
    ----------
    q : sequence of float
        Probabilities strictly inside (0, 1), strictly increasing (at least two).
    x : sequence of float
        The values at them, strictly increasing, strictly inside ``(low, high)``.
    low, high : float
        Optional bounds (default unbounded): semi-bounded with one, bounded with both.
    terms : int or None
        Number of metalog coefficients, ``2 <= terms <= min(len(q), MAX_TERMS)``; default
        ``len(q)`` (the metalog then passes through every quantile exactly).
    """

    family = "Metalog"
    code = _kernel.CODE_METALOG
    params = ()
    __slots__ = ()

    def __init__(
        self,
        q: Sequence[float] | np.ndarray,
        x: Sequence[float] | np.ndarray,
        low: float = -math.inf,
        high: float = math.inf,
        terms: int | None = None,
    ) -> None:
        values = _check(self.family, q, x, low, high, terms)
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_cache", {})
        self._cache["a"] = _fit(self)  # now: infeasible quantiles fail at construction

    @classmethod
    def from_quantiles(
        cls,
        *,
        low: float = -math.inf,
        high: float = math.inf,
        terms: int | None = None,
        **quantiles: float,
    ) -> Metalog:
        """The metalog through quantiles given as ``pNN=value`` (two or more), e.g.
        ``Metalog.from_quantiles(p10=-0.1, p50=0.0, p90=0.15, low=-1.0)``."""
        picks = quantile_keywords(
            cls.family,
            quantiles,
            "two or more",
            "p10=..., p50=..., p90=... (and optionally low=, high=, terms=)",
        )
        if len(picks) < 2:
            raise TypeError(
                f"{cls.family}.from_quantiles: needs at least two quantiles "
                f"(e.g. p10=..., p50=..., p90=...), got {sorted(quantiles) or 'none'}"
            )
        return cls([p[0] for p in picks], [p[1] for p in picks], low=low, high=high, terms=terms)

    # -- identity and serialisation ------------------------------------------------------
    def __repr__(self) -> str:
        inner = f"q={_show(self.q)}, x={_show(self.x)}"
        for name, value in self._given().items():
            inner += f", {name}={value:g}"
        return f"{self.family}({inner})"

    def to_dict(self) -> dict[str, Any]:
        """``{"family": "Metalog", "q": [...], "x": [...]}`` and ``low``/``high``/``terms``
        where they differ from their defaults (what a scenario file holds)."""
        return {"family": self.family, "q": list(self.q), "x": list(self.x), **self._given()}

    def _given(self) -> dict[str, Any]:
        given: dict[str, Any] = {}
        if math.isfinite(self.low):
            given["low"] = self.low
        if math.isfinite(self.high):
            given["high"] = self.high
        if self.terms != len(self.q):
            given["terms"] = self.terms
        return given

    # -- the fitted curve ----------------------------------------------------------------
    @property
    def kind(self) -> int:
        """The transform: 0 unbounded, 1 lower-bounded, 2 upper-bounded, 3 bounded."""
        lo, hi = math.isfinite(self.low), math.isfinite(self.high)
        return _BOUNDED if lo and hi else _LOWER if lo else _UPPER if hi else _UNBOUNDED

    @property
    def coefficients(self) -> np.ndarray:
        """The metalog coefficients ``a1 .. ak`` (read-only float64[k])."""
        if "a" not in self._cache:
            self._cache["a"] = _fit(self)
        return self._cache["a"]

    def _curve(self) -> _Curve:
        if "curve" not in self._cache:
            self._cache["curve"] = _Curve.from_coefficients(
                self.coefficients, self.kind, self.low, self.high
            )
        return self._cache["curve"]

    # -- kernel --------------------------------------------------------------------------
    def _table(self) -> np.ndarray:
        a = self.coefficients
        return np.column_stack([a, np.zeros(a.size)])

    def _kernel_params(self) -> np.ndarray:
        return np.array([float(self.terms), float(self.kind), self.low, self.high])

    # -- scipy.stats vocabulary ----------------------------------------------------------
    def to_scipy(self) -> Any:
        return metalog_gen()(self._curve())()

    @overload
    def cdf(self, x: float) -> float: ...
    @overload
    def cdf(self, x: ArrayLike) -> np.ndarray: ...
    def cdf(self, x: ArrayLike) -> np.ndarray | float:
        """``P(X <= x)``, inverting the quantile function (accurate to ~1e-16 in y)."""
        out = self._curve().cdf(x)
        return out[()] if out.ndim == 0 else out

    @overload
    def pdf(self, x: float) -> float: ...
    @overload
    def pdf(self, x: ArrayLike) -> np.ndarray: ...
    def pdf(self, x: ArrayLike) -> np.ndarray | float:
        """``1 / Q'(y)`` at ``y = cdf(x)``; 0 outside the support."""
        out = self._curve().pdf(x)
        return out[()] if out.ndim == 0 else out

    def mean(self) -> float:
        """The mean (``inf``/``-inf`` where a semi-bounded tail makes it infinite)."""
        return self._curve().moments[0]

    def var(self) -> float:
        """The variance (``inf`` where a semi-bounded tail makes it infinite)."""
        return self._curve().moments[1]

    def std(self) -> float:
        return math.sqrt(self.var())

    def support(self) -> tuple[float, float]:
        return self.low, self.high


def _show(values: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _check_sequence(family: str, name: str, values: object) -> tuple[float, ...]:
    """A 1-d sequence of finite reals as a tuple of floats, else TypeError/ValueError."""
    what = "a sequence of finite real numbers"
    if isinstance(values, str | bytes | dict) or not hasattr(values, "__len__"):
        raise TypeError(f"{family}: {name}={values!r} must be {what}")
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{family}: {name} must be 1-d; got shape {arr.shape}")
    return tuple(check_real(family, f"{name}[{i}]", v) for i, v in enumerate(arr))


def _check(
    family: str, q: object, x: object, low: object, high: object, terms: object
) -> dict[str, Any]:
    """The validated values ``{"q", "x", "low", "high", "terms"}`` of a Metalog."""
    qs = _check_sequence(family, "q", q)
    xs = _check_sequence(family, "x", x)
    if len(qs) != len(xs):
        raise ValueError(
            f"{family}: q and x must have the same length; got {len(qs)} probabilities "
            f"and {len(xs)} values"
        )
    if len(qs) < 2:
        raise ValueError(f"{family}: needs at least two quantiles; got {len(qs)}")
    for i, v in enumerate(qs):
        if not 0.0 < v < 1.0:
            raise ValueError(f"{family}: q[{i}]={v!r} must be a probability in (0, 1)")
    for name, vs in (("q", qs), ("x", xs)):
        for i in range(1, len(vs)):
            if not vs[i - 1] < vs[i]:
                raise ValueError(
                    f"{family}: {name} must be strictly increasing; "
                    f"{name}[{i - 1}]={vs[i - 1]!r} is not below {name}[{i}]={vs[i]!r}"
                )
    lo = check_real(family, "low", low, "a real number or -inf", allow_inf=True)
    hi = check_real(family, "high", high, "a real number or inf", allow_inf=True)
    if lo == math.inf:
        raise ValueError(f"{family}: low={low!r} must be a real number or -inf")
    if hi == -math.inf:
        raise ValueError(f"{family}: high={high!r} must be a real number or inf")
    if not lo < hi:
        raise ValueError(f"{family}: low={low!r} must be below high={high!r}")
    if math.isfinite(lo) and math.isfinite(hi) and not math.isfinite(hi - lo):
        raise ValueError(f"{family}: high - low overflows (low={low!r}, high={high!r})")
    if not (lo < xs[0] and xs[-1] < hi):
        i, v = (0, xs[0]) if not lo < xs[0] else (len(xs) - 1, xs[-1])
        raise ValueError(
            f"{family}: x[{i}]={v!r} must lie strictly inside (low, high) = ({lo:g}, {hi:g})"
        )
    allowed = f"an integer in [2, {min(len(qs), MAX_TERMS)}] (at most len(q) and {MAX_TERMS})"
    if terms is None:
        k = len(qs)
        if k > MAX_TERMS:
            raise ValueError(
                f"{family}: {k} quantiles need terms=... (at most {MAX_TERMS}) for a "
                f"least-squares fit"
            )
    else:
        t = check_real(family, "terms", terms, allowed)
        if t != int(t) or not 2 <= t <= min(len(qs), MAX_TERMS):
            raise ValueError(f"{family}: terms={terms!r} must be {allowed}")
        k = int(t)
    return {"q": qs, "x": xs, "low": lo, "high": hi, "terms": k}


def _fit(dist: Metalog) -> np.ndarray:
    """Keelin's coefficients on the transformed ``x`` (exact solve for ``terms == len(q)``,
    least squares otherwise), after the feasibility check; read-only float64[k]."""
    family, k = dist.family, dist.terms
    q, x = np.array(dist.q), np.array(dist.x)
    z = _transformed(dist.kind, dist.low, dist.high, x)
    design = basis(q, k)
    given = f"q={_show(dist.q)}, x={_show(dist.x)} with terms={k}"
    if np.linalg.matrix_rank(design) < k:
        raise ValueError(
            f"{family}: the quantiles {given} do not determine {k} coefficients; "
            f"give fewer terms or other probabilities"
        )
    if k == q.size:
        a = np.linalg.solve(design, z)
    else:
        a = np.linalg.lstsq(design, z, rcond=None)[0]
    where = _decreasing(_Curve.from_coefficients(a, dist.kind, dist.low, dist.high))
    if where is not None:
        raise ValueError(
            f"{family}: the quantiles {given} give a metalog whose quantile function "
            f"decreases for y in {where}; a quantile function must increase on all of (0, 1): "
            f"spread the quantiles more evenly, give fewer terms or add bounds"
        )
    a.flags.writeable = False
    return a


def _decreasing(curve: _Curve) -> str | None:
    """Where the quantile function of ``curve`` fails to increase (the first such run of the
    feasibility grid, as text), or None if it increases on all of (0, 1)."""
    g = curve.slope(_GRID_L)
    c_lo, c_hi = curve.tail_coefficients()
    g[0] = min(g[0], c_lo)  # the limits y -> 0 and y -> 1
    g[-1] = min(g[-1], c_hi)
    bad = ~(g > 0.0)
    if not bad.any():
        return None
    idx = np.flatnonzero(bad)
    gaps = np.flatnonzero(np.diff(idx) > 1)
    last = idx[gaps[0]] if gaps.size else idx[-1]
    return f"({_y_text(_GRID_L[idx[0]])}, {_y_text(_GRID_L[last])})"


def _y_text(big_l: float) -> str:
    """The probability ``y`` at ``L`` as short text (``1 - 1e-08`` rather than ``1``)."""
    y, yc = float(special.expit(big_l)), float(special.expit(-big_l))
    if y > 0.999 and yc > 0.0:
        return f"1 - {yc:.2g}"
    return f"{y:.3g}"


@functools.cache
def metalog_gen() -> type:
    """The scipy distribution class behind :meth:`Metalog.to_scipy` (built on first use:
    importing scipy.stats costs 0.3 s)."""
    from scipy import stats

    class MetalogGen(stats.rv_continuous):
        """scipy distribution of a fitted metalog (the same numpy functions as Metalog's)."""

        def __init__(self, curve: _Curve, *args: Any, **kwargs: Any) -> None:
            self._curve = curve
            kwargs["a"] = self.a = curve.low
            kwargs["b"] = self.b = curve.high
            kwargs.setdefault("name", "metalog")
            super().__init__(*args, **kwargs)

        def _ppf(self, q: np.ndarray) -> np.ndarray:
            return self._curve.quantile(q, 1.0 - q)

        def _isf(self, q: np.ndarray) -> np.ndarray:
            return self._curve.quantile(1.0 - q, q)

        def _cdf(self, x: np.ndarray) -> np.ndarray:
            return self._curve.cdf(x)

        def _sf(self, x: np.ndarray) -> np.ndarray:
            return self._curve.sf(x)

        def _pdf(self, x: np.ndarray) -> np.ndarray:
            return self._curve.pdf(x)

        def _stats(self) -> tuple[float, float, None, None]:
            m, v = self._curve.moments
            return m, v, None, None

        def _updated_ctor_param(self) -> dict[str, Any]:
            dct = super()._updated_ctor_param()
            dct["curve"] = self._curve
            return dct

    return MetalogGen
