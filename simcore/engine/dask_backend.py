"""The Dask backend of :func:`simcore.simulate`: a run's paths as tasks of ``block`` paths on a
cluster, assembled into the engine's buffers in path order, byte-identical to a local run
(every draw is addressed by path, so a block computed anywhere has the bytes of the same rows).

The engine passes its own block task to :meth:`DaskBackend.fill`, so this module imports nothing
of the engine; :mod:`simcore.engine.dask` builds the cluster-wide analyses on both.
"""

from __future__ import annotations

import numbers
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simcore.results.result import SimulationResult

if TYPE_CHECKING:
    from dask.typing import Key
    from distributed import Client

    from simcore.model.compile import Buffers
    from simcore.model.scenario import Scenario

# a block of a run: task(scenario, seed_seq, sampling, start, n, n_total, threads, keep_draws)
BlockTask = Callable[..., SimulationResult]
Progress = Callable[[int, int], object]  # progress(done_paths, n_paths)

DASK_BLOCK = 1 << 18  # paths per Dask task by default; results do not depend on it


class DaskBackend:
    """Run :func:`simcore.simulate` on the Dask cluster of ``client`` (a ``distributed.Client``)
    in tasks of ``block`` paths (default :data:`DASK_BLOCK`; even for antithetic sampling)."""

    name = "dask"

    def __init__(self, client: Client, block: int | None = None) -> None:
        _check_client(client)
        self.client = client
        self.block = _check_block(block, "mc")

    def __repr__(self) -> str:
        return f"DaskBackend({self.client!r}, block={self.block})"

    def check(self, sampling: str) -> None:
        """Refuse what this backend cannot run, before any work."""
        _check_block(self.block, sampling)

    def fill(
        self,
        task: BlockTask,
        scenario: Scenario,
        seed_seq: np.random.SeedSequence,
        sampling: str,
        start: int,
        n_total: int,
        threads: int | None,
        keep_draws: bool,
        progress: Progress | None,
        bufs: Buffers,
    ) -> None:
        simulate_into(
            self.client,
            task,
            scenario,
            seed_seq,
            sampling,
            start,
            n_total,
            self.block,
            threads,
            keep_draws,
            progress,
            bufs,
        )

    def record(self) -> dict[str, Any]:
        """What the manifest says of the backend (it does not change the numbers)."""
        return {"name": "dask", "block": self.block}


# -- running blocks on the cluster -----------------------------------------------------------------
def _check_client(client: Client | None, *, optional: bool = False) -> Client | None:
    if client is None and optional:
        return None
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - the dask extra is not installed
        raise ImportError(
            "the Dask backend needs dask.distributed: pip install 'simcore[dask]'"
        ) from exc
    if not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
    return client


def _check_block(block: int | None, sampling: str, default: int = DASK_BLOCK) -> int:
    block = default if block is None else block
    if isinstance(block, bool | np.bool_) or not isinstance(block, numbers.Integral) or block < 1:
        raise ValueError(f"block={block!r} must be a positive integer (paths per task)")
    if sampling == "antithetic" and block % 2:
        raise ValueError(
            f"block={block} must be even for sampling='antithetic' (every block holds whole pairs)"
        )
    return int(block)


def _blocks(start: int, n_paths: int, block: int) -> list[tuple[int, int]]:
    """``(first path, paths)`` of each block of ``start .. start + n_paths``."""
    return [(start + lo, min(block, n_paths - lo)) for lo in range(0, n_paths, block)]


