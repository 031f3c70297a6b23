"""What the kernel reads and writes, declared once: outputs, statement lines, driver roles,
shock targets and schedule rows. The order of each tuple is the kernel's index order; the
indices the kernel and the compiler use (``OUT``, ``LINE``, ``ROLE``, ``TARGET``, ``SCHED``) are
derived from it here, so adding a name is one edit. The limits every value must respect are
in :mod:`simcore.model.limits`."""

from __future__ import annotations

from collections.abc import Iterable

FIXED_DRIVERS = (
    "ratio.taxes_surcharges",
    "ratio.selling",
    "ratio.admin",
    "ratio.rnd",
    "fixed_growth.selling",
    "fixed_growth.admin",
    "fixed_growth.rnd",
    "ratio.impairment",
    "capex_intensity",
    "interest_rate",
    "tax_rate",
    "multiple.ps",
    "multiple.pe",
    "multiple.ev_ebitda",
    "wacc",
    "terminal_growth",
)
# one driver of each of these per segment: ``growth.<segment>``, ``margin.<segment>``
SEGMENT_DRIVERS = ("growth", "margin")

# What a shock effect can act on. ``value`` is the effect in a year (size * severity * profile);
# its sign is the direction: a positive value raises the line, a negative one lowers it.
SHOCK_TARGETS = {
    "growth": "added to the growth of the listed segments (e.g. -0.2 = 20 points lower)",
    "churn": "fraction of the listed segments' revenue lost that year (clipped to 0..1)",
    "gross_margin": "added to the listed segments' gross margin before D&A",
    "ratio.selling": "added to the variable selling-expense ratio",
    "ratio.admin": "added to the variable admin-expense ratio",
    "ratio.rnd": "added to the variable R&D ratio",
    "one_off_loss": "one-off loss as a fraction of the previous year's revenue (negative: gain)",
    "multiple": "valuation multiples (P/S, P/E, EV/EBITDA) are multiplied by (1 - value)",
    "wacc": "added to the DCF discount rate",
    "capex_intensity": "added to the capex per unit of revenue growth",
}
# targets that act on segments (an effect may list the segments it touches)
SEGMENT_TARGETS = ("growth", "churn", "gross_margin")

# Every line the kernel computes for a path and a year (the full statements; kept per path
# only on request, ``simulate(..., statements=True)``), in the kernel's row order.
INCOME_LINES = (
    "revenue",
    "cost_of_revenue",
    "gross_profit",
    "taxes_surcharges",
    "selling",
    "admin",
    "rnd",
    "financial_expense",
    "impairment",
    "other_income",
    "operating_profit",
    "non_operating",
    "one_off_loss",
    "profit_before_tax",
    "income_tax",
    "net_profit",
    "minority_interest",
    "net_profit_attributable",
    "eps",
    "depreciation",
    "ebitda",
    "nopat",
)
BALANCE_LINES = (
    "cash",
    "receivables",
    "inventory",
    "other_current_assets",
    "fixed_assets",
    "other_noncurrent_assets",
    "total_assets",
    "debt",
    "payables",
    "other_current_liabilities",
    "other_noncurrent_liabilities",
    "total_liabilities",
    "equity_parent",
    "minority_equity",
    "equity",
)
CASH_FLOW_LINES = (
    "working_capital_change",
    "operating_cash_flow",
    "capex",
    "investing_cash_flow",
    "interest_paid",
    "dividends",
    "repayment",
    "borrowing",
    "financing_cash_flow",
    "net_cash_flow",
    "fcf",
)
VALUE_LINES = (
    "net_debt",
    "invested_capital",
    "roic",
    "price_ps",
    "price_pe",
    "price_ev_ebitda",
    "discount_rate",
    "terminal_growth",
)
LINES = INCOME_LINES + BALANCE_LINES + CASH_FLOW_LINES + VALUE_LINES

# What every run stores per path and year (``SimulationResult.outputs``): the headline lines
# and valuations. ``price_dcf`` and ``dcf_terminal_share`` are the outputs that are not
# statement lines (the kernel computes them after the last year, discounting back).
OUTPUTS = (
    "revenue",
    "gross_profit",
    "operating_profit",
    "profit_before_tax",
    "net_profit",
    "net_profit_attributable",
    "eps",
    "price_ps",
    "price_pe",
    "price_ev_ebitda",
    "price_dcf",
    "dcf_terminal_share",
    "ebitda",
    "depreciation",
    "capex",
    "fcf",
    "cash",
    "debt",
    "net_debt",
    "equity",
    "roic",
)

# rows of the deterministic schedule table (``CompiledScenario.sched``), one value per year
SCHED_ROWS = (
    "other_income",
    "non_operating",
    "minority_share",
    "maintenance_capex",
    "existing_depreciation",
    "depreciation_weight",
    "other_noncurrent_assets",
    "other_noncurrent_assets_prev",
    "other_noncurrent_liabilities",
    "other_noncurrent_liabilities_prev",
    "receivables_ratio",
    "inventory_ratio",
    "other_current_assets_ratio",
    "payables_ratio",
    "other_current_liabilities_ratio",
    "repayment",
    "minimum_cash",
    "dividend_payout",
    "capital_kept",
)


def _index(names: Iterable[str]) -> dict[str, int]:
    return {name: i for i, name in enumerate(names)}


OUT = _index(OUTPUTS)  # output name -> row of the kernel's ``out``
ROLE = _index(FIXED_DRIVERS)  # fixed role -> position in ``CompiledScenario.roles``
TARGET = _index(SHOCK_TARGETS)  # shock target -> code in ``CompiledScenario.eff_target``
SCHED = _index(SCHED_ROWS)  # schedule -> row of ``CompiledScenario.sched``
LINE = _index(LINES)  # statement line -> row of the kernel's statement buffer
