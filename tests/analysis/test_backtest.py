"""Outcomes analysis: PIT, bands and CRPS of actuals against a run; calibration on actuals drawn
from the model itself."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import make_toy
from scipy import stats

from simcore.analysis.backtest import backtest, coverage, crps, pit
from simcore.engine import simulate


def test_crps_and_pit_known_answers():
    assert crps(np.array([0.0, 1.0]), 0.5) == pytest.approx(0.25, abs=1e-15)
    assert crps(np.array([2.0]), 5.0) == pytest.approx(3.0)  # a point forecast: |x - y|
    z = stats.norm.ppf((np.arange(200_000) + 0.5) / 200_000)
    for y in (-1.3, 0.0, 0.7, 2.5):
        exact = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / math.sqrt(math.pi)
        assert crps(z, y) == pytest.approx(exact, abs=1e-4)
    assert pit(np.array([1.0, 2.0, 3.0, 4.0]), 2.0) == pytest.approx(0.375)
    assert pit(np.array([1.0, np.nan]), 5.0) == 1.0


def test_actuals_drawn_from_the_model_are_calibrated():
    """300 model-drawn actuals: their PITs are uniform (KS) and the bands cover their nominal
    share within three binomial standard errors."""
    sc = make_toy()
    run = simulate(sc, 20_000, seed=1)
    truth = simulate(sc, 300, seed=99)  # independent paths of the same model
    tables = [
        backtest(run, {"net_profit_attributable": {2027: float(v)}, "revenue": {2026: float(w)}})
        for v, w in zip(
            truth["net_profit_attributable"][:, -1], truth["revenue"][:, 1], strict=True
        )
    ]
    cov = coverage(tables)
    assert cov.attrs["n"] == 600 and cov.attrs["p_value"] > 0.001
    for band, row in cov.iterrows():
        assert abs(row["inside"] - row["nominal"]) < 3 * row["se"], band
    # a fan that is too narrow is caught: the actuals shifted by two standard deviations
    sd = run["net_profit_attributable"][:, -1].std()
    off = [
        backtest(run, {"net_profit_attributable": {2027: float(v + 2 * sd)}})
        for v in truth["net_profit_attributable"][:, -1]
    ]
    bad = coverage(off)
    assert bad.attrs["p_value"] < 1e-6 and bad.loc["central 90%", "inside"] < 0.7


def test_backtest_table_and_errors():
    run = simulate(make_toy(), 2000, seed=3)
    df = backtest(run, pd.DataFrame({"output": ["revenue"], "year": [2025], "actual": [1e9]}))
    row = df.iloc[0]
    assert row["pit"] == 1.0 and not row["in_90"] and row["crps"] > 0
    assert list(df.columns) == [
        "output",
        "year",
        "actual",
        "pit",
        "in_50",
        "in_90",
        "crps",
        "median",
        "q05",
        "q95",
    ]
    with pytest.raises(ValueError, match="no such output"):
        backtest(run, {"sales": {2025: 1.0}})
    with pytest.raises(ValueError, match="covers 2025-2027"):
        backtest(run, {"revenue": {2030: 1.0}})
    with pytest.raises(ValueError, match="allowed a number"):
        backtest(run, {"revenue": {2025: float("nan")}})


def test_actuals_in_the_scenario_file_round_trip_validate_and_score():
    import matplotlib

    matplotlib.use("Agg")
    from simcore.io.scenario_file import (
        ScenarioError,
        builtin_scenario_text,
        dumps_scenario,
        loads_scenario,
    )
    from simcore.report.backtest_charts import backtest_chart

    text = builtin_scenario_text("toy") + (
        '\n[actuals.FY2025]\nyear = 2025\ndate = 2026-03-30\nsource = "synthetic, for tests"\n'
        "revenue = 112.0\nnet_profit_attributable = 9.5\n"
        "\n[actuals.H1-2026]\nyear = 2026\nmonths = 6\ndate = 2026-08-30\n"
        'source = "synthetic"\nrevenue = 60.0\n'
    )
    sc = loads_scenario(text)
    assert [a.name for a in sc.actuals] == ["FY2025", "H1-2026"]
    assert sc.actuals[1].months == 6 and dict(sc.actuals[0].values)["revenue"] == 112.0
    assert loads_scenario(dumps_scenario(sc)) == sc
    run = simulate(sc, 3000, seed=2)
    scores = backtest(run)  # the scenario's own full-year actuals; the half year is left out
    assert set(zip(scores["output"], scores["year"], strict=True)) == {
        ("revenue", 2025),
        ("net_profit_attributable", 2025),
    }
    fig = backtest_chart(run, scores)
    assert "against reported actuals" in fig.get_suptitle()
    with pytest.raises(ScenarioError, match=r"actuals.FY2025.sales.*not a figure the model"):
        loads_scenario(text.replace("revenue = 112.0", "sales = 112.0"))
    with pytest.raises(ScenarioError, match=r"actuals.H1-2026.months.*\[1, 12\]"):
        loads_scenario(text.replace("months = 6", "months = 13"))
    with pytest.raises(ScenarioError, match=r"actuals.FY2025.*no 'source'"):
        loads_scenario(text.replace('source = "synthetic, for tests"\n', ""))


def _dated(name, year, values, date, months=12):
    from simcore.model.scenario import Actual

    return Actual(name, year, date, "synthetic, for tests", tuple(values.items()), months)


def test_vintages_score_only_what_was_published_after_them():
    import dataclasses

    from simcore.analysis.backtest import vintages

    sc = dataclasses.replace(
        make_toy(),
        actuals=(
            _dated("fy25", 2025, {"revenue": 180.0, "net_profit_attributable": 9.0}, "2026-03-31"),
            _dated("q1_26", 2026, {"revenue": 50.0}, "2026-04-30", months=3),
            _dated("fy26", 2026, {"revenue": 215.0}, "2027-03-31"),
        ),
    )
    scores, runs = vintages(sc, ["2025-12-31", "2026-05-01"], n_paths=3000, seed=1)
    got = {(v, o, y) for v, o, y in scores[["vintage", "output", "year"]].itertuples(index=False)}
    assert got == {
        ("2025-12-31", "revenue", 2025),
        ("2025-12-31", "net_profit_attributable", 2025),
        ("2025-12-31", "revenue", 2026),
        ("2026-05-01", "revenue", 2026),  # 2025 was known to it: not a test
    }
    early, late = (scores[(scores.vintage == v) & (scores.year == 2026)].iloc[0] for v in runs)
    assert late["q95"] - late["q05"] < 0.5 * (early["q95"] - early["q05"])
    again = simulate(sc.with_nowcast("2026-05-01"), 3000, seed=1)
    assert again["revenue"].tobytes() == runs["2026-05-01"]["revenue"].tobytes()
    cov = coverage(scores)
    assert cov.attrs["n"] == 4
    with pytest.raises(ValueError, match="a date column"):
        vintages(
            sc,
            ["2026-01-01"],
            n_paths=10,
            actuals=pd.DataFrame({"output": [], "year": [], "actual": []}),
        )
    with pytest.raises(ValueError, match="not a date"):
        backtest(
            runs["2025-12-31"],
            pd.DataFrame(
                {"output": ["revenue"], "year": [2025], "actual": [1.0], "date": ["soon"]}
            ),
        )


def test_the_calibration_test_has_its_stated_power():
    """The KS test of ``coverage`` at the 0.1% level, 600 PITs of a normal output, 400
    replications: size at most 1%; a fan off-centre by 0.3 sd is caught at least 95% of the time
    (measured 100%); by 0.2 sd at least 70% (measured 81%); a fan too narrow by a third (the
    truth's sd 1.5 times the fan's) at least 95%. With 100 PITs, 0.5 sd off is caught about 83%
    of the time (README: how many actuals a backtest needs)."""
    rng = np.random.default_rng(7)

    def rejected(shift, scale, n=600, reps=400):
        hits = 0
        for _ in range(reps):
            y = scale * rng.standard_normal(n) + shift
            df = pd.DataFrame({"pit": stats.norm.cdf(y), "in_50": y < 0, "in_90": y < 0})
            hits += coverage(df).attrs["p_value"] < 0.001
        return hits / reps

    assert rejected(0.0, 1.0) <= 0.01
    assert rejected(0.3, 1.0) >= 0.95
    assert rejected(0.2, 1.0) >= 0.70
    assert rejected(0.0, 1.5) >= 0.95
    assert 0.7 <= rejected(0.5, 1.0, n=100) <= 0.95
