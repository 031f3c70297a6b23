"""Scale out on Dask: the same simulation on a cluster, byte-identical to a local run.

Every uniform the kernel reads is addressed by ``(seed, stream, path, year, slot)``
(:mod:`distributions.streams`), so a block of paths ``start .. start+n`` computed on any worker
has the bytes of the same rows of a whole local run: a Dask task here is simply
``simulate(scenario, n, seed, start=start, n_total=N)`` (``n_total``: Latin hypercube strata are
fractions of the whole run's path count; the Sobol' points are addressed by path index). Tasks
that a dying worker took with it are recomputed by the scheduler from the same addresses, so
the result does not change either. See docs/dask.md for clusters, memory and threads.

- :func:`simcore.simulate` with ``backend=DaskBackend(client)`` (or ``backend="dask",
  client=...``): the engine validates, allocates and writes the manifest; the backend
  (:mod:`simcore.engine.dask_backend`) fills its buffers from the cluster.
- :func:`map_scenarios`: several scenarios (stress tests) in one batch of tasks;
  :func:`evaluate_design`: a design of uniforms (Sobol' sensitivity) in blocks of rows. Used by
  :func:`simcore.analysis.stress.compare_stresses` and
  :func:`simcore.analysis.sensitivity.sobol_analysis` when
  they are given ``client=``.
- :func:`simulate_summary`: the summary table (mean, std, quantiles, probability of loss,
  P(price > market)) of a run far larger than memory, streamed block by block; locally with
  ``client=None``. Moments are merged in block order (Pébay's pairwise update: the same numbers
  whatever order blocks finish in, and on any cluster); quantiles are exact order statistics
  found in passes over the same blocks (:mod:`simcore.results.streaming`: a pilot brackets them,
  pass 1 counts inside the brackets, pass 2 collects the few values of the located buckets),
  so they equal ``np.nanquantile`` of the whole run byte for byte.

Memory: a worker holds one block of paths (about ``block * horizon * (10 + segments) * 8``
bytes, plus the kernel's) at a time per thread; the client holds at most a window of block
results (twice the cluster's threads), per (output, year) the occupied sub-bucket counts of a
few brackets, at most ``max_values`` collected values, and the moments of blocks that finished
before an earlier one. None of it grows with ``n_paths``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from distributions.streams import SeedLike, seed_entropy
from simcore.engine.core import DEFAULT_SEED, _block, evaluate_uniforms, simulate
from simcore.engine.dask_backend import (
    DASK_BLOCK,
    DaskBackend,
    _assemble,
    _blocks,
    _check_block,
    _check_client,
    _run_tasks,
)
from simcore.engine.run_options import RunOptions, check_int
from simcore.model.scenario import OUTPUTS, Scenario
from simcore.results.result import (
    _Z95,
    DEFAULT_Q,
    PRICE_OUTPUTS,
    SimulationResult,
    _forecast,
    _std_and_errors,
)
from simcore.results.streaming import (
    InOrder,
    OrderStatistics,
    block_moments,
    lerp,
    merge_moments,
    pilot_brackets,
    quantile_ranks,
    tail_sums,
)

if TYPE_CHECKING:
    from distributed import Client

    from simcore.results.streaming import RowPart, RowPlan

__all__ = ["DASK_BLOCK", "DaskBackend", "evaluate_design", "map_scenarios", "simulate_summary"]

DESIGN_BLOCK_BYTES = 4 << 20  # a design block travels inside its task: keep it well below
#                               distributed's large-graph warning (10 MB)
MAX_VALUES = 1 << 22  # values the client collects per pass of simulate_summary (32 MiB)


def map_scenarios(
    client: Client | None,
    scenarios: Iterable[Scenario],
    n_paths: int,
    seed: SeedLike = DEFAULT_SEED,
    *,
    sampling: str = "mc",
    horizon: int | None = None,
    block: int | None = None,
    threads: int | None = None,
) -> list[SimulationResult]:
    """``[simulate(s, n_paths, seed, horizon, sampling) for s in scenarios]``, every block of
    every scenario in one batch of tasks on ``client`` (``None``: here). Each result has the
    bytes of the local run (the same seed for all: common random numbers)."""
    _check_client(client, optional=True)
    scenarios = list(scenarios)
    for i, s in enumerate(scenarios):
        if not isinstance(s, Scenario):
            raise TypeError(f"scenarios[{i}] must be a simcore Scenario, got {type(s).__name__}")
    opts = RunOptions.checked(n_paths, seed, horizon, sampling, threads=threads)
    n_paths = opts.n_paths
    block = _check_block(block, sampling)
    scenarios = [opts.scenario(s) for s in scenarios]
    ss = opts.seed_sequence()  # resolved once: every scenario and block uses the same streams
    if client is None:
        return [
            simulate(s, int(n_paths), ss, sampling=sampling, threads=threads) for s in scenarios
        ]
    parts = _blocks(0, int(n_paths), block)
    calls: list[tuple[Any, ...]] = []
    where: list[tuple[int, int]] = []  # (scenario, block) of each call
    for j, s in enumerate(scenarios):
        for b, (st, n) in enumerate(parts):
            calls.append((s, ss, sampling, st, n, int(n_paths), threads, False))
            where.append((j, b))
    got: list[list[Any]] = [[None] * len(parts) for _ in scenarios]  # all set when done

    def on_result(i: int, r: SimulationResult) -> None:
        j, b = where[i]
        got[j][b] = r

    _run_tasks(client, _block, calls, on_result, label="scenarios")
    return [_assemble(g, int(n_paths), block) for g in got]


def evaluate_design(
    client: Client | None,
    scenario: Scenario | None,
    u: ArrayLike,
    block: int | None = None,
    *,
    threads: int | None = None,
) -> SimulationResult:
    """:func:`simcore.evaluate_uniforms` of the design ``u`` (n, horizon, columns) in blocks of
    ``block`` rows on ``client`` (``None``: here); byte-identical to the local evaluation.
    ``block=None`` sizes blocks at about 4 MB of design each (they travel inside the tasks)."""
    _check_client(client, optional=True)
    if scenario is None:
        from simcore.io.scenario_file import default_scenario

        scenario = default_scenario()
    arr = np.ascontiguousarray(np.asarray(u, dtype=np.float64))
    if arr.ndim != 3 or arr.shape[0] < 1:
        raise ValueError(f"u has shape {arr.shape}; expected (n_paths, horizon, n_columns)")
    block = _check_block(block, "mc", default=max(1, DESIGN_BLOCK_BYTES // arr[0].nbytes))
    if client is None:
        return evaluate_uniforms(scenario, arr, threads=threads)
    parts = _blocks(0, arr.shape[0], block)
    pieces: list[Any] = [None] * len(parts)  # all set when done

    def on_result(i: int, r: SimulationResult) -> None:
        pieces[i] = r

    calls = [(scenario, arr[s : s + n], threads) for s, n in parts]
    _run_tasks(client, _evaluate_block, calls, on_result, label="design")
    return _assemble(pieces, arr.shape[0], block)


def _evaluate_block(scenario: Scenario, u: np.ndarray, threads: int | None) -> SimulationResult:
    return evaluate_uniforms(scenario, u, threads=threads)


# -- streamed summary: exact moments and quantiles without holding the paths --------------------
PILOT = 1 << 16  # paths of the pilot that brackets the quantiles before pass 1


def _levels(qa: np.ndarray, n: int) -> np.ndarray:
    """The quantile levels a row of ``n`` values needs: ``qa`` and its MCSE brackets, as
    :meth:`SimulationResult.summary` computes them."""
    half = _Z95 * np.sqrt(qa * (1 - qa))
    nn = max(n, 1)
    return np.concatenate(
        [qa, np.clip(qa - half / np.sqrt(nn), 0, 1), np.clip(qa + half / np.sqrt(nn), 0, 1)]
    )


def _rows(
    scenario: Scenario,
    seed_seq: np.random.SeedSequence,
    sampling: str,
    start: int,
    n: int,
    n_total: int,
    threads: int | None,
    names: Sequence[str],
    backend: str = "local",
) -> tuple[SimulationResult, list[np.ndarray]]:
    r = simulate(
        scenario,
        n,
        seed_seq,
        sampling=sampling,
        start=start,
        n_total=n_total,
        threads=threads,
        backend=backend,
    )
    return r, [x for name in names for x in r._rows(name)]  # (output, year) rows


def _pilot_block(
    scenario: Scenario,
    seed_seq: np.random.SeedSequence,
    sampling: str,
    n: int,
    n_total: int,
    threads: int | None,
    names: Sequence[str],
    qa: np.ndarray,
    backend: str = "local",
) -> list[RowPlan | None]:
    """The pass-1 brackets from the run's first ``n`` paths."""
    _r, rows = _rows(scenario, seed_seq, sampling, 0, n, n_total, threads, names, backend)
    return pilot_brackets(rows, lambda m: _levels(qa, round(m * n_total / n)))


