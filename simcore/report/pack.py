"""The investment-committee pack: one PDF that reads without the software.

:func:`write_pack` writes, in order: a cover page with the headline numbers, the four charts of
:mod:`simcore.report.charts`, the risk table (:meth:`SimulationResult.risk_metrics`), the
sensitivity pages of the analyses it is given (the caller computes them with
:func:`simcore.analysis.pack_analyses.pack_analyses`; the report runs no simulation), the
assumptions (every segment, driver and shock with its distribution and rationale) and the run
manifest.
Pages are matplotlib figures (text laid out on a grid, no extra dependencies); the PDF carries no
timestamps, so the same result gives the same bytes.
"""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.textpath import text_to_path

from simcore.model.validate import SCHEDULE_DOMAINS
from simcore.report import charts
from simcore.report.caveats import nowcast_caveat, valuation_caveats
from simcore.results.result import MULTIPLE_BASE

if TYPE_CHECKING:
    from simcore.analysis.pack_analyses import PackAnalyses
    from simcore.io.background import Background
    from simcore.io.files import StrPath
    from simcore.results.result import SimulationResult

Column = tuple[str, float, str]  # a table column: header, width weight, alignment

__all__ = ["draw_run_pages", "headline", "pack_pages", "run_pages", "write_pack"]

PAGE = (11.69, 8.27)  # A4 landscape, inches
_MARGIN = 0.55  # inches
_FONT = 7.6  # table text, points
_LINE = 1.28 * _FONT / 72  # inches per text line
_PDF_METADATA: dict[str, str | None] = {
    "CreationDate": None,
    "ModDate": None,
    "Creator": "simcore",
    "Producer": "simcore",
}


# -- numbers -------------------------------------------------------------------------------------
def _pct(p: float | None, se: float | None = None) -> str:
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.1%}" if se is None else f"{p:.1%} ± {1.96 * se:.1%}"


def _num(x: float | None, digits: int = 1) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:,.{digits}f}"


def headline(result: SimulationResult) -> dict[str, Any]:
    """The cover page's numbers as plain data: per year the report forecast, quantiles of net
    profit attributable, probability of loss / of missing the forecast, VaR and ES (95%), and per
    valuation method the median implied price, the share of paths where it is defined (P/E and
    EV/EBITDA: where EPS / EBITDA > 0; elsewhere they give 0, counted in the median and the
    probability) and the probability of exceeding the market price."""
    risk = result.risk_metrics(levels=(0.95,))
    q = result.quantiles("net_profit_attributable", (0.05, 0.25, 0.5, 0.75, 0.95))
    years = result.years
    out: dict[str, Any] = {"years": years, "net_profit_attributable": [], "valuation": {}}
    for year in years:
        row = risk.loc[year].to_dict()  # the year's risk metrics by name
        out["net_profit_attributable"].append(
            {
                "year": year,
                "forecast": float(row["forecast"]),
                "q": {
                    float(k): float(v)
                    for k, v in zip(q.columns, q.loc[year].to_numpy(), strict=True)
                },
                "p_loss": float(row["p_loss"]),
                "p_miss_forecast": float(row.get("p_miss_forecast", np.nan)),
                "VaR95": float(row.get("VaR0.95", np.nan)),
                "ES95": float(row.get("ES0.95", np.nan)),
            }
        )
    for name, label in charts.PRICE_LABELS.items():
        med = result.quantiles(name, (0.5,))[0.5].to_numpy()
        defined = 1.0 - result.undefined_share(name)
        out["valuation"][label] = [
            {
                "year": year,
                "median": float(med[t]),
                "defined": float(defined[t]),
                "p_above_market": float(risk[f"p_{name}_above_market"].loc[year]),
            }
            for t, year in enumerate(years)
        ]
    return out


# -- text layout ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1 << 16)
def _width(s: str, family: str, size: float) -> float:
    """Advance width of ``s`` in points, measured with the font itself."""
    prop = FontProperties(family=family, size=size)
    return text_to_path.get_text_width_height_descent(s, prop, ismath=False)[0]


def _wrap(text: object, width_in: float, size: float, family: str = "DejaVu Sans") -> list[str]:
    """Greedy word wrap of ``text`` to ``width_in`` inches, with word widths measured in the
    font (so nothing runs into the next column); over-long words are broken."""
    limit = 0.95 * max(width_in, 0.2) * 72.0  # 5% slack: raster hinting widens text a little
    space = _width("x x", family, size) - 2 * _width("x", family, size)
    lines: list[str] = []
    for para in str(text).split("\n"):
        indent = para[: len(para) - len(para.lstrip(" "))]
        base = _width(indent, family, size) if indent else 0.0
        cur: list[str] = []
        cur_w = base
        for word in para.split():
            w = _width(word, family, size)
            if cur and cur_w + space + w <= limit:
                cur.append(word)
                cur_w += space + w
                continue
            if cur:
                lines.append(indent + " ".join(cur))
            while base + w > limit and len(word) > 1:  # break an over-long word:
                k = len(word) - 1  # the longest head that fits,
                while k > 1 and base + _width(word[:k], family, size) > limit:
                    k -= 1
                joint = max(word.rfind(c, 0, k) for c in "._/-")  # cut after . _ / - if any
                k = joint + 1 if joint > 0 else k
                lines.append(indent + word[:k])
                word = word[k:]
                w = _width(word, family, size)
            cur, cur_w = [word], base + w
        lines.append(indent + " ".join(cur))
    return lines  # drawn literally: charts.STYLE turns mathtext off


