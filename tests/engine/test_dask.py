"""The Dask backend: the same bytes on a cluster as locally, streamed summaries that equal the
in-memory ones, and a worker killed mid-run that changes nothing.

Clusters are real ``distributed.LocalCluster``s of 2 worker processes (1 Dask thread and 1
numba thread each). Seeds are arbitrary fixed integers; sizes are small (the kernel runs a few
million path-years a second on one core).
"""

import os
import signal
import time

import numpy as np
import pandas as pd
import pytest
from conftest import make_toy

from simcore import evaluate_uniforms, simulate
from simcore.analysis.sensitivity import sobol_analysis
from simcore.analysis.stress import compare_stresses
from simcore.cli import commands as cli
from simcore.engine import dask as sd
from simcore.model.scenario import Stress, StressForce, StressShift
from simcore.results import streaming as _streaming
from simcore.results.streaming import key_value, keys, lerp, quantile_ranks

pytestmark = pytest.mark.integration  # real Dask LocalClusters

distributed = pytest.importorskip("distributed")  # the "dask" extra (in the "test" extra too)

N, BLOCK = 50_000, 8_192  # 7 blocks, the last one short


def _cluster():
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env={"NUMBA_NUM_THREADS": "1"},
    )


@pytest.fixture(scope="module")
def client():
    cluster = _cluster()
    c = distributed.Client(cluster)
    try:
        c.wait_for_workers(2, timeout=120)
        yield c
    finally:
        c.close()
        cluster.close()


def _same_bytes(a, b):
    assert a._out.tobytes() == b._out.tobytes()
    assert a._seg.tobytes() == b._seg.tobytes()
    assert a._hits.tobytes() == b._hits.tobytes()
    assert a.n_paths == b.n_paths and a.horizon == b.horizon


# -- simulate(backend="dask") ----------------------------------------------------------------------
@pytest.mark.parametrize("sampling", ["mc", "antithetic", "lhs", "sobol"])
def test_dask_run_has_the_bytes_of_a_local_run(client, sampling):
    sc = make_toy()
    local = simulate(sc, N, seed=11, sampling=sampling, keep_draws=True)
    seen = []
    far = simulate(
        sc,
        N,
        seed=11,
        sampling=sampling,
        keep_draws=True,
        backend="dask",
        client=client,
        block=BLOCK,
        progress=lambda d, n: seen.append((d, n)),
    )
    _same_bytes(local, far)
    for kind in local.draws:
        for name, x in local.draws[kind].items():
            assert x.tobytes() == far.draws[kind][name].tobytes()
    assert sorted(seen) == seen and seen[-1] == (N, N) and len(seen) == 7
    m = far.manifest
    assert m["backend"] == {"name": "dask", "block": BLOCK} and "backend" not in local.manifest
    assert {k: v for k, v in m.items() if k not in ("backend", "created", "threads")} == {
        k: v for k, v in local.manifest.items() if k not in ("created", "threads")
    }


def test_dask_run_of_a_block_with_an_offset(client):
    sc = make_toy(horizon=2)
    whole = simulate(sc, 30_000, seed=2, sampling="lhs")
    part = simulate(
        sc,
        12_000,
        seed=2,
        sampling="lhs",
        start=10_000,
        n_total=30_000,
        backend="dask",
        client=client,
        block=5_000,
    )
    assert part._out.tobytes() == whole._out[:, :, 10_000:22_000].tobytes()


def test_lhs_blocks_need_the_run_path_count():
    # Latin hypercube strata are fractions of the whole run: a leading block is the same rows
    # of the whole run only when it is told the run's size (n_total)
    sc = make_toy(horizon=1)
    whole = simulate(sc, 4000, seed=5, sampling="lhs")
    head = simulate(sc, 1500, seed=5, sampling="lhs", n_total=4000)
    assert head._out.tobytes() == whole._out[:, :, :1500].tobytes()
    alone = simulate(sc, 1500, seed=5, sampling="lhs")
    assert alone._out.tobytes() != whole._out[:, :, :1500].tobytes()


def test_backend_arguments_are_checked(client):
    sc = make_toy(horizon=1)
    with pytest.raises(ValueError, match=r"backend='spark' must be one of 'local', 'dask'"):
        simulate(sc, 10, backend="spark")
    with pytest.raises(ValueError, match="backend='dask' needs client="):
        simulate(sc, 10, backend="dask")
    with pytest.raises(ValueError, match="only used with backend='dask'"):
        simulate(sc, 10, client=client)
    with pytest.raises(ValueError, match="only used with backend='dask'"):
        simulate(sc, 10, block=4)
    with pytest.raises(ValueError, match="block=3 must be even"):
        simulate(sc, 10, sampling="antithetic", backend="dask", client=client, block=3)
    with pytest.raises(ValueError, match="block=0 must be an integer >= 1"):
        simulate(sc, 10, backend="dask", client=client, block=0)
    with pytest.raises(ValueError, match="n_total=5 must be an integer >= 10"):
        simulate(sc, 10, n_total=5)
    with pytest.raises(TypeError, match="client must be a distributed.Client, got str"):
        simulate(sc, 10, backend="dask", client="tcp://localhost:8786")
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        sd.simulate_summary(sc, 10, client=object())