def _pass_block(
    scenario: Scenario,
    seed_seq: np.random.SeedSequence,
    sampling: str,
    start: int,
    n: int,
    n_total: int,
    threads: int | None,
    names: Sequence[str],
    plan: list[RowPlan | None],
    first: bool,
) -> list[RowPart | None] | tuple[np.ndarray, list[RowPart | None], dict[str, np.ndarray]]:
    """One block's share of a pass of :func:`simulate_summary`: what ``plan`` asks for
    (:meth:`OrderStatistics.part`), and in the ``first`` pass the moments of each (output,
    year) row and the counts behind the risk rows."""
    r, rows = _rows(scenario, seed_seq, sampling, start, n, n_total, threads, names)
    part = OrderStatistics.part(rows, plan)
    if not first:
        return part
    H = r.horizon
    npa = r._rows("net_profit_attributable")
    fc = _forecast(scenario.forecast.net_profit_attributable, H)
    risk = {
        "loss": np.count_nonzero(npa < 0, axis=1),
        "miss": np.array([np.count_nonzero(npa[t] < fc[t]) for t in range(H)]),
    }
    for name in PRICE_OUTPUTS:
        risk[name] = np.count_nonzero(r._rows(name) > scenario.market_price, axis=1)
    return block_moments(rows), part, risk


