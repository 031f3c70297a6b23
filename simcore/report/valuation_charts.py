"""The reverse-DCF chart (what the market price needs, against what the paths deliver) and the
reconciled sensitivity table as a page.

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

from simcore.model.labels import words
from simcore.report import charts

if TYPE_CHECKING:
    import pandas as pd
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


def reconciled_chart(table: pd.DataFrame, *, figsize: tuple[float, float] = (11.0, 7.5)) -> Figure:
    """The reconciled sensitivity table (:func:`simcore.analysis.reconcile.reconciled_table`)
    as a page: the inputs with the largest Shapley effects, each method's value and rank side
    by side, and one line on what each method measures."""
    methods = table.attrs.get("methods", {})
    top = table.head(14)
    cols = ["Shapley", "Sobol' total (group)", "rank correlation", "tornado", "tail shift"]
    head = [
        "input",
        "Shapley (± se)",
        "Sobol' total of its group",
        "rank correlation share",
        "tornado swing",
        "tail shift z",
    ]
    cells = []
    for name, row in top.iterrows():

        def cell(m: str, pct: bool, row: pd.Series = row) -> str:
            v = row[m]
            if not np.isfinite(v):
                return "–"
            rank = int(row[f"rank: {m}"])
            return (f"{v:.0%}" if pct else f"{v:+,.3g}") + f"  (#{rank})"

        sh = f"{row['Shapley']:.0%} ± {row['Shapley_se']:.0%}  (#{int(row['rank: Shapley'])})"
        group = str(row["Sobol' group"])
        plain = table.attrs.get("labels", {})
        group = plain.get(group) or words(group)
        sob = cell(cols[1], True) + (f"\n{group}" if group and group != name else "")
        cells.append(
            [
                textwrap.fill(plain.get(str(name), str(name)), 30),  # two lines, not clipped
                sh,
                sob,
                cell(cols[2], True),
                cell(cols[3], False),
                cell(cols[4], False),
            ]
        )
    with mpl.rc_context(charts.STYLE):
        from matplotlib.figure import Figure as _Figure

        fig = _Figure(figsize=figsize)
        ax = fig.add_axes((0.03, 0.24, 0.94, 0.66))
        ax.axis("off")
        tab = ax.table(cellText=cells, colLabels=head, loc="upper left", cellLoc="left")
        tab.auto_set_font_size(False)
        tab.set_fontsize(7.5)
        tab.scale(1.0, 1.9)
        for (r, _c), c in tab.get_celld().items():
            c.set_edgecolor("0.85")
            if r == 0:
                c.set_text_props(weight="bold")
        year, output = table.attrs.get("year", ""), table.attrs.get("output", "")
        fig.suptitle(
            f"{table.attrs.get('scenario', '')}: what drives {output.replace('_', ' ')} {year}, "
            "by five methods",
            fontsize=12,
        )
        lines = [f"{m}: {text}." for m, text in methods.items()]
        lines.append(
            "They answer different questions, so their ranks differ. # = rank within the method. "
            f"{table.attrs.get('n_paths', 0):,} paths; Shapley over "
            f"{table.attrs.get('shapley_perm', 0):,} random orders."
        )
        fig.text(
            0.03,
            0.2,
            "\n".join(textwrap.fill(x, 175) for x in lines),
            va="top",
            fontsize=7.5,
            color="0.2",
        )
    return fig
