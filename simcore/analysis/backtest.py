"""Outcomes analysis: where published actuals landed in a run's distribution.

:func:`backtest` scores each actual (an output, a year, a value) against the run's paths for that
output and year: its percentile (the probability integral transform, PIT, with ties split
evenly), whether it fell inside the central 50% and 90% bands, and the continuous ranked
probability score (CRPS, in the output's units; lower is better) of the empirical distribution:

    CRPS = mean |X - y| - E|X - X'| / 2,   E|X - X'| = 2 / n^2 * sum_i x_(i) (2 i - n - 1)

over the sorted paths x_(1..n). :func:`coverage` summarises many actuals (several outputs, years
or vintages): the share inside each band against its nominal level with its binomial standard
error, and a Kolmogorov-Smirnov test of the PITs against the uniform distribution (calibrated
fans give uniform PITs: too narrow fans pile them at 0 and 1, too wide ones in the middle).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario
    from simcore.results.result import SimulationResult

__all__ = ["backtest", "coverage", "crps", "pit", "scenario_actuals"]


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


def scenario_actuals(scenario: Scenario) -> dict[str, dict[int, float]]:
    """The full-year figures of the scenario's ``[actuals.<name>]`` tables within its years, as
    ``{output: {year: value}}`` (part years are left out: their nowcast is not built)."""
    out: dict[str, dict[int, float]] = {}
    for a in scenario.actuals:
        if a.months == 12 and a.year in scenario.years:
            for key, value in a.values:
                out.setdefault(key, {})[a.year] = float(value)
    return out


def backtest(
    result: SimulationResult,
    actuals: Mapping[str, Mapping[int, float]] | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score ``actuals`` (``{output: {year: value}}``, or a DataFrame with columns ``output``,
    ``year``, ``actual``; default: the run's scenario's full-year actuals) against ``result``.
    One row per actual: ``output``, ``year``, ``actual``, ``pit``, ``in_50``, ``in_90``,
    ``crps``, the run's ``median``, ``q05``, ``q95``. An output or a year the run does not
    have raises, naming it."""
    rows = _rows(scenario_actuals(result.scenario) if actuals is None else actuals)
    years = list(result.years)
    out = []
    for output, year, value in rows:
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
    df = pd.DataFrame(out)
    df.attrs.update(scenario=result.scenario.name, n_paths=result.n_paths)
    return df


def coverage(scores: pd.DataFrame | Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Calibration of many scored actuals (one :func:`backtest` table or several vintages'):
    per band the share inside, its nominal level and binomial standard error, and the KS test
    of the PITs against uniform (``ks``, ``p_value``), with ``n`` actuals."""
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
    out.attrs.update(ks=float(ks.statistic), p_value=float(ks.pvalue), n=n)
    return out


def _rows(
    actuals: Mapping[str, Mapping[int, float]] | pd.DataFrame,
) -> list[tuple[str, int, float]]:
    if isinstance(actuals, pd.DataFrame):
        need = {"output", "year", "actual"}
        if not need <= set(actuals.columns):
            raise ValueError(
                f"actuals have columns {list(actuals.columns)}; allowed output, year, actual"
            )
        return [
            (str(o), int(y), float(v))
            for o, y, v in actuals[["output", "year", "actual"]].itertuples(index=False)
        ]
    return [(str(o), int(y), float(v)) for o, by in actuals.items() for y, v in by.items()]