def _tail_block(
    scenario: Scenario,
    seed_seq: np.random.SeedSequence,
    sampling: str,
    start: int,
    n: int,
    n_total: int,
    threads: int | None,
    cuts: np.ndarray,
) -> np.ndarray:
    """One block's share of the expected-shortfall pass: per year t and level j, the count,
    sum and sum of squares of net profit attributable at or below ``cuts[t, j]``."""
    r, _ = _rows(scenario, seed_seq, sampling, start, n, n_total, threads, ())
    x = r._rows("net_profit_attributable")
    return np.stack([tail_sums(x[t], cuts[t]) for t in range(cuts.shape[0])])


def simulate_summary(
    scenario: Scenario | None = None,
    n_paths: int = 1_000_000,
    seed: SeedLike = DEFAULT_SEED,
    *,
    client: Client | None = None,
    horizon: int | None = None,
    sampling: str = "mc",
    outputs: str | Iterable[str] | None = None,
    q: ArrayLike = DEFAULT_Q,
    block: int | None = None,
    threads: int | None = None,
    max_values: int = MAX_VALUES,
    shortfall: ArrayLike = (),
    backend: str = "local",
) -> pd.DataFrame:
    """The summary of an ``n_paths`` run, streamed block by block: no process ever holds more
    than one block of paths (``block``, default :data:`DASK_BLOCK`).

    Blocks run as tasks on ``client`` (a ``distributed.Client``) or, with ``client=None``, here
    one after the other; the table is the same either way (moments are merged in block order,
    so they depend on ``block`` by rounding only; quantiles and probabilities not at all).
    Returns the tidy table of :meth:`SimulationResult.summary` (``output, year, statistic,
    value, mcse, defined``; rows ``mean``, ``std``, ``q<level>`` per output and year) followed
    by the risk rows of :meth:`SimulationResult.risk_metrics`: ``p_loss`` and
    ``p_miss_forecast`` of net profit attributable and ``p_above_market`` of each implied
    price (``mcse``: the binomial standard error). Quantiles and their ``mcse`` equal the
    in-memory run's bytes; mean and std agree to rounding (merged moments: relative 1e-12).
    ``attrs`` record the passes over the paths and their seconds.

    ``max_values``: how many values the client may collect in one pass to finish the exact
    quantiles (fewer: more passes; any value >= 1 gives the same numbers).

    ``shortfall``: confidence levels (e.g. ``(0.95, 0.99)``) whose expected shortfall of net
    profit attributable below the report's forecast to add as ``es<level>`` rows, as
    :meth:`SimulationResult.risk_metrics` defines it (the forecast minus the mean at or below
    the exact ``1 - level`` quantile), with its asymptotic standard error; one more pass over
    the blocks (the quantile must be known first). Needs ``net_profit_attributable`` among the
    outputs and ``1 - level`` among ``q``.

    ``backend="cuda"``: every pass simulates its blocks on the GPU and summarises them there
    (:mod:`simcore.engine.cuda_summary`); only the summaries come back. The table has the same
    bytes as the CPU's for the same ``block``.
    """
    from simcore.engine.core import resolve_scenario

    if backend not in ("local", "cuda"):
        raise ValueError(f"backend={backend!r}: allowed 'local' (here or on client) or 'cuda'")
    if backend == "cuda" and client is not None:
        raise ValueError("backend='cuda' summarises on this machine's GPU; pass client=None")
    _check_client(client, optional=True)
    scenario = resolve_scenario(scenario)
    opts = RunOptions.checked(n_paths, seed, horizon, sampling, threads=threads)
    scenario = opts.scenario(scenario)
    n_paths = opts.n_paths
    block = _check_block(block, sampling)
    max_values = check_int("max_values", max_values, 1)
    qa = SimulationResult._check_q(q)
    allowed = list(OUTPUTS) + [f"revenue.{s}" for s in scenario.segment_names]
    names = (
        allowed if outputs is None else ([outputs] if isinstance(outputs, str) else list(outputs))
    )
    for name in names:
        if name not in allowed:
            raise KeyError(f"unknown output {name!r}; available: {allowed}")
    es_levels = np.atleast_1d(np.asarray(shortfall, dtype=np.float64))
    if es_levels.size:
        fc = _forecast(scenario.forecast.net_profit_attributable, scenario.horizon)
        if (
            np.isnan(es_levels).any()
            or ((es_levels <= 0) | (es_levels >= 1)).any()
            or "net_profit_attributable" not in names
            or not np.isfinite(fc).all()
            or any(not np.isclose(qa, 1 - a, rtol=0, atol=1e-12).any() for a in es_levels)
        ):
            raise ValueError(
                f"shortfall={shortfall!r}: allowed confidence levels in (0, 1) whose 1 - level "
                "is among q, with net_profit_attributable among the outputs and a report "
                "forecast for every year"
            )
    ss = opts.seed_sequence()
    R = len(names) * scenario.horizon
    parts = _blocks(0, n_paths, block)
    timing: list[float] = []  # seconds of each pass
    base = (scenario, ss, sampling)
    device = None
    if backend == "cuda":  # every pass simulates and summarises its blocks on the GPU
        from simcore.engine.cuda_summary import DeviceStream

        device = DeviceStream(scenario, ss, sampling, n_paths, block, names, max_values, qa.size)

    # pass 1: moments (merged in block order), counts in the brackets, risk counts
    moments = InOrder(np.zeros((R, 5)), merge_moments)
    order = OrderStatistics(R, max_values)
    risk: dict[str, np.ndarray] = {}

    def add_risk(counts: dict[str, np.ndarray]) -> None:
        for key, c in counts.items():
            risk[key] = risk.get(key, 0) + c

    def first(
        i: int, value: tuple[np.ndarray, list[RowPart | None], dict[str, np.ndarray]]
    ) -> None:
        mom, part, counts = value
        moments.add(i, mom)
        order.add(part)
        add_risk(counts)

    def run_pass(plan: list[RowPlan | None]) -> None:
        t0 = time.perf_counter()
        is_first = not timing
        if device is not None:
            device.run_pass(plan, moments.add if is_first else None, order.add, add_risk)
        else:
            calls = [(*base, s, n, n_paths, threads, names, plan, is_first) for s, n in parts]
            on_result = first if is_first else (lambda i, value: order.add(value))
            _run_tasks(client, _pass_block, calls, on_result, label=f"summary{len(timing) + 1}")
        timing.append(time.perf_counter() - t0)

    brackets: list[list[RowPlan | None]] = []
    _run_tasks(
        client,
        _pilot_block,
        [(*base, min(PILOT, n_paths), n_paths, threads, names, qa, backend)],
        lambda i, value: brackets.append(value),
        label="summary-pilot",
    )
    order.start(brackets[0])
    run_pass(brackets[0])
    levels: list[np.ndarray] = []
    for row in range(R):
        n_def = int(moments.total[row, 0])
        levels.append(_levels(qa, n_def))
        if n_def:
            prev, nxt, _gamma = quantile_ranks(n_def, levels[row])
            order.seek(row, n_def, np.unique(np.concatenate([prev, nxt])).tolist())
    order.pass1_done()

    # later passes: collect or refine the located buckets until every rank is found
    while (plan := order.plan()) is not None:
        run_pass(plan)
        order.end_pass()

    frame = _summary_frame(
        scenario,
        names,
        qa,
        levels,
        moments.total,
        order.found,
        risk,
        n_paths,
        dict(
            n_paths=n_paths,
            seed=seed_entropy(ss),
            sampling=sampling,
            block=block,
            passes=len(timing),
            pass_seconds=[round(t, 3) for t in timing],
            backend="dask" if client is not None else backend,
            **({"device": device.name} if device is not None else {}),
            **({"blocks_kept": len(device.kept)} if device is not None else {}),
        ),
    )
    if not es_levels.size:
        return frame
    cuts = np.array(
        [
            [
                float(
                    frame.loc[
                        (frame["output"] == "net_profit_attributable")
                        & (frame["year"] == year)
                        & (frame["statistic"] == f"q{1 - a:g}"),
                        "value",
                    ].iloc[0]
                )
                for a in es_levels
            ]
            for year in scenario.years
        ]
    )
    sums = InOrder(np.zeros(cuts.shape + (3,)), np.add)  # added in block order
    t0 = time.perf_counter()
    if device is not None:
        device.tail_pass(cuts, sums.add)
    else:
        calls = [(*base, s, n, n_paths, threads, cuts) for s, n in parts]
        _run_tasks(client, _tail_block, calls, sums.add, label="summary-shortfall")
    timing.append(time.perf_counter() - t0)
    tails = sums.total
    fc = _forecast(scenario.forecast.net_profit_attributable, scenario.horizon)
    rows = []
    for t, year in enumerate(scenario.years):
        for j, a in enumerate(es_levels):
            k, total, squares = tails[t, j]
            mean = total / k
            var = squares / k - mean * mean  # the tail's own variance
            p = k / n_paths
            se = np.sqrt(max(var, 0.0) + (1 - p) * (mean - cuts[t, j]) ** 2) / np.sqrt(k)
            rows.append(
                {
                    "output": "net_profit_attributable",
                    "year": year,
                    "statistic": f"es{a:g}",
                    "value": fc[t] - mean,
                    "mcse": float(se),
                    "defined": 1.0,
                }
            )
    out = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)
    out.attrs.update(frame.attrs)
    out.attrs.update(passes=len(timing), pass_seconds=[round(x, 3) for x in timing])
    return out


