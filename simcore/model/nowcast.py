"""Nowcast: a run conditioned on the figures reported by a date (``Scenario.nowcast_as_of``).

The ``[actuals.<name>]`` tables dated on or before the as-of date are *known*. For a simulated
year ``Y`` whose first ``m`` months are reported, with seasonal share ``w`` (the share of the
full year's figure those months carry; 1 for a full year):

- **Revenue** of segment ``s``, reported part ``A``: the year's revenue on every path is
  ``A + (1 - w) * R_own``, where ``R_own`` is the path's own full-year revenue of the model (its
  own growth draw, shocks and churn). The reported part is fixed; the rest is simulated.
- **Growth state.** The segment's growth driver is conditioned in its normal score: with
  ``z*`` the score at which the year's growth equals the year-to-date growth
  ``g* = A / (w * R[Y-1]) - 1``, the year's score on each path is ``w * z* + (1 - w) * z`` (for
  a normal driver, the score of the path's realised growth). That score is the AR(1) state, so
  the information carries into later years through the driver's persistence.
- **Gross profit**, reported part ``A``: ``A + (1 - w) * GP_model``; the cost of revenue is
  revenue less gross profit, so the statements still tie.
- Revenue comes from one table per year (the most months, then the latest date); a total
  without its segments is split over the segments not reported on their own in proportion to
  their central forecast for the year (each driver's median growth).

With ``w = 1`` (a full year) revenue and gross profit equal the reported figures exactly on
every path, and the growth state is ``z*``. Operating profit and net profit attributable are
kept and scored (:mod:`simcore.analysis.backtest`) but do not condition the run: which cost line
absorbs a surprise is a modelling choice the figures do not make. docs/model.md section 11
states the method and its limits.

Seasonal share, first found of: the table's ``share``; the same months over the full year in
earlier years (known actuals, or the base year's revenue from the segments), averaged; the rule
``months / 12``.
"""

from __future__ import annotations

import datetime
import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy import special

from distributions.kernels import CODE_CONSTANT
from simcore.model.scenario import driver_bases

if TYPE_CHECKING:
    from simcore.model.scenario import Actual, Scenario

__all__ = ["NOWCAST_FIGURES", "Conditioning", "Pins", "known_actuals", "pins", "seasonal_share"]

# the figures that condition a run (and "revenue.<segment>")
NOWCAST_FIGURES = ("revenue", "gross_profit")


class Pins(NamedTuple):
    """The kernel's nowcast (``F`` drivers, ``S`` segments, ``H`` years); weight 0: none."""

    drv: np.ndarray  # float64[2, F, H]: blend weight w, target normal score z*
    seg: np.ndarray  # float64[2, S, H]: reported amount A, weight w
    gp: np.ndarray  # float64[2, H]: reported gross profit A, weight w


class Conditioning(NamedTuple):
    """One figure a run is conditioned on, as shown in caveats and tables."""

    year: int
    figure: str  # "revenue", "revenue.<segment>", "gross_profit"
    value: float  # the reported part (a split total: the segment's part)
    months: int
    share: float  # the seasonal share w
    share_rule: str  # where w came from
    source: str  # the actual's name


def known_actuals(sc: Scenario) -> tuple[Actual, ...]:
    """The scenario's actuals dated on or before its as-of date (none when it has none)."""
    if not sc.nowcast_as_of:
        return ()
    as_of = datetime.date.fromisoformat(sc.nowcast_as_of)
    return tuple(a for a in sc.actuals if datetime.date.fromisoformat(a.date) <= as_of)


def seasonal_share(sc: Scenario, actual: Actual, figure: str) -> tuple[float, str]:
    """``(w, rule)``: the share of the full year's ``figure`` that ``actual``'s months carry."""
    if actual.months == 12:
        return 1.0, "full year"
    if actual.share is not None:
        return float(actual.share), "stated"
    ratios = []
    years = []
    for year in sorted({a.year for a in known_actuals(sc) if a.year < actual.year}):
        part = _figure(sc, year, figure, actual.months)
        full = _figure(sc, year, figure, 12)
        if part is not None and full is not None and full > 0 and part > 0:
            ratios.append(part / full)
            years.append(year)
    if ratios:
        return float(np.mean(ratios)), "history " + ", ".join(map(str, years))
    return actual.months / 12.0, f"{actual.months}/12 months"


