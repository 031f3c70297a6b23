"""The valuation rules around the DCF: bases beyond the explicit years, the zero rule of the
multiples, EV/EBITDA, the peer centre and its file form, and the reverse DCF's interface."""

import dataclasses

import numpy as np
import pytest
from conftest import make_toy

from distributions import LogNormal
from simcore.analysis.valuation import dcf_state, reverse_dcf
from simcore.engine import simulate
from simcore.io.assumptions import deterministic_statement
from simcore.io.scenario_file import (
    ScenarioError,
    builtin_scenario_text,
    dumps_scenario,
    loads_scenario,
)
from simcore.model.dcf import price_at_first_year
from simcore.model.peers import apply_peers, describe, peer_centre
from simcore.model.scenario import Peer, driver_bases
from simcore.report.caveats import valuation_caveats


# -- bases beyond the explicit years -----------------------------------------------------------
def test_growth_bases_fade_to_terminal_growth_beyond_the_explicit_years():
    sc = make_toy()  # growth.a 0.3/0.25/0.2, terminal growth 0.03, 10 fade years
    long = sc.with_horizon(16)
    assert long.explicit == 3
    g = driver_bases(long, long.driver("growth.a"))
    np.testing.assert_array_equal(g[:3], [0.3, 0.25, 0.2])
    want = 0.2 + (0.03 - 0.2) * np.minimum(np.arange(1, 14) / 10, 1.0)
    np.testing.assert_allclose(g[3:], want, rtol=0, atol=1e-15)
    assert g[12] == g[15] == pytest.approx(0.03, abs=1e-15)  # reached after 10 years, held
    # other bases hold their last explicit value
    cap = driver_bases(long, long.driver("capex_intensity"))
    np.testing.assert_array_equal(cap, [0.6] + [0.5] * 15)
    # no fade: terminal growth at once; a shorter horizon changes nothing
    flat = dataclasses.replace(long, fade_years=0)
    assert (driver_bases(flat, flat.driver("growth.a"))[3:] == 0.03).all()
    np.testing.assert_array_equal(
        driver_bases(sc.with_horizon(2), sc.driver("growth.a")), [0.3, 0.25]
    )


def test_long_horizon_no_longer_repeats_the_last_year():
    """The issue's measurement: --horizon 20 repeated 2027 forever (AI cloud +29% a year, a
    median DCF price of 175). Now growth fades to terminal growth and capex replaces D&A
    beyond 2027; the price stays within a few times the horizon-3 one (the 2027 margin the
    short run holds is depressed by the 2024 cluster's depreciation, which ends in 2029)."""
    sc = loads_scenario(builtin_scenario_text("paratera"))
    short = simulate(sc, 4000, seed=3)
    long = simulate(sc.with_horizon(20), 4000, seed=3)
    m3 = np.median(short["price_dcf"][:, 0])
    m20 = np.median(long["price_dcf"][:, 0])
    assert 1.0 < m20 / m3 < 8.0, (m3, m20)
    beyond = long.statements if long.statements is not None else None
    assert beyond is None
    capex, da = long["capex"][:, 3:], long["depreciation"][:, 3:]
    w0 = 0.5 / sc.useful_life  # the new vintage's first-year D&A share
    assert (capex - da >= -w0 * capex - 1e-9 * np.abs(da)).all()  # capital kept beyond 2027
    growth = long["revenue"][:, -1] / long["revenue"][:, -2] - 1
    assert abs(np.median(growth) - 0.025) < 0.03  # near terminal growth by 2044


# -- multiples ---------------------------------------------------------------------------------
def test_pe_and_ev_ebitda_give_zero_where_their_base_is_not_positive():
    sc = make_toy(other_income=(-30.0,))  # losses on most paths, EBITDA <= 0 on some
    r = simulate(sc, 3000, seed=2)
    eps, ebitda = r["eps"], r["ebitda"]
    assert 0 < (eps <= 0).mean() < 1 and 0 < (ebitda <= 0).mean() < 1
    assert (r["price_pe"][eps <= 0] == 0).all() and (r["price_pe"][eps > 0] > 0).all()
    assert (r["price_ev_ebitda"][ebitda <= 0] == 0).all()
    np.testing.assert_array_equal(r.undefined_share("price_pe"), (eps <= 0).mean(axis=0))
    # quantiles and probabilities over every path, the zeros included (nothing dropped)
    q = r.quantiles("price_pe", (0.5,))[0.5].to_numpy()
    np.testing.assert_array_equal(q, np.quantile(r["price_pe"], 0.5, axis=0))
    risk = r.risk_metrics()
    above = (r["price_pe"] > sc.market_price).mean(axis=0)
    np.testing.assert_array_equal(risk["p_price_pe_above_market"].to_numpy(), above)


