"""Stress: scenario-file stress tables, forced shocks, attribution, comparisons, reverse stress.

Seeds are arbitrary fixed integers. Sizes are small (a few thousand paths per run).
"""

import dataclasses

import numpy as np
import pytest
from conftest import make_toy

from simcore import ScenarioError, default_scenario, dumps_scenario, loads_scenario
from simcore.analysis.measures import statistic
from simcore.analysis.stress import (
    Lever,
    apply_stress,
    attribution,
    compare_stresses,
    reverse_stress,
)
from simcore.engine.core import simulate
from simcore.model.scenario import Stress, StressForce, StressShift
from simcore.report import sensitivity_charts as charts

TOY_STRESSES = (
    Stress(
        "leak_2026", force=(StressForce("leak", 2026, 2.0, only=True),), rationale="a bad breach"
    ),
    Stress(
        "rates_up",
        shift=(StressShift("interest_rate", add=0.02), StressShift("multiple.pe", scale=0.8)),
    ),
    Stress("tech_now", force=(StressForce("tech", 2025),)),
)


def toy():
    return make_toy(stresses=TOY_STRESSES)


# -- the scenario file -----------------------------------------------------------------------------
def test_builtin_stresses_load_and_round_trip():
    sc = default_scenario()
    names = [s.name for s in sc.stresses]
    assert names == [
        "tech_substitution_2025",
        "talent_crisis",
        "data_leak_2025",
        "rates_up_200bp",
        "all_three_risks",
    ]
    talent = sc.stress("talent_crisis")
    assert [(f.shock, f.year, f.severity) for f in talent.force] == [
        ("talent_loss", 2025, 1.5),
        ("talent_loss", 2026, 1.5),
    ]
    assert all(s.rationale for s in sc.stresses)
    assert loads_scenario(dumps_scenario(sc)) == sc
    # a stressed scenario (forced shocks in [shocks.*]) round-trips too
    stressed = apply_stress(sc, "all_three_risks")
    assert loads_scenario(dumps_scenario(stressed)) == stressed
    assert loads_scenario(dumps_scenario(toy())) == toy()


def _edit(old: str, new: str) -> str:
    text = dumps_scenario(default_scenario())
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "key", "fragments"),
    [
        (
            'shock = "data_leak", year = 2025',
            'shock = "data_lek", year = 2025',
            "stress.data_leak_2025.force[0].shock",
            ["did you mean 'data_leak'", "allowed one of"],
        ),
        (
            'shock = "data_leak", year = 2025',
            'shock = "data_leak", year = 2024',
            "stress.data_leak_2025.force[0].year",
            ["2024 is out of range", "[2025, 2054]"],
        ),
        (
            "severity = 2.2",
            "severity = -1",
            "stress.data_leak_2025.force[0].severity",
            ["-1 is out of range", "[0, 1e+10]"],
        ),
        (
            '{ driver = "interest_rate", add = 0.02 }',
            '{ driver = "interest_rate" }',
            "stress.rates_up_200bp.shift[0]",
            ["needs 'add' and/or 'scale'"],
        ),
        (
            '{ driver = "interest_rate", add = 0.02 }',
            '{ driver = "interest_rate", add = 2 }',
            "stress.rates_up_200bp.shift[0].add",
            ["out of range", "[0, 1]"],
        ),
        (
            '{ driver = "wacc", add = 0.02 }',
            '{ driver = "wacc", add = -0.06 }',
            "stress.rates_up_200bp.shift",
            ["under this stress", "WACC"],
        ),
        (
            '{ driver = "wacc", add = 0.02 }',
            '{ driver = "wac", add = 0.02 }',
            "stress.rates_up_200bp.shift[1].driver",
            ["did you mean 'wacc'"],
        ),
        (
            '{ driver = "wacc", add = 0.02 }',
            '{ driver = "wacc", add = 0.02, mult = 2 }',
            "stress.rates_up_200bp.shift[1].mult",
            ["unknown key 'mult'", "add, scale"],
        ),
        (
            "[stress.talent_crisis]",
            "[stress.talent_crisis]\nseverity = 2",
            "stress.talent_crisis.severity",
            ["unknown key 'severity'"],
        ),
        (
            'force = [{ shock = "data_leak", year = 2025, severity = 2.2 }]',
            "force = []",
            "stress.data_leak_2025",
            ["changes nothing"],
        ),
    ],
)
def test_bad_stress_tables_error_with_key_path_and_line(old, new, key, fragments):
    text = _edit(old, new)
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="paratera.toml")
    err = info.value
    assert err.key_path == key, str(err)
    assert err.line is not None and str(err).startswith("paratera.toml: ")
    line = text.splitlines()[err.line - 1]
    parts = key.split(".")
    # the key's own line: `force = [...]`, `severity = 2`, or the table header
    expect = parts[2].split("[")[0] + " = " if len(parts) > 2 else f"[{key}]"
    assert line.startswith(expect), (err.line, line)
    for frag in fragments:
        assert frag in str(err), str(err)


