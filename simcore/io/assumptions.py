"""A scenario in words: its assumptions as Markdown tables and its deterministic statements.

:func:`assumptions_markdown` writes every segment, driver, correlation, shock and schedule of a
scenario with its rationale; ``docs/model.md`` embeds the default's tables and a test checks
they are current, so the documentation cannot drift from the file.

:func:`deterministic_statement` runs :func:`simcore.model.equations.evaluate` with every variance
set to zero (add-mode deviations 0, mul-mode multipliers 1) and every shock off: the
scenario's central path, which for the default reproduces the sell-side report's income
statement, balance sheet and cash flow.

``python -m simcore.io.assumptions [scenario.toml]`` prints both (the default scenario if no file).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from simcore.io.scenario_file import _SCHEDULES, default_scenario, load_scenario
from simcore.model.equations import evaluate
from simcore.model.layout import LINES, SEGMENT_TARGETS
from simcore.model.peers import apply_peers
from simcore.model.scenario import Scenario, driver_bases

if TYPE_CHECKING:
    from distributions import Distribution

__all__ = [
    "STATEMENT_LINES",
    "assumptions_markdown",
    "deterministic_statement",
    "statement_markdown",
]

# Lines of :func:`deterministic_statement` shown in the calibration table, in the report's order.
STATEMENT_LINES = {
    "revenue": "revenue",
    "cost_of_revenue": "cost of revenue",
    "taxes_surcharges": "taxes and surcharges",
    "selling": "selling expense",
    "admin": "admin expense",
    "rnd": "R&D expense",
    "financial_expense": "financial expense",
    "impairment": "credit impairment (loss)",
    "other_income": "other income + disposal gain",
    "operating_profit": "operating profit",
    "non_operating": "non-operating income",
    "profit_before_tax": "profit before tax",
    "income_tax": "income tax",
    "net_profit": "net profit",
    "net_profit_attributable": "net profit attributable",
    "eps": "EPS",
    "depreciation": "depreciation and amortisation",
    "cash": "cash",
    "debt": "borrowings",
    "fixed_assets": "fixed assets (incl. construction in progress)",
    "total_assets": "total assets",
    "total_liabilities": "total liabilities",
    "equity": "total equity",
    "operating_cash_flow": "operating cash flow",
    "investing_cash_flow": "investing cash flow",
    "financing_cash_flow": "financing cash flow",
}


def deterministic_drivers(scenario: Scenario) -> dict[str, np.ndarray]:
    """Every driver at its base: ``{name: float64[1, H]}`` (deviation 0 / multiplier 1), the
    bases the kernel uses (faded beyond the explicit years, centred on peers if chosen)."""
    sc = apply_peers(scenario)
    return {d.name: driver_bases(sc, d)[None, :] for d in sc.drivers}


def deterministic_statement(scenario: Scenario) -> dict[str, np.ndarray]:
    """The three statements with zero variance and no shocks: ``{line: float64[H]}`` for every
    line of :data:`simcore.model.layout.LINES` and ``price_dcf``."""
    sc = scenario
    H = sc.horizon
    drivers = deterministic_drivers(sc)
    hits = {s.name: np.zeros((1, H)) for s in sc.shocks}
    severity = {s.name: np.ones((1, H)) for s in sc.shocks}
    out = evaluate(sc.with_shocks(False), drivers, hits, severity)
    return {k: out[k][0] for k in (*LINES, "price_dcf", "dcf_terminal_share")}


def _g(x: float) -> str:
    return f"{x:.6g}"


def _values(values: Iterable[float]) -> str:
    return " / ".join(_g(v) for v in values)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def dist_text(dist: Distribution) -> str:
    """``Normal(loc=0, scale=0.05)`` to 6 significant digits; a family holding data or
    quantiles (Empirical, Metalog) as its own short repr."""
    spec = {k: v for k, v in dist.to_dict().items() if k != "family"}
    if any(isinstance(v, list | tuple | np.ndarray) for v in spec.values()):
        return repr(dist)
    return f"{dist.family}(" + ", ".join(f"{k}={_g(v)}" for k, v in spec.items()) + ")"


def assumptions_markdown(scenario: Scenario) -> str:
    """Markdown tables of every assumption of ``scenario`` with its rationale."""
    sc = scenario
    years = " / ".join(str(y) for y in sc.years)
    out = [
        f"Scenario **{sc.name}** ({sc.ticker}), base year {sc.base_year}, horizon "
        f"{sc.horizon} ({years}); market price {_g(sc.market_price)} on {sc.market_date}, "
        f"{_g(sc.shares)}m shares. {_cell(sc.notes.get('market', ''))}",
        "",
    ]

    out += [
        "#### Segments (base-year revenue)",
        "",
        "| segment | revenue | rationale |",
        "|---|---|---|",
    ]
    out += [f"| `{s.name}` | {_g(s.base_revenue)} | {_cell(s.rationale)} |" for s in sc.segments]

    out += [
        "",
        "#### Drivers",
        "",
        f"Per-year bases are for {years} (a shorter list repeats its last value).",
        "",
        "| driver | base | mode | deviation / multiplier | persistence | rationale |",
        "|---|---|---|---|---|---|",
    ]
    out += [
        f"| `{d.name}` | {_values(d.base)} | {d.mode} | {dist_text(d.dist)}"
        f"{'' if d.uncertainty is None else '; ' + d.uncertainty.describe()} | "
        f"{_g(d.persistence)} | {_cell(d.rationale)} |"
        for d in sc.drivers
    ]

    if sc.correlation_labels:
        labels = sc.correlation_labels
        out += [
            "",
            f"#### Correlation ({sc.copula} copula, {sc.correlation_kind})",
            "",
            "| | " + " | ".join(f"`{x}`" for x in labels) + " |",
            "|---|" + "---|" * len(labels),
        ]
        for lab, row in zip(labels, np.asarray(sc.correlation), strict=True):
            out.append(f"| `{lab}` | " + " | ".join(_g(v) for v in row) + " |")
        out += ["", f"Rationale: {_cell(sc.notes.get('correlation', ''))}"]

    out += [
        "",
        "#### Shocks",
        "",
        "| shock | probability / year | severity (multiplier) | rationale |",
        "|---|---|---|---|",
    ]
    out += [
        f"| `{s.name}` | {_g(s.probability)} | {dist_text(s.severity)} | {_cell(s.rationale)} |"
        for s in sc.shocks
    ]
    out += [
        "",
        "| shock | effect on | size | profile by lag | segments | cap | rationale |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in sc.shocks:
        for e in s.effects:
            segs = (
                ", ".join(e.segments)
                if e.segments
                else "all"
                if e.target in SEGMENT_TARGETS
                else ""
            )
            cap = "" if np.isinf(e.cap) else _g(e.cap)
            out.append(
                f"| `{s.name}` | `{e.target}` | {_g(e.size)} | {_values(e.profile)} | "
                f"{segs} | {cap} | {_cell(e.rationale)} |"
            )

    if sc.peers:
        centre = "the centre of the multiples" if sc.multiples_centre == "peers" else "not used"
        out += [
            "",
            f"#### Peers ({centre})",
            "",
            "| peer | P/S | P/E | EV/EBITDA | date | source | rationale |",
            "|---|---|---|---|---|---|---|",
        ]
        for p in sc.peers:
            vals = " | ".join("–" if v is None else _g(v) for v in (p.ps, p.pe, p.ev_ebitda))
            out.append(
                f"| `{p.name}` | {vals} | {p.date} | {_cell(p.source)} | {_cell(p.rationale)} |"
            )

    out += [
        "",
        "#### Schedules (deterministic)",
        "",
        "| schedule | values | rationale |",
        "|---|---|---|",
    ]
    for key, (field, kind, _rng, _req) in _SCHEDULES.items():
        value = getattr(sc, field)
        if kind == "optional" and value is None:
            continue  # the rule's default
        if kind in ("scalar", "integer", "optional"):
            text = _g(value)
        elif not value:
            continue  # a level held at its opening balance
        else:
            text = _values(value)
        out.append(f"| `{key}` | {text} | {_cell(sc.notes.get(key, ''))} |")
    return "\n".join(out) + "\n"


def statement_markdown(scenario: Scenario, report: dict | None = None) -> str:
    """The deterministic statement as a Markdown table, beside ``report[line]`` if given."""
    st = deterministic_statement(scenario)
    years = [str(y) for y in scenario.years]
    if report:
        head = (
            "| line | " + " | ".join(f"{y} model | {y} report" for y in years) + " | max abs diff |"
        )
        rule = "|---|" + "---:|---:|" * len(years) + "---:|"
    else:
        head = "| line | " + " | ".join(years) + " |"
        rule = "|---|" + "---:|" * len(years)
    out = [head, rule]
    for key, label in STATEMENT_LINES.items():
        fmt = "{:.3f}" if key == "eps" else "{:.1f}"
        cells = []
        ref = report.get(key) if report else None
        for t in range(scenario.horizon):
            cells.append(fmt.format(st[key][t]))
            if report:
                cells.append("" if ref is None else f"{ref[t]:g}")
        if report:
            diff = (
                ""
                if ref is None
                else fmt.format(float(np.max(np.abs(st[key] - np.asarray(ref, dtype=float)))))
            )
            cells.append(diff)
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sc = load_scenario(argv[0]) if argv else default_scenario()
    print(assumptions_markdown(sc))
    print(statement_markdown(sc))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
