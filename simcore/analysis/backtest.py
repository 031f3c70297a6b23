"""Outcomes analysis: where published actuals landed in a run's distribution.

:func:`backtest` scores each actual (an output, a year, a value) against the run's paths for that
output and year: its percentile (the probability integral transform, PIT, with ties split
evenly), whether it fell inside the central 50% and 90% bands, and the continuous ranked
probability score (CRPS, in the output's units; lower is better) of the empirical distribution:

    CRPS = mean |X - y| - E|X - X'| / 2,   E|X - X'| = 2 / n^2 * sum_i x_(i) (2 i - n - 1)

over the sorted paths x_(1..n). A run conditioned on actuals (a nowcast,
:mod:`simcore.model.nowcast`) is scored only on actuals published after its as-of date: the
ones it knew are not a test. :func:`vintages` re-runs a scenario as of several dates (each a
*vintage*: the run a risk team would have made then) and scores each on what came later.
:func:`coverage` summarises many actuals (several outputs, years
or vintages): the share inside each band against its nominal level with its binomial standard
error, and a Kolmogorov-Smirnov test of the PITs against the uniform distribution (calibrated
fans give uniform PITs: too narrow fans pile them at 0 and 1, too wide ones in the middle).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario
    from simcore.results.result import SimulationResult

__all__ = [
    "backtest",
    "conditioned",
    "coverage",
    "crps",
    "pit",
    "scenario_actuals",
    "vintages",
]


def pit(paths: np.ndarray, actual: float) -> float:
    """The actual's percentile among the paths: P(X < y) + P(X = y) / 2 (NaN paths left out)."""
    x = np.asarray(paths, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan
    return float((np.count_nonzero(x < actual) + 0.5 * np.count_nonzero(x == actual)) / x.size)


def crps(paths: np.ndarray, actual: float) -> float:
    """The CRPS of the empirical distribution of ``paths`` at ``actual`` (units of the output)."""
    x = np.sort(np.asarray(paths, dtype=np.float64)[~np.isnan(paths)])
    n = x.size
    if n == 0:
        return math.nan
    i = np.arange(1, n + 1, dtype=np.float64)
    spread = 2.0 / n**2 * float(np.dot(x, 2.0 * i - n - 1.0))
    return float(np.abs(x - actual).mean() - 0.5 * spread)


def scenario_actuals(scenario: Scenario) -> pd.DataFrame:
    """The full-year figures of the scenario's ``[actuals.<name>]`` tables within its years:
    columns ``output``, ``year``, ``actual``, ``date`` (published; the latest of a year's
    figure wins, a revision replacing what it revises). Part years condition a nowcast
    (:mod:`simcore.model.nowcast`) and are not scored: the fans are of full years."""
    best: dict[tuple[str, int], tuple[str, float]] = {}
    for a in scenario.actuals:
        if a.months == 12 and a.year in scenario.years:
            for key, value in a.values:
                if (key, a.year) not in best or a.date >= best[key, a.year][0]:
                    best[key, a.year] = (a.date, float(value))
    rows = [(o, y, v, d) for (o, y), (d, v) in best.items()]
    return pd.DataFrame(rows, columns=["output", "year", "actual", "date"])


def backtest(
    result: SimulationResult,
    actuals: Mapping[str, Mapping[int, float]] | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score ``actuals`` (``{output: {year: value}}``, or a DataFrame with columns ``output``,
    ``year``, ``actual`` and optionally ``date``, published; default: the run's scenario's
    full-year actuals) against ``result``. One row per actual: ``output``, ``year``,
    ``actual``, ``pit``, ``in_50``, ``in_90``, ``crps``, the run's ``median``, ``q05``,
    ``q95``. A nowcast run skips the figures it fixed (:func:`conditioned`, whatever their date
    or revision) and the actuals published on or before its as-of date (it knew them). An
    output or a year the run does not have raises, naming it."""
    rows = _rows(scenario_actuals(result.scenario) if actuals is None else actuals)
    as_of = result.scenario.nowcast_as_of
    fixed = conditioned(result.scenario)
    rows = [r for r in rows if (r[0], r[1]) not in fixed and not (as_of and r[3] and r[3] <= as_of)]
    years = list(result.years)
    out = []
    for output, year, value, _date in rows:
        if output not in result.names:
            raise ValueError(
                f"actual for {output!r}: the run has no such output; allowed one of "
                f"{', '.join(result.names)}"
            )
        if year not in years:
            raise ValueError(f"actual for {output!r} {year}: the run covers {years[0]}-{years[-1]}")
        if not math.isfinite(value):
            raise ValueError(f"actual for {output!r} {year} is {value!r}; allowed a number")
        x = result[output][:, years.index(year)]
        p = pit(x, value)
        q = np.nanquantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
        out.append(
            {
                "output": output,
                "year": year,
                "actual": value,
                "pit": p,
                "in_50": bool(q[1] <= value <= q[3]),
                "in_90": bool(q[0] <= value <= q[4]),
                "crps": crps(x, value),
                "median": q[2],
                "q05": q[0],
                "q95": q[4],
            }
        )
    df = pd.DataFrame(out, columns=_COLUMNS)
    df.attrs.update(scenario=result.scenario.name, n_paths=result.n_paths, as_of=as_of)
    return df


def conditioned(scenario: Scenario) -> set[tuple[str, int]]:
    """The ``(output, year)`` pairs a nowcast fixed for the full year: each segment's revenue,
    total revenue when every segment is fixed, gross profit. Scoring them would test nothing."""
    from simcore.model.nowcast import pins

    out: set[tuple[str, int]] = set()
    for c in pins(scenario)[1]:
        if c.share == 1.0:
            out.add((c.figure, c.year))
    for year in scenario.years:
        if all((f"revenue.{s}", year) in out for s in scenario.segment_names):
            out.add(("revenue", year))
    return out


_COLUMNS = ["output", "year", "actual", "pit", "in_50", "in_90", "crps", "median", "q05", "q95"]


def vintages(
    scenario: Scenario,
    as_of: Iterable[str],
    *,
    n_paths: int,
    seed: int | None = None,
    actuals: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, SimulationResult]]:
    """Each as-of date's vintage: ``scenario`` conditioned on the actuals published by then
    (:meth:`~simcore.model.scenario.Scenario.with_nowcast`), simulated with ``n_paths`` and
    ``seed``, and scored on the full-year actuals published after it (``actuals``: a
    DataFrame with a ``date`` column; default the scenario's own). Returns the scores of every
    vintage (a leading ``vintage`` column) and the runs by as-of date."""
    from simcore.engine.core import simulate
    from simcore.model.validate import validate

    table = scenario_actuals(scenario) if actuals is None else actuals
    if "date" not in table.columns:
        raise ValueError(
            f"actuals have columns {list(table.columns)}; a vintage backtest needs a date "
            "column (when each figure was published)"
        )
    dates = list(dict.fromkeys(as_of))
    if not dates:
        raise ValueError("no as-of dates; allowed one or more ISO dates, e.g. 2025-06-09")
    runs = {d: scenario.with_nowcast(d) for d in dates}
    for sc in runs.values():  # every vintage checked before any is run
        validate(sc)
    results: dict[str, SimulationResult] = {}
    frames = []
    for d, sc in runs.items():
        results[d] = simulate(sc, n_paths=n_paths, seed=seed)
        scores = backtest(results[d], table)
        frames.append(scores.assign(vintage=d))
    out = pd.concat(frames, ignore_index=True)[["vintage", *_COLUMNS]]
    out.attrs.update(scenario=scenario.name, n_paths=n_paths)
    return out, results


def coverage(scores: pd.DataFrame | Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Calibration of many scored actuals (one :func:`backtest` table or several vintages'):
    per band the share inside, its nominal level and binomial standard error, and the KS test
    of the PITs against uniform (``ks``, ``p_value``), with ``n`` scores and ``distinct``
    figures. Both treat the scores as independent: the same figure scored by several vintages
    is not, so with ``distinct < n`` the standard errors and the p-value overstate the
    evidence."""
    df = scores if isinstance(scores, pd.DataFrame) else pd.concat(list(scores))
    n = len(df)
    if n == 0:
        raise ValueError("no scored actuals to summarise")
    rows = []
    for band, level in (("in_50", 0.5), ("in_90", 0.9)):
        share = float(df[band].mean())
        rows.append(
            {
                "band": f"central {level:.0%}",
                "nominal": level,
                "inside": share,
                "se": math.sqrt(level * (1 - level) / n),
                "n": n,
            }
        )
    ks = stats.kstest(df["pit"].to_numpy(), "uniform")
    out = pd.DataFrame(rows).set_index("band")
    keys = [c for c in ("output", "year", "actual") if c in df.columns]
    distinct = len(df.drop_duplicates(keys)) if keys else n
    out.attrs.update(ks=float(ks.statistic), p_value=float(ks.pvalue), n=n, distinct=distinct)
    return out


def _rows(
    actuals: Mapping[str, Mapping[int, float]] | pd.DataFrame,
) -> list[tuple[str, int, float, str]]:
    """``(output, year, value, date)`` per actual (date "" where not given)."""
    if isinstance(actuals, pd.DataFrame):
        need = {"output", "year", "actual"}
        if not need <= set(actuals.columns):
            raise ValueError(
                f"actuals have columns {list(actuals.columns)}; allowed output, year, actual "
                "and optionally date"
            )
        dates = actuals["date"] if "date" in actuals.columns else [""] * len(actuals)
        out = []
        for (o, y, v), d in zip(
            actuals[["output", "year", "actual"]].itertuples(index=False), dates, strict=True
        ):
            out.append((str(o), int(y), float(v), _iso(d)))
        return out
    return [(str(o), int(y), float(v), "") for o, by in actuals.items() for y, v in by.items()]


def _iso(value: object) -> str:
    """A publication date as ISO text ("" for none); anything else raises, naming it."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return ""
    try:
        return datetime.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise ValueError(f"actual date {value!r} is not a date; allowed e.g. 2026-03-31") from None