class _Pages:
    """Text pages on a grid: headings, paragraphs and tables with wrapped cells; a new page
    starts whenever the next block would not fit."""

    def __init__(self, result: SimulationResult, section: str) -> None:
        self.result = result
        self.section = section
        self.pages: list[Figure] = []
        self.fig: Figure | None = None  # the page being written
        self.y = 0.0

    @property
    def _page(self) -> Figure:
        """The page being written (every block makes room first, which starts one)."""
        assert self.fig is not None, "no page yet: _room() starts one"
        return self.fig

    # geometry in inches from the top-left corner of the page
    def _new_page(self) -> None:
        fig = Figure(figsize=PAGE)
        title = charts._title(self.result, self.section)
        fig.text(
            _MARGIN / PAGE[0], 1 - 0.45 / PAGE[1], title, fontsize=12.5, fontweight="bold", va="top"
        )
        fig.text(
            0.01,
            0.06 / PAGE[1],
            charts.footer_text(self.result),
            fontsize=charts.FOOTER_SIZE,
            color="0.3",
            va="bottom",
            gid="footer",
        )
        self.pages.append(fig)
        self.fig = fig
        self.y = 0.95

    def _room(self, height: float) -> None:
        if self.fig is None or self.y + height > PAGE[1] - 0.55:
            self._new_page()

    def _text(self, x_in: float, y_in: float, s: str, **kw: Any) -> None:
        self._page.text(x_in / PAGE[0], 1 - y_in / PAGE[1], s, va="top", ha="left", **kw)

    def heading(self, s: str) -> None:
        self._room(0.35 + 3 * _LINE)
        self.y += 0.12
        self._text(_MARGIN, self.y, s, fontsize=10, fontweight="bold")
        self.y += 0.27

    def paragraph(self, s: str, width_in: float | None = None, size: float = 8.5) -> None:
        width_in = width_in or PAGE[0] - 2 * _MARGIN
        lines = _wrap(s, width_in, size)
        line = 1.3 * size / 72
        for chunk in range(0, len(lines), 40):
            part = lines[chunk : chunk + 40]
            self._room(len(part) * line)
            self._text(_MARGIN, self.y, "\n".join(part), fontsize=size, linespacing=1.3)
            self.y += len(part) * line + 0.08

    def table(
        self, columns: Sequence[Column], rows: Iterable[Sequence[str]], *, mono: bool = False
    ) -> None:
        """``columns``: [(header, width weight, align)]; ``rows``: lists of cell strings."""
        total_w = PAGE[0] - 2 * _MARGIN
        weights = np.array([c[1] for c in columns], dtype=float)
        widths = total_w * weights / weights.sum()
        # every header word fits its column (bold: 85% of the width below), taken from the
        # columns that have room to spare
        need = np.array(
            [
                max(_width(word, "DejaVu Sans", _FONT) for word in str(c[0]).split() or [""]) / 72
                + 0.32
                for c in columns
            ]
        )
        need = need / 0.85
        short = np.maximum(need - widths, 0.0)
        spare = np.maximum(widths - need, 0.0)
        if short.sum() > 0 and spare.sum() >= short.sum():
            widths = widths + short - spare * (short.sum() / spare.sum())
        xs = _MARGIN + np.concatenate([[0.0], np.cumsum(widths)[:-1]])
        family = "DejaVu Sans Mono" if mono else "DejaVu Sans"

        def wrap(cell: str, w: float) -> list[str]:
            return _wrap(cell, w - 0.08, _FONT, family)

        pad = [0.0] + [0.12] * (len(columns) - 1)  # gap after the previous column

        # bold is wider than regular: wrap headers to 85% of the column
        heads = [
            _wrap(c[0], 0.85 * (w - p) - 0.08, _FONT)
            for c, w, p in zip(columns, widths, pad, strict=True)
        ]

        def header() -> None:
            n = max(len(h) for h in heads)
            self._room((n + 2) * _LINE)
            for head, (_name, _w, align), x, w, p in zip(
                heads, columns, xs, widths, pad, strict=True
            ):
                xx = x + w - 0.04 if align == "right" else x + p
                self._page.text(
                    xx / PAGE[0],
                    1 - self.y / PAGE[1],
                    "\n".join(head),
                    va="top",
                    ha=align,
                    fontsize=_FONT,
                    fontweight="bold",
                    linespacing=1.28,
                )
            self.y += n * _LINE + 0.05
            self._rule(0.8)

        header()
        for row in rows:
            cells = [wrap(c, w - p) for c, w, p in zip(row, widths, pad, strict=True)]
            n = max(len(c) for c in cells)
            if self.y + n * _LINE + 0.06 > PAGE[1] - 0.55:
                self._new_page()
                header()
            for cell, (_name, _w, align), x, w, p in zip(
                cells, columns, xs, widths, pad, strict=True
            ):
                xx = x + w - 0.04 if align == "right" else x + p
                self._page.text(
                    xx / PAGE[0],
                    1 - self.y / PAGE[1],
                    "\n".join(cell),
                    va="top",
                    ha=align,
                    fontsize=_FONT,
                    family=family,
                    linespacing=1.28,
                )
            self.y += n * _LINE + 0.06
            self._rule(0.3, color="0.8")
        self.y += 0.1

    def _rule(self, lw: float, color: str = "0.2") -> None:
        y = 1 - (self.y - 0.03) / PAGE[1]
        fig = self._page
        fig.add_artist(
            Line2D(
                [_MARGIN / PAGE[0], 1 - _MARGIN / PAGE[0]],
                [y, y],
                transform=fig.transFigure,
                linewidth=lw,
                color=color,
            )
        )
        self.y += 0.03