def test_ev_ebitda_price_is_multiple_times_ebitda_less_net_debt():
    sc = make_toy().with_shocks(False)
    r = simulate(sc, 500, seed=1, keep_draws=True)
    mult = r.draws["drivers"]["multiple.ev_ebitda"]
    ev = mult * r["ebitda"] - r["net_debt"]
    want = np.where(r["ebitda"] > 0, np.maximum(ev, 0.0) / sc.shares, 0.0)
    np.testing.assert_allclose(r["price_ev_ebitda"], want, rtol=1e-14, atol=0)


# -- peers ---------------------------------------------------------------------------------------
PEERS = (
    Peer("alpha", "2025-06-05", "test data", ps=4.0, pe=40.0),
    Peer("beta", "2025-06-05", "test data", ps=6.0, ev_ebitda=15.0),
    Peer("gamma", "2025-06-04", "test data", ps=9.0),
)


def test_peers_centre_the_multiples_on_their_median_with_their_dispersion():
    sc = dataclasses.replace(make_toy(), peers=PEERS, multiples_centre="peers")
    median, sigma = peer_centre(sc, "ps")
    assert median == 6.0 and sigma == pytest.approx(np.std(np.log([4, 6, 9]), ddof=1))
    assert peer_centre(sc, "pe") == (40.0, None)  # one value: the file's spread is kept
    eff = apply_peers(sc)
    ps = eff.driver("multiple.ps")
    assert ps.base == (6.0,) and ps.mode == "mul"
    assert isinstance(ps.dist, LogNormal) and ps.dist.mean() == pytest.approx(1.0, rel=1e-12)
    assert eff.driver("multiple.pe").dist == sc.driver("multiple.pe").dist
    assert eff.driver("multiple.pe").base == (40.0,)
    assert apply_peers(dataclasses.replace(sc, multiples_centre="market")).drivers == sc.drivers
    # the run uses the peer centre: the median P/S multiple is the peers' median
    r = simulate(sc.with_shocks(False), 20_000, seed=4, keep_draws=True)
    m = np.median(r.draws["drivers"]["multiple.ps"])
    assert m == pytest.approx(6.0 * np.exp(-0.5 * sigma**2), rel=0.02)
    # and the caveat says so, with the date range
    c = valuation_caveats(sc)
    assert "mean at the median P/S of 3 peers (6x, 2025-06-04 to 2025-06-05)" in c["price_ps"]
    assert describe(make_toy(), "ps").startswith("centred on the market price by construction")


def test_peers_round_trip_through_the_file_and_are_validated():
    text = builtin_scenario_text("toy") + (
        '\n[valuation]\nmultiples = "peers"\nrationale = "peers instead of the market"\n'
        '\n[peers.alpha]\nps = 4.0\npe = 40.0\ndate = 2025-06-05\nsource = "test data"\n'
        '\n[peers.beta]\nev_ebitda = 15.0\ndate = 2025-06-05\nsource = "test data"\n'
    )
    sc = loads_scenario(text)
    assert sc.multiples_centre == "peers" and [p.name for p in sc.peers] == ["alpha", "beta"]
    assert sc.peers[0].ps == 4.0 and sc.peers[1].ev_ebitda == 15.0 and sc.peers[1].pe is None
    assert loads_scenario(dumps_scenario(sc)) == sc
    with pytest.raises(ScenarioError, match=r"peers.beta.pe.*-3 is out of range"):
        loads_scenario(text.replace("ev_ebitda = 15.0", "ev_ebitda = 15.0\npe = -3"))
    with pytest.raises(ScenarioError, match=r"peers.beta.*gives no multiple"):
        loads_scenario(text.replace("ev_ebitda = 15.0\n", ""))
    with pytest.raises(ScenarioError, match=r"peers.alpha.*source"):
        loads_scenario(text.replace('source = "test data"', 'source = ""', 1))
    with pytest.raises(ScenarioError, match=r"valuation.multiples.*'peers' is chosen but"):
        loads_scenario(builtin_scenario_text("toy") + '\n[valuation]\nmultiples = "peers"\n')
    with pytest.raises(ScenarioError, match=r"valuation.multiples.*one of 'market', 'peers'"):
        loads_scenario(builtin_scenario_text("toy") + '\n[valuation]\nmultiples = "median"\n')


def test_fade_schedules_in_the_file():
    base = builtin_scenario_text("toy")
    assert loads_scenario(base).fade_years == 10 and loads_scenario(base).terminal_margin is None
    sc = loads_scenario(
        base + "\n[schedules.fade_years]\nvalue = 5\n\n[schedules.terminal_margin]\nvalue = 0.1\n"
    )
    assert sc.fade_years == 5 and sc.terminal_margin == 0.1
    assert loads_scenario(dumps_scenario(sc)) == sc
    with pytest.raises(ScenarioError, match=r"schedules.fade_years.value.*an integer in \[0, 50\]"):
        loads_scenario(base + "\n[schedules.fade_years]\nvalue = 2.5\n")
    with pytest.raises(ScenarioError, match=r"schedules.terminal_margin.value.*out of range"):
        loads_scenario(base + "\n[schedules.terminal_margin]\nvalue = 1.5\n")