def test_forced_shock_in_the_shock_table_loads_and_is_checked():
    text = _edit(
        "[shocks.data_leak]\nprobability = 0.03",
        "[shocks.data_leak]\nforced = [{ year = 2026, severity = 3 }]\n"
        "forced_only = true\nprobability = 0.03",
    )
    sc = loads_scenario(text)
    leak = sc.shock("data_leak")
    assert leak.forced[0].year == 2026 and leak.forced[0].severity == 3.0 and leak.forced_only
    bad = text.replace("forced = [{ year = 2026,", "forced = [{ year = 1999,")
    with pytest.raises(ScenarioError, match=r"shocks.data_leak.forced\[0\].year"):
        loads_scenario(bad)


# -- applying a stress -----------------------------------------------------------------------------
def test_forced_shock_hits_every_path_in_its_year_and_nothing_else_moves():
    sc = toy()
    base = simulate(sc, 3000, seed=7, keep_draws=True)
    hit = simulate(apply_stress(sc, "leak_2026"), 3000, seed=7, keep_draws=True)
    leak = hit.shock_hit("leak")
    assert leak[:, 1].all() and not leak[:, [0, 2]].any()  # only = true
    assert np.all(hit.draws["severity"]["leak"][:, 1] == 2.0)
    assert np.array_equal(hit.shock_hit("tech"), base.shock_hit("tech"))
    for name, x in base.draws["drivers"].items():
        assert x.tobytes() == hit.draws["drivers"][name].tobytes(), name
    # the forced year without `only` keeps the natural hits elsewhere
    now = simulate(apply_stress(sc, "tech_now"), 3000, seed=7)
    assert now.shock_hit("tech")[:, 0].all()
    assert np.array_equal(now.shock_hit("tech")[:, 1:], base.shock_hit("tech")[:, 1:])


