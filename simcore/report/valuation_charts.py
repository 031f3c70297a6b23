"""The reverse-DCF chart: what the market price needs, against what the paths deliver.

One panel per solved driver (:class:`simcore.analysis.valuation.ReverseDCF`): the distribution
over paths of the value each path needs for its DCF to give the target price, beside the
distribution of the paths' own last-year value, with the central path's need marked.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from matplotlib.ticker import PercentFormatter

from simcore.report import charts

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simcore.analysis.valuation import ReverseDCF

_OWN = {
    "fade_growth": "each path's own revenue growth in its last simulated year",
    "terminal_margin": "each path's own NOPAT margin in its last simulated year",
}


def reverse_dcf_chart(
    results: Sequence[ReverseDCF],
    *,
    scenario_name: str = "",
    figsize: tuple[float, float] = (11.0, 5.2),
) -> Figure:
    """Histograms of the required and the own values per solved driver (paths whose need is
    out of the bracket are counted in the caption, not drawn)."""
    with mpl.rc_context(charts.STYLE):
        fig, axes = charts._new_figure(figsize, 1, len(results))
        for j, rv in enumerate(results):
            ax = axes[0, j]
            req = rv.required[np.isfinite(rv.required)]
            own = rv.own
            lo, hi = rv.bracket
            both = np.concatenate([req, own])
            left = max(lo, float(np.quantile(both, 0.005)))
            right = min(hi, float(np.quantile(both, 0.995)))
            bins = np.linspace(left, right, 50)
            w = np.full(req.size, 1.0 / rv.required.size)
            ax.hist(req, bins=bins, weights=w, color="#3a6699", alpha=0.85, label="needed")
            ax.hist(
                np.clip(own, left, right),
                bins=bins,
                weights=np.full(own.size, 1.0 / own.size),
                histtype="step",
                color="black",
                linewidth=1.3,
                label="the path's own (last year)",
            )
            if np.isfinite(rv.central):
                ax.axvline(rv.central, color="#b03a2e", linewidth=1.6, gid="central")
                ax.annotate(
                    f"central path needs\n{rv.central:.1%}",
                    (rv.central, 0.97),
                    xycoords=("data", "axes fraction"),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="top",
                    fontsize=8,
                    color="#b03a2e",
                )
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_ylabel("share of paths")
            ax.set_title(f"{rv.what} needed for {rv.target:,.2f}", loc="left", fontsize=10)
            out = np.mean(np.isposinf(rv.required))
            below = np.mean(np.isneginf(rv.required))
            caption = (
                f"Needed: the value at which a path's DCF at the end of {rv.year} equals "
                f"{rv.target:,.2f}; line: {_OWN[rv.solve_for]}. {rv.p_reached:.0%} of paths "
                f"reach the price with their own fade; {out:.0%} would need more than {hi:.0%} "
                f"(not drawn), {below:.0%} exceed the price at any value down to {lo:.0%}. "
                f"Fade {rv.fade_years} years; {rv.n_paths:,} paths."
            )
            ax.set_xlabel(textwrap.fill(caption, 70), fontsize=7.5, color="0.25", loc="left")
            if j == 0:
                fig.legend(
                    loc="upper center",
                    bbox_to_anchor=(0.5, 0.93),
                    ncols=2,
                    fontsize=9,
                    frameon=False,
                )
        title = "Reverse DCF: what the market price needs"
        fig.suptitle(f"{scenario_name}: {title}" if scenario_name else title, fontsize=13)
    return fig
