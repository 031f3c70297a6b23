"""Elicitation: build a distribution from two quantiles or a central interval.

Experts state ranges ("10% chance below 4, 10% above 12"), not parameters. The two-parameter
families mix in :class:`Elicitable` and implement ``_from_two_quantiles(q1, x1, q2, x2, **extra)``
(``q1 < q2`` probabilities, ``x1 < x2`` values); this module owns the keyword parsing, the
checks and the error messages, so every family reads the same:

    Normal.from_quantiles(p10=4.0, p90=12.0)
    LogNormal.from_interval(2.0, 50.0, confidence=0.8)      # p10 = 2, p90 = 50
    StudentT.from_quantiles(df=4, p25=-1.0, p75=1.0)        # extra shape parameters by name
    Beta.from_quantiles(p5=0.1, p95=0.6, low=0.0, high=1.0)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self

from scipy import optimize

from ._base import check_real

__all__ = [
    "Elicitable",
    "parse_quantiles",
    "quantile_keywords",
    "interval_quantiles",
    "solve_increasing",
    "solve_on_grid",
]

_QUANTILE_KEY = re.compile(r"p([1-9][0-9]?)")


def quantile_keywords(
    family: str, given: dict[str, Any], count: str = "two", example: str = "p10=..., p90=..."
) -> list[tuple[float, float, str]]:
    """``[(q, x, key)]`` sorted by ``q`` from keywords ``pNN=value`` (NN in 1..99), the
    values increasing with ``q``; ``count`` words how many the caller needs (for messages)."""
    picks = []
    for key, value in given.items():
        m = _QUANTILE_KEY.fullmatch(key)
        if m is None:
            raise TypeError(
                f"{family}.from_quantiles: unknown keyword {key!r}; give {count} quantiles as "
                f"pNN=value with NN a percentage in 1..99, e.g. {example}"
            )
        picks.append((int(m.group(1)) / 100.0, check_real(family, key, value), key))
    picks.sort()
    for (_, x1, k1), (_, x2, k2) in zip(picks[:-1], picks[1:], strict=True):
        if not x1 < x2:
            raise ValueError(
                f"{family}.from_quantiles: {k1}={x1!r} must be below {k2}={x2!r} "
                f"(a higher quantile cannot be lower)"
            )
    return picks


def parse_quantiles(family: str, given: dict[str, Any]) -> tuple[float, float, float, float]:
    """``(q1, x1, q2, x2)`` from exactly two keywords ``pNN=value`` (NN in 1..99), q1 < q2."""
    picks = quantile_keywords(family, given)
    if len(picks) != 2:
        raise TypeError(
            f"{family}.from_quantiles: needs exactly two quantiles (e.g. p10=..., p90=...), "
            f"got {sorted(given) or 'none'}"
        )
    (q1, x1, _), (q2, x2, _) = picks
    return q1, x1, q2, x2


def interval_quantiles(
    family: str, low: float, high: float, confidence: float
) -> tuple[float, float, float, float]:
    """``(q1, low, q2, high)`` for a central interval holding ``confidence`` of the mass."""
    c = check_real(family, "confidence", confidence)
    if not 0.0 < c < 1.0:
        raise ValueError(f"{family}.from_interval: confidence={confidence!r} must be in (0, 1)")
    lo = check_real(family, "low", low)
    hi = check_real(family, "high", high)
    if not lo < hi:
        raise ValueError(f"{family}.from_interval: low={low!r} must be below high={high!r}")
    return 0.5 * (1.0 - c), lo, 0.5 * (1.0 + c), hi


def solve_increasing(
    fn: Callable[[float], float], target: float, lo: float, hi: float, what: str
) -> float:
    """Root of ``fn(t) = target`` for ``fn`` increasing on ``[lo, hi]``, else ValueError(what)."""
    f_lo, f_hi = fn(lo) - target, fn(hi) - target
    if not (math.isfinite(f_lo) and math.isfinite(f_hi)) or f_lo > 0.0 or f_hi < 0.0:
        raise ValueError(what)
    return optimize.brentq(lambda t: fn(t) - target, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500)


def solve_on_grid(
    fn: Callable[[float], float], target: float, grid: Iterable[float], what: str
) -> float:
    """A root of ``fn(t) = target`` bracketed by a sign change between neighbours of ``grid``.

    For functions that are monotone where defined but undefined (NaN) near the grid's ends,
    e.g. a shape parameter whose partner has no solution there. ValueError(what) if none.
    """
    values = [fn(t) - target for t in grid]
    pairs = list(zip(grid, values, strict=True))
    for (t0, f0), (t1, f1) in zip(pairs[:-1], pairs[1:], strict=True):
        if math.isfinite(f0) and math.isfinite(f1):
            if f0 == 0.0:
                return float(t0)
            if (f0 < 0.0) != (f1 < 0.0) or f1 == 0.0:
                return optimize.brentq(
                    lambda t: fn(t) - target, t0, t1, xtol=1e-14, rtol=1e-15, maxiter=500
                )
    raise ValueError(what)


class Elicitable:
    """Mixin: ``from_quantiles`` and ``from_interval`` constructors of a two-parameter family.

    ``_elicit_extra`` names the keywords passed through to ``_from_two_quantiles`` (e.g. the
    ``df`` of a Student t, the bounds of a Beta).
    """

    __slots__ = ()
    _elicit_extra: tuple[str, ...] = ()
    family: ClassVar[str]  # from the Distribution it is mixed into

    @classmethod
    def _from_two_quantiles(cls, *args: Any, **kwargs: Any) -> Self:
        """``(q1, x1, q2, x2, **extra)`` -> the member of the family (each family's own)."""
        raise NotImplementedError

    @classmethod
    def from_quantiles(cls, **quantiles: float) -> Self:
        """The member of the family with the two given quantiles, e.g. ``p10=4.0, p90=12.0``."""
        extra = {k: quantiles.pop(k) for k in cls._elicit_extra if k in quantiles}
        q1, x1, q2, x2 = parse_quantiles(cls.family, quantiles)
        return cls._from_two_quantiles(q1, x1, q2, x2, **extra)

    @classmethod
    def from_interval(cls, *interval: float, confidence: float = 0.9, **extra: float) -> Self:
        """The member with ``P(low <= X <= high) = confidence``, equal tails either side.

        ``from_interval(low, high, confidence=0.9)``; families whose own parameters are called
        ``low``/``high`` (a Beta's support) take the interval positionally and those by keyword:
        ``Beta.from_interval(10, 20, low=0, high=100)``.
        """
        if not interval and "low" in extra and "high" in extra and ("low" not in cls._elicit_extra):
            interval = (extra.pop("low"), extra.pop("high"))
        if len(interval) != 2:
            raise TypeError(
                f"{cls.family}.from_interval: give the interval as (low, high), "
                f"got {len(interval)} positional value(s)"
            )
        unknown = set(extra) - set(cls._elicit_extra)
        if unknown:
            raise TypeError(
                f"{cls.family}.from_interval: unknown keyword(s) {sorted(unknown)}, "
                f"allowed {list(cls._elicit_extra)}"
            )
        q1, x1, q2, x2 = interval_quantiles(cls.family, *interval, confidence)
        return cls._from_two_quantiles(q1, x1, q2, x2, **extra)
