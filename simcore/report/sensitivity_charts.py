"""Charts of sensitivity and stress analyses (:mod:`simcore.analysis.sensitivity`,
:mod:`simcore.analysis.stress`).

Each function takes the analysis' result and returns a :class:`matplotlib.figure.Figure` (object
API, no pyplot state, no ``plt.show()``), in the style of :mod:`simcore.report.charts`: titled with
the
scenario, labelled with units, and footed with the path count, seed and sampling. Elements
differ by lightness, hatching or marker as well as hue, so the charts read in grey.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from simcore.report.charts import DEFAULT_SOURCE, STYLE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from simcore.analysis.stress import Attribution, ReverseStress

__all__ = [
    "rank_correlation_chart",
    "reverse_stress_chart",
    "sobol_chart",
    "spider_chart",
    "stress_chart",
    "tornado_chart",
    "waterfall_chart",
]

DARK = "#1f3d6b"  # greyscale luminance ~25%
MID = "#6f8fbf"  # ~55%
LIGHT = "#cdd9ec"  # ~85%
EDGE = "0.15"
BASE_LINE: dict[str, Any] = {"color": "black", "linewidth": 1.1, "linestyle": (0, (5, 3))}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_DASHES = ("-", "--", "-.", ":")


# -- frame -----------------------------------------------------------------------------------------
def _figure(
    figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kw: Any
) -> tuple[Figure, np.ndarray]:
    w, h = figsize
    top = 1.0 - 0.75 / h
    bottom = 0.3 / h
    fig = Figure(
        figsize=figsize, layout=ConstrainedLayoutEngine(rect=(0.0, bottom, 1.0, top - bottom))
    )
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kw)


def _seed(meta: dict[Any, Any]) -> str:
    seed = meta.get("seed")
    if isinstance(seed, dict):
        key = seed.get("spawn_key") or []
        return str(seed.get("entropy")) + (f" (spawn key {key})" if key else "")
    return str(seed)


def _frame(
    fig: Figure, meta: dict[Any, Any], title: str, subtitle: str = "", footer: str = ""
) -> None:
    w, h = fig.get_figwidth(), fig.get_figheight()
    ticker = f" ({meta['ticker']})" if meta.get("ticker") else ""
    fig.suptitle(f"{meta.get('scenario', '')}{ticker}: {title}", y=1.0 - 0.08 / h, va="top")
    if subtitle:
        lines = textwrap.wrap(subtitle, width=int(w * 14.5))
        fig.text(
            0.5,
            1.0 - 0.36 / h,
            "\n".join(lines),
            ha="center",
            va="top",
            fontsize=8.5,
            color="0.25",
            gid="subtitle",
        )
        if len(lines) > 1:  # make room for the extra lines above the panels
            top = 1.0 - (0.75 + 0.16 * (len(lines) - 1)) / h
            bottom = 0.3 / h
            engine = cast(ConstrainedLayoutEngine, fig.get_layout_engine())  # _figure's
            engine.set(rect=(0.0, bottom, 1.0, top - bottom))
    paths = meta.get("n_evaluations", meta.get("n_paths"))
    what = "model evaluations" if "n_evaluations" in meta else "paths"
    anchor = meta.get("anchor")  # simcore.analysis.pack_analyses.anchored
    if anchor:
        what = f"paths (each change from the first {anchor['prefix_paths']:,})"
        paths = anchor["run_paths"]
    base = f"{paths:,} {what} · seed {_seed(meta)}" + (
        f" · sampling {meta['sampling']}" if meta.get("sampling") else ""
    )
    source = meta.get("source") or DEFAULT_SOURCE
    fig.text(
        0.01,
        0.06 / h,
        f"{base}{' · ' + footer if footer else ''} · source: {source}",
        ha="left",
        va="bottom",
        fontsize=7.0,
        color="0.3",
        gid="footer",
    )


def _value_axis(ax: Axes, probability: bool, axis: str = "x") -> None:
    """Tick labels of a value axis; a probability axis in per cent, with as many decimals as
    its ticks need (no "0% 0% 1% 1%"), and never beyond [0%, 100%]."""
    if probability:
        lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
        limits = (max(lo, 0.0), min(hi, 1.0))
        if limits[1] > limits[0]:
            (ax.set_xlim if axis == "x" else ax.set_ylim)(*limits)
        fmt: PercentFormatter | FuncFormatter = PercentFormatter(1.0, decimals=None)
    else:
        fmt = FuncFormatter(lambda v, _p: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _fmt(v: float, probability: bool) -> str:
    if probability:
        return f"{v:.1%}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.3g}"


def _input(x: float, mode: str) -> str:
    """A pinned input as the reader thinks of it: points for add-mode fractions, x multiplier."""
    return f"×{x:.2f}" if mode == "mul" else f"{100 * x:+.1f} pt"


def _delta(v: float, probability: bool) -> str:
    return f"{100 * v:+.1f} pt" if probability else f"{v:+,.1f}"


# -- one at a time ---------------------------------------------------------------------------------
def tornado_chart(tornado: pd.DataFrame, *, figsize: tuple[float, float] = (9.0, 6.0)) -> Figure:
    """Sorted bars: the statistic with each driver at its low (light) and high (dark) quantile,
    drawn from the base value; a driver with no effect is a zero-width bar marked "no effect"."""
    meta = tornado.attrs
    prob = meta.get("probability", False)
    base = meta["base"]
    lo_q, hi_q = meta.get("low", 0.1), meta.get("high", 0.9)
    modes = meta.get("modes", {})
    with mpl.rc_context(STYLE):
        fig, axes = _figure(figsize)
        ax = axes[0, 0]
        y = np.arange(len(tornado))
        for i, (name, row) in enumerate(tornado.iterrows()):
            for v, color, hatch, gid in (
                (row["low"], LIGHT, "//", "low"),
                (row["high"], DARK, None, "high"),
            ):
                ax.barh(
                    i,
                    v - base,
                    left=base,
                    height=0.62,
                    color=color,
                    edgecolor=EDGE,
                    linewidth=0.6,
                    hatch=hatch,
                    gid=f"{gid}:{name}",
                )
            if row["swing"] == 0.0 and row["low"] == base:
                ax.text(base, i, "  no effect", va="center", ha="left", fontsize=7.5, color="0.35")
            else:
                for v in (row["low"], row["high"]):
                    right = v >= base
                    ax.text(
                        v,
                        i,
                        f" {_fmt(v, prob)} ",
                        va="center",
                        ha="left" if right else "right",
                        fontsize=7.0,
                        color="0.2",
                    )
        plain = meta.get("labels", {})
        labels = [
            f"{plain.get(n, n)}  ({_input(r['low_input'], modes.get(n, 'add'))} / "
            f"{_input(r['high_input'], modes.get(n, 'add'))})"
            for n, r in tornado.iterrows()
        ]
        ax.set_yticks(y, labels)
        ax.set_ylim(len(tornado) - 0.4, -0.6)
        ax.axvline(base, zorder=3, gid="base", **BASE_LINE)
        lo_all = min(tornado["low"].min(), tornado["high"].min(), base)
        hi_all = max(tornado["low"].max(), tornado["high"].max(), base)
        pad = 0.12 * (hi_all - lo_all or abs(base) or 1.0)
        ax.set_xlim(lo_all - pad, hi_all + pad)
        _value_axis(ax, prob)
        ax.set_xlabel(f"{meta['statistic']} ({meta['unit']})")
        ax.grid(axis="y", visible=False)
        ax.legend(
            handles=[
                Patch(
                    facecolor=LIGHT, edgecolor=EDGE, hatch="//", label=f"driver at P{100 * lo_q:g}"
                ),
                Patch(facecolor=DARK, edgecolor=EDGE, label=f"driver at P{100 * hi_q:g}"),
                mpl.lines.Line2D([], [], label=f"base {_fmt(base, prob)}", **BASE_LINE),
            ],
            loc="lower right",
        )
        _frame(
            fig,
            meta,
            f"tornado of {meta['statistic']}",
            "each driver pinned at a quantile of its own distribution, every other input "
            "unchanged (common random numbers)",
        )
    return fig


def spider_chart(
    spider: pd.DataFrame, *, max_factors: int = 8, figsize: tuple[float, float] = (9.0, 5.6)
) -> Figure:
    """The statistic against each driver's quantile (one line per driver, the ``max_factors``
    with the widest range); the base run is the dashed line."""
    meta = spider.attrs
    prob = meta.get("probability", False)
    shown = spider.iloc[:max_factors]
    levels = [100 * float(q) for q in spider.columns]
    with mpl.rc_context(STYLE):
        fig, axes = _figure(figsize)
        ax = axes[0, 0]
        cmap = mpl.colormaps["cividis"]  # lightness rises monotonically: distinct in grey
        for i, (name, row) in enumerate(shown.iterrows()):
            color = cmap(0.85 * i / max(len(shown) - 1, 1))
            ax.plot(
                levels,
                row.to_numpy(),
                color=color,
                marker=_MARKERS[i % len(_MARKERS)],
                linestyle=_DASHES[i % len(_DASHES)],
                linewidth=1.5,
                markersize=5,
                markeredgecolor="0.1",
                markeredgewidth=0.5,
                label=name,
                gid=f"line:{name}",
            )
        ax.axhline(
            meta["base"],
            zorder=1,
            gid="base",
            label=f"base {_fmt(meta['base'], prob)}",
            **BASE_LINE,
        )
        ax.set_xticks(levels, [f"P{v:g}" for v in levels])
        ax.set_xlabel("driver pinned at this quantile of its distribution")
        ax.set_ylabel(f"{meta['statistic']}\n({meta['unit']})")
        _value_axis(ax, prob, "y")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
        hidden = len(spider) - len(shown)
        _frame(
            fig,
            meta,
            f"spider plot of {meta['statistic']}",
            "one driver at a time, every other input unchanged (common random numbers)"
            + (f"; {hidden} drivers with a smaller range not shown" if hidden else ""),
        )
    return fig


# -- sampling and variance based -------------------------------------------------------------------
def rank_correlation_chart(
    table: pd.DataFrame,
    output: str | None = None,
    year: int | None = None,
    *,
    figsize: tuple[float, float] = (8.5, 5.8),
) -> Figure:
    """Contribution to variance (normalised squared rank correlations) of each input to one
    output in one year, sorted; dark bars for a positive rank correlation, hatched for negative."""
    meta = table.attrs
    output = output or table.index.get_level_values("output")[0]
    year = year or table.index.get_level_values("year")[-1]
    # (output, year) selects a frame of the inputs; pandas' stubs cannot tell it from a row
    df = cast(pd.DataFrame, table.loc[(output, year)]).sort_values("contribution", ascending=False)
    with mpl.rc_context(STYLE):
        fig, axes = _figure(figsize)
        ax = axes[0, 0]
        pos = df["spearman"].to_numpy() >= 0
        y = np.arange(len(df))
        ax.barh(
            y[pos],
            df["contribution"].to_numpy()[pos],
            color=DARK,
            edgecolor=EDGE,
            linewidth=0.6,
            height=0.62,
            label="positive rank correlation",
        )
        ax.barh(
            y[~pos],
            df["contribution"].to_numpy()[~pos],
            color=LIGHT,
            edgecolor=EDGE,
            linewidth=0.6,
            hatch="//",
            height=0.62,
            label="negative rank correlation",
        )
        for i, (c, r) in enumerate(zip(df["contribution"], df["spearman"], strict=True)):
            ax.text(c, i, f"  {c:.1%} (ρ {r:+.2f})", va="center", fontsize=7.0, color="0.2")
        ax.set_yticks(y, list(df.index))
        ax.set_ylim(len(df) - 0.4, -0.6)
        ax.set_xlim(0, df["contribution"].max() * 1.3 + 1e-12)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(
            f"contribution to variance of {output.replace('_', ' ')}, {year} "
            f"(share of the sum of squared rank correlations)"
        )
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right")
        _frame(
            fig,
            meta,
            f"what drives {output.replace('_', ' ')}, {year}",
            f"Spearman rank correlation with each input ({meta.get('inputs')} values), "
            "from one run: no extra model evaluations",
        )
    return fig


def sobol_chart(
    table: pd.DataFrame,
    output: str | None = None,
    years: Iterable[int] | None = None,
    *,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """First-order (dark) and total (light, hatched) Sobol' indices with their bootstrap
    confidence intervals, one panel per year, factors sorted by total index."""
    meta = table.attrs
    output = output or table.index.get_level_values("output")[0]
    sub = cast(pd.DataFrame, table.loc[output])  # (year, factor) rows of the output
    years = (
        list(dict.fromkeys(sub.index.get_level_values("year"))) if years is None else list(years)
    )
    last = cast(pd.DataFrame, sub.loc[years[-1]]).sort_values("ST", ascending=True)
    order = list(last.index)
    n = len(order)
    if figsize is None:
        figsize = (3.2 + 3.0 * len(years), 1.9 + 0.28 * n)
    with mpl.rc_context(STYLE):
        fig, axes = _figure(figsize, 1, len(years), sharey=True)
        y = np.arange(n)
        for ax, year in zip(axes[0], years, strict=True):
            d = cast(pd.DataFrame, sub.loc[year]).loc[order]
            ax.barh(
                y + 0.19,
                d["ST"],
                xerr=d["ST_conf"],
                height=0.36,
                color=LIGHT,
                edgecolor=EDGE,
                linewidth=0.6,
                hatch="//",
                label="total (ST)",
                error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "0.2"},
                gid="ST",
            )
            ax.barh(
                y - 0.19,
                d["S1"],
                xerr=d["S1_conf"],
                height=0.36,
                color=DARK,
                edgecolor=EDGE,
                linewidth=0.6,
                label="first order (S1)",
                error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "0.5"},
                gid="S1",
            )
            ax.set_title(str(year), loc="left")
            ax.set_xlim(
                min(0.0, float((d["S1"] - d["S1_conf"]).min())) - 0.02,
                max(0.2, float((d["ST"] + d["ST_conf"]).max())) * 1.08,
            )
            ax.axvline(0.0, color="0.3", linewidth=0.8)
            ax.set_xlabel("share of output variance")
            ax.grid(axis="y", visible=False)
        axes[0, 0].set_yticks(y, order)
        axes[0, 0].set_ylim(-0.6, n - 0.4)
        axes[0, -1].legend(loc="lower right")
        conf = meta.get("conf_level", 0.95)
        _frame(
            fig,
            meta,
            f"Sobol' indices of {output.replace('_', ' ')} ({meta.get('grouping', 'factors')})",
            f"bars: estimates at N = {meta.get('n', 0):,} base samples; whiskers: "
            f"{conf:.0%} bootstrap intervals. The correlated drivers are one input (their "
            "split is the Shapley effects' job, on the reconciled page)",
        )
    return fig


# -- stress ----------------------------------------------------------------------------------------
def waterfall_chart(
    attr: Attribution,
    metric: str = "median",
    year: int | None = None,
    *,
    figsize: tuple[float, float] = (9.0, 5.4),
) -> Figure:
    """From "no shocks" to "all shocks" through each shock's (Shapley) contribution, which add
    up exactly; under each shock, the change when it alone is switched off from all-on."""
    meta = attr.meta
    if metric not in meta["labels"]:
        raise ValueError(
            f"metric={metric!r} was not attributed; allowed {', '.join(meta['labels'])}"
        )
    years = list(dict.fromkeys(attr.levels.index.get_level_values("year")))
    year = years[-1] if year is None else year
    if year not in years:
        raise ValueError(f"year={year!r} is not in the attribution; allowed {years}")
    prob = metric.startswith("prob")
    # one row each (metric, year): pandas' stubs cannot tell a row from a frame or a value
    none, full = cast(pd.Series, attr.levels.loc[(metric, year)])
    contrib = cast(pd.Series, attr.shapley.loc[(metric, year)])
    off = cast(pd.Series, attr.switch_off.loc[(metric, year)])
    with mpl.rc_context(STYLE):
        fig, axes = _figure(figsize)
        ax = axes[0, 0]
        x = np.arange(len(contrib) + 2)
        ax.bar(0, none, color="0.45", edgecolor=EDGE, width=0.6, gid="bar:no shocks")
        run = none
        for i, (name, c) in enumerate(contrib.items(), 1):
            color, hatch = (LIGHT, "//") if c < 0 else (MID, None)
            ax.bar(
                i,
                c,
                bottom=run,
                color=color,
                hatch=hatch,
                edgecolor=EDGE,
                width=0.6,
                gid=f"bar:{name}",
            )
            ax.plot([i - 0.7, i - 0.3], [run, run], color="0.4", linewidth=0.7)
            run += c
            ax.text(
                i,
                max(run, run - c),
                _delta(c, prob),
                ha="center",
                va="bottom",
                fontsize=7.5,
                color="0.15",
            )
        ax.plot([len(contrib) + 0.3, len(contrib) + 0.7], [run, run], color="0.4", linewidth=0.7)
        ax.bar(
            len(contrib) + 1, full, color="0.15", edgecolor=EDGE, width=0.6, gid="bar:all shocks"
        )
        for xi, v in ((0, none), (len(contrib) + 1, full)):
            ax.text(
                xi,
                max(v, 0.0),
                _fmt(v, prob),
                ha="center",
                va="bottom",
                fontsize=8,
                fontweight="bold",
            )
        plain = meta.get("shock_labels", {})
        labels = (
            ["no shocks"]
            + [
                f"{textwrap.fill(plain.get(n, n), 18)}\n(switch off: {_delta(-off[n], prob)})"
                for n in contrib.index
            ]
            + ["all shocks"]
        )
        ax.set_xticks(x, labels, fontsize=7.5)
        ax.axhline(0.0, color="0.3", linewidth=0.8)
        _value_axis(ax, prob, "y")
        unit = meta["units"][metric]
        ax.set_ylabel(f"{meta['labels'][metric]}, {year}\n({unit})")
        ax.grid(axis="x", visible=False)
        ax.legend(
            handles=[
                Patch(facecolor=LIGHT, edgecolor=EDGE, hatch="//", label="lowers it"),
                Patch(facecolor=MID, edgecolor=EDGE, label="raises it"),
            ],
            loc="best",
        )
        _frame(
            fig,
            meta,
            f"what each shock does to {meta['labels'][metric]}, {year}",
            "contributions: Shapley values over every on/off combination of the shocks "
            + (
                f"from the run's own paths (a combination's world without some shocks is the "
                f"paths none of them hit: at least {meta['paths']:,} paths)"
                if meta.get("method") == "the run's own paths"
                else f"({meta['runs']} runs, common random numbers)"
            )
            + "; they add up exactly",
        )
    return fig


def stress_chart(table: pd.DataFrame, *, figsize: tuple[float, float] | None = None) -> Figure:
    """One panel per statistic: the base run (dark) and each stress scenario (light), with the
    base value as a dashed line and the change from it printed beside each bar."""
    meta = table.attrs
    cols = [c for c in table.columns if c != "rationale"]
    n = len(cols)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    if figsize is None:
        figsize = (4.0 * ncols + 1.6, 0.6 + (0.5 + 0.36 * len(table)) * nrows + 0.6)
    with mpl.rc_context(STYLE):
        fig, axes = _figure(figsize, nrows, ncols, sharey=True)
        y = np.arange(len(table))
        for ax, col in zip(axes.ravel(), cols, strict=False):
            v = table[col].to_numpy(dtype=float)
            prob = meta["probability"][col]
            base = v[0]
            colors = [DARK] + [LIGHT] * (len(v) - 1)
            ax.barh(
                y, v, color=colors, edgecolor=EDGE, linewidth=0.6, height=0.62, gid=f"bars:{col}"
            )
            ax.axvline(base, **BASE_LINE)
            span = max(np.abs(v).max(), 1e-12)
            for i, vi in enumerate(v):
                text = _fmt(vi, prob) if i == 0 else f"{_fmt(vi, prob)} ({_delta(vi - base, prob)})"
                ax.text(
                    vi + (0.02 if vi >= 0 else -0.02) * span,
                    i,
                    text,
                    va="center",
                    ha="left" if vi >= 0 else "right",
                    fontsize=7.0,
                    color="0.15",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85},
                    zorder=4,
                )
            lo, hi = min(0.0, v.min()), max(0.0, v.max())
            ax.set_xlim(lo - (0.75 * span if lo < 0 else 0.0), hi + (0.75 * span if hi > 0 else 0))
            ax.set_title(col, loc="left", fontsize=8.5)
            ax.set_xlabel(meta["units"][col])
            _value_axis(ax, prob)
            ax.grid(axis="y", visible=False)
        for ax in axes.ravel()[n:]:
            ax.set_visible(False)
        names = meta.get("labels", {})
        axes[0, 0].set_yticks(y, [names.get(k, k) for k in table.index])
        axes[0, 0].set_ylim(len(table) - 0.4, -0.6)
        _frame(
            fig,
            meta,
            "stress scenarios against the base",
            "each stress forces shocks or shifts drivers; every other input is unchanged "
            "(common random numbers); in brackets: change from base",
        )
    return fig


def reverse_stress_chart(
    rev: ReverseStress, *, figsize: tuple[float, float] = (8.0, 5.0)
) -> Figure:
    """The statistic at every lever value the root finder tried, the target threshold and the
    threshold found."""
    meta = rev.meta
    xs, vs = zip(*meta["curve"], strict=True)
    prob = meta["unit"] == "share of paths"
    with mpl.rc_context(STYLE):
        fig, axes = _figure(figsize)
        ax = axes[0, 0]
        ax.plot(
            xs,
            vs,
            color=DARK,
            marker="o",
            markersize=4,
            linewidth=1.2,
            gid="curve",
            label="evaluated (same seed)",
        )
        ax.axhline(
            meta["threshold_value"],
            label=f"target {meta['op']} {_fmt(meta['threshold_value'], prob)}",
            **BASE_LINE,
        )
        ax.axvline(
            rev.threshold,
            color="0.35",
            linewidth=1.0,
            linestyle=":",
            label=f"threshold {rev.threshold:.4g}",
        )
        ax.plot(
            [rev.threshold],
            [rev.value],
            marker="D",
            markersize=8,
            color="white",
            markeredgecolor="black",
            linestyle="none",
            zorder=5,
        )
        ax.set_xlabel(f"{rev.lever} ({meta['lever_unit']})")
        ax.set_ylabel(f"{meta['statistic']}\n({meta['unit']})")
        _value_axis(ax, prob, "y")
        ax.legend(loc="best")
        _frame(
            fig,
            meta,
            f"reverse stress of {meta['statistic']}",
            f"smallest {rev.lever} at which the target ({meta['op']} "
            f"{_fmt(meta['threshold_value'], prob)}) fails: {rev.threshold:.4g} "
            f"({'converged' if rev.converged else 'NOT converged'}, {rev.evaluations} runs "
            f"with the same seed)",
        )
    return fig
