"""Statistics of a run, named: what a tornado, a stress table or a reverse stress measures.

A :class:`Statistic` turns a :class:`~simcore.results.SimulationResult` into one number and
knows its label and unit (for tables and charts). :func:`statistic` builds one from

- a tuple ``(stat, output)`` or ``(stat, output, year)`` (``year`` omitted: the final year),
  e.g. ``("median", "net_profit_attributable", 2027)`` or ``("prob_loss", "net_profit")``;
- the same as one string, e.g. ``"median net_profit_attributable 2027"``;
- a callable ``f(result) -> float`` (labelled by its ``__name__``), or a Statistic.

``stat`` is one of (``x`` is the output in that year, one value per path):

====================  ===================================================================
``mean``, ``median``  of x (paths where x is undefined, NaN, e.g. ROIC, left out)
``std``               standard deviation of x
``p<k>``              k-th percentile, e.g. ``p5``, ``p95``, ``p2.5`` (linear, as numpy)
``es<k>``             expected shortfall: mean of the lowest k% of x, e.g. ``es5``
``prob_loss``         share of paths with x < 0
``prob_below:<v>``    share of paths with x < v; ``prob_above:<v>`` with x > v
``prob_above_market`` share of paths with x above the market price (implied prices)
``prob_below_forecast``  share of paths with x below the report's forecast that year
====================  ===================================================================

Probabilities count an undefined x as not meeting the condition, as
:meth:`SimulationResult.risk_metrics` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, SupportsInt, TypeAlias

import numpy as np

from simcore.model.scenario import OUTPUTS
from simcore.results.quantiles import quantiles

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario
    from simcore.results.result import SimulationResult

__all__ = ["PathSubset", "Statistic", "StatisticSpec", "statistic", "output_unit"]

# what :func:`statistic` accepts: a Statistic, "stat output [year]", (stat, output[, year]) or
# a callable f(result) -> float
StatisticSpec: TypeAlias = "Statistic | str | tuple[Any, ...] | Callable[[SimulationResult], float]"

_PER_SHARE = ("eps", "price_ps", "price_pe", "price_ev_ebitda", "price_dcf")
_RATIOS = ("roic", "dcf_terminal_share")  # fractions, no currency
_SIMPLE = ("mean", "median", "std", "prob_loss", "prob_above_market", "prob_below_forecast")
_PATTERN = re.compile(r"(p|es)(\d+(?:\.\d+)?)|(prob_below|prob_above):(-?[\d.eE+-]+)")
_PRETTY = {
    "price_ps": "P/S implied price",
    "price_pe": "P/E implied price",
    "price_ev_ebitda": "EV/EBITDA implied price",
    "dcf_terminal_share": "DCF terminal-value share",
    "price_dcf": "DCF implied price",
    "eps": "EPS",
}
_WORDS = {
    "mean": "mean",
    "median": "median",
    "std": "std. dev. of",
    "prob_loss": "P(loss):",
    "prob_above_market": "P(above market):",
    "prob_below_forecast": "P(below forecast):",
}


def output_unit(scenario: Scenario, output: str) -> str:
    """``"CNY m"`` for money lines, ``"CNY per share"`` for EPS and implied prices,
    ``"fraction"`` for ROIC and the DCF's terminal share."""
    cur = scenario.currency or "CNY"
    base = output.split(".", 1)[0]
    if base in _RATIOS:
        return "fraction"
    return f"{cur} per share" if base in _PER_SHARE else f"{cur} m"


def _output_names(scenario: Scenario) -> list[str]:
    return list(OUTPUTS) + [f"revenue.{s}" for s in scenario.segment_names]