def test_task_errors_reach_the_caller(client):
    sc = make_toy(horizon=1)
    with pytest.raises(ValueError, match="must be even for sampling='antithetic'"):
        sd.map_scenarios(client, [sc], 11, sampling="antithetic", block=4)


# -- stress batches and Sobol' designs -------------------------------------------------------------
STRESSES = (
    Stress("leak_2026", force=(StressForce("leak", 2026, 2.0, only=True),)),
    Stress("rates_up", shift=(StressShift("interest_rate", add=0.02),)),
)


def test_map_scenarios_and_compare_stresses(client):
    sc = make_toy(stresses=STRESSES)
    scenarios = [sc, sc.with_shocks({"tech": False})]
    runs = sd.map_scenarios(client, scenarios, 20_000, seed=4, block=6_000)
    for s, r in zip(scenarios, runs, strict=True):
        _same_bytes(simulate(s, 20_000, seed=4), r)
        assert r.manifest["backend"] == {"name": "dask", "block": 6_000}
        assert r.manifest["n_paths"] == 20_000 and r.manifest["start"] == 0
    local = compare_stresses(sc, n_paths=5_000, seed=9)
    far = compare_stresses(sc, n_paths=5_000, seed=9, client=client)
    pd.testing.assert_frame_equal(local, far, check_exact=True)
    assert len(far) == 3


def test_evaluate_design_and_sobol_analysis(client):
    sc = make_toy()
    rng = np.random.default_rng(8)
    u = rng.uniform(
        0.001, 0.999, size=(3_000, sc.horizon, len(sc.drivers) + 2 * len(sc.shocks) + 1)
    )
    _same_bytes(evaluate_uniforms(sc, u), sd.evaluate_design(client, sc, u, block=700))
    local = sobol_analysis(sc, 2**6, seed=6, n_boot=10)
    far = sobol_analysis(sc, 2**6, seed=6, n_boot=10, client=client)
    pd.testing.assert_frame_equal(local, far, check_exact=True)


# -- streamed summaries ----------------------------------------------------------------------------
def _check_summary(streamed, result, q, outputs=None):
    ref = result.summary(outputs=outputs, q=q)
    head = streamed.iloc[: len(ref)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        head[["output", "year", "statistic", "defined"]],
        ref[["output", "year", "statistic", "defined"]],
        check_exact=True,
    )
    is_q = ref["statistic"].str.startswith("q").to_numpy()
    for col in ("value", "mcse"):  # quantiles (and their MCSE brackets): the same bytes
        assert head[col].to_numpy()[is_q].tobytes() == ref[col].to_numpy()[is_q].tobytes()
        # moments merged block by block (Chan et al.) against one pass: rounding only; a
        # standard error of a std (fourth moments of ROIC, whose spread is wide) reaches 1.5e-12
        np.testing.assert_allclose(
            head[col].to_numpy()[~is_q], ref[col].to_numpy()[~is_q], rtol=1e-11, atol=0
        )
    risk = result.risk_metrics()
    tail = streamed.iloc[len(ref) :]
    for stat, output, col in [
        ("p_loss", "net_profit_attributable", "p_loss"),
        ("p_miss_forecast", "net_profit_attributable", "p_miss_forecast"),
        ("p_above_market", "price_ps", "p_price_ps_above_market"),
        ("p_above_market", "price_pe", "p_price_pe_above_market"),
        ("p_above_market", "price_dcf", "p_price_dcf_above_market"),
    ]:
        got = tail[(tail.statistic == stat) & (tail.output == output)]
        if col in risk:
            assert got["value"].tolist() == risk[col].tolist()
            assert got["mcse"].tolist() == risk[f"{col}_se"].tolist()
        else:
            assert got.empty