def _figure(sc: Scenario, year: int, figure: str, months: int) -> float | None:
    """A known reported figure (the latest published for that year and months); the base
    year's full-year revenue comes from the segments when no table reports it."""
    found = [
        (a.date, v)
        for a in known_actuals(sc)
        if a.year == year and a.months == months
        for k, v in a.values
        if k == figure
    ]
    if found:
        return float(max(found)[1])
    if year == sc.base_year and months == 12:
        if figure == "revenue":
            return float(sum(s.base_revenue for s in sc.segments))
        if figure.startswith("revenue.") and figure[8:] in sc.segment_names:
            return float(sc.segments[sc.segment_names.index(figure[8:])].base_revenue)
    return None


def _latest(sc: Scenario, year: int) -> dict[str, tuple[float, Actual]]:
    """The known figures of ``year``. Revenue (the total and the segments) comes from one
    table, the one with the most months, then the latest date (a revision replaces what it
    revises), so a total and its segments always cover the same months; gross profit likewise
    from its own best table."""
    best: dict[str, tuple[tuple[int, str], Actual]] = {}
    for a in known_actuals(sc):
        if a.year != year:
            continue
        rank = (a.months, a.date)
        for group in {_group(k) for k, _ in a.values}:
            if group not in best or rank >= best[group][0]:
                best[group] = (rank, a)
    return {
        k: (float(v), a)
        for group, (_, a) in best.items()
        for k, v in a.values
        if _group(k) == group
    }


def _group(figure: str) -> str:
    return "revenue" if figure == "revenue" or figure.startswith("revenue.") else figure


def _median_growth(sc: Scenario, segment: str, t: int) -> float:
    d = sc.driver(f"growth.{segment}")
    base = float(driver_bases(sc, d)[t])
    mid = float(d.dist.ppf(0.5))
    return base + mid if d.mode == "add" else base * mid


def _score(sc: Scenario, segment: str, t: int, growth: float, who: str) -> tuple[float, float]:
    """``(w_driver, z*)``: the normal score at which the year's growth driver of ``segment``
    equals ``growth`` (weight 0 for a deterministic driver: it has no state)."""
    d = sc.driver(f"growth.{segment}")
    if d.dist.kernel_args()[0] == CODE_CONSTANT:
        return 0.0, 0.0
    base = float(driver_bases(sc, d)[t])
    x = growth - base if d.mode == "add" else (growth / base if base else math.nan)
    z = math.nan
    if math.isfinite(x):  # each tail from its own side: 1 - cdf loses the upper one
        dist = d.dist.to_scipy()
        z = (
            float(special.ndtri(dist.cdf(x)))
            if x <= dist.median()
            else -float(special.ndtri(dist.sf(x)))
        )
    if not math.isfinite(z) or abs(z) > MAX_SCORE:
        lo, hi = (float(v) for v in d.dist.ppf([special.ndtr(-MAX_SCORE), special.ndtr(MAX_SCORE)]))
        raise ValueError(
            f"{who}: the year-to-date growth of {segment} is {growth:.1%}, which "
            f"growth.{segment} does not reach in {sc.base_year + 1 + t} (within "
            f"{MAX_SCORE:g} standard scores its draws span {_span(base, lo, hi, d.mode)}); allowed "
            "a figure inside that range, or a wider growth distribution"
        )
    return 1.0, z


MAX_SCORE = 8.0  # a year-to-date growth further out than this is a data error, not news


def _span(base: float, lo: float, hi: float, mode: str) -> str:
    a, b = (base + lo, base + hi) if mode == "add" else sorted((base * lo, base * hi))
    return f"{a:.1%} to {b:.1%}"


