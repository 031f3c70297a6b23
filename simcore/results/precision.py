"""Precision targets: how precisely a run has estimated the numbers a risk committee reads.

A :class:`Target` names one statistic of one output and year (the mean, the median or another
percentile, the probability of a loss or of missing the report's forecast, VaR or ES of the
shortfall against the forecast, as :meth:`SimulationResult.risk_metrics` defines them) and the
precision it needs: a relative standard error (``rse``) or the half-width of its 95% confidence
interval (``hw``, in the statistic's own unit). :func:`estimate` gives the value, its standard
error and the half-width from one run.

The standard error comes from batch means, the one estimator that serves every statistic
alike: the paths are cut into :data:`BATCHES` contiguous batches of equal size, the statistic is
computed on each, and ``se = sd(batch values) / sqrt(BATCHES)``; the half-width is Student's
t (``BATCHES - 1`` degrees of freedom) times it. For a mean it is the usual ``s / sqrt(n)`` up to
sampling noise; for a percentile, VaR or ES it needs no density estimate. It assumes
independent paths (``sampling="mc"``); antithetic pairs stay within a batch, and for Sobol'
points it is conservative.

Written as text (``simcore run --precision``): ``STAT[.OUTPUT][@YEAR]:rse=X`` or ``...:hw=X``,
e.g. ``p_loss:hw=0.005``, ``es95:rse=0.02``, ``median.revenue@2026:rse=0.002``; the output
defaults to net profit attributable and the year to the last simulated one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from simcore.model.scenario import OUTPUTS

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario


class SimulationResult(Protocol):
    """What this module reads of a run (:class:`simcore.results.result.SimulationResult`,
    which imports this module for its ``precision()`` and ``convergence()``)."""

    scenario: Scenario
    manifest: dict[str, Any]

    @property
    def years(self) -> list[int]: ...

    @property
    def n_paths(self) -> int: ...

    def __getitem__(self, name: str) -> np.ndarray: ...


__all__ = [
    "BATCHES",
    "Estimate",
    "Target",
    "achieved",
    "headline",
    "check",
    "convergence",
    "estimate",
    "parse_target",
]

BATCHES = 32  # batches of the batch-means standard error
T95 = 2.0395134463964077  # Student's t, 31 degrees of freedom, 97.5% (scipy.stats.t.ppf)
_KINDS = "mean, median, p<k> (percentile, 0 < k < 100), p_loss, p_miss, var<k>, es<k> (k% level)"
_STAT = (
    r"(?P<stat>mean|median|p_loss|p_miss|p(?P<pct>\d+(?:\.\d+)?)|(?P<risk>var|es)"
    r"(?P<lvl>\d+(?:\.\d+)?))"
)
_STAT_ONLY = re.compile(_STAT)
_PATTERN = re.compile(_STAT + r"(?:\.(?P<output>[A-Za-z][A-Za-z0-9_.-]*?))?(?:@(?P<year>\d{4}))?")
MIN_EVENTS = 10  # a probability target is met only with this many paths on each side


@dataclass(frozen=True)
class Target:
    """One statistic and the precision it needs: ``rse`` (standard error / |value|) or ``hw``
    (the 95% confidence half-width, in the statistic's unit); exactly one of them."""

    stat: str  # "mean", "median", "p5", "p_loss", "p_miss", "var95", "es99", ...
    output: str = "net_profit_attributable"
    year: int | None = None  # None: the last simulated year
    rse: float | None = None
    hw: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.stat, str) or not _STAT_ONLY.fullmatch(self.stat):
            raise ValueError(f"precision target stat={self.stat!r} is unknown; allowed {_KINDS}")
        if self.year is not None and (
            not isinstance(self.year, int) or isinstance(self.year, bool)
        ):
            raise ValueError(
                f"precision target {self.stat!r}: year={self.year!r} must be a calendar year "
                "(an integer) or None (the last simulated year)"
            )
        level = self.level
        if level is not None and not 0.0 < level < 1.0:
            raise ValueError(
                f"precision target {self.stat!r}: its level must be within (0, 100); "
                f"allowed {_KINDS}"
            )
        if (self.rse is None) == (self.hw is None):
            raise ValueError(
                f"precision target {self.stat!r}: give exactly one of rse= (relative standard "
                f"error) and hw= (95% half-width); got rse={self.rse!r}, hw={self.hw!r}"
            )
        tol = self.rse if self.rse is not None else self.hw
        if (
            not isinstance(tol, int | float)
            or isinstance(tol, bool)
            or not math.isfinite(tol)
            or tol <= 0
        ):
            raise ValueError(
                f"precision target {self.stat!r}: the tolerance {tol!r} must be a positive number"
            )
        if self.stat in ("p_miss",) or self.stat.startswith(("var", "es")):
            if self.output != "net_profit_attributable":
                raise ValueError(
                    f"precision target {self.stat!r} is defined on net profit attributable "
                    f"(against the report's forecast), not on {self.output!r}"
                )

    @property
    def level(self) -> float | None:
        """The percentile (``p<k>``) or confidence level (``var<k>``, ``es<k>``) as a fraction."""
        m = _PATTERN.fullmatch(self.stat)
        assert m is not None
        if m.group("pct"):
            return float(m.group("pct")) / 100.0
        if m.group("lvl"):
            return float(m.group("lvl")) / 100.0
        return 0.5 if self.stat == "median" else None

    def label(self, years: tuple[int, ...] | list[int]) -> str:
        """E.g. ``"es95 of net profit attributable, 2027"``."""
        year = years[-1] if self.year is None else self.year
        what = {"mean": "mean", "median": "median", "p_loss": "P(loss)", "p_miss": "P(miss)"}
        level = self.level
        name = what.get(self.stat) or (
            f"{'VaR' if self.stat.startswith('var') else 'ES'} {100 * (level or 0.0):g}%"
            if self.stat.startswith(("var", "es"))
            else f"P{100 * (level or 0.0):g}"
        )
        of = self.output.replace("_", " ").replace(".", " ")
        if self.stat.startswith(("var", "es")) or self.stat == "p_miss":
            of += " below the report's forecast"
        return f"{name} of {of}, {year}"

    def text(self) -> str:
        """The target as ``--precision`` writes it."""
        out = "" if self.output == "net_profit_attributable" else f".{self.output}"
        year = "" if self.year is None else f"@{self.year}"
        tol = f"rse={_exact(self.rse)}" if self.rse is not None else f"hw={_exact(self.hw)}"
        return f"{self.stat}{out}{year}:{tol}"