# -- pages ---------------------------------------------------------------------------------------
def _story(result: SimulationResult, analyses: PackAnalyses | None) -> list[str]:
    """Page 1 in plain words: the central forecast against the report's and its band, the
    chances of a loss and of missing the forecast, what matters most, the biggest risk and
    what the market price implies (each only where the run has it)."""
    from simcore.model.labels import label

    sc = result.scenario
    cur = sc.currency or "CNY"
    h = headline(result)
    last = h["net_profit_attributable"][-1]
    y = last["year"]
    out = []
    if np.isfinite(last["forecast"]):
        out.append(
            f"The central forecast. In {y} the simulated median net profit attributable is "
            f"{_num(last['q'][0.5])} {cur} m against the report's {_num(last['forecast'])}; "
            f"nine paths in ten lie between {_num(last['q'][0.05])} and {_num(last['q'][0.95])}."
        )
        out.append(
            f"The chances. A loss in {y}: {_pct(last['p_loss'])}; falling short of the report's "
            f"forecast: {_pct(last['p_miss_forecast'])}."
        )
    rec = analyses.reconciled if analyses is not None else None
    if rec is not None and "Shapley" in rec.columns:
        top = rec["Shapley"].sort_values(ascending=False).head(3)
        parts = ", ".join(f"{label(sc, str(n))} ({v:.0%})" for n, v in top.items())
        n = analyses.n_paths if analyses is not None else 0
        out.append(
            f"What matters most for {y} net profit, by its share of the variance (Shapley "
            f"effects, the first {n:,} paths): {parts}."
        )
    attr = analyses.attribution if analyses is not None else None
    if attr is not None:
        row = attr.shapley.loc[("median", y)]
        worst = str(row.idxmin())
        total = float(attr.levels.loc[("median", y), "all shocks"]) - float(
            attr.levels.loc[("median", y), "no shocks"]
        )
        out.append(
            f"The biggest risk: {label(sc, worst)} takes {_num(-float(row[worst]))} {cur} m off "
            f"the {y} median; the named events together move it by {total:+,.1f}."
        )
    two = [d for d in sc.drivers if d.uncertainty is not None]
    if two:
        out.append(
            "Parameter uncertainty. The fitted parameters of "
            + ", ".join(label(sc, d.name) for d in two)
            + " are themselves uncertain: each path draws one set from the fit's bootstrap, so "
            "the bands hold parameter and year-to-year uncertainty together."
        )
    needs = {r.solve_for: r for r in (analyses.reverse_dcf if analyses is not None else ())}
    if needs:
        said = []
        if "fade_growth" in needs:
            g = needs["fade_growth"]
            said.append(
                f"{g.central:.0%} revenue growth in each of the {g.fade_years} fade years "
                f"(the central path's own last-year growth: {g.central_own:.0%})"
            )
        if "terminal_margin" in needs:
            m = needs["terminal_margin"]
            said.append(
                f"a {m.central:.0%} NOPAT margin at the end of the fade (its own: "
                f"{m.central_own:.0%})"
            )
        out.append(
            f"What the market price implies. For the staged DCF to give "
            f"{sc.market_price:,.2f}, the central path needs " + ", or ".join(said) + "."
        )
    return out