# -- the reverse DCF's interface ----------------------------------------------------------------
def test_the_dcf_state_reproduces_the_kernels_price():
    sc = make_toy()
    r = simulate(sc, 400, seed=9, statements=True)
    state, fcf = dcf_state(sc, r.statements)
    got = [
        max(
            price_at_first_year(
                *s[:6], sc.fade_years, np.nan, sc.terminal_roic, np.nan, f, s[6], sc.shares
            ),
            0.0,
        )
        for s, f in zip(state, fcf, strict=True)
    ]
    np.testing.assert_allclose(got, r["price_dcf"][:, 0], rtol=1e-12, atol=1e-12)


def test_reverse_dcf_solves_for_the_price_the_run_shows():
    sc = make_toy()
    central = deterministic_statement(sc)["price_dcf"][0]
    for solve in ("fade_growth", "terminal_margin"):
        rv = reverse_dcf(sc, solve, target=central, n_paths=300, seed=5)
        own = rv.central_own
        if solve == "terminal_margin":  # the scenario holds each path's own margin
            assert rv.central == pytest.approx(own, abs=1e-9)
        assert rv.required.shape == (300,) and rv.target == central
        assert 0.0 <= rv.p_reached <= 1.0
        assert rv.table().loc["target price (per share)", "value"] == central
        assert "fade years" in rv.summary()
    # at a higher price more growth is needed
    lo = reverse_dcf(sc, "fade_growth", target=central, n_paths=300, seed=5)
    hi = reverse_dcf(sc, "fade_growth", target=2 * central, n_paths=300, seed=5)
    assert hi.central > lo.central
    both = np.isfinite(hi.required) & np.isfinite(lo.required)
    assert both.sum() > 50 and (hi.required[both] > lo.required[both]).all()
    assert hi.p_reached < lo.p_reached


def test_reverse_dcf_errors_name_the_problem():
    sc = make_toy()
    with pytest.raises(ValueError, match=r"solve_for='growth' is not known; allowed one of"):
        reverse_dcf(sc, "growth", n_paths=10)
    with pytest.raises(ValueError, match=r"fade_years is 0"):
        reverse_dcf(dataclasses.replace(sc, fade_years=0), "fade_growth", n_paths=10)
    with pytest.raises(ValueError, match=r"target=-1.*positive price"):
        reverse_dcf(sc, "terminal_margin", target=-1, n_paths=10)


def test_beyond_the_explicit_years_kernel_and_oracle_agree():
    """The years past the explicit ones (growth fading, capex replacing D&A) on the kernel and
    on the numpy oracle, from the same draws and sampled independently."""
    from simcore.model import equations as reference

    sc = make_toy().with_horizon(9)
    r = simulate(sc, 2000, seed=12, keep_draws=True)
    hits = {s.name: r.shock_hit(s.name).astype(float) for s in sc.shocks}
    ref = reference.evaluate(sc, r.draws["drivers"], hits, r.draws["severity"])
    for name in ("revenue", "capex", "depreciation", "net_profit", "fcf", "price_dcf", "cash"):
        np.testing.assert_allclose(r[name], ref[name], rtol=1e-12, atol=1e-9, err_msg=name)
    drivers, _, _ = reference.sample(sc, 2000, 12)
    np.testing.assert_allclose(
        r.draws["drivers"]["growth.a"], drivers["growth.a"], rtol=1e-9, atol=1e-12
    )
    # capex = growth capex + the D&A of the assets in place (D&A less the new vintage's share)
    capex, da = r["capex"][:, 3:], r["depreciation"][:, 3:]
    w0 = 0.5 / sc.useful_life
    assert (capex - da >= -w0 * capex - 1e-9 * np.abs(da)).all()


def test_peers_are_listed_with_the_assumptions():
    from simcore.io.assumptions import assumptions_markdown

    sc = dataclasses.replace(make_toy(), peers=PEERS, multiples_centre="peers")
    text = assumptions_markdown(sc)
    assert "#### Peers (the centre of the multiples)" in text
    assert "| `alpha` | 4 | 40 | – | 2025-06-05 | test data |" in text
    assert "#### Peers" not in assumptions_markdown(make_toy())


def test_reverse_dcf_validates_first_and_counts_the_paths_own_dcf():
    sc = make_toy()
    with pytest.raises(ScenarioError, match=r"fade_years.*an integer in \[0, 50\]"):
        reverse_dcf(dataclasses.replace(sc, fade_years=10.0), "terminal_margin", n_paths=10)
    long = dataclasses.replace(sc, fade_years=4).with_horizon(8)  # 5 years past the explicit 3
    with pytest.raises(ValueError, match=r"needs a fade period after the last simulated year"):
        reverse_dcf(long, "fade_growth", n_paths=10)
    assert reverse_dcf(long, "terminal_margin", n_paths=50, seed=1).fade_years == 0
    rv = reverse_dcf(sc, "terminal_margin", target=3.0, n_paths=400, seed=2)
    r = simulate(sc, 400, seed=2)
    assert rv.p_reached == np.mean(r["price_dcf"][:, 0] >= 3.0)
    assert 0 < rv.p_reached < 1