def _run_tasks(
    client: Client | None,
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    on_result: Callable[[int, Any], object],
    *,
    label: str,
    window: int | None = None,
) -> None:
    """``on_result(i, fn(*calls[i]))`` for every call, in completion order.

    ``client=None`` runs them here one after the other. On a cluster at most ``window`` tasks
    are submitted and not yet collected at a time (default twice the cluster's threads, read
    again every second so that a cluster that is still scaling up gets used), so neither the
    workers nor this process hold more than that many block results. A task lost with a worker
    is recomputed by the scheduler; an exception in a task is raised here and the outstanding
    tasks are cancelled.
    """
    if client is None:
        for i, args in enumerate(calls):
            on_result(i, fn(*args))
        return
    from distributed import as_completed

    def limit() -> int:
        return window if window is not None else max(4, 2 * sum(client.nthreads().values()))

    token = uuid.uuid4().hex[:12]
    todo = iter(enumerate(calls))
    pending: dict[Key, int] = {}  # task key -> call
    done = as_completed()

    def top_up(n_max: int) -> None:
        while len(pending) < n_max:
            nxt = next(todo, None)
            if nxt is None:
                return
            i, args = nxt
            fut = client.submit(fn, *args, key=f"simcore-{label}-{token}-{i}")
            pending[fut.key] = i
            done.add(fut)

    try:
        n_max, checked = limit(), time.monotonic()
        top_up(n_max)
        for fut in done:
            i = pending.pop(fut.key)
            value = fut.result()
            fut.release()
            on_result(i, value)
            if time.monotonic() - checked > 1.0:
                n_max, checked = limit(), time.monotonic()
            top_up(n_max)
    finally:
        if pending:
            client.cancel(list(done.futures))


def _put(bufs: Buffers, lo: int, r: SimulationResult) -> None:
    out, seg_out, hits_out, draws_out, sev_out, _ = bufs
    sl = slice(lo, lo + r.n_paths)
    out[:, :, sl] = r._out
    seg_out[:, :, sl] = r._seg
    hits_out[:, sl] = r._hits
    if r.draws is not None:
        for f, x in enumerate(r.draws["drivers"].values()):
            draws_out[f, :, sl] = x.T
        for k, x in enumerate(r.draws["severity"].values()):
            sev_out[k, :, sl] = x.T


def simulate_into(
    client: Client,
    task: BlockTask,
    scenario: Scenario,
    seed_seq: np.random.SeedSequence,
    sampling: str,
    start: int,
    n_total: int,
    block: int,
    threads: int | None,
    keep_draws: bool,
    progress: Progress | None,
    bufs: Buffers,
) -> None:
    """Fill the engine's buffers ``bufs`` (out, seg_out, hits_out, draws_out, sev_out; paths
    ``start ..``) from tasks ``task(scenario, seed_seq, sampling, start, n, n_total, threads,
    keep_draws)`` -> SimulationResult of ``block`` paths on ``client``."""
    _check_client(client)
    n_paths = bufs[0].shape[2]
    parts = _blocks(start, n_paths, block)
    calls = [(scenario, seed_seq, sampling, s, n, n_total, threads, keep_draws) for s, n in parts]
    done = [0]

    def on_result(i: int, r: SimulationResult) -> None:
        _put(bufs, parts[i][0] - start, r)
        done[0] += parts[i][1]
        if progress is not None:
            progress(done[0], n_paths)

    _run_tasks(client, task, calls, on_result, label="simulate")


def _assemble(pieces: list[SimulationResult], n_paths: int, block: int) -> SimulationResult:
    """One result from the block results of one run (in path order); its manifest is the first
    block's, for the whole run, with the backend as ``simulate`` records it."""
    first = pieces[0]
    if len(pieces) == 1:
        out, seg, hits = first._out, first._seg, first._hits
        draws = first.draws
    else:
        out, seg, hits = (
            np.concatenate([getattr(p, a) for p in pieces], axis=-1)
            for a in ("_out", "_seg", "_hits")
        )
        draws = None
        if first.draws is not None:
            draws = {
                kind: {
                    name: np.concatenate([_draws(p)[kind][name] for p in pieces])
                    for name in first.draws[kind]
                }
                for kind in first.draws
            }
    manifest = dict(
        first.manifest, n_paths=n_paths, threads=None, backend={"name": "dask", "block": block}
    )
    return SimulationResult(first.scenario, out, seg, hits, manifest, draws)


def _draws(piece: SimulationResult) -> dict[str, dict[str, np.ndarray]]:
    """A block's kept draws (every block of a run keeps them if its first does)."""
    assert piece.draws is not None
    return piece.draws
