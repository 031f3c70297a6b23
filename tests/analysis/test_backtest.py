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
