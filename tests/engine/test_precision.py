"""Runs that stop at a stated precision: the bytes of a fixed-size run, stopping rules, batch
means against closed-form standard errors, the coverage of the 95% half-width, bad input."""

import json

import numpy as np
import pytest
from conftest import make_toy
from scipy import stats

from simcore import simulate
from simcore.cli import commands as cli
from simcore.engine import precision as pe
from simcore.results import precision as rp
from simcore.results.precision import Target, estimate, parse_target


def _same_bytes(a, b):
    return all(
        getattr(a, k).tobytes() == getattr(b, k).tobytes() for k in ("_out", "_seg", "_hits")
    )


@pytest.mark.parametrize("sampling", ["mc", "antithetic", "sobol"])
def test_the_result_is_a_fixed_size_run_of_its_final_path_count(sampling):
    sc = make_toy()
    r = simulate(sc, 400_000, seed=3, sampling=sampling, precision=["p_loss:hw=0.001"])
    steps = [h["paths"] for h in r.manifest["precision"]["history"]]
    assert len(steps) >= 2, steps  # it grew at least once
    fixed = simulate(sc, r.n_paths, seed=3, sampling=sampling)
    assert _same_bytes(r, fixed)
    assert r.manifest["n_paths"] == r.n_paths == steps[-1]
    mine = {k: v for k, v in r.manifest.items() if k not in ("created", "precision")}
    assert mine == {k: v for k, v in fixed.manifest.items() if k != "created"}
    json.dumps(r.manifest)  # JSON-native, as every manifest


def test_a_none_seed_draws_its_entropy_once_and_replays():
    r = simulate(make_toy(), 200_000, seed=None, precision="median:rse=0.02")
    again = simulate(make_toy(), r.n_paths, seed=r.manifest["seed"]["entropy"])
    assert _same_bytes(r, again)


def test_it_stops_at_the_first_step_that_meets_every_target():
    targets = ["p_loss:hw=0.004", "es95:rse=0.01", "p5@2026:hw=3", "median.revenue:rse=0.002"]
    r = simulate(None, 4_000_000, seed=8, precision=targets)  # the default: it has a forecast
    hist = r.manifest["precision"]["history"]
    assert r.manifest["precision"]["stopped"] == "every target met"
    assert all(m for *_e, m in hist[-1]["estimates"])
    assert not all(all(e[3] for e in h["estimates"]) for h in hist[:-1])
    # each step grows 1.25x to 4x, on multiples of GRAIN
    for a, b in zip(hist, hist[1:], strict=False):
        assert 1.25 * a["paths"] <= b["paths"] <= 4 * a["paths"] + pe.GRAIN
        assert b["paths"] % pe.GRAIN == 0
    got = r.precision()
    assert list(got.index) == targets and got["met"].all()
    for t, row in zip(targets, got.itertuples(), strict=True):
        again = estimate(parse_target(t), r)  # the table is the estimate on the final run
        assert (row.value, row.hw) == (again.value, again.hw)
        want = parse_target(t)
        assert row.hw <= want.hw if want.hw else row.rse <= want.rse
    conv = r.convergence()
    assert len(conv) == len(hist) * len(targets)


def test_the_caps_stop_it_and_say_so():
    sc = make_toy()
    r = simulate(sc, 100_000, seed=1, precision="p_loss:hw=0.0001")
    p = r.manifest["precision"]
    assert r.n_paths == 100_000 and p["stopped"] == "the cap of 100,000 paths" and not p["met"]
    assert not r.precision()["met"].any()
    t = simulate(sc, 4_000_000, seed=1, precision="p_loss:hw=0.00001", max_seconds=0.3)
    assert t.manifest["precision"]["stopped"] == "the cap of 0.3 s"
    assert t.n_paths < 4_000_000
    assert _same_bytes(t, simulate(sc, t.n_paths, seed=1))


def test_batch_means_agree_with_the_closed_form_standard_errors():
    """With 32 batches the standard error's own relative error is about 1 / sqrt(62) = 13%:
    within 40% of the closed form (binomial for P(loss), s / sqrt(n) for the mean)."""
    r = simulate(make_toy(), 400_000, seed=12)
    x = r["net_profit_attributable"][:, -1]
    p = np.mean(x < 0)
    for target, closed in (
        (Target("p_loss", hw=1.0), np.sqrt(p * (1 - p) / x.size)),
        (Target("mean", hw=1.0), x.std(ddof=1) / np.sqrt(x.size)),
    ):
        e = estimate(target, r)
        assert 0.6 <= e.se / closed <= 1.4, (target, e.se, closed)
        assert e.hw == pytest.approx(stats.t.ppf(0.975, rp.BATCHES - 1) * e.se, rel=1e-12)


