"""A scenario in words: its assumptions as Markdown tables and its deterministic statement.

:func:`assumptions_markdown` writes every segment, driver, correlation, shock and schedule of a
scenario with its rationale; ``docs/model.md`` embeds the default's tables and a test checks
they are current, so the documentation cannot drift from the file.

:func:`deterministic_statement` runs :func:`simcore.model.equations.evaluate` with every variance
set to zero (add-mode deviations 0, mul-mode multipliers 1) and every shock off: the
scenario's central path, which for the default reproduces the sell-side report's forecast.

``python -m simcore.io.assumptions [scenario.toml]`` prints both (the default scenario if no file).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from simcore.io.scenario_file import _SCHEDULES, default_scenario, load_scenario
from simcore.model.equations import evaluate
from simcore.model.scenario import Scenario, extend

if TYPE_CHECKING:
    from distributions import Distribution

__all__ = [
    "STATEMENT_LINES",
    "assumptions_markdown",
    "deterministic_statement",
    "statement_markdown",
]

# Income-statement lines of :func:`deterministic_statement`, in the report's order.
STATEMENT_LINES = {
    "revenue": "revenue",
    "cost_of_revenue": "cost of revenue",
    "taxes_surcharges": "taxes and surcharges",
    "selling": "selling expense",
    "admin": "admin expense",
    "rnd": "R&D expense",
    "financial": "financial expense",
    "impairment": "credit impairment (loss)",
    "other_income": "other income + disposal gain",
    "operating_profit": "operating profit",
    "non_operating": "non-operating income",
    "profit_before_tax": "profit before tax",
    "income_tax": "income tax",
    "net_profit": "net profit",
    "net_profit_attributable": "net profit attributable",
    "eps": "EPS",
}


def deterministic_drivers(scenario: Scenario) -> dict[str, np.ndarray]:
    """Every driver at its base: ``{name: float64[1, H]}`` (deviation 0 / multiplier 1)."""
    H = scenario.horizon
    return {d.name: extend(d.base, H)[None, :] for d in scenario.drivers}


def deterministic_statement(scenario: Scenario) -> dict[str, np.ndarray]:
    """The income statement with zero variance and no shocks: ``{line: float64[H]}``."""
    sc = scenario
    H = sc.horizon
    drivers = deterministic_drivers(sc)
    hits = {s.name: np.zeros((1, H)) for s in sc.shocks}
    severity = {s.name: np.ones((1, H)) for s in sc.shocks}
    out = evaluate(sc, drivers, hits, severity)
    revenue = out["revenue"][0]
    debt = extend(sc.debt, H)
    debt_prev = np.concatenate([[sc.debt_base], debt[:-1]])

    def ratio(name: str) -> np.ndarray:
        return revenue * drivers[name][0]

    return {
        "revenue": revenue,
        "cost_of_revenue": revenue - out["gross_profit"][0],
        "taxes_surcharges": ratio("ratio.taxes_surcharges"),
        "selling": ratio("ratio.selling"),
        "admin": ratio("ratio.admin"),
        "rnd": ratio("ratio.rnd"),
        "financial": drivers["interest_rate"][0] * 0.5 * (debt_prev + debt),
        "impairment": ratio("ratio.impairment"),
        "other_income": extend(sc.other_income, H),
        "operating_profit": out["operating_profit"][0],
        "non_operating": extend(sc.non_operating, H),
        "profit_before_tax": out["profit_before_tax"][0],
        "income_tax": out["profit_before_tax"][0] - out["net_profit"][0],
        "net_profit": out["net_profit"][0],
        "net_profit_attributable": out["net_profit_attributable"][0],
        "eps": out["eps"][0],
        "price_ps": out["price_ps"][0],
        "price_pe": out["price_pe"][0],
        "price_dcf": out["price_dcf"][0],
    }


def _g(x: float) -> str:
    return f"{x:.6g}"


def _values(values: Iterable[float]) -> str:
    return " / ".join(_g(v) for v in values)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def _dist(dist: Distribution) -> str:
    inner = ", ".join(f"{k}={_g(v)}" for k, v in dist.to_dict().items() if k != "family")
    return f"{dist.family}({inner})"


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
        f"| `{d.name}` | {_values(d.base)} | {d.mode} | {_dist(d.dist)} | "
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
        f"| `{s.name}` | {_g(s.probability)} | {_dist(s.severity)} | {_cell(s.rationale)} |"
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
                if e.target in ("growth", "churn")
                else ""
            )
            cap = "" if np.isinf(e.cap) else _g(e.cap)
            out.append(
                f"| `{s.name}` | `{e.target}` | {_g(e.size)} | {_values(e.profile)} | "
                f"{segs} | {cap} | {_cell(e.rationale)} |"
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
        text = _g(value) if kind == "scalar" else _values(value)
        if key == "debt":
            text = f"{_g(sc.debt_base)} -> {text}"
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