def _cover(
    result: SimulationResult, manifest: dict[str, Any], analyses: PackAnalyses | None = None
) -> list[Figure]:
    sc = result.scenario
    cur = sc.currency or "CNY"
    h = headline(result)
    years = h["years"]
    pg = _Pages(result, "in short")
    m = manifest
    pg.paragraph(
        f"Monte Carlo simulation of {sc.name} ({sc.ticker}) for {years[0]}–{years[-1]}: "
        f"{result.n_paths:,} paths, seed {charts.seed_label(m)}, sampling "
        f"{m.get('sampling', '?')}. Market price {sc.market_price:,.2f} {cur} on "
        f"{sc.market_date}. Amounts in {cur} millions; prices in {cur} per share. "
        f"Source: {sc.source or charts.DEFAULT_SOURCE}.",
        size=9.5,
    )
    if sc.description:
        pg.paragraph(sc.description, size=9)
    if sc.nowcast_as_of:
        pg.paragraph(nowcast_caveat(sc) + ".", size=9)
    last = h["net_profit_attributable"][-1]
    y = last["year"]
    points = [f"• {line}" for line in _story(result, analyses)]
    points.append(
        "• Probability of a loss (net profit attributable < 0): "
        + ", ".join(f"{r['year']} {_pct(r['p_loss'])}" for r in h["net_profit_attributable"])
        + "."
    )
    points.append(
        f"• Probability that the implied value exceeds the market price "
        f"{sc.market_price:,.2f} in {y}: "
        + ", ".join(
            f"{label} {_pct(v[-1]['p_above_market'])}" for label, v in h["valuation"].items()
        )
        + " (what each method assumes is under the price table below)."
    )
    pg.heading("In short")
    pg.paragraph("\n".join(points), size=9)
    pg.heading(f"Net profit attributable ({cur} m): simulated range against the report")
    cols = [
        ("year", 0.6, "left"),
        ("report forecast", 1.1, "right"),
        ("P5", 0.9, "right"),
        ("P25", 0.9, "right"),
        ("median", 0.9, "right"),
        ("P75", 0.9, "right"),
        ("P95", 0.9, "right"),
        ("P(loss)", 0.9, "right"),
        ("P(miss forecast)", 1.2, "right"),
        ("VaR 95%", 1.0, "right"),
        ("ES 95%", 1.0, "right"),
    ]
    rows = []
    for r in h["net_profit_attributable"]:
        q = r["q"]
        rows.append(
            [
                str(r["year"]),
                _num(r["forecast"]),
                _num(q[0.05]),
                _num(q[0.25]),
                _num(q[0.5]),
                _num(q[0.75]),
                _num(q[0.95]),
                _pct(r["p_loss"]),
                _pct(r["p_miss_forecast"]),
                _num(r["VaR95"]),
                _num(r["ES95"]),
            ]
        )
    pg.table(cols, rows)
    pg.paragraph(
        "VaR and ES are shortfalls below the report's forecast: VaR 95% is how far the "
        "5% quantile lies below the forecast, ES 95% the average shortfall of the worst "
        "5% of paths. P(loss) is the probability of a negative net profit "
        "attributable.",
        size=8,
    )
    pg.heading(
        f"Implied price per share ({cur}/share) against the market price {sc.market_price:,.2f}"
    )
    cols = [("method", 1.6, "left")] + [
        (f"{y} {what}", 1.0, "right") for y in years for what in ("median", "P(>market)")
    ]
    rows = []
    for label, per_year in h["valuation"].items():
        zero = [1.0 - r["defined"] for r in per_year]
        # the share of paths where the multiple gives no value (0), beside its numbers
        shown = label if max(zero) <= 0 else f"{label} (0 on {_shares(zero)})"
        row = [shown]
        for r in per_year:
            row += [_num(r["median"], 2), _pct(r["p_above_market"])]
        rows.append(row)
    pg.table(cols, rows)
    caveats = valuation_caveats(sc)
    pg.paragraph(
        "What each method assumes. "
        + " ".join(f"{label}: {caveats[name]}." for name, label in charts.PRICE_LABELS.items())
        + " A multiple whose base (EPS, EBITDA) is not positive gives 0 on that path, counted "
        "in the medians and probabilities.",
        size=8,
    )
    return pg.pages


_RISK_ROWS = [
    ("p_loss", "P(loss): net profit attributable < 0", "pct"),
    ("forecast", "report forecast (CNY m)", "num"),
    ("p_miss_forecast", "P(miss forecast)", "pct"),
    ("VaR0.95", "VaR 95% below forecast (CNY m)", "num"),
    ("ES0.95", "ES 95% below forecast (CNY m)", "num"),
    ("VaR0.99", "VaR 99% below forecast (CNY m)", "num"),
    ("ES0.99", "ES 99% below forecast (CNY m)", "num"),
    ("p_price_ps_above_market", "P(P/S price > market)", "pct"),
    ("p_price_pe_above_market", "P(P/E price > market)", "pct"),
    ("p_price_ev_ebitda_above_market", "P(EV/EBITDA price > market)", "pct"),
    ("p_price_dcf_above_market", "P(staged DCF price > market)", "pct"),
]


def _shares(values: Iterable[float]) -> str:
    """Shares of paths, one per year: ``75/71/67% of paths`` (``<1`` for a share that is not
    0 but rounds to it)."""
    return "/".join("<1" if 0 < v < 0.005 else f"{100 * v:.0f}" for v in values) + "% of paths"