def _exact_split(parts: dict[str, float], order: tuple[str, ...], total: float, last: str) -> None:
    """Nudge ``parts[last]`` by ulps until the parts, summed in segment order as the kernel
    sums them, give ``total`` exactly (a full year given is then reproduced bit for bit)."""
    for _ in range(64):
        acc = 0.0
        for s in order:
            acc += parts[s]
        if acc == total:
            return
        parts[last] = float(np.nextafter(parts[last], math.inf if acc < total else -math.inf))


def pins(sc: Scenario) -> tuple[Pins, tuple[Conditioning, ...]]:
    """The kernel's nowcast of ``sc`` and the figures it conditions on. A figure it cannot use
    raises ``ValueError`` naming the actual, the figure and what is allowed."""
    H = sc.horizon
    segs = sc.segment_names
    names = [d.name for d in sc.drivers]
    drv = np.zeros((2, len(names), H))
    seg = np.zeros((2, len(segs), H))
    gp = np.zeros((2, H))
    used: list[Conditioning] = []
    prev = np.array([s.base_revenue for s in sc.segments], np.float64)
    prev_known = True  # last year's revenue is the same on every path
    for t, year in enumerate(sc.years):
        figs = _latest(sc, year)
        targets: dict[str, tuple[float, float, str, Actual, str]] = {}
        for s in segs:
            if f"revenue.{s}" in figs:
                v, a = figs[f"revenue.{s}"]
                w, rule = seasonal_share(sc, a, f"revenue.{s}")
                targets[s] = (v, w, rule, a, f"revenue.{s}")
        if "revenue" in figs:
            total, a = figs["revenue"]
            w, rule = seasonal_share(sc, a, "revenue")
            rest = [s for s in segs if s not in targets]
            left = total - sum(v for v, *_ in targets.values())
            who = f"actuals {a.name!r} revenue {total:g} ({year})"
            if rest:
                if left <= 0:
                    raise ValueError(
                        f"{who}: the segments reported on their own already sum to "
                        f"{total - left:g}; allowed a total above them"
                    )
                central = np.array(
                    [prev[segs.index(s)] * (1 + _median_growth(sc, s, t)) for s in rest]
                )
                split = {
                    s: float(left * c) for s, c in zip(rest, central / central.sum(), strict=True)
                }
                parts = {s: targets[s][0] if s in targets else split[s] for s in segs}
                _exact_split(parts, segs, total, rest[-1])
                for s in rest:
                    targets[s] = (parts[s], w, rule, a, "revenue")
            elif abs(left) > 0.01 * abs(total):
                raise ValueError(
                    f"{who}: its segments, reported on their own, sum to {total - left:g}; "
                    "allowed a total within 1% of its segments' sum"
                )
        if targets and not prev_known:
            a = next(iter(targets.values()))[3]
            raise ValueError(
                f"actuals {a.name!r}: a nowcast of {year} revenue needs {year - 1}'s revenue "
                f"reported for the full year for every segment (known by {sc.nowcast_as_of}): "
                "its growth is measured from it; allowed figures of the first simulated year "
                f"({sc.years[0]}) or of a year after a reported full year"
            )
        for s, (v, w, rule, a, figure) in targets.items():
            i = segs.index(s)
            g = v / (w * prev[i]) - 1.0
            who = f"actuals {a.name!r} {figure} {v:g} ({year}, {a.months} months)"
            wd, z = _score(sc, s, t, g, who)
            f = names.index(f"growth.{s}")
            drv[:, f, t] = (w * wd, z)
            seg[:, i, t] = (v, w)
            used.append(Conditioning(year, f"revenue.{s}", v, a.months, w, rule, a.name))
        full = [s for s in segs if s in targets and targets[s][1] == 1.0]
        prev_known = len(full) == len(segs)
        if prev_known:
            prev = np.array([targets[s][0] for s in segs], np.float64)
        if "gross_profit" in figs:
            v, a = figs["gross_profit"]
            w, rule = seasonal_share(sc, a, "gross_profit")
            gp[:, t] = (v, w)
            used.append(Conditioning(year, "gross_profit", v, a.months, w, rule, a.name))
    return Pins(drv, seg, gp), tuple(used)
