"""The nowcast (simcore.model.nowcast): a run conditioned on reported actuals.

Known answers: a full year given reproduces it exactly on every path and sets the growth state
to the reported growth's score, which carries into the next year through the AR(1) step; a part
year fixes the reported part and simulates the rest; the kernel equals the numpy oracle; actuals
published after the as-of date change nothing, byte for byte."""

import dataclasses

import numpy as np
import pytest
from conftest import make_toy
from scipy import special, stats

from distributions import TruncatedNormal
from simcore.engine import simulate
from simcore.io.scenario_file import (
    ScenarioError,
    default_scenario,
    dumps_scenario,
    loads_scenario,
)
from simcore.model.equations import simulate_reference
from simcore.model.layout import OUTPUTS
from simcore.model.nowcast import pins, seasonal_share
from simcore.model.scenario import Actual
from simcore.model.validate import validate
from simcore.report.caveats import nowcast_caveat

SD_A, PHI_A = 0.1, 0.5  # growth.a of make_toy: Normal(0, 0.1) around its base, AR(1) 0.5


def actual(name, year, values, months=12, date="2026-03-31", **kw):
    return Actual(name, year, date, "synthetic, for the test", tuple(values.items()), months, **kw)


def toy_with(*actuals, as_of="latest", **changes):
    return dataclasses.replace(make_toy(**changes), actuals=actuals).with_nowcast(as_of)


def test_a_full_year_given_is_reproduced_exactly_and_sets_the_growth_state():
    sc = toy_with(
        actual("fy25", 2025, {"revenue.a": 128.0, "revenue.b": 51.5, "gross_profit": 70.0})
    )
    now = simulate(sc, 4000, seed=5, keep_draws=True)
    plain = simulate(dataclasses.replace(sc, nowcast_as_of=""), 4000, seed=5, keep_draws=True)
    seg = now._seg
    assert (seg[0, 0] == 128.0).all() and (seg[1, 0] == 51.5).all()
    assert (now["revenue"][:, 0] == 128.0 + 51.5).all()
    assert (now["gross_profit"][:, 0] == 70.0).all()
    # the state: z* at which growth.a's 2025 value is the reported growth (28%)
    z_star = (128.0 / 100.0 - 1.0 - 0.3) / SD_A
    g_now = now.draws["drivers"]["growth.a"]
    g_plain = plain.draws["drivers"]["growth.a"]
    np.testing.assert_allclose(g_now[:, 0], 0.28, atol=1e-12)
    # 2026: z = phi z_2025 + b eps with the same eps, so the two runs differ by phi (z* - z_plain)
    z_plain = (g_plain[:, 0] - 0.3) / SD_A
    np.testing.assert_allclose(
        g_now[:, 1] - g_plain[:, 1], SD_A * PHI_A * (z_star - z_plain), atol=1e-12
    )
    # the statements still tie on every path
    st = simulate(sc, 500, seed=5, statements=True).statements
    np.testing.assert_allclose(
        st["total_assets"], st["total_liabilities"] + st["equity"], rtol=0, atol=1e-9
    )


def test_a_part_year_fixes_the_reported_part_and_simulates_the_rest():
    sc = toy_with(actual("h1", 2025, {"revenue.a": 60.0}, months=6)).with_shocks(False)
    run = simulate(sc, 3000, seed=2, keep_draws=True)
    w = 0.5  # no history: months / 12
    plain = simulate(dataclasses.replace(sc, nowcast_as_of=""), 3000, seed=2, keep_draws=True)
    own = plain.draws["drivers"]["growth.a"][:, 0]  # the path's own growth, not conditioned
    np.testing.assert_allclose(run._seg[0, 0], 60.0 + (1 - w) * 100.0 * (1 + own), rtol=1e-14)
    # the year's growth score, the state carried on, is the share-weighted mean of the
    # reported part's and the path's own; for a normal driver its growth is the realised one
    g = run.draws["drivers"]["growth.a"][:, 0]
    z_star = (60.0 / (w * 100.0) - 1.0 - 0.3) / SD_A
    np.testing.assert_allclose(
        (g - 0.3) / SD_A, w * z_star + (1 - w) * (own - 0.3) / SD_A, atol=1e-10
    )
    np.testing.assert_allclose(g, run._seg[0, 0] / 100.0 - 1.0, atol=1e-12)
    # segment b is not reported: untouched
    assert np.array_equal(run._seg[1, 0], plain._seg[1, 0])
    # the rest of the year is simulated: segment a's spread is (1 - w) of the plain one
    ratio = run._seg[0, 0].std() / plain._seg[0, 0].std()
    assert ratio == pytest.approx(1 - w, rel=1e-9)


