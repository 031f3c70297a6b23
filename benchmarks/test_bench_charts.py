"""Chart rendering: each chart of :mod:`simcore.report.charts` built from a default-scenario run
(10^6 x 3)
and written to PNG in memory. Skipped while ``simcore.report.charts`` does not exist.

Validation before timing: numpy's median of every charted output is among the values the chart
draws, and the PNG is a PNG.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import io

import numpy as np
import pytest

from simcore.engine.core import simulate

from .checks import check_chart_medians
from .harness import DEFAULT_HORIZON, DEFAULT_PATHS, SEED, record, scenario, timed

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("simcore.report.charts") is None,
    reason="simcore.report.charts does not exist yet (charts being written)",
)

PNG = b"\x89PNG\r\n\x1a\n"


@functools.lru_cache(maxsize=1)
def _run():
    return simulate(scenario(DEFAULT_HORIZON), DEFAULT_PATHS, seed=SEED)


def _medians(r, chart: str) -> np.ndarray:
    """numpy's medians of what ``chart`` draws (by year)."""

    def med(name):
        return np.nanquantile(r[name], 0.5, axis=0)

    if chart == "fan_chart_net_profit":
        return med("net_profit_attributable")
    if chart == "fan_chart_valuation":
        return np.concatenate([med(n) for n in ("price_ps", "price_pe", "price_dcf")])
    if chart == "distribution_net_profit":  # the last year's distribution
        x = r["net_profit_attributable"][:, -1]
        return np.atleast_1d(np.quantile(x[np.isfinite(x)], 0.5))
    if chart == "fan_chart_revenue_segments":
        names = [f"revenue.{s}" for s in r.scenario.segment_names] + ["revenue"]
        return np.concatenate([med(n) for n in names])
    raise KeyError(chart)


CHARTS = (
    "fan_chart_net_profit",
    "fan_chart_valuation",
    "distribution_net_profit",
    "fan_chart_revenue_segments",
)


@pytest.mark.parametrize("chart", CHARTS)
def test_chart(benchmark, chart):
    charts = importlib.import_module("simcore.report.charts")
    fn = getattr(charts, chart, None)
    if fn is None:
        pytest.fail(f"simcore.report.charts has no {chart}; update benchmarks/test_bench_charts.py")
    save = getattr(charts, "save_figure", None)
    r = _run()
    record(
        benchmark,
        f"charts ({r.n_paths:,} paths x {r.horizon} years, PNG)",
        n_paths=r.n_paths,
        horizon=r.horizon,
        chart=chart,
    )

    def render():
        fig = fn(r)
        buf = io.BytesIO()
        if save is not None:
            save(fig, buf, "png")
        else:
            fig.savefig(buf, format="png")
        return fig, buf.getvalue()

    fig, png = render()  # warm-up (quantile kernels, fonts)
    check_chart_medians(fig, _medians(r, chart))
    assert png.startswith(PNG), "not a PNG"
    del fig
    timed(benchmark, render)
