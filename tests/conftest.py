"""Shared fixtures: a small company built in Python (independent of the TOML loader); the two
tiers of the suite.

``python -m pytest`` runs the fast tier (well under two minutes on two cores): everything but
the tests marked ``integration`` (real processes: the CLI, signals, notebooks, Dask clusters,
the benchmark smoke run, numba's cache across processes, mypy) and ``slow`` (statistical tests
on 1e6 draws). ``python -m pytest --all`` runs every test; CI and the README do.
"""

import numpy as np
import pytest

from distributions import LogNormal, Normal, TruncatedNormal
from simcore.model.scenario import Driver, Effect, Scenario, Segment, Shock


def make_toy(horizon: int = 3, **changes) -> Scenario:
    """Two segments, every driver a Normal, two shocks touching every kind of target."""

    def n(s):
        return Normal(0.0, s)

    drivers = (
        Driver("growth.a", (0.3, 0.25, 0.2), n(0.1), persistence=0.5),
        Driver("growth.b", (0.1,), n(0.05), persistence=0.3),
        Driver("margin.a", (0.5,), n(0.02)),
        Driver("margin.b", (0.45, 0.44), n(0.03), persistence=0.6),
        Driver("ratio.taxes_surcharges", (0.003,), n(1e-4)),
        Driver("ratio.selling", (0.12,), n(0.01)),
        Driver("ratio.admin", (0.04,), n(0.005)),
        Driver("ratio.rnd", (0.05,), n(0.005)),
        Driver("fixed_growth.selling", (0.05,), n(0.01)),
        Driver("fixed_growth.admin", (0.08,), n(0.02)),
        Driver("fixed_growth.rnd", (0.1,), n(0.02)),
        Driver("ratio.impairment", (0.006,), n(1e-3)),
        Driver("capex_intensity", (0.6, 0.5), n(0.1), persistence=0.5),
        Driver("interest_rate", (0.04,), n(0.005)),
        Driver("tax_rate", (0.08,), n(0.01)),
        Driver("multiple.ps", (8.0,), LogNormal(-0.005, 0.1), mode="mul"),
        Driver("multiple.pe", (200.0,), LogNormal(-0.005, 0.1), mode="mul"),
        Driver("multiple.ev_ebitda", (20.0,), LogNormal(-0.005, 0.1), mode="mul"),
        Driver("wacc", (0.09,), TruncatedNormal(0, 0.005, -0.02, 0.02), persistence=1.0),
        Driver("terminal_growth", (0.03,), TruncatedNormal(0, 0.003, -0.01, 0.01), persistence=1.0),
    )
    shocks = (
        Shock(
            "tech",
            0.2,
            LogNormal(-0.045, 0.3),
            (  # mean severity exactly 1
                Effect("growth", -0.2, (1, 0.5, 0.25), ("a",)),
                Effect("gross_margin", -0.02, (1, 1)),
                Effect("capex_intensity", 0.2, (1,)),
                Effect("multiple", 0.2, (1, 0.5)),
            ),
        ),
        Shock(
            "leak",
            0.1,
            LogNormal(-0.125, 0.5),
            (
                Effect("one_off_loss", 0.02, (1,), cap=0.05),
                Effect("churn", 0.05, (0, 1), ("b",)),
                Effect("ratio.admin", 0.01, (1, 1)),
                Effect("wacc", 0.01, (1,)),
            ),
        ),
    )
    sc = Scenario(
        name="toy",
        ticker="TOY",
        currency="CNY",
        base_year=2024,
        horizon=horizon,
        segments=(Segment("a", 100.0), Segment("b", 50.0)),
        drivers=drivers,
        correlation_labels=("growth.a", "growth.b", "margin.a"),
        correlation=np.array([[1, 0.6, 0.3], [0.6, 1, 0.2], [0.3, 0.2, 1.0]]),
        shocks=shocks,
        # the opening balance sheet: assets 230 = liabilities 130 + equity 90 + minority 10
        opening_cash=50.0,
        opening_receivables=20.0,
        opening_inventory=10.0,
        opening_other_current_assets=10.0,
        opening_fixed_assets=120.0,
        opening_other_noncurrent_assets=20.0,
        opening_debt=80.0,
        opening_payables=15.0,
        opening_other_current_liabilities=30.0,
        opening_other_noncurrent_liabilities=5.0,
        opening_equity=90.0,
        opening_minority_equity=10.0,
        useful_life=5.0,
        remaining_life=4.0,
        other_income=(5,),
        non_operating=(1,),
        minority_share=(0.01,),
        fixed_selling=5.0,
        fixed_admin=6.0,
        fixed_rnd=4.0,
        maintenance_capex=(0.05,),
        receivables_ratio=(0.13,),
        inventory_ratio=(0.1,),
        other_current_assets_ratio=(0.07,),
        payables_ratio=(0.1,),
        other_current_liabilities_ratio=(0.2,),
        other_noncurrent_assets=(22.0, 24.0),
        other_noncurrent_liabilities=(5.0, 4.0),
        repayment=(15.0, 10.0),
        minimum_cash=(20.0,),
        dividend_payout=(0.2,),
        sweep=0.5,
        terminal_roic=0.1,
        tax_loss_carryforward=10.0,
        shares=50.0,
        market_price=20.0,
        market_date="2025-01-01",
    )
    if changes:
        import dataclasses

        sc = dataclasses.replace(sc, **changes)
    return sc


@pytest.fixture
def toy():
    return make_toy()


TIERS = ("integration", "slow")  # markers left out of the fast default tier


def pytest_addoption(parser):
    parser.addoption(
        "--all",
        action="store_true",
        default=False,
        help="run every test: the fast tier and the tests marked "
        f"{' or '.join(TIERS)} (what CI runs)",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--all") or config.getoption("markexpr"):
        return  # --all, or an explicit -m expression, chooses for itself
    keep, left = [], []
    for item in items:
        (left if any(item.get_closest_marker(m) for m in TIERS) else keep).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = keep


def pytest_report_header(config):
    if config.getoption("--all"):
        return "tiers: every test (--all)"
    return f"tiers: the fast tier ({' and '.join(TIERS)} tests deselected; --all runs them)"
