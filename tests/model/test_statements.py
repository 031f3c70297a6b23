"""The three statements tie on every path: the balance sheet balances, the cash flow explains the
change in cash, every roll-forward holds, on random scenarios with the shocks on."""

import dataclasses

import numpy as np
import pytest
from conftest import make_toy
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore import default_scenario, simulate
from simcore.analysis.stress import apply_stress
from simcore.model import equations as reference
from simcore.model.layout import LINES
from simcore.model.scenario import Effect, Forced, Shock, Stress, StressForce

FIXED = settings(deadline=None, derandomize=True, database=None)
TIE = 1e-9  # the tolerance, relative to total assets


@st.composite
def companies(draw):
    """The toy with a random balanced opening balance sheet, random working-capital, capital and
    financing rules, and its two shocks on (one with a capex effect) plus an upside event."""
    money = st.floats(0.0, 500.0)
    ratio = st.floats(0.0, 0.8)
    opening = {
        k: draw(money, label=k)
        for k in (
            "opening_cash",
            "opening_receivables",
            "opening_inventory",
            "opening_other_current_assets",
            "opening_fixed_assets",
            "opening_other_noncurrent_assets",
            "opening_debt",
            "opening_payables",
            "opening_other_current_liabilities",
            "opening_other_noncurrent_liabilities",
        )
    }
    minority = draw(st.floats(-20.0, 50.0), label="minority")
    assets = sum(v for k, v in opening.items() if k.endswith("assets") or "cash" in k) + (
        opening["opening_receivables"] + opening["opening_inventory"]
    )
    liabilities = (
        opening["opening_debt"]
        + opening["opening_payables"]
        + opening["opening_other_current_liabilities"]
        + opening["opening_other_noncurrent_liabilities"]
    )
    years = st.lists(st.floats(0.0, 300.0), min_size=1, max_size=4)
    up = Shock(
        "contract",
        0.3,
        make_toy().shocks[0].severity,
        (
            Effect("growth", 0.3, (1.0, 0.5), ("b",)),
            Effect("capex_intensity", 0.5, (1.0,)),
            Effect("gross_margin", -0.05, (1.0,), ("b",)),
            Effect("one_off_loss", -0.01, (1.0,)),
        ),
    )
    sc = make_toy(
        horizon=draw(st.integers(1, 8), label="horizon"),
        **opening,
        opening_minority_equity=minority,
        opening_equity=assets - liabilities - minority,
        useful_life=draw(st.floats(0.5, 20.0), label="useful_life"),
        remaining_life=draw(st.floats(0.5, 20.0), label="remaining_life"),
        maintenance_capex=(draw(st.floats(0.0, 0.2)),),
        receivables_ratio=(draw(ratio),),
        inventory_ratio=(draw(ratio),),
        other_current_assets_ratio=(draw(ratio),),
        payables_ratio=(draw(ratio),),
        other_current_liabilities_ratio=(draw(ratio),),
        other_noncurrent_assets=tuple(draw(years, label="onca")),
        other_noncurrent_liabilities=tuple(draw(years, label="oncl")),
        repayment=tuple(draw(years, label="repayment")),
        minimum_cash=(draw(st.floats(0.0, 100.0), label="minimum cash"),),
        dividend_payout=(draw(st.floats(0.0, 1.0), label="payout"),),
        sweep=draw(st.floats(0.0, 1.0), label="sweep"),
        fixed_selling=draw(money),
        tax_loss_carryforward=draw(st.floats(0.0, 100.0)),
        minority_share=(draw(st.floats(0.0, 0.5)),),
    )
    return dataclasses.replace(sc, shocks=(*sc.shocks, up))


def check_statements(sc, s):
    """Every identity of docs/model.md on the statements ``s`` ({line: (n, H)})."""
    scale = np.maximum(np.abs(s["total_assets"]), 1.0)

    def tie(a, b, what):
        gap = np.max(np.abs(a - b) / scale)
        assert gap <= TIE, (what, gap)

    tie(s["total_assets"], s["total_liabilities"] + s["equity"], "assets = liabilities + equity")
    n = s["cash"].shape[0]

    def opening(value, line):
        return np.concatenate([np.full((n, 1), value), s[line][:, :-1]], axis=1)

    tie(s["cash"] - opening(sc.opening_cash, "cash"), s["net_cash_flow"], "change in cash")
    tie(
        s["net_cash_flow"],
        s["operating_cash_flow"] + s["investing_cash_flow"] + s["financing_cash_flow"],
        "net cash flow = operating + investing + financing",
    )
    tie(
        s["fixed_assets"],
        opening(sc.opening_fixed_assets, "fixed_assets") + s["capex"] - s["depreciation"],
        "fixed assets roll forward",
    )
    tie(
        s["debt"],
        opening(sc.opening_debt, "debt") - s["repayment"] + s["borrowing"],
        "debt roll forward",
    )
    tie(
        s["equity_parent"],
        opening(sc.opening_equity, "equity_parent") + s["net_profit_attributable"] - s["dividends"],
        "equity roll forward",
    )
    tie(
        s["net_profit"],
        s["net_profit_attributable"] + s["minority_interest"],
        "net profit = attributable + minority",
    )
    tie(s["gross_profit"], s["revenue"] - s["cost_of_revenue"], "gross profit")
    tie(s["net_debt"], s["debt"] - s["cash"], "net debt")
    # the financing rule: never below the minimum cash, never negative debt or fixed assets
    min_cash = reference.extend(sc.minimum_cash, sc.horizon)
    assert (s["cash"] >= min_cash - TIE * scale).all()
    assert (s["debt"] >= -TIE * scale).all()
    assert (s["fixed_assets"] >= -TIE * scale).all()