def test_streamed_summary_is_exact():
    from simcore import default_scenario

    sc = default_scenario()  # has a forecast (p_miss_forecast) and P/E undefined on some paths
    result = simulate(sc, 200_000, seed=13)
    q = (0.0, 0.01, 0.05, 0.5, 0.95, 0.99, 1.0)
    streamed = sd.simulate_summary(sc, 200_000, seed=13, q=q, block=30_000)
    _check_summary(streamed, result, q)
    assert streamed.attrs["passes"] == 2
    # a tiny collect budget forces the buckets to be refined: more passes, the same numbers
    tight = sd.simulate_summary(
        sc,
        200_000,
        seed=13,
        q=q,
        block=30_000,
        max_values=40,
    )
    assert tight.attrs["passes"] > 2
    ref = streamed.set_index(["output", "year", "statistic"])
    got = tight.set_index(["output", "year", "statistic"])
    assert got["value"].to_numpy().tobytes() == ref.loc[got.index, "value"].to_numpy().tobytes()
    # and the same as numpy
    for t, year in enumerate(result.years):
        want = np.nanquantile(result["price_pe"][:, t], q)
        row = got.xs(("price_pe", year), level=("output", "year"))
        assert row.loc[[f"q{v:g}" for v in q], "value"].to_numpy().tobytes() == want.tobytes()


@pytest.mark.parametrize("sampling", ["antithetic", "sobol"])
def test_streamed_summary_dask_equals_local(client, sampling):
    sc = make_toy()
    outputs = ["net_profit_attributable", "price_ps", "revenue.b"]
    kw = dict(seed=3, sampling=sampling, block=12_000, outputs=outputs)
    here = sd.simulate_summary(sc, 60_000, **kw)
    there = sd.simulate_summary(sc, 60_000, client=client, **kw)
    pd.testing.assert_frame_equal(here, there, check_exact=True)
    assert there.attrs["backend"] == "dask" and there.attrs["passes"] == here.attrs["passes"]
    _check_summary(here, simulate(sc, 60_000, seed=3, sampling=sampling), sd.DEFAULT_Q, outputs)


def test_keys_order_like_the_floats():
    x = np.array([-np.inf, -1e300, -2.5, -1e-310, -0.0, 0.0, 5e-324, 1e-300, 1.0, 3.5, np.inf])
    k = keys(x)
    assert (np.diff(k.astype(object)) >= 0).all() and k[4] == k[5]
    assert [key_value(int(v)) for v in k[[0, 2, 8, 10]]] == [-np.inf, -2.5, 1.0, np.inf]


def test_quantile_arithmetic_is_numpys():
    rng = np.random.default_rng(1)
    for n in (1, 2, 7, 1000):
        x = np.sort(rng.normal(size=n))
        lev = np.array([0.0, 1e-9, 0.01, 0.3333, 0.5, 0.9, 0.999999, 1.0])
        prev, nxt, gamma = quantile_ranks(n, lev)
        assert lerp(x[prev], x[nxt], gamma).tobytes() == np.quantile(x, lev).tobytes()


def test_bucket_kernel_matches_plain_python():
    from simcore.results.streaming import _bucket_counts

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(size=500) * 10.0 ** rng.integers(-5, 5, 500), [np.nan, -0.0]])
    k = np.sort(keys(x[~np.isnan(x)]))
    lo = k[[10, 200, 400]]
    hi = k[[50, 300, 420]]
    shift = np.array([max(0, int(b - a).bit_length() - 12) for a, b in zip(lo, hi, strict=True)])
    collect = np.array([False, True, False])
    outs = []
    for fn in (_bucket_counts, _bucket_counts.py_func):
        bufs = (
            np.zeros((3, 4096), np.int64),
            np.full((3, 4096), 2**64 - 1, np.uint64),
            np.zeros((3, 4096), np.uint64),
            np.zeros(4, np.int64),
            np.array([2**64 - 1, 0], np.uint64),
            np.zeros(501, np.int64),
            np.zeros(501),
        )
        t = fn(x.view(np.uint64), x, lo, hi, shift, collect, *bufs)
        outs.append((t, *bufs))
    assert outs[0][0] == outs[1][0] == 101
    for a, b in zip(outs[0][1:], outs[1][1:], strict=True):
        assert a.tobytes() == b.tobytes()
    counts, _kmin, _kmax, gaps, ext = outs[0][1:6]
    assert counts.sum(axis=1).tolist() == [41, 0, 21] and gaps.tolist() == [10, 149, 99, 80]
    assert ext.tolist() == [k[0], k[-1]]
    assert sorted(outs[0][7][:101]) == sorted(
        x[~np.isnan(x)][np.isin(keys(x[~np.isnan(x)]), k[200:301])]
    )