def _summary_frame(
    scenario: Scenario,
    names: Sequence[str],
    qa: np.ndarray,
    levels: Sequence[np.ndarray],
    moments: np.ndarray,
    stats: Sequence[dict[int, float]],
    risk: dict[str, np.ndarray],
    n_paths: int,
    attrs: dict[str, Any],
) -> pd.DataFrame:
    H = scenario.horizon
    years = [scenario.base_year + 1 + t for t in range(H)]
    n_def = moments[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        var = moments[:, 2] / n_def
        m4 = moments[:, 4] / n_def
    std, se_mean, se_std = _std_and_errors(n_def, var, m4)
    mean = np.where(n_def > 0, moments[:, 1], np.nan)
    m = qa.size
    rows = []
    for i, name in enumerate(names):
        for t, year in enumerate(years):
            row = i * H + t
            n = int(n_def[row])
            if n:
                prev, nxt, gamma = quantile_ranks(n, levels[row])
                a = np.array([stats[row][r] for r in prev])
                b = np.array([stats[row][r] for r in nxt])
                qv = lerp(a, b, gamma)
            else:
                qv = np.full(3 * m, np.nan)
            common = {"output": name, "year": year, "defined": n / n_paths}
            rows.append({**common, "statistic": "mean", "value": mean[row], "mcse": se_mean[row]})
            rows.append({**common, "statistic": "std", "value": std[row], "mcse": se_std[row]})
            for j, lev in enumerate(qa):
                se = (qv[2 * m + j] - qv[m + j]) / (2 * _Z95)
                rows.append({**common, "statistic": f"q{lev:g}", "value": qv[j], "mcse": se})
    fc = _forecast(scenario.forecast.net_profit_attributable, H)

    def p_row(output: str, year: int, stat: str, count: int) -> dict[str, Any]:
        p = count / n_paths
        return {
            "output": output,
            "year": year,
            "statistic": stat,
            "value": p,
            "mcse": float(np.sqrt(p * (1 - p) / n_paths)),
            "defined": 1.0,
        }

    for t, year in enumerate(years):
        rows.append(p_row("net_profit_attributable", year, "p_loss", risk["loss"][t]))
        if np.isfinite(fc[t]):
            rows.append(p_row("net_profit_attributable", year, "p_miss_forecast", risk["miss"][t]))
        for name in PRICE_OUTPUTS:
            rows.append(p_row(name, year, "p_above_market", risk[name][t]))
    df = pd.DataFrame(rows, columns=["output", "year", "statistic", "value", "mcse", "defined"])
    df.attrs.update(
        scenario=scenario.name, ticker=scenario.ticker, market_price=scenario.market_price, **attrs
    )
    return df