@given(companies())
@settings(FIXED, max_examples=25)
def test_property_statements_tie_on_every_path_with_shocks_on(sc):
    r = simulate(sc, 600, seed=3, statements=True)
    assert (r.hits != 0).any()  # shocks hit
    check_statements(sc, r.statements)
    # the stored outputs are the statements' lines
    for name in ("cash", "debt", "equity", "capex", "depreciation", "ebitda", "fcf", "roic"):
        assert np.array_equal(r[name], r.statements[name], equal_nan=True), name


def test_default_statements_tie_and_match_the_reference():
    sc = default_scenario()
    r = simulate(sc, 4000, seed=8, keep_draws=True, statements=True)
    check_statements(sc, r.statements)
    hits = {s.name: r.shock_hit(s.name).astype(float) for s in sc.shocks}
    ref = reference.evaluate(sc, r.draws["drivers"], hits, r.draws["severity"])
    for line in LINES:  # the kernel computes every line as the numpy reference does
        a, b = r.statements[line], ref[line]
        assert np.array_equal(np.isnan(a), np.isnan(b)), line
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True, err_msg=line)


def test_statements_are_kept_only_on_request_and_counted_by_the_memory_check():
    sc = make_toy()
    assert simulate(sc, 10, seed=1).statements is None
    with pytest.raises(MemoryError, match="memory"):
        simulate(sc, 10_000, seed=1, statements=True, memory_limit=10_000 * 3 * 8 * 40)
    simulate(sc, 10_000, seed=1, memory_limit=10_000 * 3 * 8 * 40)  # fits without them


def test_the_dcf_deducts_each_paths_own_net_debt():
    """More opening cash (and equity, to balance) lowers every year's net debt by exactly that
    amount on paths that never borrow, and raises the DCF price by it per share."""
    sc = make_toy(minimum_cash=(0.0,), sweep=0.0)
    rich = dataclasses.replace(
        sc, opening_cash=sc.opening_cash + 100.0, opening_equity=sc.opening_equity + 100.0
    )
    a = simulate(sc, 4000, seed=2, statements=True)
    b = simulate(rich, 4000, seed=2, statements=True)
    never = (a.statements["borrowing"] == 0).all(axis=1) & (a["price_dcf"] > 0).all(axis=1)
    assert never.mean() > 0.5
    np.testing.assert_allclose(b["net_debt"][never], a["net_debt"][never] - 100.0, atol=1e-9)
    np.testing.assert_allclose(
        b["price_dcf"][never], a["price_dcf"][never] + 100.0 / sc.shares, atol=1e-9
    )


def test_a_capital_hungry_path_carries_more_debt_and_depreciation():
    """Twice the revenue growth needs more capex: more D&A, more debt (the report's fixed
    schedules could not show it)."""
    sc = make_toy(minimum_cash=(50.0,))
    fast = dataclasses.replace(
        sc,
        drivers=tuple(
            dataclasses.replace(d, base=tuple(2 * b for b in d.base))
            if d.name.startswith("growth.")
            else d
            for d in sc.drivers
        ),
    )
    a, b = (simulate(x, 2000, seed=4, statements=True).statements for x in (sc, fast))
    for line in ("revenue", "capex", "depreciation", "debt", "interest_paid"):
        assert np.median(b[line][:, -1]) > np.median(a[line][:, -1]), line


def test_events_in_both_directions_move_their_lines_and_stress_with_them():
    up = Shock(
        "contract",
        0.0,
        make_toy().shocks[0].severity,
        (Effect("growth", 0.2, (1.0,), ("a",)), Effect("capex_intensity", 0.5, (1.0,))),
    )
    sc = dataclasses.replace(make_toy(), shocks=(*make_toy().shocks, up))
    base = simulate(sc, 2000, seed=5, statements=True)
    won = apply_stress(
        dataclasses.replace(sc, stresses=(Stress("win", force=(StressForce("contract", 2025),)),)),
        "win",
    )
    assert won.shock("contract").forced == (Forced(2025, None),)
    hit = simulate(won, 2000, seed=5, statements=True)
    # every other draw is unchanged, so path by path: more revenue and more capex in 2025
    assert (hit["revenue"][:, 0] > base["revenue"][:, 0]).all()
    assert (hit.statements["capex"][:, 0] > base.statements["capex"][:, 0]).all()
    assert (hit["revenue.a"][:, 0] > base["revenue.a"][:, 0]).all()
    np.testing.assert_array_equal(hit["revenue.b"][:, 0], base["revenue.b"][:, 0])