def test_missed_brackets_still_give_exact_quantiles(monkeypatch):
    # a tiny pilot and no margin: most brackets miss, the gaps are searched instead
    monkeypatch.setattr(sd, "PILOT", 300)
    monkeypatch.setattr(_streaming, "PILOT_SD", 0.0)
    sc = make_toy()
    outputs = ["net_profit_attributable", "price_pe", "price_dcf"]
    q = (0.0, 0.001, 0.3, 0.5, 0.97, 1.0)
    got = sd.simulate_summary(sc, 40_000, seed=17, q=q, block=9_000, outputs=outputs)
    assert got.attrs["passes"] >= 2
    _check_summary(got, simulate(sc, 40_000, seed=17), q, outputs)


# -- the command line ------------------------------------------------------------------------------
def _cli_run(tmp_path, name, *extra):
    out = tmp_path / name
    args = ["run", "--paths", "20000", "--seed", "7", "--no-charts", "--save-paths", "--quiet"]
    args += ["--out", str(out)]
    assert cli.main([*args, *extra]) == cli.EXIT_OK
    return out


def test_cli_on_a_scheduler_and_on_a_local_cluster(client, tmp_path):
    local = _cli_run(tmp_path, "local")
    far = _cli_run(tmp_path, "far", "--dask-scheduler", client.scheduler.address)
    own = _cli_run(tmp_path, "own", "--dask-local", "2")
    want = (local / "summary.csv").read_bytes()
    for d in (far, own):
        assert (d / "summary.csv").read_bytes() == want
        with np.load(d / "results.npz") as a, np.load(local / "results.npz") as b:
            for key in ("out", "seg", "hits"):
                assert a[key].tobytes() == b[key].tobytes()
    import json

    m = json.loads((own / "manifest.json").read_text())
    assert m["backend"]["name"] == "dask" and m["cli"]["dask_local"] == 2
    assert m["run"]["identity"]["backend"] == "dask"


def test_cli_summary_only_on_a_cluster_is_the_local_summary(client, tmp_path):
    def streamed(name, *extra):
        out = tmp_path / name
        args = ["run", "--paths", "30000", "--seed", "7", "--summary-only", "--quiet"]
        assert cli.main([*args, "--out", str(out), *extra]) == cli.EXIT_OK
        return out

    here = streamed("here")
    far = streamed("far", "--dask-scheduler", client.scheduler.address)
    for name in ("summary.csv", "risk.csv"):
        assert (far / name).read_bytes() == (here / name).read_bytes(), name
    import json

    m = json.loads((far / "manifest.json").read_text())
    assert m["summary_only"]["backend"] == "dask" and m["cli"]["summary_only"]


def test_cli_dask_arguments(capsys):
    assert cli.main(["run", "--dask-local", "0"]) == cli.EXIT_USAGE
    assert "--dask-local: '0' is not a positive integer" in capsys.readouterr().err
    code = cli.main(["run", "--dask-local", "2", "--dask-scheduler", "tcp://x:1"])
    assert code == cli.EXIT_USAGE
    assert "not allowed with argument" in capsys.readouterr().err


# -- faults ----------------------------------------------------------------------------------------
def test_a_worker_killed_mid_run_changes_nothing():
    """SIGKILL one of two worker processes after the first block came back: the scheduler
    recomputes what it held or was running elsewhere, and the bytes are those of a local run."""
    sc = make_toy()
    local = simulate(sc, 60_000, seed=21)
    cluster = _cluster()
    c = distributed.Client(cluster)
    killed = []
    try:
        c.wait_for_workers(2, timeout=120)
        c.run(simulate, sc, 10, 1)  # compile or load the kernels on both workers first

        def kill_a_busy_worker(done, n):
            if killed:
                return
            # blocks it is running or holds unfetched: tasks are short, so by now the blocks
            # sent with the first one may be done and waiting in the worker's memory
            busy = c.run_on_scheduler(
                lambda dask_scheduler: {
                    a: len(ws.processing) + len(ws.has_what)
                    for a, ws in dask_scheduler.workers.items()
                }
            )
            victim = max(busy, key=busy.get)
            pid = c.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)
            killed.append((victim, pid, busy[victim]))

        t0 = time.monotonic()
        far = simulate(
            sc, 60_000, seed=21, backend="dask", client=c, block=2_000, progress=kill_a_busy_worker
        )
        assert time.monotonic() - t0 < 60
        _same_bytes(local, far)
        victim, pid, busy = killed[0]
        assert busy >= 1  # it was running or holding a block when it died
        assert pid not in c.run(os.getpid).values()
        story = c.run_on_scheduler(
            lambda dask_scheduler: [
                str(e) for e in dask_scheduler.transition_log if "simcore-simulate-" in str(e[0])
            ]
        )
        assert any("worker-cleanup" in e or "remove-worker" in e for e in story)
    finally:
        c.close()
        cluster.close()
