"""Charts of a :class:`~simcore.results.SimulationResult`: fan charts and distributions.

Every function takes a result (and options) and returns a :class:`matplotlib.figure.Figure`
built with the object-oriented API; nothing here shows a window or touches pyplot's global
state, so the functions work under any backend (the CLI uses Agg).

One style for all charts (:data:`STYLE`, :data:`BAND_COLORS`, ...), chosen to stay readable when
printed in grey: the fan bands are one hue in three clearly different lightness steps, the median
is a near-black solid line, actuals are black with filled circles and the report's forecast is a
white diamond with a black edge, so no element relies on colour alone. :data:`STYLE` also turns
mathtext off: every figure is built (and saved by :func:`save_figure`) under it, so user text
such as a scenario name with ``$`` in it is drawn as written.

:func:`save_figure` writes PNG, SVG or PDF byte-for-byte reproducibly (no timestamps, fixed SVG
ids), which the CLI's reproducibility guarantee relies on.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from numpy.typing import ArrayLike

from simcore.report.caveats import valuation_caveats
from simcore.results.result import MULTIPLE_BASE

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

    from simcore.results.result import SimulationResult

__all__ = [
    "BANDS",
    "DEFAULT_SOURCE",
    "STYLE",
    "distribution_net_profit",
    "fan_chart_net_profit",
    "fan_chart_financing",
    "fan_chart_revenue_segments",
    "fan_chart_valuation",
    "save_figure",
]

DEFAULT_SOURCE = "simcore; calibrated to a 2025 sell-side report"

# -- one style ----------------------------------------------------------------------------------
STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.0,
    "axes.edgecolor": "0.25",
    "axes.linewidth": 0.8,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.color": "0.88",
    "grid.linewidth": 0.6,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.0,
    "legend.frameon": True,
    "legend.framealpha": 0.92,
    "legend.edgecolor": "0.75",
    "figure.titlesize": 11.5,
    "figure.titleweight": "bold",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": "simcore",  # fixed ids in SVG output (reproducible bytes)
    # every string is drawn literally: a scenario's name, ticker, currency, source, labels and
    # rationales are user text, and a pair of "$" would start mathtext (an unknown macro such
    # as $\x$ then fails when the figure is drawn). No chart uses mathtext.
    "text.parse_math": False,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}
# Fan bands, outermost first: (low, high, label). Their fills get lighter outwards.
BANDS = ((0.05, 0.95, "5–95%"), (0.10, 0.90, "10–90%"), (0.25, 0.75, "25–75%"))
# One hue, three lightness steps (greyscale luminance about 86%, 67%, 45%).
BAND_COLORS = ("#cdd9ec", "#8fa9d1", "#3f679f")
MEDIAN: dict[str, Any] = {"color": "#0b1e3f", "linewidth": 2.0, "linestyle": "-"}
ACTUAL: dict[str, Any] = {
    "color": "black",
    "linewidth": 1.6,
    "linestyle": "-",
    "marker": "o",
    "markersize": 5.0,
}
FORECAST: dict[str, Any] = {
    "linestyle": "none",
    "marker": "D",
    "markersize": 7.0,
    "markerfacecolor": "white",
    "markeredgecolor": "black",
    "markeredgewidth": 1.4,
    "color": "black",
}
MARKET: dict[str, Any] = {"color": "black", "linewidth": 1.3, "linestyle": (0, (6, 3))}
ZERO: dict[str, Any] = {"color": "0.35", "linewidth": 0.9, "linestyle": ":"}
FOOTER_SIZE = 7.0
PRICE_LABELS = {
    "price_ps": "P/S",
    "price_pe": "P/E",
    "price_ev_ebitda": "EV/EBITDA",
    "price_dcf": "staged DCF",
}
_FAN_Q = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)
_LEGEND_ORDER = ("actual", "median", "25–75%", "10–90%", "5–95%", "report forecast")


# -- helpers -------------------------------------------------------------------------------------
def _new_figure(
    figsize: tuple[float, float],
    nrows: int = 1,
    ncols: int = 1,
    *,
    legend_rows: int = 1,
    **subplot_kw: Any,
) -> tuple[Figure, np.ndarray]:
    """A figure whose panels leave room above for the title and the legend (``legend_rows``
    rows) and below for the footer; :func:`_frame` fills those."""
    w, h = figsize
    top = 1.0 - (0.36 + 0.24 * legend_rows) / h
    bottom = 0.36 / h  # two footer lines
    fig = Figure(
        figsize=figsize, layout=ConstrainedLayoutEngine(rect=(0.0, bottom, 1.0, top - bottom))
    )
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def _title(result: SimulationResult, what: str) -> str:
    sc = result.scenario
    ticker = f" ({sc.ticker})" if sc.ticker else ""
    return f"{sc.name}{ticker}: {what}"


def seed_label(manifest: dict[str, Any]) -> str:
    """The seed as the manifest records it, for footers and tables."""
    seed = manifest.get("seed")
    if isinstance(seed, dict):
        key = seed.get("spawn_key") or []
        return str(seed.get("entropy")) + (f" (spawn key {key})" if key else "")
    return str(seed)


def footer_text(result: SimulationResult, note: str = "") -> str:
    """The note under every chart: ``N paths · seed S · sampling M`` (and ``note``), then on a
    second line ``source: ...`` (the scenario's source field, or :data:`DEFAULT_SOURCE`)."""
    m = result.manifest
    source = result.scenario.source or DEFAULT_SOURCE
    return (
        f"{result.n_paths:,} paths · seed {seed_label(m)} · sampling {m.get('sampling', '?')}"
        f"{note}\nsource: {source}"
    )


def _frame(
    fig: Figure,
    axes: np.ndarray,
    result: SimulationResult,
    title: str,
    note: str = "",
    legend_cols: int = 8,
) -> None:
    """Title, legend (one for the figure, fixed order) and footer, outside the panels."""
    h = fig.get_figheight()
    fig.suptitle(title, y=1.0 - 0.08 / h, va="top")
    found: dict[str, Artist] = {}
    for ax in np.ravel(axes):
        for handle, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(lab, handle)
    rank = {lab: i for i, lab in enumerate(_LEGEND_ORDER)}
    labels = sorted(found, key=lambda lab: rank.get(lab, len(rank)))
    if labels:
        leg = fig.legend(
            [found[lab] for lab in labels],
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 1.0 - 0.34 / h),
            ncols=min(len(labels), legend_cols),
            frameon=False,
            columnspacing=1.4,
            handlelength=2.4,
        )
        leg.set_in_layout(False)
    fig.text(
        0.01,
        0.06 / h,
        footer_text(result, note),
        ha="left",
        va="bottom",
        fontsize=FOOTER_SIZE,
        color="0.3",
        gid="footer",
    )


