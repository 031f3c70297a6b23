"""What drives the tail: input shifts in the worst paths, and the Euler allocation of ES."""

import dataclasses

import numpy as np
import pytest
from conftest import make_toy

from simcore.analysis.tail import tail_allocation, tail_shift
from simcore.engine import simulate


def test_es_parts_add_up_to_es_and_events_are_per_path_shapley_values():
    sc = make_toy()
    a = tail_allocation(sc, n_paths=6000, seed=3, level=0.05)
    assert list(a.index) == ["without events", "event: tech", "event: leak", "total"]
    assert a.loc["total", "ES"] == pytest.approx(a.attrs["ES"], rel=1e-12, abs=1e-9)
    assert abs(a.loc["total", "VaR"] - a.attrs["VaR"]) < 5 * a["VaR_se"].max()
    assert (a["ES_se"].iloc[:-1] > 0).all()
    # the same with one event only: its part is the tail mean of (no event - event), exactly
    one = sc.with_shocks({"leak": False})
    b = tail_allocation(one, n_paths=6000, seed=3, level=0.05)
    full = simulate(one, 6000, seed=3)["net_profit_attributable"][:, -1]
    none = simulate(one.with_shocks(False), 6000, seed=3)["net_profit_attributable"][:, -1]
    tail = np.argsort(full, kind="stable")[:300]
    assert b.loc["event: tech", "ES"] == pytest.approx(np.mean(none[tail] - full[tail]), rel=1e-12)
    assert list(b.index) == ["without events", "event: tech", "total"]
    # without events, the whole of ES is the paths' own
    c = tail_allocation(sc.with_shocks(False), n_paths=3000, seed=1)
    assert list(c.index) == ["without events", "total"]
    assert c.loc["without events", "ES"] == pytest.approx(c.attrs["ES"], rel=1e-12)


def test_tail_shift_finds_the_drivers_and_flags_what_does_not_enter():
    sc = make_toy()
    r = simulate(sc, 20_000, seed=5, keep_draws=True)
    s = tail_shift(r, "net_profit_attributable", level=0.05)
    assert s.attrs["n_tail"] == 1000 and s.attrs["year"] == 2027
    assert s.loc["growth.a", "z"] < -10 and s.loc["growth.a", "tail_percentile"] < 0.4
    assert s.loc["growth.a", "p_value"] < 1e-6 and s.loc["growth.a", "enters"]
    # a multiple is independent of everything here and does not enter net profit
    ps = s.loc["multiple.ps"]
    assert not ps["enters"] and abs(ps["z"]) < 4 and ps["p_value"] > 1e-4
    tech = s.loc["shock.tech"]
    assert tech["p_hit_tail"] > tech["p_hit"] and tech["z"] > 5
    assert np.isnan(s.loc["growth.a", "p_hit"])
    # sorted by the size of the shift
    assert (np.diff(s["z"].abs().to_numpy()) <= 0).all()


def test_bad_arguments_name_the_problem():
    sc = make_toy()
    r = simulate(sc, 200, seed=1)
    with pytest.raises(ValueError, match="keep_draws=True"):
        tail_shift(r)
    with pytest.raises(ValueError, match=r"level=0.7; allowed a tail share in \(0, 0.5\)"):
        tail_allocation(sc, level=0.7, n_paths=100)
    with pytest.raises(ValueError, match=r"year=2030 is not simulated"):
        tail_allocation(sc, year=2030, n_paths=100)
    many = dataclasses.replace(sc, shocks=sc.shocks * 1)
    assert tail_allocation(many, n_paths=200, seed=1).attrs["runs"] == 4


def test_every_input_gets_its_share_of_es_and_what_does_not_enter_gets_nothing():
    from simcore.analysis.tail import tail_contributions

    sc = make_toy()
    a = tail_contributions(sc, n_paths=4000, n_orders=4, seed=2)
    assert a.loc["total", "ES"] == pytest.approx(a.attrs["ES"], rel=1e-9)
    assert abs(a.loc["total", "VaR"] - a.attrs["VaR"]) < 0.1 * abs(a.attrs["VaR"])
    for name in ("multiple.ps", "multiple.pe", "multiple.ev_ebitda", "wacc", "terminal_growth"):
        assert a.loc[name, "ES"] == 0.0 and a.loc[name, "VaR"] == 0.0, name
    assert a.loc["shock.tech", "ES"] > 3 * a.loc["shock.tech", "ES_se"]
    assert a.loc["growth.a", "ES"] > 3 * a.loc["growth.a", "ES_se"]
    assert a.attrs["evaluations"] > 4000
    with pytest.raises(ValueError, match="n_orders=0"):
        tail_contributions(sc, n_orders=0)