def _risk_pages(result: SimulationResult) -> list[Figure]:
    risk = result.risk_metrics()
    cur = result.scenario.currency or "CNY"
    pg = _Pages(result, "risk table")
    pg.paragraph(
        f"From the run's {result.n_paths:,} paths (also in risk.csv and the workbook). "
        "Probabilities are shown with their 95% "
        "Monte Carlo interval (± 1.96 standard errors). VaR and expected shortfall (ES) "
        "measure the shortfall of net profit attributable below the report's forecast "
        "(positive = below).",
        size=8.5,
    )
    cols = [("metric", 3.0, "left")] + [(str(y), 1.4, "right") for y in risk.index]
    rows = []
    for key, label, kind in _RISK_ROWS:
        if key not in risk.columns:
            continue
        row = [label.replace("CNY", cur)]
        for name, base in MULTIPLE_BASE.items():
            base = base.upper()
            zero = result.undefined_share(name)
            if key == f"p_{name}_above_market" and zero.max() > 0:
                row[0] += f" ({base} <= 0, price 0, on {_shares(zero)})"
        for year in risk.index:
            v = risk.loc[year, key]
            se = risk.loc[year, key + "_se"] if key + "_se" in risk.columns else None
            row.append(_pct(v, se) if kind == "pct" else _num(v))
        rows.append(row)
    pg.table(cols, rows)
    outputs = [
        ("revenue", f"revenue ({cur} m)", 1),
        ("net_profit_attributable", f"net profit attributable ({cur} m)", 1),
        ("eps", f"EPS ({cur})", 2),
        ("price_ps", f"P/S price ({cur}/share)", 2),
        ("price_pe", f"P/E price ({cur}/share)", 2),
        ("price_ev_ebitda", f"EV/EBITDA price ({cur}/share)", 2),
        ("price_dcf", f"staged DCF price ({cur}/share)", 2),
        ("dcf_terminal_share", "terminal value, share of the DCF's enterprise value", 0),
    ]
    s = result.summary(outputs=[o[0] for o in outputs], q=(0.05, 0.5, 0.95))
    pg.heading("Key outputs per year: mean ± Monte Carlo standard error; median [5%, 95%]")
    years = result.years
    cols = [("output", 1.9, "left")] + [
        (f"{y} {what}", wt, "right")
        for y in years
        for what, wt in (("mean", 1.0), ("median [5%, 95%]", 1.8))
    ]
    rows = []
    for name, label, digits in outputs:
        row = [label]
        for year in years:
            g = s[(s["output"] == name) & (s["year"] == year)]
            v = dict(zip(g["statistic"], zip(g["value"], g["mcse"], strict=True), strict=True))
            if name == "dcf_terminal_share":  # a ratio, in percent: its median and band
                row.append("–")  # its mean is unstable: the EV can be near 0
                row.append(f"{_pct(v['q0.5'][0])} [{_pct(v['q0.05'][0])}, {_pct(v['q0.95'][0])}]")
                continue
            row.append(f"{_num(v['mean'][0], digits)} ± {_num(v['mean'][1], digits)}")
            row.append(
                f"{_num(v['q0.5'][0], digits)} [{_num(v['q0.05'][0], digits)}, "
                f"{_num(v['q0.95'][0], digits)}]"
            )
        defined = s.loc[s["output"] == name, "defined"].min()
        zero = result.undefined_share(name).max()
        if zero > 0 and name in ("price_pe", "price_ev_ebitda"):
            row[0] += f" (0 on ≤ {_shares([zero])}, included)"
        elif name == "dcf_terminal_share" and defined < 1:
            row[0] += f" (where the EV > 0: ≥ {defined:.0%} of paths)"
        elif defined < 1:
            row[0] += f" (defined on ≥ {defined:.0%} of paths)"
        rows.append(row)
    pg.table(cols, rows)
    caveats = valuation_caveats(result.scenario)
    pg.paragraph(
        "What each valuation assumes. "
        + " ".join(f"{label}: {caveats[name]}." for name, label in charts.PRICE_LABELS.items())
        + " Where EPS or EBITDA <= 0 the multiple gives a price of 0: those paths count as 0 "
        "in every median, quantile and probability (none is dropped).",
        size=8,
    )
    return pg.pages


def _fmt_base(base: Iterable[float]) -> str:
    vals = [f"{b:g}" for b in base]
    return vals[0] if len(vals) == 1 else " / ".join(vals)