def test_shift_moves_the_driver_base_only():
    sc = toy()
    base = simulate(sc, 2000, seed=7, keep_draws=True)
    up = simulate(apply_stress(sc, "rates_up"), 2000, seed=7, keep_draws=True)
    d = up.draws["drivers"]
    np.testing.assert_allclose(
        d["interest_rate"], base.draws["drivers"]["interest_rate"] + 0.02, rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(
        d["multiple.pe"], 0.8 * base.draws["drivers"]["multiple.pe"], rtol=1e-15
    )
    assert d["margin.a"].tobytes() == base.draws["drivers"]["margin.a"].tobytes()
    assert (up["net_profit"] < base["net_profit"]).all()  # more interest on every path


def test_apply_stress_errors():
    sc = toy()
    with pytest.raises(KeyError, match="no stress scenario 'nope'"):
        apply_stress(sc, "nope")
    with pytest.raises(ValueError, match="outside the simulated years 2025..2025"):
        apply_stress(sc.with_horizon(1), "leak_2026")
    with pytest.raises(ValueError, match="switched off"):
        apply_stress(sc.with_shocks({"leak": False}), "leak_2026")
    with pytest.raises(ValueError, match="unknown shock 'fire'"):
        apply_stress(sc, Stress("x", force=(StressForce("fire", 2025),)))
    # a scenario with stresses in years beyond a shorter horizon still simulates
    simulate(sc.with_horizon(1), 100, seed=1)


# -- shock attribution -----------------------------------------------------------------------------
def test_switching_every_shock_off_reproduces_the_shock_free_run_exactly():
    sc = make_toy()
    free = simulate(dataclasses.replace(sc, shocks=()), 3000, seed=11)
    off = simulate(sc.with_shocks(False), 3000, seed=11)
    one_by_one = sc
    for s in sc.shocks:
        one_by_one = one_by_one.with_shocks({s.name: False})
    step = simulate(one_by_one, 3000, seed=11)
    for r in (off, step):
        assert r._out.tobytes() == free._out.tobytes()
        assert r._seg.tobytes() == free._seg.tobytes()
        assert not r.hits.any()
    a = attribution(sc, n_paths=3000, seed=11)
    for year in free.years:
        for m in ("median", "p5", "prob_loss", "es5"):
            want = statistic((m, "net_profit_attributable", year))(free)
            assert a.levels.loc[(m, year), "no shocks"] == want, (m, year)
    full = simulate(sc, 3000, seed=11)
    assert a.levels.loc[("median", 2027), "all shocks"] == statistic(
        ("median", "net_profit_attributable")
    )(full)


def test_attribution_contributions_add_up_and_switch_off_is_exact():
    sc = make_toy()
    a = attribution(sc, n_paths=2000, seed=3)
    assert a.shocks == ["tech", "leak"]
    total = a.levels["all shocks"] - a.levels["no shocks"]
    np.testing.assert_allclose(a.shapley.sum(axis=1), total, rtol=0, atol=1e-12)
    no_tech = simulate(sc.with_shocks({"tech": False}), 2000, seed=3)
    want = a.levels.loc[("p5", 2026), "all shocks"] - statistic(
        ("p5", "net_profit_attributable", 2026)
    )(no_tech)
    assert a.switch_off.loc[("p5", 2026), "tech"] == want
    assert a.shapley.loc[("median", 2027), "tech"] < 0  # the shock lowers the median
    long = a.to_frame()
    assert set(long["kind"]) == {"level", "shapley", "switch_off"}
    fig = charts.waterfall_chart(a, "median", 2027)
    gids = [p.get_gid() for p in fig.axes[0].patches]
    assert gids == ["bar:no shocks", "bar:tech", "bar:leak", "bar:all shocks"]
    tech = fig.axes[0].patches[1]
    assert tech.get_height() == pytest.approx(a.shapley.loc[("median", 2027), "tech"])


# -- comparison ------------------------------------------------------------------------------------
def test_compare_stresses_side_by_side():
    sc = toy()
    table = compare_stresses(
        sc,
        n_paths=2000,
        seed=4,
        statistics={
            "median NPA": ("median", "net_profit_attributable"),
            "P(loss)": ("prob_loss", "net_profit_attributable"),
            "median P/S price": ("median", "price_ps", 2025),
        },
    )
    assert list(table.index) == ["base", "leak_2026", "rates_up", "tech_now"]
    assert table.loc["leak_2026", "rationale"] == "a bad breach"
    # interest and the P/E multiple do not enter the P/S price: identical under common numbers
    assert table.loc["rates_up", "median P/S price"] == table.loc["base", "median P/S price"]
    assert table.loc["rates_up", "median NPA"] < table.loc["base", "median NPA"]
    assert table.attrs["units"]["P(loss)"] == "share of paths"
    fig = charts.stress_chart(table)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in visible] == list(table.columns[:-1])
    assert all(len(ax.patches) == 4 for ax in visible)
    with pytest.raises(ValueError, match="defines no stress scenarios"):
        compare_stresses(make_toy(), n_paths=10)


# -- reverse stress --------------------------------------------------------------------------------
def test_reverse_stress_threshold_meets_the_target_when_applied():
    sc = make_toy()
    stat = ("prob_loss", "net_profit_attributable", 2027)
    lever = Lever.severity("tech", 2025)
    rev = reverse_stress(sc, stat, ">=", 0.5, lever, (0.0, 6.0), n_paths=2000, seed=8, xtol=1e-3)
    assert rev.converged and rev.threshold > 0
    lo, hi = rev.bracket
    assert hi == rev.threshold and 0 < hi - lo <= 4e-3
    st = statistic(stat)
    at = st(simulate(lever.apply(sc, rev.threshold), 2000, seed=8))
    below = st(simulate(lever.apply(sc, lo), 2000, seed=8))
    assert at == rev.value and at >= 0.5 > below
    fig = charts.reverse_stress_chart(rev)
    assert fig.axes[0].lines[0].get_gid() == "curve"
    assert rev.to_frame().loc[0, "threshold"] == rev.threshold