def _currency(result: SimulationResult) -> str:
    return result.scenario.currency or "CNY"


def _history(result: SimulationResult, series: str) -> dict[int, float]:
    """Actuals of ``series`` by year (keys may be ints or strings in the scenario)."""
    raw = (result.scenario.history or {}).get(series, {}) or {}
    out: dict[int, float] = {}
    for k, v in raw.items():
        try:
            out[int(k)] = float(v)
        except (TypeError, ValueError):
            continue
    return dict(sorted(out.items()))


def _forecast(values: ArrayLike, horizon: int) -> np.ndarray:
    out = np.full(horizon, np.nan)
    v = np.asarray(values, dtype=np.float64).ravel()
    out[: min(v.size, horizon)] = v[:horizon]
    return out


def _fan(
    ax: Axes,
    x: ArrayLike,
    qs: dict[float, np.ndarray],
    *,
    anchor: tuple[float, float] | None = None,
    label: bool = True,
) -> list[Artist]:
    """Draw the bands and the median; ``qs`` maps level -> array over ``x``. ``anchor`` is an
    (x0, y0) point every band opens from (the last actual). Returns the band collections."""
    x = np.asarray(x, dtype=np.float64)
    if anchor is not None:
        x = np.concatenate([[anchor[0]], x])
        qs = {k: np.concatenate([[anchor[1]], v]) for k, v in qs.items()}
    elif x.size == 1:  # one year and nothing to open from: draw the bands as a box
        x = np.array([x[0] - 0.2, x[0] + 0.2])
        qs = {k: np.repeat(np.asarray(v, dtype=np.float64), 2) for k, v in qs.items()}
    polys: list[Artist] = []
    for (lo, hi, name), color in zip(BANDS, BAND_COLORS, strict=True):
        polys.append(
            ax.fill_between(
                x, qs[lo], qs[hi], color=color, linewidth=0, label=name if label else None, zorder=1
            )
        )
    ax.plot(x, qs[0.50], label="median" if label else None, zorder=3, **MEDIAN)
    return polys


