"""What the kernel reads and writes, declared once: outputs, driver roles, shock targets and
schedule rows. The order of each tuple is the kernel's index order; the indices the kernel and
the compiler use (``OUT``, ``ROLE``, ``TARGET``, ``SCHED``) are derived from it here, so adding
a name is one edit. The limits every value must respect are in :mod:`simcore.model.limits`."""

from __future__ import annotations

from collections.abc import Iterable

FIXED_DRIVERS = (
    "gross_margin",
    "ratio.taxes_surcharges",
    "ratio.selling",
    "ratio.admin",
    "ratio.rnd",
    "ratio.impairment",
    "interest_rate",
    "tax_rate",
    "multiple.ps",
    "multiple.pe",
    "wacc",
    "terminal_growth",
)

# What a shock effect can act on. ``value`` is the effect in a year (size * severity * profile):
SHOCK_TARGETS = {
    "growth": "added to the growth of the listed segments (e.g. -0.2 = 20 points lower)",
    "churn": "fraction of the listed segments' revenue lost that year",
    "gross_margin": "added to the gross margin",
    "ratio.selling": "added to the selling-expense ratio",
    "ratio.admin": "added to the admin-expense ratio",
    "ratio.rnd": "added to the R&D ratio",
    "one_off_loss": "one-off loss as a fraction of the previous year's total revenue",
    "multiple": "valuation multiples (P/S, P/E) are multiplied by (1 - value)",
    "wacc": "added to the DCF discount rate",
}

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
    "price_dcf",
)

# rows of the deterministic schedule table (``CompiledScenario.sched``)
SCHED_ROWS = (
    "debt",
    "debt_prev",
    "other_income",
    "non_operating",
    "minority_share",
    "da_ratio",
    "capex_ratio",
    "net_debt",
)


def _index(names: Iterable[str]) -> dict[str, int]:
    return {name: i for i, name in enumerate(names)}


OUT = _index(OUTPUTS)  # output name -> row of the kernel's ``out``
ROLE = _index(FIXED_DRIVERS)  # fixed role -> position in ``CompiledScenario.roles``
TARGET = _index(SHOCK_TARGETS)  # shock target -> code in ``CompiledScenario.eff_target``
SCHED = _index(SCHED_ROWS)  # schedule -> row of ``CompiledScenario.sched``