def test_reverse_stress_on_a_driver_shift_and_a_price_target():
    sc = make_toy()
    rev = reverse_stress(
        sc,
        ("median", "price_ps", 2025),
        "<",
        25.0,
        Lever.shift("growth.a"),
        (0.0, -0.5),
        n_paths=1500,
        seed=2,
        xtol=1e-4,
    )
    shifted = simulate(Lever.shift("growth.a").apply(sc, rev.threshold), 1500, seed=2)
    assert statistic(("median", "price_ps", 2025))(shifted) < 25.0 == rev.meta["threshold_value"]
    assert rev.lever == "growth.a base shift (added)"
    assert -0.5 < rev.threshold < 0.0


def test_reverse_stress_errors_when_there_is_no_root_in_the_bracket():
    sc = make_toy()
    stat = ("prob_loss", "net_profit_attributable", 2027)
    with pytest.raises(ValueError, match="no root in the bracket"):
        reverse_stress(
            sc, stat, ">=", 0.99, Lever.severity("leak", 2025), (0.0, 0.5), n_paths=500, seed=1
        )
    with pytest.raises(ValueError, match="already holds at the bracket's start"):
        reverse_stress(
            sc, stat, ">=", 0.0, Lever.severity("leak", 2025), (0.0, 0.5), n_paths=500, seed=1
        )
    with pytest.raises(ValueError, match="op='=>'"):
        reverse_stress(sc, stat, "=>", 0.5, Lever.probability("leak"), (0.0, 1.0))


# -- CLI and pack glue --------------------------------------------------------------------------
def test_cli_target_and_lever_specs():
    from simcore.cli.analyses import parse_lever, parse_target

    assert parse_target("prob_loss net_profit_attributable 2027 >= 0.5") == (
        "prob_loss net_profit_attributable 2027",
        ">=",
        0.5,
    )
    assert parse_target("median price_ps < market_price") == (
        "median price_ps",
        "<",
        "market_price",
    )
    with pytest.raises(ValueError, match="must read 'STAT OUTPUT"):
        parse_target("median price_ps below 3")
    assert parse_lever("severity:tech:2025").name == "severity of tech forced in 2025"
    assert parse_lever("shift:wacc:scale").name == "wacc base multiplier"
    assert parse_lever("probability:leak").at == 0.0
    with pytest.raises(ValueError, match="must be severity:SHOCK"):
        parse_lever("size:tech")


def test_pack_pages_reuse_the_run_seed(monkeypatch):
    """Every analysis behind the pack's pages runs with the run's own seed and the first
    ``n_paths`` of its paths (so its base run is a prefix of the run), except the attribution
    of the named risks, which reads the run's own paths; the pages only draw."""
    from simcore.analysis import pack_analyses as pa
    from simcore.analysis import sensitivity, stress
    from simcore.engine import core
    from simcore.report.sensitivity_pages import pack_pages

    calls = []

    def spy(module, name):
        real = getattr(module, name)

        def wrapped(*args, seed, n_paths, **kwargs):
            calls.append((name, seed.entropy, tuple(seed.spawn_key), n_paths))
            return real(*args, seed=seed, n_paths=n_paths, **kwargs)

        monkeypatch.setattr(module, name, wrapped)

    for module, name in (
        (sensitivity, "tornado"),
        (stress, "attribution"),
        (stress, "compare_stresses"),
        (pa, "reverse_dcf"),
    ):
        spy(module, name)
    r = simulate(toy(), 20_000, seed=21)  # 21: arbitrary, fixed; enough paths to escape
    told = []
    analyses = pa.pack_analyses(r, n_paths=1000, say=told.append)
    assert sorted(c[0] for c in calls) == [
        "compare_stresses",
        "reverse_dcf",
        "reverse_dcf",
        "tornado",  # once: the reconciled table reuses it
    ]
    assert all(c[1:] == (21, (), 1000) for c in calls), calls
    assert len(told) == 5 and analyses.n_paths == 1000 and analyses.sobol is None
    # the attribution's all-shocks levels are the run's own statistics
    all_on = analyses.attribution.levels.loc[("median", 2027), "all shocks"]
    assert all_on == np.quantile(r["net_profit_attributable"][:, -1], 0.5)
    # the tornado and the stress table are anchored on the run: their base is the run's own
    # statistic, and each value the run's plus the change on its first 1000 paths (CRN)
    t = analyses.tornado
    run_median = np.quantile(r["net_profit_attributable"][:, -1], 0.5)
    assert t.attrs["base"] == run_median
    spec = ("median", "net_profit_attributable")
    head = sensitivity.tornado(toy(), spec, n_paths=1000, seed=np.random.SeedSequence(21))
    shift = run_median - head.attrs["base"]
    np.testing.assert_allclose(t["low"], head["low"] + shift, rtol=1e-13)
    np.testing.assert_allclose(t["swing"], head["swing"], rtol=0, atol=0)
    assert t.attrs["anchor"]["run_paths"] == 20_000 and t.attrs["anchor"]["prefix_paths"] == 1000
    s = analyses.stresses
    base = s.loc["base"]
    assert base.iloc[0] == run_median  # median net profit attributable, final year
    assert base.iloc[2] == np.mean(r["net_profit_attributable"][:, -1] < 0)  # P(loss)
    prob = [c for c, is_p in s.attrs["probability"].items() if is_p]
    assert ((s[prob] >= 0) & (s[prob] <= 1)).all().all()
    assert s.attrs["labels"]["base"] == "base"
    monkeypatch.setattr(core, "_simulate", None)  # drawing the pages runs nothing
    pages = pack_pages(analyses, figsize=(11.69, 8.27))
    titles = [p.get_suptitle() for p in pages]
    assert len(pages) == 6 and "tornado" in titles[0] and "stress" in titles[-3]
    assert "by five methods" in titles[-2] and "Reverse DCF" in titles[-1]
    assert [r.solve_for for r in analyses.reverse_dcf] == ["fade_growth", "terminal_margin"]
    assert all(tuple(p.get_size_inches()) == (11.69, 8.27) for p in pages)