@pytest.mark.slow
def test_the_half_width_covers_the_truth_95_percent_of_the_time():
    """200 runs of 32,768 paths (seeds 0..199) against the truth from 8 million paths: the
    share of runs whose 95% interval holds the truth, for P(loss), the median and ES 95%, is
    within [0.90, 0.99] (a binomial 95% band around 0.95 with 200 runs is about [0.92, 0.98];
    the truth's own error is 1/16 of a run's)."""
    sc = make_toy()
    truth_run = simulate(sc, 2**23, seed=10_000)
    targets = [Target("p_loss", hw=1.0), Target("median", hw=1.0), Target("p5", hw=1.0)]
    truth = [estimate(t, truth_run).value for t in targets]
    hits = np.zeros(len(targets))
    for seed in range(200):
        r = simulate(sc, 2**15, seed=seed)
        for i, t in enumerate(targets):
            e = estimate(t, r)
            hits[i] += abs(e.value - truth[i]) <= e.hw
    share = hits / 200
    assert ((share >= 0.90) & (share <= 0.99)).all(), share


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("p_loss", "allowed STAT"),
        ("p_loss:hw=-1", "positive number"),
        ("p_loss:hw=abc", "not a number"),
        ("p_loss:tol=0.1", "allowed STAT"),
        ("skew:rse=0.1", "allowed STAT"),
        ("p0:hw=1", "within (0, 100)"),
        ("p100:hw=1", "within (0, 100)"),
        ("es95.revenue:rse=0.1", "defined on net profit attributable"),
    ],
)
def test_bad_targets_are_refused_with_what_is_allowed(text, needle):
    with pytest.raises(ValueError, match=None) as e:
        parse_target(text)
    assert needle in str(e.value)


def test_bad_runs_are_refused_before_any_work(monkeypatch):
    from simcore.engine import core

    monkeypatch.setattr(core, "_run_kernel", None)  # any simulation would fail differently
    sc = make_toy()
    cases = [
        ({"precision": "p_loss:hw=0.01", "sampling": "lhs"}, "Latin hypercube"),
        ({"max_seconds": 1.0}, "needs precision="),
        ({"precision": "p_loss:hw=0.01", "max_seconds": -1}, "positive number of seconds"),
        ({"precision": []}, "names no target"),
        ({"precision": "p_loss@2031:hw=0.01"}, "year 2031 is not simulated"),
        ({"precision": "p5.nope:hw=1"}, "unknown output 'nope'"),
        ({"precision": "p_loss:hw=0.01", "start": 10}, "start="),
        ({"precision": "p_loss:hw=0.01", "max_seconds": float("inf")}, "positive number"),
        ({"precision": "p_loss:hw=0.01", "max_seconds": True}, "positive number"),
        ({"precision": "p_loss:hw=0.01", "progress": 5}, "must be a callable"),
        ({"precision": "p_loss:hw=0.01", "n_paths": 50}, "at least 64 paths"),
    ]
    for kwargs, needle in cases:
        kwargs = {"n_paths": 10_000, **kwargs}
        with pytest.raises((ValueError, TypeError)) as e:
            simulate(sc, seed=1, **kwargs)
        assert needle in str(e.value), (kwargs, e.value)
    with pytest.raises(ValueError, match="calendar year"):
        Target("mean", year=2026.0, hw=1.0)
    no_forecast = make_toy()
    with pytest.raises(ValueError, match="no report forecast"):
        simulate(no_forecast, 10_000, seed=1, precision="es95:rse=0.01")