@dataclass(frozen=True)
class Statistic:
    """One number computed from a run; see the module docstring for ``kind``."""

    kind: str
    output: str = ""
    year: int | None = None  # calendar year; None: the final simulated year
    level: float = math.nan  # percentile / tail share in %, or the threshold of prob_below/above
    func: Callable[[SimulationResult], float] | None = None
    name: str = ""  # label of a callable

    # -- evaluation -------------------------------------------------------------------------
    def __call__(self, result: SimulationResult | PathSubset) -> float:
        if self.func is not None:
            if isinstance(result, PathSubset):
                raise TypeError(f"statistic {self.name!r} is a function of a whole run")
            return float(self.func(result))
        years = list(result.years)
        year = years[-1] if self.year is None else self.year
        if year not in years:
            raise ValueError(
                f"statistic {self.label()!r}: year={year} is not simulated; "
                f"allowed {years[0]}..{years[-1]}"
            )
        x = result[self.output][:, years.index(year)]
        kind = self.kind
        if kind.startswith("prob"):
            n = x.size
            if kind == "prob_loss":
                hit = x < 0.0
            elif kind == "prob_below":
                hit = x < self.level
            elif kind == "prob_above":
                hit = x > self.level
            elif kind == "prob_above_market":
                hit = x > result.scenario.market_price
            else:  # prob_below_forecast
                hit = x < self._forecast(result.scenario, years.index(year))
            return float(np.count_nonzero(hit) / n)
        undefined = ValueError(
            f"statistic {self.label()!r}: {self.output} is undefined on every path in {year}"
        )
        if kind in ("mean", "std"):
            d = x[~np.isnan(x)]
            if d.size == 0:
                raise undefined
            if kind == "mean":
                return float(d.mean())
            return float(d.std(ddof=1)) if d.size > 1 else 0.0
        # a percentile (the median: the 50th) by selection, np.nanquantile's bytes
        cut = float(quantiles(x, [0.5 if kind == "median" else self.level / 100.0])[0])
        if cut != cut and np.isnan(x).all():
            raise undefined
        if kind != "es":
            return cut
        return float(x[x <= cut].mean())  # es: the mean at or below the level-th percentile

    def _forecast(self, scenario: Scenario, t: int) -> float:
        series = (
            getattr(scenario.forecast, self.output, ())
            if self.output in ("revenue", "net_profit_attributable", "eps")
            else ()
        )
        if t >= len(series):
            raise ValueError(
                f"statistic {self.label()!r}: the scenario has no report forecast "
                f"of {self.output} for that year"
            )
        return float(series[t])

    # -- description ------------------------------------------------------------------------
    def label(self, years: Sequence[int] | None = None) -> str:
        """E.g. ``"median net profit attributable, 2027"``."""
        if self.func is not None:
            return self.name
        what = _PRETTY.get(self.output, self.output.replace("_", " "))
        if self.kind == "p":
            head = f"P{self.level:g}"
        elif self.kind == "es":
            head = f"ES{self.level:g}% (mean of worst {self.level:g}%) of"
        elif self.kind == "prob_below":
            head = f"P(< {self.level:g}):"
        elif self.kind == "prob_above":
            head = f"P(> {self.level:g}):"
        else:
            head = _WORDS[self.kind]
        year = self.year if self.year is not None else (years[-1] if years else "final year")
        return f"{head} {what}, {year}"

    def unit(self, scenario: Scenario) -> str:
        if self.func is not None:
            return ""
        if self.kind.startswith("prob"):
            return "share of paths"
        return output_unit(scenario, self.output)

    @property
    def is_probability(self) -> bool:
        return self.func is None and self.kind.startswith("prob")


def statistic(spec: StatisticSpec, scenario: Scenario | None = None) -> Statistic:
    """A :class:`Statistic` from a tuple, a string, a callable or a Statistic (see the module
    docstring); with ``scenario`` the output and year are checked against it."""
    if isinstance(spec, Statistic):
        st = spec
    elif callable(spec):
        return Statistic("custom", func=spec, name=getattr(spec, "__name__", "custom statistic"))
    else:
        parts = spec.replace(",", " ").split() if isinstance(spec, str) else spec
        if not isinstance(parts, list | tuple) or not 2 <= len(parts) <= 3:
            raise ValueError(
                f"statistic={spec!r} must be (stat, output[, year]), e.g. "
                f"('median', 'net_profit_attributable', 2027), a string like "
                f"'p5 net_profit 2026', or a callable f(result) -> float"
            )
        st = _parse(spec, *parts)
    if scenario is not None:
        if st.output not in _output_names(scenario):
            raise ValueError(
                f"statistic {spec!r}: unknown output {st.output!r}; allowed "
                f"{', '.join(_output_names(scenario))}"
            )
        years = scenario.years
        if st.year is not None and st.year not in years:
            raise ValueError(
                f"statistic {spec!r}: year={st.year} is not simulated; allowed "
                f"{years[0]}..{years[-1]}"
            )
    return st


def _parse(
    spec: object, stat: object, output: object, year: SupportsInt | str | None = None
) -> Statistic:
    if not isinstance(stat, str) or not isinstance(output, str):
        raise ValueError(f"statistic={spec!r}: stat and output must be strings")
    if year is not None:
        try:
            year = int(year)
        except (TypeError, ValueError):
            raise ValueError(f"statistic={spec!r}: year={year!r} must be a calendar year") from None
    if stat in _SIMPLE:
        return Statistic(stat, output, year)
    m = _PATTERN.fullmatch(stat)
    if m and m.group(1):
        level = float(m.group(2))
        if not 0.0 < level < 100.0:
            raise ValueError(f"statistic={spec!r}: {stat!r} needs a level in (0, 100)")
        return Statistic(m.group(1), output, year, level)
    if m:
        try:
            return Statistic(m.group(3), output, year, float(m.group(4)))
        except ValueError:
            pass
    allowed = ", ".join([*_SIMPLE, "p<k>", "es<k>", "prob_below:<v>", "prob_above:<v>"])
    raise ValueError(f"statistic={spec!r}: unknown stat {stat!r}; allowed {allowed}")


class PathSubset:
    """What a :class:`Statistic` of ``output`` in year ``t`` reads of a run, on the paths
    ``keep`` (a boolean mask): ``years``, ``scenario`` and ``[output]``, taken once for every
    statistic of it."""

    def __init__(self, result: SimulationResult, keep: np.ndarray, output: str, t: int) -> None:
        self.output, self.years, self.scenario = output, result.years, result.scenario
        x = result[output][:, t][keep]
        self._x = np.broadcast_to(x[:, None], (x.size, result.horizon))  # column t is x

    def __getitem__(self, name: str) -> np.ndarray:
        if name != self.output:
            raise KeyError(f"this subset holds {self.output!r} only, not {name!r}")
        return self._x
