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

import numpy as np

from simcore.results.result import SimulationResult

DASK_BLOCK = 1 << 18  # paths per Dask task by default; results do not depend on it


class DaskBackend:
    """Run :func:`simcore.simulate` on the Dask cluster of ``client`` (a ``distributed.Client``)
    in tasks of ``block`` paths (default :data:`DASK_BLOCK`; even for antithetic sampling)."""

    name = "dask"

    def __init__(self, client, block: int | None = None):
        self.client = _check_client(client)
        self.block = _check_block(block, "mc")

    def __repr__(self):
        return f"DaskBackend({self.client!r}, block={self.block})"

    def check(self, sampling: str) -> None:
        """Refuse what this backend cannot run, before any work."""
        _check_block(self.block, sampling)

    def fill(self, task, scenario, seed_seq, sampling, start, n_total, threads, keep_draws,
             progress, bufs) -> None:
        simulate_into(self.client, task, scenario, seed_seq, sampling, start, n_total,
                      self.block, threads, keep_draws, progress, bufs)

    def record(self) -> dict:
        """What the manifest says of the backend (it does not change the numbers)."""
        return {"name": "dask", "block": self.block}


# -- running blocks on the cluster -----------------------------------------------------------------
def _check_client(client, *, optional: bool = False):
    if client is None and optional:
        return None
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - the dask extra is not installed
        raise ImportError("the Dask backend needs dask.distributed: pip install "
                          "'simcore[dask]'") from exc
    if not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
    return client


def _check_block(block, sampling: str, default: int = DASK_BLOCK) -> int:
    block = default if block is None else block
    if isinstance(block, bool | np.bool_) or not isinstance(block, numbers.Integral) or block < 1:
        raise ValueError(f"block={block!r} must be a positive integer (paths per task)")
    if sampling == "antithetic" and block % 2:
        raise ValueError(f"block={block} must be even for sampling='antithetic' (every block "
                         f"holds whole pairs)")
    return int(block)


def _blocks(start: int, n_paths: int, block: int) -> list[tuple[int, int]]:
    """``(first path, paths)`` of each block of ``start .. start + n_paths``."""
    return [(start + lo, min(block, n_paths - lo)) for lo in range(0, n_paths, block)]


def _run_tasks(client, fn, calls, on_result, *, label: str, window: int | None = None) -> None:
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

    def limit():
        return window if window is not None else max(4, 2 * sum(client.nthreads().values()))

    token = uuid.uuid4().hex[:12]
    todo = iter(enumerate(calls))
    pending = {}
    done = as_completed()

    def top_up(n_max):
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


def _put(bufs, lo: int, r: SimulationResult) -> None:
    out, seg_out, hits_out, draws_out, sev_out = bufs
    sl = slice(lo, lo + r.n_paths)
    out[:, :, sl] = r._out
    seg_out[:, :, sl] = r._seg
    hits_out[:, sl] = r._hits
    if r.draws is not None:
        for f, x in enumerate(r.draws["drivers"].values()):
            draws_out[f, :, sl] = x.T
        for k, x in enumerate(r.draws["severity"].values()):
            sev_out[k, :, sl] = x.T


def simulate_into(client, task, scenario, seed_seq, sampling: str, start: int, n_total: int,
                  block: int, threads, keep_draws: bool, progress, bufs) -> None:
    """Fill the engine's buffers ``bufs`` (out, seg_out, hits_out, draws_out, sev_out; paths
    ``start ..``) from tasks ``task(scenario, seed_seq, sampling, start, n, n_total, threads,
    keep_draws)`` -> SimulationResult of ``block`` paths on ``client``."""
    _check_client(client)
    n_paths = bufs[0].shape[2]
    parts = _blocks(start, n_paths, block)
    calls = [(scenario, seed_seq, sampling, s, n, n_total, threads, keep_draws) for s, n in parts]
    done = [0]

    def on_result(i, r):
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
        cat = [first._out, first._seg, first._hits]
        draws = first.draws
    else:
        cat = [np.concatenate([getattr(p, a) for p in pieces], axis=-1)
               for a in ("_out", "_seg", "_hits")]
        draws = None
        if first.draws is not None:
            draws = {kind: {name: np.concatenate([p.draws[kind][name] for p in pieces])
                            for name in first.draws[kind]} for kind in first.draws}
    manifest = dict(first.manifest, n_paths=n_paths, threads=None,
                    backend={"name": "dask", "block": block})
    return SimulationResult(first.scenario, *cat, manifest, draws)