def test_the_command_line_runs_to_precision_and_prints_it(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "--out", str(out), "--no-charts", "--paths", "2000000", "--seed", "4"]
    code = cli.main([*args, "--precision", "p_loss:hw=0.004", "median:rse=0.01"])
    assert code == 0
    text = capsys.readouterr().out
    assert "Precision: stopped at" in text and "every target met" in text
    assert "P(loss) of net profit attributable, 2027" in text and "NOT MET" not in text
    assert "and the headline numbers:" in text and "ES 95% of net profit attributable" in text
    manifest = json.loads((out / "manifest.json").read_text())
    rec = manifest["precision"]
    assert rec["targets"] == ["p_loss:hw=0.004", "median:rse=0.01"] and rec["met"]
    assert manifest["cli"]["precision"] == rec["targets"]
    assert manifest["n_paths"] == rec["history"][-1]["paths"] < 2_000_000
    # the replay: a fixed-size run of the final path count has the same summary bytes
    again = tmp_path / "again"
    n = str(manifest["n_paths"])
    assert cli.main(["run", "--out", str(again), "--no-charts", "--paths", n, "--seed", "4"]) == 0
    assert (out / "summary.csv").read_bytes() == (again / "summary.csv").read_bytes()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--precision", "p_loss"], "--precision"),
        (["--precision", "p_loss:hw=0"], "positive number"),
        (["--max-seconds", "5"], "--max-seconds: it needs --precision"),
        (["--precision", "p_loss:hw=0.01", "--max-seconds", "0"], "positive number of seconds"),
        (["--precision", "p_loss:hw=0.01", "--sampling", "lhs"], "--sampling: a run to"),
        (["--precision", "p_loss@2031:hw=0.01"], "--precision: precision target"),
        (["--precision", "p5.nope:hw=1"], "unknown output 'nope'"),
        (["--precision", "p_loss:hw=0.01", "--paths", "50"], "at least 64 paths"),
    ],
)
def test_bad_precision_flags_exit_2(tmp_path, monkeypatch, capsys, args, needle):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_pack_and_the_workbook_show_the_precision():
    import matplotlib

    matplotlib.use("Agg")
    from simcore.report.pack import pack_pages, page_title
    from simcore.report.precision_chart import convergence_chart
    from simcore.report.tables import run_tables

    r = simulate(make_toy(), 1_000_000, seed=2, precision=["p_loss:hw=0.003", "p95:rse=0.005"])
    fig = convergence_chart(r)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2
    steps = len(r.manifest["precision"]["history"])
    assert [len(ax.get_xticks()) for ax in panels] == [steps, steps]  # a tick per step
    assert "stopped at" in fig.texts[-1].get_text()
    titles = [page_title(p) for p in pack_pages(r)]
    assert sum("how the estimates converged" in t for t in titles) == 1
    sheet = run_tables(r)["precision"]
    assert list(sheet["target"]) == ["p_loss:hw=0.003", "p95:rse=0.005"] and sheet["met"].all()
    plain = simulate(make_toy(), 10_000, seed=2)
    assert not any("converged" in page_title(p) for p in pack_pages(plain))
    assert "precision" not in run_tables(plain)


def test_targets_read_back_from_their_text():
    for text in [
        "es97.5:rse=0.1",
        "p99.5:hw=1",
        "mean.revenue.Cloud-2:rse=0.01",
        "p5@2026:hw=3",
        "median:hw=0.0012345678",
    ]:
        t = parse_target(text)
        assert t.text() == text and parse_target(t.text()) == t


def test_no_event_is_never_precise():
    """P(loss) of gross profit is about 4e-5: with none of 32,768 paths below 0 every batch is
    0 and the standard error 0; the target is not met until 10 paths on each side are seen."""
    r = simulate(None, 1_000_000, seed=5, precision="p_loss.gross_profit@2026:rse=0.5")
    e = r.precision().iloc[0]
    assert r.n_paths > 2**15
    hits = round(e["value"] * r.n_paths)
    assert (hits >= rp.MIN_EVENTS) == bool(e["met"])


def test_a_run_to_precision_counts_its_growing_copy_against_the_memory_budget():
    sc = make_toy()
    from simcore.engine.run_options import RunOptions

    need, _ = RunOptions.checked(1_000_000, 1).memory_needed(sc)
    limit = int(1.5 * need)  # a fixed run fits, a run to precision growing to it does not
    simulate(sc, 1_000, seed=1, memory_limit=limit)
    with pytest.raises(MemoryError, match="holds up to 2x"):
        simulate(sc, 1_000_000, seed=1, precision="p_loss:hw=0.01", memory_limit=limit)


def test_the_headline_numbers_carry_their_precision():
    r = simulate(None, 100_000, seed=3)
    h = rp.headline(r)
    assert [x.split(" of ")[0] for x in h.index] == [
        "median",
        "P5",
        "P95",
        "P(loss)",
        "VaR 95%",
        "ES 95%",
    ]
    risk = r.risk_metrics()
    last = r.years[-1]
    assert h["value"].iloc[3] == risk.loc[last, "p_loss"]
    assert h["value"].iloc[5] == pytest.approx(risk.loc[last, "ES0.95"], rel=1e-12)
    assert (h["se"] > 0).all() and (h["hw"] == rp.T95 * h["se"]).all()
    toy = rp.headline(simulate(make_toy(), 10_000, seed=3))  # no forecast: no VaR or ES
    assert len(toy) == 4