def _quantile_dict(result: SimulationResult, output: str) -> dict[float, np.ndarray]:
    df = result.quantiles(output, _FAN_Q)
    return {q: df[q].to_numpy() for q in _FAN_Q}


def _year_axis(ax: Axes, years: Iterable[int], max_labels: int = 8) -> None:
    years = sorted(int(y) for y in years)
    step = max(1, math.ceil(len(years) / max_labels))
    ticks = years[::-1][::step][::-1]  # always the last year
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(y) for y in ticks])
    ax.set_xlabel("fiscal year")
    lo, hi = min(years), max(years)
    ax.set_xlim(lo - 0.35, hi + 0.35)


def _thousands(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _pick_year(result: SimulationResult, year: int | None) -> tuple[int, int]:
    years = result.years
    if year is None:
        return len(years) - 1, years[-1]
    if year not in years:
        raise ValueError(f"year={year!r} is not simulated; allowed {years[0]}..{years[-1]}")
    return years.index(year), year


# -- charts --------------------------------------------------------------------------------------
def fan_chart_net_profit(
    result: SimulationResult, *, figsize: tuple[float, float] = (8.0, 5.0)
) -> Figure:
    """Fan chart of net profit attributable: actuals, 5-95/10-90/25-75 bands, median, forecast.

    The bands open from the last actual year so the fan reads as one continuous line; the
    report's point forecasts are drawn as white diamonds (``gid="forecast"``).
    """
    cur = _currency(result)
    with mpl.rc_context(STYLE):
        fig, axes = _new_figure(figsize)
        ax = axes[0, 0]
        years = result.years
        hist = _history(result, "net_profit_attributable")
        anchor = None
        if hist:
            hx, hy = list(hist), list(hist.values())
            ax.plot(hx, hy, label="actual", zorder=4, gid="actual", **ACTUAL)
            if hx[-1] == years[0] - 1:
                anchor = (hx[-1], hy[-1])
        _fan(ax, years, _quantile_dict(result, "net_profit_attributable"), anchor=anchor)
        fc = _forecast(result.scenario.forecast.net_profit_attributable, result.horizon)
        if np.isfinite(fc).any():
            ok = np.isfinite(fc)
            ax.plot(
                np.asarray(years)[ok],
                fc[ok],
                label="report forecast",
                zorder=5,
                gid="forecast",
                **FORECAST,
            )
        ax.axhline(0.0, zorder=2, gid="zero", **ZERO)
        _year_axis(ax, (list(hist) if hist else []) + list(years))
        _thousands(ax)
        ax.set_ylabel(f"net profit attributable ({cur} m)")
        ax.set_title(
            "bands: central probability intervals of the simulated paths",
            fontsize=8.5,
            fontweight="normal",
            loc="left",
            color="0.25",
        )
        _frame(fig, axes, result, _title(result, f"net profit attributable ({cur} m)"))
    return fig


def fan_chart_valuation(
    result: SimulationResult, *, figsize: tuple[float, float] = (13.0, 5.0)
) -> Figure:
    """Implied price per share per year for P/S, P/E, EV/EBITDA and the staged DCF (one panel
    each) against the market price, with the probability of exceeding it annotated per year.

    P/E and EV/EBITDA give 0 where EPS or EBITDA <= 0: those paths are in the bands and the
    probabilities as 0 (as in :meth:`SimulationResult.risk_metrics`), and their share is
    annotated per year. Under each panel, what its method assumes
    (:func:`simcore.report.caveats.valuation_caveats`).
    """
    sc = result.scenario
    cur = _currency(result)
    years = result.years
    market = float(sc.market_price)
    caveats = valuation_caveats(sc)
    with mpl.rc_context(STYLE):
        fig, axes = _new_figure(figsize, 1, len(PRICE_LABELS), sharex=True)
        for j, (name, label) in enumerate(PRICE_LABELS.items()):
            ax = axes[0, j]
            x = result[name]  # (n, H)
            defined = np.count_nonzero(~np.isnan(x), axis=0) / result.n_paths
            zero = result.undefined_share(name) if name in MULTIPLE_BASE else None
            tv = np.nanmedian(result["dcf_terminal_share"], axis=0) if name == "price_dcf" else None
            above = np.count_nonzero(x > market, axis=0) / result.n_paths
            if defined.min() > 0:
                qs = _quantile_dict(result, name)
                _fan(ax, years, qs, label=(j == 0))
                top = np.nanmax(qs[0.95])
                bottom = np.nanmin(qs[0.05])
            else:  # never defined in some year: draw what exists, leave gaps
                qs = _quantile_dict(result, name)
                _fan(ax, years, qs, label=(j == 0))
                top = np.nanmax(np.append(qs[0.95], market))
                bottom = np.nanmin(np.append(qs[0.05], market))
            ax.axhline(
                market,
                zorder=4,
                gid="market",
                label=f"market price {market:,.2f} ({sc.market_date})" if j == 0 else None,
                **MARKET,
            )
            lo = min(bottom, market)
            hi = max(top, market)
            span = hi - lo if hi > lo else max(abs(hi), 1.0)
            ax.set_ylim(lo - 0.06 * span, hi + 0.30 * span)  # headroom for the annotations
            step = max(1, math.ceil(len(years) / 6))  # at most six annotated years a panel
            shown = set(range(len(years) - 1, -1, -step))  # always the last year
            for t, year in enumerate(years):
                if t not in shown:
                    continue
                if len(years) <= 3:
                    text = f"P(>mkt)\n{above[t]:.0%}"
                    if zero is not None:
                        text += f"\nat 0: {zero[t]:.0%}"
                    if tv is not None:
                        text += f"\nTV {tv[t]:.0%} of EV"
                else:
                    text = f"P>mkt\n{above[t]:.0%}"
                    if zero is not None:
                        text += f"\n0: {zero[t]:.0%}"
                    if tv is not None:
                        text += f"\nTV {tv[t]:.0%}"
                ax.annotate(
                    text,
                    (year, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, -3),
                    textcoords="offset points",
                    ha="center",
                    va="top",
                    fontsize=7.5 if len(years) <= 4 else 6.5,
                    color="0.1",
                    gid=f"p_above_{year}",
                )
            _year_axis(ax, years)
            # what the method assumes, where its number is (in place of "fiscal year")
            ax.set_xlabel(textwrap.fill(caveats[name], 44), fontsize=7.0, color="0.25", loc="left")
            _thousands(ax)
            ax.yaxis.set_major_locator(MaxNLocator(6))
            ax.set_title(label, loc="left")
            ax.set_ylabel(f"implied price ({cur}/share)" if j == 0 else f"{cur}/share")
        _frame(
            fig,
            axes,
            result,
            _title(result, f"implied price per share by valuation method ({cur}/share)"),
        )
    return fig


def distribution_net_profit(
    result: SimulationResult,
    year: int | None = None,
    *,
    level: float = 0.95,
    figsize: tuple[float, float] = (10.0, 4.6),
) -> Figure:
    """Distribution of net profit attributable in ``year`` (default: the last simulated year):
    histogram and CDF, with the report's forecast, the median, and VaR / expected shortfall at
    ``level`` marked. VaR and ES are shortfalls *below the forecast* (``risk_metrics``); with no
    forecast for the year they are shown as levels only.
    """
    t, year = _pick_year(result, year)
    cur = _currency(result)
    x = result["net_profit_attributable"][:, t]
    x = x[np.isfinite(x)]
    fc = _forecast(result.scenario.forecast.net_profit_attributable, result.horizon)[t]
    alpha = 1.0 - level
    q_lo, median = np.quantile(x, [alpha, 0.5])
    tail = x[x <= q_lo]
    es_level = float(tail.mean()) if tail.size else float(q_lo)
    p_loss = np.count_nonzero(x < 0) / x.size
    lo, hi = np.quantile(x, [0.001, 0.999])
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    with mpl.rc_context(STYLE):
        fig, axes = _new_figure(figsize, 1, 2, legend_rows=2)
        ax_h, ax_c = axes[0]
        edges = np.linspace(lo, hi, 71)
        if lo < q_lo < hi:  # the VaR level is a bin edge, so the shaded tail ends exactly there
            edges = np.unique(np.append(edges, q_lo))
        counts, edges = np.histogram(x, bins=edges)
        dens = counts / (x.size * np.diff(edges))
        in_tail = edges[1:] <= q_lo
        ax_h.stairs(dens, edges, fill=True, color=BAND_COLORS[1], label="simulated", zorder=1)
        tail_d = np.where(in_tail, dens, 0.0)
        ax_h.stairs(
            tail_d,
            edges,
            fill=True,
            facecolor=BAND_COLORS[2],
            hatch="////",
            edgecolor="white",
            linewidth=0,
            label=f"worst {alpha:.0%}",
            zorder=2,
        )
        # the CDF, subsampled to 2,000 points (file size), exact at the plotted points
        xs = np.sort(x)
        idx = np.unique(np.linspace(0, xs.size - 1, min(xs.size, 2000)).astype(np.int64))
        ax_c.plot(
            xs[idx],
            (idx + 1) / xs.size,
            color=MEDIAN["color"],
            linewidth=1.6,
            label="simulated CDF",
            zorder=3,
        )
        ax_c.axhline(alpha, color="0.5", linewidth=0.8, linestyle="--", zorder=1)
        marks = [
            ("median", median, {"color": "0.15", "linestyle": "-", "linewidth": 1.2}),
            (
                f"{alpha:.0%} quantile (VaR level)",
                q_lo,
                {"color": "black", "linestyle": "--", "linewidth": 1.3},
            ),
            (
                f"ES level (mean of worst {alpha:.0%})",
                es_level,
                {"color": "black", "linestyle": ":", "linewidth": 1.6},
            ),
        ]
        for ax in (ax_h, ax_c):
            for i, (label, v, st) in enumerate(marks):
                ax.axvline(v, label=label if ax is ax_h else None, zorder=4, gid=f"mark{i}", **st)
            if np.isfinite(fc):
                ax.axvline(
                    fc,
                    color="black",
                    linestyle="-.",
                    linewidth=1.3,
                    zorder=5,
                    gid="forecast",
                    label="report forecast" if ax is ax_h else None,
                )
            ax.axvline(0.0, zorder=2, gid="zero", **ZERO)
            ax.set_xlim(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
            ax.set_xlabel(f"net profit attributable {year} ({cur} m)")
        ax_h.set_ylabel("density (per CNY m)" if cur == "CNY" else f"density (per {cur} m)")
        ax_h.set_title(f"Histogram, {year}", loc="left")
        ax_c.set_title(f"Cumulative probability, {year}", loc="left")
        ax_c.set_ylabel("P(net profit ≤ x)")
        ax_c.set_ylim(0, 1)
        ax_c.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        if np.isfinite(fc):
            var = fc - q_lo
            es = fc - es_level
            box = (
                f"report forecast {fc:,.1f}\nVaR {level:.0%} {var:,.1f} below forecast\n"
                f"ES {level:.0%} {es:,.1f} below forecast\nP(loss) {p_loss:.1%}"
            )
        else:
            box = (
                f"no report forecast for {year}\n{alpha:.0%} quantile {q_lo:,.1f}\n"
                f"mean of worst {alpha:.0%} {es_level:,.1f}\nP(loss) {p_loss:.1%}"
            )
        ax_c.text(
            0.03,
            0.97,
            box + f"\n(all in {cur} m)",
            transform=ax_c.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            gid="riskbox",
            zorder=10,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "0.6"},
        )
        clipped = np.count_nonzero((x < lo) | (x > hi)) / x.size
        note = f" · histogram range 0.1–99.9% ({clipped:.1%} of paths outside)"
        _frame(
            fig,
            axes,
            result,
            _title(result, f"net profit attributable {year}, distribution ({cur} m)"),
            note=note,
            legend_cols=4,
        )
    return fig


def fan_chart_revenue_segments(
    result: SimulationResult, *, figsize: tuple[float, float] | None = None
) -> Figure:
    """Revenue fan charts as small multiples: one panel per segment and one for the total (with
    the report's revenue forecast). Fans open from the base-year revenue."""
    sc = result.scenario
    cur = _currency(result)
    years = result.years
    panels = [(f"revenue.{s.name}", s.name.replace("_", " "), s.base_revenue) for s in sc.segments]
    base_total = float(sum(s.base_revenue for s in sc.segments))
    panels.append(("revenue", "total revenue", base_total))
    n = len(panels)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    if figsize is None:
        figsize = (3.6 * ncols + 0.6, 2.9 * nrows + 0.9)
    fc = _forecast(sc.forecast.revenue, result.horizon)
    with mpl.rc_context(STYLE):
        fig, axes = _new_figure(figsize, nrows, ncols, sharex=True)
        for k, (name, label, base) in enumerate(panels):
            ax = axes[k // ncols, k % ncols]
            hist = _history(result, name)
            hist.setdefault(sc.base_year, float(base))
            hx, hy = list(hist), list(hist.values())
            ax.plot(hx, hy, label="actual" if k == 0 else None, zorder=4, gid="actual", **ACTUAL)
            _fan(ax, years, _quantile_dict(result, name), anchor=(hx[-1], hy[-1]), label=(k == 0))
            if name == "revenue" and np.isfinite(fc).any():
                ok = np.isfinite(fc)
                ax.plot(
                    np.asarray(years)[ok],
                    fc[ok],
                    label="report forecast",
                    zorder=5,
                    gid="forecast",
                    **FORECAST,
                )
            _year_axis(ax, hx + list(years))
            ax.set_xlabel("")
            _thousands(ax)
            ax.set_ylim(bottom=0)
            ax.set_title(label, loc="left")
            if k % ncols == 0:
                ax.set_ylabel(f"{cur} m")
        for k in range(n, nrows * ncols):
            axes[k // ncols, k % ncols].set_visible(False)
            above = axes[k // ncols - 1, k % ncols]  # now the lowest panel of its column
            above.xaxis.set_tick_params(labelbottom=True)
        _frame(fig, axes, result, _title(result, f"revenue by segment ({cur} m)"))
    return fig


def fan_chart_financing(
    result: SimulationResult, *, figsize: tuple[float, float] = (10.0, 6.6)
) -> Figure:
    """What the balance sheet and the cash flow do on the paths: EBITDA, free cash flow, net
    debt (borrowings less cash; each path's own, which the DCF deducts) and ROIC, as fans. Net
    debt opens from the base year's balance sheet."""
    sc = result.scenario
    cur = _currency(result)
    years = result.years
    opening_net_debt = sc.opening_debt - sc.opening_cash
    panels = [
        ("ebitda", f"EBITDA ({cur} m)", None, 1.0),
        ("fcf", f"free cash flow to the firm ({cur} m)", None, 1.0),
        ("net_debt", f"net debt: borrowings less cash ({cur} m)", opening_net_debt, 1.0),
        ("roic", "return on opening invested capital (%)", None, 100.0),
    ]
    with mpl.rc_context(STYLE):
        fig, axes = _new_figure(figsize, 2, 2, sharex=True)
        for k, (name, label, opening, scale) in enumerate(panels):
            ax = axes[k // 2, k % 2]
            qs = {q: v * scale for q, v in _quantile_dict(result, name).items()}
            anchor = None
            if opening is not None:
                ax.plot(
                    [sc.base_year],
                    [opening],
                    label="actual",
                    zorder=4,
                    gid="actual",
                    **ACTUAL,
                )
                anchor = (sc.base_year, float(opening))
            _fan(ax, years, qs, anchor=anchor, label=(k == 0))
            ax.axhline(0.0, zorder=2, **ZERO)
            _year_axis(ax, [sc.base_year, *years])
            ax.set_xlabel("")
            if scale == 1.0:
                _thousands(ax)
            ax.set_title(label, loc="left")
        note = " · ROIC: NOPAT over equity + debt - cash at the start of the year"
        _frame(fig, axes, result, _title(result, "cash, debt and returns"), note=note)
    return fig


# -- output --------------------------------------------------------------------------------------
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": "simcore"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "simcore", "Producer": "simcore"},
}


def save_figure(
    fig: Figure, target: str | Path | IO[bytes], fmt: str | None = None, *, dpi: int = 150
) -> None:
    """Write ``fig`` to ``target`` (a path or a binary file object) as PNG, SVG or PDF with no
    timestamps or random ids, so the same figure always gives the same bytes."""
    if fmt is None:
        if not isinstance(target, str | Path):
            raise ValueError("fmt is required when target is a file object")
        fmt = Path(target).suffix.lstrip(".").lower()
    if fmt not in _METADATA:
        raise ValueError(f"fmt={fmt!r} is not supported; allowed {', '.join(_METADATA)}")
    with mpl.rc_context(STYLE):
        fig.savefig(target, format=fmt, dpi=dpi, metadata=dict(_METADATA[fmt]))