def _assumption_pages(result: SimulationResult) -> list[Figure]:
    sc = result.scenario
    cur = sc.currency or "CNY"
    pg = _Pages(result, "assumptions")
    pg.paragraph(
        "Every random input of the model with its distribution and rationale, as read from the "
        "scenario. A driver's value in year t is base[t] + X (mode add) or base[t] × X (mode "
        "mul), X drawn from the distribution; persistence is the AR(1) coefficient of its normal "
        "score from year to year (1 = drawn once per path).",
        size=8.5,
    )
    pg.heading(f"Segments (base year {sc.base_year}, {cur} m)")
    pg.table(
        [("segment", 1.2, "left"), ("revenue", 0.8, "right"), ("rationale", 6.0, "left")],
        [[s.name, _num(s.base_revenue), s.rationale or "–"] for s in sc.segments],
    )
    pg.heading("Drivers")
    rows = []
    for d in sc.drivers:
        rows.append(
            [
                d.name,
                _fmt_base(d.base),
                d.mode,
                repr(d.dist) + ("" if d.uncertainty is None else " (parameters drawn per path)"),
                f"{d.persistence:g}",
                d.rationale or "–",
            ]
        )
    pg.table(
        [
            ("driver", 1.5, "left"),
            ("base (per year)", 1.2, "left"),
            ("mode", 0.45, "left"),
            ("distribution", 1.9, "left"),
            ("persist.", 0.55, "right"),
            ("rationale", 3.6, "left"),
        ],
        rows,
    )
    two = [(d.name, d.uncertainty) for d in sc.drivers if d.uncertainty is not None]
    if two:
        pg.heading("Parameter uncertainty (two layers: parameters drawn once per path)")
        pg.table(
            [("driver", 1.5, "left"), ("parameters", 3.1, "left"), ("rationale", 4.6, "left")],
            [[name, u.describe(), u.rationale or "–"] for name, u in two],
        )
    if sc.peers:
        used = "used as the centre" if sc.multiples_centre == "peers" else "not used: market"
        pg.heading(f"Peer multiples ({used})")
        pg.table(
            [
                ("peer", 1.3, "left"),
                ("P/S", 0.6, "right"),
                ("P/E", 0.6, "right"),
                ("EV/EBITDA", 0.8, "right"),
                ("date", 0.9, "left"),
                ("source", 2.4, "left"),
                ("rationale", 2.6, "left"),
            ],
            [
                [
                    p.name,
                    *("–" if v is None else f"{v:,.3g}" for v in (p.ps, p.pe, p.ev_ebitda)),
                    p.date,
                    p.source,
                    p.rationale or "–",
                ]
                for p in sc.peers
            ],
        )
    if sc.correlation_labels:
        pg.heading(f"Correlation ({sc.correlation_kind}, {sc.copula} copula)")
        labels = list(sc.correlation_labels)
        corr = np.asarray(sc.correlation)
        cols = [("", 1.6, "left")] + [(lab, 1.0, "right") for lab in labels]
        rows = [
            [lab] + [f"{corr[i, j]:.2f}" for j in range(len(labels))]
            for i, lab in enumerate(labels)
        ]
        if len(labels) <= 12:
            pg.table(cols, rows)
        else:
            pg.paragraph(f"{len(labels)} labelled drivers: " + ", ".join(labels))
    pg.heading("Risk shocks (events)")
    pg.table(
        [
            ("shock", 1.6, "left"),
            ("P / year", 0.7, "right"),
            ("severity", 1.8, "left"),
            ("on", 0.35, "left"),
            ("rationale", 5.0, "left"),
        ],
        [
            [
                s.name,
                f"{s.probability:.1%}",
                repr(s.severity),
                "yes" if s.enabled else "no",
                s.rationale or "–",
            ]
            for s in sc.shocks
        ],
    )
    pg.heading("Shock effects: value in a year = size × severity × profile[years since the event]")
    rows = []
    for s in sc.shocks:
        for e in s.effects:
            target = e.target + (f" [{', '.join(e.segments)}]" if e.segments else "")
            rows.append(
                [
                    s.name,
                    target,
                    f"{e.size:+g}",
                    ", ".join(f"{x:g}" for x in e.profile),
                    "–" if math.isinf(e.cap) else f"{e.cap:g}",
                    getattr(e, "rationale", "") or "–",
                ]
            )
    pg.table(
        [
            ("shock", 1.6, "left"),
            ("target", 1.9, "left"),
            ("size", 0.75, "right"),
            ("profile", 0.9, "left"),
            ("cap", 0.5, "right"),
            ("rationale", 3.75, "left"),
        ],
        rows,
    )
    notes = {k: v for k, v in (sc.notes or {}).items() if v}
    pg.heading("The balance sheet, capital and financing inputs (deterministic)")
    rows = []
    for key, (kind, _rng) in SCHEDULE_DOMAINS.items():
        value = getattr(sc, key)
        if kind == "optional" and value is None:
            text = "each path's own last-year value, held"
        elif kind != "per_year":
            text = f"{value:,.6g}"
        elif value:
            text = " / ".join(f"{v:,.6g}" for v in value)
        else:
            text = "held at its opening balance"
        rows.append([key.replace("_", " "), text, str(notes.pop(key, ""))])
    pg.table([("input", 1.9, "left"), ("value", 1.5, "left"), ("rationale", 5.6, "left")], rows)
    if notes:
        pg.heading("Other notes")
        pg.table(
            [("item", 1.4, "left"), ("note", 7.0, "left")], [[k, str(v)] for k, v in notes.items()]
        )
    return pg.pages


def _compact(value: object) -> str:
    if isinstance(value, dict):
        return "\n".join(
            f"{k}: {_compact(v)}"
            if not isinstance(v, dict)
            else f"{k}: {json.dumps(v, default=str)}"
            for k, v in value.items()
        )
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "\n".join(json.dumps(v, default=str) for v in value)
    return json.dumps(value, default=str) if not isinstance(value, str) else value


def _manifest_pages(result: SimulationResult, manifest: dict[str, Any]) -> list[Figure]:
    pg = _Pages(result, "run manifest")
    pg.paragraph(
        "Everything needed to reproduce this run: rerunning with the same scenario "
        "(its sha256 below), paths, seed, horizon and sampling gives the same numbers.",
        size=8.5,
    )
    pg.table(
        [("key", 1.3, "left"), ("value", 8.0, "left")],
        [[k, _compact(v)] for k, v in manifest.items()],
        mono=True,
    )
    return pg.pages


def run_pages(result: SimulationResult) -> list[Figure]:
    """The pages that need only the run: the charts, the risk table and, where the run has
    them, its convergence and the backtest against reported actuals (no footers)."""
    with mpl.rc_context(charts.STYLE):
        pages = [
            charts.fan_chart_net_profit(result, figsize=PAGE),
            charts.fan_chart_valuation(result, figsize=PAGE),
            charts.distribution_net_profit(result, figsize=PAGE),
            charts.fan_chart_revenue_segments(result, figsize=PAGE),
            charts.fan_chart_financing(result, figsize=PAGE),
        ]
        pages += _risk_pages(result)
        if result.manifest.get("precision"):
            from simcore.report.precision_chart import convergence_chart

            pages.append(convergence_chart(result, figsize=PAGE))
        from simcore.analysis.backtest import backtest

        scores = backtest(result)  # the scenario's reported full-year actuals, if any
        if not scores.empty:
            from simcore.report.backtest_charts import backtest_chart

            pages.append(backtest_chart(result, scores, figsize=PAGE))
    return pages


