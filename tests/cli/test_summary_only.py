"""``simcore run --summary-only``: a streamed run with no path held, the same numbers as an
in-memory run, chosen by itself when the paths would not fit in memory."""

import json

import numpy as np
import pandas as pd
import pytest

from simcore.cli import commands as cli
from simcore.engine.dask_backend import DASK_BLOCK
from simcore.engine.run_options import RunOptions

FILES = {
    "summary.csv",
    "summary.parquet",
    "risk.csv",
    "risk.parquet",
    "simcore_run.xlsx",
    "manifest.json",
    "run.json",
}


def _run(out, *extra):
    return cli.main(["run", "--out", str(out), "--paths", "30000", "--seed", "3", *extra])


def test_summary_only_gives_the_in_memory_numbers(tmp_path, capsys):
    assert _run(tmp_path / "mem", "--no-charts") == 0
    assert _run(tmp_path / "stream", "--summary-only") == 0
    text = capsys.readouterr().out
    assert "summary only" in text and "VaR 95%" in text and "ES 95%" in text
    assert {p.name for p in (tmp_path / "stream").iterdir()} == FILES
    a = pd.read_csv(tmp_path / "mem" / "summary.csv")
    b = pd.read_csv(tmp_path / "stream" / "summary.csv")
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    q = a["statistic"].str.startswith("q")
    # exact quantiles (the same bytes in the CSV) and moments merged to rounding
    assert a[q].to_csv(index=False) == b[q].to_csv(index=False)
    np.testing.assert_allclose(b.loc[~q, "value"], a.loc[~q, "value"], rtol=1e-11)
    ra = pd.read_csv(tmp_path / "mem" / "risk.csv").set_index("year")
    rb = pd.read_csv(tmp_path / "stream" / "risk.csv").set_index("year")
    assert set(rb.columns) == set(ra.columns)  # VaR and ES too
    for col in rb.columns:  # every streamed risk column is the in-memory one
        np.testing.assert_allclose(rb[col], ra[col], rtol=1e-12, err_msg=col)
    m = json.loads((tmp_path / "stream" / "manifest.json").read_text())
    assert m["cli"]["summary_only"] and m["summary_only"]["passes"] >= 2
    assert m["n_paths"] == 30000 and m["scenario"]["sha256"]
    sheets = pd.read_excel(tmp_path / "stream" / "simcore_run.xlsx", sheet_name=None)
    assert {"contents", "summary", "risk", "fans", "assumptions"} <= set(sheets)


def test_it_is_chosen_with_a_notice_when_the_paths_would_not_fit(tmp_path, capsys, monkeypatch):
    real = RunOptions.memory_needed

    def tight(self, sc):  # the whole run does not fit; one block of it does
        need, limit = real(self, sc)
        return (need, need - 1) if self.n_paths > DASK_BLOCK else (need, limit)

    monkeypatch.setattr(RunOptions, "memory_needed", tight)
    n = str(DASK_BLOCK + 5000)
    assert cli.main(["run", "--out", str(tmp_path / "auto"), "--paths", n, "--seed", "3"]) == 0
    err = capsys.readouterr().err
    assert "streaming a summary-only run instead" in err
    assert "no charts or pack" in err
    assert {p.name for p in (tmp_path / "auto").iterdir()} == FILES
    # with every path asked for, the same run is refused before any work
    args = ["run", "--out", str(tmp_path / "refused"), "--paths", n, "--save-paths"]
    assert cli.main(args) == 2
    assert "needs every path in memory" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()


def test_streamed_shortfall_is_the_in_memory_one_over_many_blocks():
    from simcore import simulate
    from simcore.engine.dask import simulate_summary
    from simcore.results.precision import Target, estimate

    n = 60_000
    t = simulate_summary(None, n, seed=9, block=4096, shortfall=(0.95, 0.99))
    r = simulate(None, n, seed=9)
    risk = r.risk_metrics()
    es = t[t["statistic"].str.startswith("es")]
    assert len(es) == 2 * r.horizon and t.attrs["passes"] >= 3
    for row in es.itertuples():
        level = float(row.statistic[2:])
        assert row.value == pytest.approx(risk.loc[row.year, f"ES{level:g}"], rel=1e-12)
    # its asymptotic standard error against 32 batch means of the same run
    last = es[es["year"] == r.years[-1]].set_index("statistic")
    bm = estimate(Target("es95", hw=1.0), r).se
    assert 0.6 <= last.loc["es0.95", "mcse"] / bm <= 1.6
    with pytest.raises(ValueError, match="shortfall="):
        simulate_summary(None, 1000, seed=1, shortfall=(0.97,))  # 0.03 is not among q
