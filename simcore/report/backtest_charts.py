"""Backtest charts: each scored actual on its run's fan, and the histogram of the PITs."""

from __future__ import annotations

import datetime
import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from matplotlib.ticker import MaxNLocator, PercentFormatter

from simcore.report import charts
from simcore.report.caveats import nowcast_caveat

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from simcore.results.result import SimulationResult


def backtest_chart(
    result: SimulationResult | Mapping[str, SimulationResult],
    scores: pd.DataFrame,
    *,
    figsize: tuple[float, float] = (11.0, 5.0),
) -> Figure:
    """One fan per scored output (5-95%, 25-75%, median) with the actuals as markers, labelled
    with their percentile, and the histogram of every PIT (flat when the fans are calibrated).
    Several vintages (``{as-of date: run}``, scores with a ``vintage`` column): each vintage's
    median and 5-95% band, darker the later, the markers labelled by the latest vintage that
    scored them."""
    runs = dict(result) if isinstance(result, Mapping) else {"": result}
    outputs = list(dict.fromkeys(scores["output"]))
    first = next(iter(runs.values()))
    years = list(first.years)
    with mpl.rc_context(charts.STYLE):
        fig, axes = charts._new_figure(figsize, 1, max(len(outputs), 1) + 1)
        for j, out in enumerate(outputs):
            ax = axes[0, j]
            for k, (label, run) in enumerate(runs.items()):
                q = np.nanquantile(run[out], [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
                if len(runs) == 1:
                    ax.fill_between(years, q[0], q[4], color="#c6d4e8", label="5–95%")
                    ax.fill_between(years, q[1], q[3], color="#3a6699", alpha=0.8, label="25–75%")
                    ax.plot(years, q[2], color="black", linewidth=1.6, label="median")
                    continue
                shade = 0.35 + 0.65 * k / max(len(runs) - 1, 1)
                color = mpl.colormaps["Blues"](shade)
                ax.fill_between(years, q[0], q[4], color=color, alpha=0.18)
                ax.plot(years, q[2], color=color, linewidth=1.6, label=_vintage(label))
            mine = scores[scores["output"] == out].drop_duplicates(["year"], keep="last")
            ax.plot(mine["year"], mine["actual"], "o", color="#b03a2e", label="actual")
            for r in mine.itertuples(index=False):
                ax.annotate(
                    f"{r.pit:.0%}",
                    (r.year, r.actual),
                    xytext=(5, 5),
                    textcoords="offset points",
                    fontsize=8,
                    color="#b03a2e",
                )
            ax.set_title(out.replace("_", " "), loc="left")
            ax.set_xticks(years)
            charts._thousands(ax)
            if j == 0:
                ax.legend(fontsize=8, frameon=False, loc="upper left")
        ax = axes[0, -1]
        ax.hist(scores["pit"], bins=np.linspace(0, 1, 11), color="#3a6699", edgecolor="white")
        ax.axhline(len(scores) / 10, color="black", linestyle=":", label="calibrated")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("actuals")
        ax.set_title(f"where the {len(scores)} actuals fell (PIT)", loc="left")
        ax.set_xlabel("percentile of the actual in the run's paths")
        ax.legend(fontsize=8, frameon=False)
        what = "the run's fans" if len(runs) == 1 else f"{len(runs)} vintages' fans"
        fig.suptitle(f"{first.scenario.name}: {what} against reported actuals", fontsize=12)
        note = nowcast_caveat(first.scenario) if len(runs) == 1 else ""
        if note:
            fig.text(0.01, 0.005, textwrap.fill(note + ".", 180), fontsize=7, color="#555555")
    return fig


def _vintage(label: str) -> str:
    """A vintage's legend entry: "as of <date>" for a bare date, else the label itself."""
    try:
        datetime.date.fromisoformat(label)
    except ValueError:
        return label
    return f"as of {label}"