def _around_run_pages(
    result: SimulationResult, manifest: dict[str, Any], analyses: PackAnalyses | None
) -> tuple[list[Figure], list[Figure]]:
    """The pages before :func:`run_pages` (the cover) and after them (the sensitivity pages of
    ``analyses`` when given, the assumptions, the manifest), without footers."""
    with mpl.rc_context(charts.STYLE):
        before = _cover(result, manifest, analyses)
        after = []
        if analyses is not None:
            from simcore.report.sensitivity_pages import pack_pages as sensitivity_pages

            after += sensitivity_pages(analyses, figsize=PAGE)
        after += _assumption_pages(result)
        after += _manifest_pages(result, manifest)
    return before, after


def _footer(fig: Figure, number: int, of: int, source: str = "") -> Figure:
    """Draw a page's footer on ``fig``: its page number, and above it where its numbers come
    from (a line of its own: the page's caption takes the bottom line's left side)."""
    fig.text(
        1 - _MARGIN / fig.get_figwidth(),
        0.06 / fig.get_figheight(),
        (f"numbers from {source}\n" if source else "") + f"page {number} of {of}",
        ha="right",
        va="bottom",
        multialignment="right",
        fontsize=charts.FOOTER_SIZE,
        color="0.3",
    )
    return fig


def _source(fig: Figure) -> str:
    from simcore.report.sensitivity_pages import SOURCE_NOTE

    return str(getattr(fig, SOURCE_NOTE, ""))


def _about(pages: Sequence[Figure]) -> list[list[str]]:
    """Each page's title and source note: what the contents and the footers need of it."""
    return [[page_title(p), _source(p)] for p in pages]


def pack_pages(
    result: SimulationResult,
    manifest: dict[str, Any] | None = None,
    analyses: PackAnalyses | None = None,
) -> list[Figure]:
    """The pack's pages as figures, as :func:`write_pack` prints them: the title page and
    contents, the cover, the :func:`run_pages`, the sensitivity pages of ``analyses`` when
    given, the assumptions and the manifest, each with its footer."""
    manifest = result.manifest if manifest is None else manifest
    before, after = _around_run_pages(result, manifest, analyses)
    pages = [*before, *run_pages(result), *after]
    with mpl.rc_context(charts.STYLE):  # user text drawn literally (no mathtext)
        pages = [_title_page(result, [page_title(p) for p in pages]), *pages]
    return [_footer(fig, i, len(pages), _source(fig)) for i, fig in enumerate(pages, 1)]


def draw_run_pages(result: SimulationResult) -> Background:
    """:func:`run_pages` built and drawn to PDF (without footers) in the background, for
    :func:`write_pack`'s ``run_drawing``: start it as soon as the run is done, and the pages
    are drawn while the caller computes the analyses."""
    from simcore.io.background import Background

    def draw() -> dict[str, bytes]:
        pages = run_pages(result)
        return {"pdf": _pdf(pages), "pages": json.dumps(_about(pages)).encode()}

    return Background(draw, "drawing the pack's charts")


def write_pack(
    result: SimulationResult,
    path: StrPath,
    *,
    manifest: dict[str, Any] | None = None,
    analyses: PackAnalyses | None = None,
    run_drawing: Background | None = None,
) -> Path:
    """Write the committee pack of ``result`` to ``path`` (PDF), atomically (a temporary file in
    the same directory, fsynced, then renamed over ``path``). ``manifest`` (default
    ``result.manifest``) is what the last pages print. ``analyses``: a
    :class:`~simcore.analysis.pack_analyses.PackAnalyses` for the sensitivity pages (computed
    by the caller: ``pack_analyses(result)``); without it the pack has none. ``run_drawing``:
    :func:`draw_run_pages` of ``result`` if the caller started it (else it starts here).
    The pages are those of :func:`pack_pages`, drawn in parts side by side (the run's pages
    and half of the others in forked child processes where
    :func:`simcore.io.background.can_fork`) and joined, with the footers drawn over them and
    one bookmark per section; the bytes are the same either way. Returns the path."""
    path = Path(path)
    manifest = result.manifest if manifest is None else manifest
    with run_drawing or draw_run_pages(result) as drawing:
        before, after = _around_run_pages(result, manifest, analyses)
        ours = render_pages([*before, *after])
        drawn = drawing.result()
    about = _about(before) + json.loads(drawn["pages"]) + _about(after)
    with mpl.rc_context(charts.STYLE):  # user text drawn literally (no mathtext)
        title = _title_page(result, [t for t, _ in about])
        about.insert(0, [page_title(title), ""])
        front = _pdf([title])
        n = len(about)
        overlays = [  # drawn over the pages: no background
            _footer(Figure(figsize=PAGE), i, n, source) for i, (_, source) in enumerate(about, 1)
        ]
        footers = _pdf(overlays, transparent=True)
    marks = _sections([t for t, _ in about], result.scenario.name)
    from simcore.io.files import atomic_write

    def write(fh: IO[bytes]) -> None:
        fh.write(_joined(front, drawn["pdf"], ours, len(before), footers, marks))

    return atomic_write(path, write)


