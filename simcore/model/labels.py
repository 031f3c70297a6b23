"""Plain names for what charts and pages show: a driver, shock, segment, stress or output as a
reader calls it ("AI cloud revenue growth", not ``growth.ai_cloud``).

:func:`label` gives the scenario's own ``label`` where the file has one, else one made from the
name by the model's naming rules (``growth.<segment>``, ``margin.<segment>``, ``ratio.<line>``,
``fixed_growth.<line>``, ``multiple.<kind>``, ``shock.<name>`` as the analyses name shocks).
Code names stay in the appendix (the assumptions tables and the manifest). The analyses put
the labels of what they measure in their ``attrs`` for the charts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario

__all__ = ["label", "labels"]

_WORDS = {"ai": "AI", "rnd": "R&D", "it": "IT", "hpc": "HPC", "gpu": "GPU", "cpu": "CPU"}
_FIXED = {
    "capex_intensity": "capex per unit of revenue growth",
    "interest_rate": "interest rate",
    "tax_rate": "tax rate",
    "wacc": "discount rate (WACC)",
    "terminal_growth": "terminal growth",
    "ratio.selling": "selling expense ratio",
    "ratio.admin": "admin expense ratio",
    "ratio.rnd": "R&D expense ratio",
    "ratio.taxes_surcharges": "taxes and surcharges ratio",
    "ratio.impairment": "credit impairment ratio",
    "multiple.ps": "P/S multiple",
    "multiple.pe": "P/E multiple",
    "multiple.ev_ebitda": "EV/EBITDA multiple",
    "copula.mixing": "the Student-t copula's common draw",
    "correlated drivers": "the correlated drivers together",
}
_OUTPUTS = {
    "net_profit_attributable": "net profit attributable",
    "eps": "EPS",
    "price_ps": "P/S implied price",
    "price_pe": "P/E implied price",
    "price_ev_ebitda": "EV/EBITDA implied price",
    "price_dcf": "DCF implied price",
    "dcf_terminal_share": "DCF terminal-value share",
    "fcf": "free cash flow",
    "roic": "ROIC",
    "ebitda": "EBITDA",
}


# the analyses' factor of a driver's parameter rows (two-layer uncertainty)
PARAMETERS_PREFIX = "parameters."


def words(name: str) -> str:
    """``ai_cloud`` -> ``AI cloud``: underscores to spaces, known abbreviations in capitals."""
    return " ".join(_WORDS.get(w, w) for w in name.replace("_", " ").split())


def label(scenario: Scenario, name: str) -> str:
    """What a reader calls the driver, shock, segment, stress or output ``name`` of
    ``scenario``."""
    for group in (scenario.drivers, scenario.shocks, scenario.segments, scenario.stresses):
        for item in group:
            if item.name == name and item.label:
                return item.label
    if name.startswith("shock."):
        shock = name.split(".", 1)[1]
        return label(scenario, shock) + " (risk)"
    if name.startswith(PARAMETERS_PREFIX):
        return label(scenario, name.removeprefix(PARAMETERS_PREFIX)) + " (parameters)"
    if name in _FIXED:
        return _FIXED[name]
    if name in _OUTPUTS:
        return _OUTPUTS[name]
    kind, _, rest = name.partition(".")
    segment = label(scenario, rest) if rest in scenario.segment_names else words(rest)
    if kind == "growth" and rest:
        return f"{segment} revenue growth"
    if kind == "margin" and rest:
        return f"{segment} gross margin"
    if kind == "fixed_growth" and rest:
        return f"growth of fixed {words(rest)} costs"
    if kind == "revenue" and rest:
        return f"{segment} revenue"
    return words(name)


def labels(scenario: Scenario, names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``{name: label}`` for ``names``."""
    return {n: label(scenario, n) for n in names}