def _exact(x: float | None) -> str:
    """The shortest text that reads back as ``x`` (``3`` rather than ``3.0``)."""
    text = repr(float(x or 0.0))
    return text[:-2] if text.endswith(".0") else text


def parse_target(text: str) -> Target:
    """A :class:`Target` from ``STAT[.OUTPUT][@YEAR]:rse=X`` or ``...:hw=X``."""
    what, sep, tol = str(text).partition(":")
    m = _PATTERN.fullmatch(what.strip())
    key, eq, value = tol.partition("=")
    if not sep or not m or not eq or key.strip() not in ("rse", "hw"):
        raise ValueError(
            f"--precision {text!r} is not allowed; allowed STAT[.OUTPUT][@YEAR]:rse=X or "
            f"...:hw=X with STAT one of {_KINDS} (e.g. p_loss:hw=0.005, es95:rse=0.02)"
        )
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"--precision {text!r}: {value!r} is not a number") from None
    return Target(
        m.group("stat"),
        m.group("output") or "net_profit_attributable",
        int(m.group("year")) if m.group("year") else None,
        **{key.strip(): number},
    )


def check(target: Target, scenario: Scenario) -> tuple[int, float]:
    """``target`` on ``scenario``: (the index of its year, the forecast a shortfall statistic
    reads, else NaN); an error naming the target when the scenario cannot give it."""
    allowed = list(OUTPUTS) + [f"revenue.{s}" for s in scenario.segment_names]
    if target.output not in allowed:
        raise ValueError(
            f"precision target {target.text()!r}: unknown output {target.output!r}; "
            f"allowed one of {allowed}"
        )
    years = list(scenario.years)
    year = years[-1] if target.year is None else target.year
    if year not in years:
        raise ValueError(
            f"precision target {target.text()!r}: year {year} is not simulated; allowed "
            f"{years[0]}..{years[-1]}"
        )
    t = years.index(year)
    forecast = math.nan
    if target.stat == "p_miss" or target.stat.startswith(("var", "es")):
        fc = scenario.forecast.net_profit_attributable
        if t >= len(fc):
            raise ValueError(
                f"precision target {target.text()!r}: the scenario has no report forecast of "
                f"net profit attributable for {year}"
            )
        forecast = float(fc[t])
    return t, forecast


def _stat(target: Target, x: np.ndarray, forecast: float) -> float:
    """The statistic of one batch (or of every path)."""
    s = target.stat
    if s == "mean":
        return float(np.mean(x))
    if s == "p_loss":
        return float(np.count_nonzero(x < 0.0) / x.size)
    if s == "p_miss":
        return float(np.count_nonzero(x < forecast) / x.size)
    level = target.level
    assert level is not None
    if s.startswith("var"):
        return forecast - float(np.quantile(x, 1.0 - level))
    if s.startswith("es"):
        cut = np.quantile(x, 1.0 - level)
        return forecast - float(x[x <= cut].mean())
    return float(np.quantile(x, level))  # median, p<k>