def _pdf(pages: Sequence[Figure], *, transparent: bool = False) -> bytes:
    buf = io.BytesIO()
    with mpl.rc_context(charts.STYLE), PdfPages(buf, metadata=dict(_PDF_METADATA)) as pdf:
        for fig in pages:
            pdf.savefig(fig, transparent=transparent)
    return buf.getvalue()


def render_pages(pages: Sequence[Figure]) -> list[bytes]:
    """``pages`` as PDF documents of consecutive pages (the first half, the second half),
    drawn side by side: the second half in a forked child process where
    :func:`simcore.io.background.can_fork`, else one after the other; the bytes are the same
    either way. :func:`_joined` joins them."""
    from simcore.io.background import Background

    half = (len(pages) + 1) // 2
    if half == len(pages):  # one page or none: nothing to share
        return [_pdf(pages)] if pages else []
    with Background(lambda: {"pdf": _pdf(pages[half:])}, "drawing the pack's pages") as later:
        first = _pdf(pages[:half])
        return [first, later.result()["pdf"]]


def page_title(fig: Figure) -> str:
    """A page's title: its suptitle, else its first line of text (a text page's heading);
    the title page's is "Title and contents"."""
    if getattr(fig, _TITLE_PAGE, False):
        return _CONTENTS
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text():
        return str(sup.get_text())
    return str(fig.texts[0].get_text()) if fig.texts else ""


def sections(pages: Sequence[Figure], company: str = "") -> list[tuple[str, int]]:
    """``(title, first page index)`` of each run of pages with the same title, without the
    ``company`` name in front (what the contents and the PDF bookmarks list)."""
    return _sections([page_title(fig) for fig in pages], company)


def _sections(titles: Sequence[str], company: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for i, title in enumerate(titles):
        if company and title.startswith(company) and title != _CONTENTS:
            rest = title[len(company) :]
            title = rest.split(": ", 1)[1] if ": " in rest[:40] else rest
        title = title.strip()
        title = title[:1].upper() + title[1:]
        if not out or out[-1][0] != title:
            out.append((title, i))
    return out


def _joined(
    front: bytes,
    run: bytes,
    ours: Sequence[bytes],
    n_before: int,
    footers: bytes,
    marks: list[tuple[str, int]],
) -> bytes:
    """One PDF (pypdf): the title page ``front``, the first ``n_before`` pages of ``ours``
    (PDFs of consecutive pages), the ``run`` pages, the rest of ``ours``; with the pages of
    ``footers`` drawn over them one by one and one bookmark per section of ``marks``, opening
    on the bookmarks pane."""
    from pypdf import PdfReader, PdfWriter

    def pages(doc: bytes) -> list[Any]:
        return list(PdfReader(io.BytesIO(doc)).pages)

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(front)))
    mine = [page for doc in ours for page in pages(doc)]
    for page in [*mine[:n_before], *pages(run), *mine[n_before:]]:
        writer.add_page(page)
    for page, footer in zip(writer.pages, pages(footers), strict=True):
        page.merge_page(footer)
    for title, index in marks:
        writer.add_outline_item(title=title, page_number=index)
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _title_page(result: SimulationResult, titles: Sequence[str]) -> Figure:
    """Page 1: the company, the question, what was run, and the contents with page numbers
    of the pages after it, by their ``titles`` (the title page is page 1, so the others
    start at 2)."""
    sc = result.scenario
    years = result.years
    fig = Figure(figsize=PAGE)
    w, h = PAGE
    fig.text(_MARGIN / w, 1 - 1.1 / h, f"{sc.name} ({sc.ticker})", fontsize=26, fontweight="bold")
    fig.text(
        _MARGIN / w,
        1 - 1.65 / h,
        f"How uncertain is the {years[0]}–{years[-1]} forecast? An investment committee pack",
        fontsize=15,
    )
    m = result.manifest
    run = (
        f"{result.n_paths:,} simulated paths, seed {charts.seed_label(m)}; market price "
        f"{sc.market_price:,.2f} {sc.currency} on {sc.market_date}; source: "
        f"{sc.source or charts.DEFAULT_SOURCE}"
    )
    fig.text(
        _MARGIN / w,
        1 - 1.98 / h,
        "\n".join(_wrap(run, w - 2 * _MARGIN, 9)),  # a long source wraps within the page
        fontsize=9,
        color="0.3",
        va="top",
    )
    fig.text(_MARGIN / w, 1 - 2.8 / h, "Contents", fontsize=12, fontweight="bold")
    y = 3.15
    for title, index in _sections(titles, sc.name):
        fig.text(_MARGIN / w, 1 - y / h, title, fontsize=9.5)
        fig.text(0.62, 1 - y / h, str(index + 2), fontsize=9.5, ha="right")
        y += 0.24
    setattr(fig, _TITLE_PAGE, True)
    return fig


_TITLE_PAGE = "simcore_title_page"  # the attribute that marks the title page
_CONTENTS = "Title and contents"  # its title
