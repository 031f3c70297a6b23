"""The run's tables as files: Parquet and the Excel workbook, readable and byte-reproducible."""

import io

import numpy as np
import pandas as pd
import pytest
from conftest import make_toy

from simcore.engine import simulate
from simcore.report.tables import (
    FAN_OUTPUTS,
    assumption_table,
    run_tables,
    write_parquet,
    write_paths_parquet,
    write_workbook,
)


@pytest.fixture(scope="module")
def run():
    return simulate(make_toy(), 3000, seed=8)


def test_tables_hold_what_the_run_reports(run):
    t = run_tables(run)
    assert set(t) == {"summary", "risk", "fans", "assumptions"}
    assert t["risk"]["year"].tolist() == run.years
    np.testing.assert_allclose(t["risk"]["p_loss"], run.risk_metrics()["p_loss"])
    fans = t["fans"].set_index(["output", "year"])
    assert set(fans.index.get_level_values(0)) == set(FAN_OUTPUTS)
    q = run.quantiles("revenue", [0.05, 0.5])
    assert fans.loc[("revenue", 2026), "P50"] == q.loc[2026, 0.5]
    a = assumption_table(run.scenario)
    assert {"driver", "shock", "shock effect", "schedule", "segment"} <= set(a["kind"])
    assert (a[a["kind"] == "driver"]["name"] == [d.name for d in run.scenario.drivers]).all()


def test_workbook_and_parquet_read_back_and_repeat_their_bytes(run):
    t = run_tables(run)

    def book():
        fh = io.BytesIO()
        write_workbook(fh, t, title="Toy (TOY)", note="3,000 paths")
        return fh.getvalue()

    first = book()
    assert first == book()  # no time in the file
    sheets = pd.read_excel(io.BytesIO(first), sheet_name=None)
    assert list(sheets) == ["contents", *t]
    pd.testing.assert_frame_equal(sheets["risk"], t["risk"], check_dtype=False)
    assert sheets["contents"].columns[0] == "Toy (TOY)"
    fh = io.BytesIO()
    write_parquet(fh, t["summary"])
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(fh.getvalue())), t["summary"])


def test_every_path_as_parquet(run):
    fh = io.BytesIO()
    write_paths_parquet(fh, run)
    df = pd.read_parquet(io.BytesIO(fh.getvalue()))
    assert len(df) == run.n_paths * run.horizon
    last = df[df["year"] == run.years[-1]].sort_values("path")
    np.testing.assert_array_equal(
        last["net_profit_attributable"], run["net_profit_attributable"][:, -1]
    )
    np.testing.assert_array_equal(last["revenue.a"], run["revenue.a"][:, -1])
    np.testing.assert_array_equal(last["shocks_hit"], run.hits[:, -1])