@dataclass(frozen=True)
class Estimate:
    """A target's value on the whole run, its batch-means standard error, the 95% half-width
    and whether it meets the target."""

    value: float
    se: float
    hw: float
    met: bool

    @property
    def rse(self) -> float:
        return self.se / abs(self.value) if self.value else math.inf


def estimate(target: Target, result: SimulationResult) -> Estimate:
    """``target``'s statistic on ``result`` with its batch-means standard error."""
    t, forecast = check(target, result.scenario)
    x = result[target.output][:, t]
    x = x[~np.isnan(x)]
    n = x.size
    if n < 2 * BATCHES:
        raise ValueError(
            f"precision target {target.text()!r}: {n} defined paths; at least {2 * BATCHES} "
            f"are needed for a standard error from {BATCHES} batches"
        )
    size = n // BATCHES
    size -= size % 2  # antithetic pairs stay within a batch (where no path of a pair is NaN)
    batches = np.array(
        [_stat(target, x[b * size : (b + 1) * size], forecast) for b in range(BATCHES)]
    )
    value = _stat(target, x, forecast)
    # the batches are `size` paths each; the whole run has n: scale the batch spread to n
    se = float(batches.std(ddof=1) * math.sqrt(size / n))
    hw = T95 * se
    met = hw <= target.hw if target.hw is not None else se <= (target.rse or 0.0) * abs(value)
    if target.stat in ("p_loss", "p_miss"):  # no standard error without events on both sides
        hits = round(value * n)
        met = met and min(hits, n - hits) >= MIN_EVENTS
    return Estimate(value, se, hw, bool(met))


def _record(result: SimulationResult) -> dict:
    record = result.manifest.get("precision")
    if not record:
        raise ValueError(
            "this run had no precision targets; run simulate(..., precision=[...]) or "
            "simcore run --precision ..."
        )
    return record


def convergence(result: SimulationResult) -> pd.DataFrame:
    """Every step of a run with precision targets: one row per (paths, target) with the
    estimate, its standard error, the 95% half-width, whether it met the target, and the
    seconds so far."""
    record = _record(result)
    rows = [
        {
            "paths": step["paths"],
            "target": text,
            "value": value,
            "se": se,
            "hw": hw,
            "met": met,
            "seconds": step["seconds"],
        }
        for step in record["history"]
        for text, (value, se, hw, met) in zip(record["targets"], step["estimates"], strict=True)
    ]
    return pd.DataFrame(rows).set_index(["paths", "target"])


def achieved(result: SimulationResult) -> pd.DataFrame:
    """The precision a run with precision targets achieved, one row per target: the statistic
    (``label``), its value, standard error, relative standard error, 95% half-width, the
    target and whether it was met; ``attrs`` say why the run stopped and at how many paths."""
    record = _record(result)
    last = record["history"][-1]
    rows = []
    for text, (value, se, hw, met) in zip(record["targets"], last["estimates"], strict=True):
        t = parse_target(text)
        rows.append(
            {
                "target": text,
                "label": t.label(result.years),
                "value": value,
                "se": se,
                "rse": se / abs(value) if value else math.inf,
                "hw": hw,
                "wanted": f"rse <= {t.rse:g}" if t.rse is not None else f"hw <= {t.hw:g}",
                "met": met,
            }
        )
    df = pd.DataFrame(rows).set_index("target")
    df.attrs.update(paths=result.n_paths, stopped=record["stopped"], seconds=last["seconds"])
    return df


# the numbers the summary and the pack lead with (net profit attributable, the last year)
HEADLINE = ("median", "p5", "p95", "p_loss", "var95", "es95")


def headline(result: SimulationResult) -> pd.DataFrame:
    """The precision of the headline numbers of any run: the median, P5 and P95 of net profit
    attributable in the last year, P(loss), and VaR and ES at 95% (where the report has a
    forecast), each with its batch-means standard error and 95% half-width."""
    sc = result.scenario
    has_fc = len(sc.forecast.net_profit_attributable) >= sc.horizon
    rows = []
    for stat in HEADLINE:
        if stat in ("var95", "es95") and not has_fc:
            continue
        t = Target(stat, hw=1.0)  # the tolerance is not read: the precision is only measured
        e = estimate(t, result)
        rows.append({"statistic": t.label(result.years), "value": e.value, "se": e.se, "hw": e.hw})
    return pd.DataFrame(rows).set_index("statistic")