def test_kernel_matches_the_numpy_oracle():
    sc = toy_with(
        actual("fy25", 2025, {"revenue": 181.0, "gross_profit": 75.0}, date="2026-03-01"),
        actual("q1_26", 2026, {"revenue": 47.0, "gross_profit": 18.0}, months=3, date="2026-04-30"),
        actual("q1_25", 2025, {"revenue": 41.0}, months=3, date="2025-04-30"),
    )
    run = simulate(sc, 400, seed=11)
    ref = simulate_reference(sc, 400, 11)
    for name in OUTPUTS:
        np.testing.assert_allclose(run[name], ref[name], rtol=1e-10, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(run._seg, np.moveaxis(ref["segment_revenue"], 0, -1), rtol=1e-12)
    np.testing.assert_allclose(run["revenue"][:, 0], 181.0, rtol=0, atol=1e-12)


def test_seasonal_share_rules_and_revisions():
    base = {"revenue": 150.0}
    stated = actual("q1", 2025, {"revenue": 40.0}, months=3, share=0.3)
    sc = toy_with(stated)
    assert seasonal_share(sc, stated, "revenue") == (0.3, "stated")
    hist = actual("q1_24", 2024, {"revenue": 30.0}, months=3, date="2024-04-30")
    plain = actual("q1", 2025, {"revenue": 40.0}, months=3)
    sc = toy_with(hist, plain)
    assert seasonal_share(sc, plain, "revenue") == (30.0 / base["revenue"], "history 2024")
    assert seasonal_share(toy_with(plain), plain, "revenue") == (0.25, "3/12 months")
    # a history published after the as-of date is not used
    late = dataclasses.replace(hist, date="2027-01-01")
    sc = toy_with(late, plain, as_of="2026-12-31")
    assert seasonal_share(sc, plain, "revenue")[1] == "3/12 months"
    # a revision (same year and months, later date) replaces what it revises
    rev = actual("fy25r", 2025, {"revenue": 185.0}, date="2026-06-30")
    first = actual("fy25", 2025, {"revenue": 181.0}, date="2026-03-31")
    used = pins(toy_with(first, rev))[1]
    assert sum(c.value for c in used) == pytest.approx(185.0)
    used = pins(toy_with(first, rev, as_of="2026-04-01"))[1]
    assert sum(c.value for c in used) == pytest.approx(181.0)


def test_a_total_is_split_by_the_central_forecast():
    sc = toy_with(actual("fy25", 2025, {"revenue": 175.0}))
    used = pins(sc)[1]
    parts = {c.figure: c.value for c in used}
    assert sum(parts.values()) == pytest.approx(175.0)
    # central forecast: a 100 * 1.3 = 130, b 50 * 1.1 = 55
    assert parts["revenue.a"] / parts["revenue.b"] == pytest.approx(130.0 / 55.0)
    # a segment given on its own takes its figure; the rest of the total goes to the others
    sc = toy_with(actual("fy25", 2025, {"revenue": 175.0, "revenue.b": 60.0}))
    parts = {c.figure: c.value for c in pins(sc)[1]}
    assert parts == {"revenue.b": 60.0, "revenue.a": pytest.approx(115.0)}


def test_actuals_after_the_as_of_date_change_nothing_byte_for_byte():
    later = actual("fy25", 2025, {"revenue": 175.0}, date="2026-03-31")
    sc = toy_with(later, as_of="2026-01-01")
    assert pins(sc)[1] == ()
    a = simulate(sc, 2000, seed=4)
    b = simulate(dataclasses.replace(sc, nowcast_as_of=""), 2000, seed=4)
    for name in a.names:
        assert a[name].tobytes() == b[name].tobytes(), name
    # the same bytes for any thread count, conditioned or not
    now = toy_with(later)
    one = simulate(now, 3000, seed=4, threads=1)
    two = simulate(now, 3000, seed=4, threads=2)
    assert one["net_profit_attributable"].tobytes() == two["net_profit_attributable"].tobytes()


def test_unusable_actuals_are_refused_naming_them():
    # a year-to-date growth that a bounded driver cannot reach
    sc = make_toy()
    bounded = dataclasses.replace(sc.driver("growth.a"), dist=TruncatedNormal(0.0, 0.1, -0.2, 0.2))
    drivers = tuple(bounded if d.name == "growth.a" else d for d in sc.drivers)
    bad = toy_with(actual("fy25", 2025, {"revenue.a": 200.0}), drivers=drivers)
    with pytest.raises(ScenarioError, match=r"fy25.*growth of a is 100.0%.*10.0% to 50.0%"):
        validate(bad)
    # a part year after a year that is not known for the full year
    with pytest.raises(ScenarioError, match=r"needs 2025's revenue reported for the full year"):
        validate(toy_with(actual("q1_26", 2026, {"revenue": 40.0}, months=3)))
    # segments that contradict their total
    with pytest.raises(ScenarioError, match=r"within 1% of its segments' sum"):
        validate(toy_with(actual("x", 2025, {"revenue": 200.0, "revenue.a": 120, "revenue.b": 50})))
    with pytest.raises(ScenarioError, match=r"share is for part years"):
        validate(toy_with(actual("x", 2025, {"revenue": 170.0}, share=0.5)))
    with pytest.raises(ScenarioError, match=r"share.*out of range"):
        validate(toy_with(actual("x", 2025, {"revenue": 40.0}, months=3, share=1.5)))
    with pytest.raises(ValueError, match=r"no actuals to nowcast with"):
        make_toy().with_nowcast("latest")
    with pytest.raises(ScenarioError, match=r"nowcast.as_of.*not a date"):
        validate(dataclasses.replace(make_toy(), nowcast_as_of="soon"))


def test_file_form_round_trips_and_the_default_ships_its_first_quarter():
    sc = default_scenario()
    q1 = [a for a in sc.actuals if a.months == 3]
    assert {a.year for a in q1} == {2024, 2025}
    assert sc.nowcast_as_of == ""  # the default run is not conditioned unless asked
    now = sc.with_nowcast("latest")
    validate(now)
    w, rule = seasonal_share(now, q1[-1], "revenue")
    assert w == pytest.approx(130.54 / 655.0) and rule == "history 2024"
    assert "2025 revenue 198 for 3 months, 20% of the year (history 2024)" in nowcast_caveat(now)
    text = dumps_scenario(
        dataclasses.replace(
            now,
            actuals=(
                *now.actuals,
                actual("h1", 2025, {"revenue": 400.0}, months=6, share=0.45, date="2025-08-30"),
            ),
        )
    )
    assert "[nowcast]" in text and "share = 0.45" in text
    back = loads_scenario(text)
    assert back.nowcast_as_of == now.nowcast_as_of and back.actuals[-1].share == 0.45
    with pytest.raises(ScenarioError, match=r"nowcast.*'when'"):
        loads_scenario(text.replace("as_of =", "when ="))


def test_the_reported_growth_sets_the_score_a_normal_driver_would_need():
    """z* is the normal score whose growth equals the year-to-date growth: for growth.a's
    Normal(0, 0.1) around 0.3, a reported 40% quarter (share 1/4) of 100 is 60% growth."""
    sc = toy_with(actual("q1", 2025, {"revenue.a": 40.0}, months=3))
    p = pins(sc)[0]
    f = [d.name for d in sc.drivers].index("growth.a")
    assert p.drv[0, f, 0] == 0.25
    assert p.drv[1, f, 0] == pytest.approx(special.ndtri(stats.norm.cdf(0.6 - 0.3, 0, 0.1)))


def test_a_split_total_is_reproduced_bit_for_bit():
    rng = np.random.default_rng(3)
    for total in np.round(rng.uniform(150.0, 220.0, 60), 2):
        sc = toy_with(actual("fy25", 2025, {"revenue": float(total)}))
        run = simulate(sc, 50, seed=1)
        assert (run["revenue"][:, 0] == total).all(), total


def test_revenue_comes_from_one_table_and_what_was_fixed_is_not_scored():
    from simcore.analysis.backtest import backtest, vintages

    # a first-quarter total and a half-year segment: the half year's table is used, alone
    q1 = actual("q1", 2025, {"revenue": 45.0}, months=3, date="2025-04-30")
    h1 = actual("h1", 2025, {"revenue.b": 27.0}, months=6, date="2025-08-30")
    used = pins(toy_with(q1, h1))[1]
    assert [(c.figure, c.months) for c in used] == [("revenue.b", 6)]
    # a revision published after the vintage: the vintage fixed the first figure, so the
    # revised one is no test of it
    first = actual("fy25", 2025, {"revenue": 181.0, "net_profit_attributable": 9.0})
    revised = actual("fy25r", 2025, {"revenue": 185.0}, date="2026-06-30")
    sc = dataclasses.replace(make_toy(), actuals=(first, revised))
    scores, _ = vintages(sc, ["2026-04-30"], n_paths=500, seed=1)
    assert scores.empty  # 2025 revenue was fixed; its net profit was published by then
    # undated actuals against a nowcast: the fixed figures are left out too
    run = simulate(sc.with_nowcast("2026-04-30"), 500, seed=1)
    df = backtest(run, {"revenue": {2025: 185.0}, "net_profit_attributable": {2025: 9.0}})
    assert list(zip(df["output"], df["year"], strict=True)) == [("net_profit_attributable", 2025)]
    # the as-of date has one spelling
    assert make_toy().with_nowcast("20260430").nowcast_as_of == "2026-04-30"


def test_figures_that_cannot_be_true_are_refused():
    with pytest.raises(ScenarioError, match=r"within 8 standard scores"):
        validate(toy_with(actual("x", 2025, {"revenue.a": 900.0})))
    with pytest.raises(ScenarioError, match=r"actuals.x.revenue.*out of range"):
        validate(toy_with(actual("x", 2025, {"revenue": -5.0})))
    with pytest.raises(ScenarioError, match=r"gross profit 500 is above the revenue 180"):
        validate(toy_with(actual("x", 2025, {"revenue": 180.0, "gross_profit": 500.0})))
    with pytest.raises(ScenarioError, match=r"date.*not a date"):
        validate(toy_with(actual("x", 2025, {"revenue": 180.0}, date="20260331")))