def test_attribution_from_the_run_agrees_with_a_run_per_combination():
    """The world without a set of shocks is, in distribution, the run's paths none of them hit:
    the attribution from one run of 200,000 paths matches the 2^K runs of the same paths
    within 4 Monte Carlo standard errors of the smallest subset (the no-shock world keeps
    about 75,000 paths), and its all-shocks levels are the run's own statistics exactly."""
    from simcore.analysis.stress import attribution, attribution_from_run

    sc = toy()
    run = simulate(sc, 200_000, seed=3)
    one = attribution_from_run(run)
    many = attribution(sc, n_paths=200_000, seed=3)
    m = one.meta["paths"]
    assert m > 50_000 and one.meta["runs"] == 1
    np.testing.assert_array_equal(one.levels["all shocks"], many.levels["all shocks"])
    sd = run["net_profit_attributable"].std(axis=0)
    p = many.levels.loc["prob_loss", "no shocks"].to_numpy()
    se = {"median": 1.2533 * sd / np.sqrt(m), "prob_loss": np.sqrt(p * (1 - p) / m)}
    for metric, err in se.items():
        for got, want in (
            (one.levels.loc[metric, "no shocks"], many.levels.loc[metric, "no shocks"]),
            (one.shapley.loc[metric].abs().max(axis=1), many.shapley.loc[metric].abs().max(axis=1)),
        ):
            assert (np.abs(got.to_numpy() - want.to_numpy()) < 4 * err).all(), (metric, got, want)
    total = one.shapley.sum(axis=1)
    np.testing.assert_allclose(total, one.levels["all shocks"] - one.levels["no shocks"])


@pytest.mark.slow  # 20 s: every pack analysis over 30 years
def test_pack_analyses_of_a_long_run_with_few_paths():
    """30 years of 3,000 paths: too few paths escape every named risk for the attribution to
    read the run, so it runs each combination instead; the fade is used up, so the reverse
    DCF solves for the terminal margin only (neither stops the run)."""
    from simcore.analysis.pack_analyses import MIN_SUBSET_PATHS, pack_analyses

    run = simulate(make_toy().with_horizon(30), 3000, seed=5)  # the bases describe 3 years
    told = []
    a = pack_analyses(run, n_paths=500, say=told.append)
    assert any(f"({MIN_SUBSET_PATHS:,} needed)" in m for m in told)
    assert a.attribution.meta["runs"] == 4 and a.attribution.meta["n_paths"] == 500
    assert [r.solve_for for r in a.reverse_dcf] == ["terminal_margin"]
