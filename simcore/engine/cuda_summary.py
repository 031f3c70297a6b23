"""Summary-only runs on the GPU: ``simulate_summary(..., backend="cuda")``.

Every pass of :func:`simcore.engine.dask.simulate_summary` simulates its blocks of paths on the
GPU (the kernel of :mod:`simcore.engine.cuda`, into buffers that stay on the device; blocks are
kept there between passes while they fit in :data:`KEEP` of the free memory, the others
simulated again) and summarises them there; only the summaries are copied back, never a path:

- pass 1: per block, the moments of every (output, year) row in
  :data:`~simcore.results.streaming.LANES` lanes, one GPU thread per row and lane, then the lanes
  merged pairwise by one thread block per row; and per row and lane the counts behind the risk
  rows (below zero, below the report's forecast, above the market price);
- every pass: the order statistics' counts in the plan's buckets (integer counts and the
  smallest and largest key of each sub-bucket, by atomic operations: their order does not
  matter), the gap counts and extremes per row and lane, and the values of the buckets to
  collect (appended in any order: the client sorts them);
- the shortfall pass: per block, the count, sum and sum of squares at or below each cut, in
  lanes added pairwise.

Each lane adds its paths in path order and the tree merges lanes in a fixed order: the
operations of the CPU's lane kernels (:mod:`simcore.results.streaming`) in the same order,
compiled without fused multiply-adds (:func:`simcore.engine.cuda.ieee_compile`), so the table
has the CPU's bytes for the same ``block``. Tested under numba-cuda's simulator; the PTX checks
cover these kernels too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from distributions.kernels import jit
from distributions.sampling import method_code
from simcore.engine import cuda as gpu
from simcore.engine.core import _designs
from simcore.engine.dask_backend import _blocks
from simcore.model.compile import allocate, compile_scenario
from simcore.model.scenario import OUTPUTS, Scenario
from simcore.results import streaming
from simcore.results.result import PRICE_OUTPUTS, _forecast
from simcore.results.streaming import _INF_BITS, _KEY_MAX, _SIGN, SUB_BITS, _key, merge_one

cuda = gpu.cuda  # numba-cuda's module, or None without the cuda extra
KEEP = 0.8  # share of the GPU's free memory that may keep blocks' outputs between passes
KEEP_BYTES: int | None = None  # or this many bytes (None: KEEP of the free memory; 0 in the
#                               simulator, whose tests set it)
_NPA = OUTPUTS.index("net_profit_attributable")
SUB = 1 << SUB_BITS  # sub-buckets of a refined bucket
THREADS = gpu.THREADS_PER_BLOCK


@jit(inline="always")
def _at(src: Any, kind: int, k: int, t: int, i: int) -> Any:
    """Path ``i`` of output ``k`` (``kind`` 0) or segment ``k`` (``kind`` 1) in year ``t`` of
    ``src = (outputs, segments)`` (a tuple: the simulator hands tuples over as they are)."""
    if kind == 0:
        return src[0][k, t, i]
    return src[1][k, t, i]


# -- the kernels' bodies (compiled by numba-cuda on first use; the simulator runs them as Python) --
def _stats(src: Any, rows: Any, thr: Any, n: Any, mom: Any, cnt: Any) -> None:  # pragma: no cover
    """Thread (row r, lane c): the moments of the lane into ``mom[r, c]`` as
    :func:`~simcore.results.streaming._lane_moments` computes them, and into ``cnt[r, c]`` (kept
    over the pass) how many values lie below ``thr[r, 0]``, below ``thr[r, 1]`` and above
    ``thr[r, 2]`` (NaN: none)."""
    lanes = mom.shape[1]
    r, c = divmod(cuda.grid(1), lanes)
    if r >= mom.shape[0]:
        return
    kind, q, t = rows[r, 0], rows[r, 1], rows[r, 2]
    below_a, below_b, above = thr[r, 0], thr[r, 1], thr[r, 2]
    s0 = 0.0
    s1 = 0.0
    k0 = 0
    k1 = 0
    k2 = 0
    for i in range(c, n, lanes):
        v = _at(src, kind, q, t, i)
        if v == v:
            s0 += 1.0
            s1 += v
        if v < below_a:
            k0 += 1
        if v < below_b:
            k1 += 1
        if v > above:
            k2 += 1
    mean = s1 / s0 if s0 > 0.0 else s1
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for i in range(c, n, lanes):
        v = _at(src, kind, q, t, i)
        if v == v:
            d = v - mean
            d2 = d * d
            m2 += d2
            m3 += d2 * d
            m4 += d2 * d2
    mom[r, c, 0] = s0
    mom[r, c, 1] = mean
    mom[r, c, 2] = m2
    mom[r, c, 3] = m3
    mom[r, c, 4] = m4
    cnt[r, c, 0] += k0
    cnt[r, c, 1] += k1
    cnt[r, c, 2] += k2


def _fold(acc: Any, res: Any, b: Any, moments: Any) -> None:  # pragma: no cover
    """Thread block r: the lanes of ``acc[r]`` merged (``moments``) or added pairwise, as
    :func:`~simcore.results.streaming._fold_lanes` does, into ``res[b, r]``."""
    r = cuda.blockIdx.x
    t = cuda.threadIdx.x
    lanes = acc.shape[1]
    s = 1
    while s < lanes:
        c = 2 * s * t
        if c + s < lanes:
            if moments:
                acc[r, c, 0], acc[r, c, 1], acc[r, c, 2], acc[r, c, 3], acc[r, c, 4] = merge_one(
                    acc[r, c, 0],
                    acc[r, c, 1],
                    acc[r, c, 2],
                    acc[r, c, 3],
                    acc[r, c, 4],
                    acc[r, c + s, 0],
                    acc[r, c + s, 1],
                    acc[r, c + s, 2],
                    acc[r, c + s, 3],
                    acc[r, c + s, 4],
                )
            else:
                for k in range(acc.shape[2]):
                    acc[r, c, k] += acc[r, c + s, k]
        cuda.syncthreads()
        s *= 2
    if t == 0:
        for k in range(acc.shape[2]):
            res[b, r, k] = acc[r, 0, k]


def _flush(  # pragma: no cover
    counts: Any, kmin: Any, kmax: Any, at: int, count: int, low: Any, high: Any
) -> None:
    """Add a run of ``count`` values (keys ``low .. high``) to sub-bucket ``at`` of ``counts``
    (flattened: refined bucket x sub-bucket), by atomics."""
    if count > 0:
        cuda.atomic.add(counts, at, count)
        cuda.atomic.min(kmin, at, low)
        cuda.atomic.max(kmax, at, high)


if cuda is not None:  # a device function (compiled with the kernel that calls it)
    _flush = cuda.jit(device=True)(_flush)


def _buckets(  # pragma: no cover
    src: Any,
    bits: Any,
    rows: Any,
    n: Any,
    m: Any,
    lo: Any,
    hi: Any,
    shift: Any,
    slot: Any,
    counts: Any,
    kmin: Any,
    kmax: Any,
    gaps: Any,
    ext: Any,
    taken: Any,
    take_row: Any,
    take_node: Any,
    take_val: Any,
) -> None:
    """Thread (row r, lane c): the lane's values against row r's ``m[r]`` buckets (-1: the row
    is not in the pass), as :func:`~simcore.results.streaming._bucket_counts` counts them.
    Bucket ``a`` of row ``r`` is refined into sub-buckets ``slot[r, a] * 4096 ..`` of
    ``counts``/``kmin``/``kmax``, by atomics, or (``slot`` -1) collected: its values appended
    at places taken by an atomic counter. Gaps and extremes go to the thread's own cells. A run
    of values in one sub-bucket (a point mass: an undefined price is 0) is added at once."""
    lanes = gaps.shape[1]
    r, c = divmod(cuda.grid(1), lanes)
    if r >= gaps.shape[0] or m[r] < 0:
        return
    kind, q, t = rows[r, 0], rows[r, 1], rows[r, 2]
    mr = m[r]
    lowest = ext[r, c, 0]
    highest = ext[r, c, 1]
    run_at = -1  # the pending run: its sub-bucket, count and keys
    run = 0
    run_low = _KEY_MAX
    run_high = np.uint64(0)
    for i in range(c, n, lanes):
        b = np.uint64(_at(bits, kind, q, t, i))
        if (b & ~_SIGN) > _INF_BITS:  # NaN
            continue
        k = _key(b)
        if k < lowest:
            lowest = k
        if k > highest:
            highest = k
        if mr == 0 or k < lo[r, 0]:
            gaps[r, c, 0] += 1
            continue
        a = 0  # the last bucket with lo <= k (binary search)
        z = mr - 1
        while a < z:
            mid = (a + z + 1) // 2
            if lo[r, mid] <= k:
                a = mid
            else:
                z = mid - 1
        if k > hi[r, a]:
            gaps[r, c, a + 1] += 1
        elif slot[r, a] < 0:
            place = cuda.atomic.add(taken, 0, 1)
            if place < take_val.size:
                take_row[place] = r
                take_node[place] = a
                take_val[place] = _at(src, kind, q, t, i)
        else:
            at = slot[r, a] * SUB + np.intp((k - lo[r, a]) >> np.uint64(shift[r, a]))
            if at != run_at:
                _flush(counts, kmin, kmax, run_at, run, run_low, run_high)
                run_at = at
                run = 0
                run_low = _KEY_MAX
                run_high = np.uint64(0)
            run += 1
            if k < run_low:
                run_low = k
            if k > run_high:
                run_high = k
    _flush(counts, kmin, kmax, run_at, run, run_low, run_high)
    ext[r, c, 0] = lowest
    ext[r, c, 1] = highest


def _tail(out: Any, cuts: Any, n: Any, acc: Any) -> None:  # pragma: no cover
    """Thread (year t and level l, lane c): count, sum and sum of squares of net profit
    attributable at or below ``cuts[t, l]`` in the lane, as
    :func:`~simcore.results.streaming._lane_tail` adds them."""
    lanes = acc.shape[1]
    tl, c = divmod(cuda.grid(1), lanes)
    if tl >= acc.shape[0]:
        return
    t, level = divmod(tl, cuts.shape[1])
    cut = cuts[t, level]
    k = 0.0
    s = 0.0
    ss = 0.0
    for i in range(c, n, lanes):
        v = out[_NPA, t, i]
        if v <= cut:
            k += 1.0
            s += v
            ss += v * v
    acc[tl, c, 0] = k
    acc[tl, c, 1] = s
    acc[tl, c, 2] = ss


_KERNELS: dict[str, Any] = {}


def _kernel(body: Callable[..., None]) -> Any:
    """``body`` compiled for the GPU (once)."""
    if body.__name__ not in _KERNELS:
        gpu.kernel()  # the backend's lowering rules first (min/max, the CPU-only stubs)
        _KERNELS[body.__name__] = cuda.jit(body)
    return _KERNELS[body.__name__]


def _grid(threads: int) -> tuple[int, int]:
    return -(-threads // THREADS), THREADS


class DeviceStream:
    """A streamed run's blocks simulated and summarised on the GPU, pass after pass, for
    :func:`simcore.engine.dask.simulate_summary` (which checked the arguments): ``names`` are
    the outputs summarised, each with a row per year; ``max_values``: the most values a pass
    collects."""

    def __init__(
        self,
        scenario: Scenario,
        seed_seq: np.random.SeedSequence,
        sampling: str,
        n_paths: int,
        block: int,
        names: Sequence[str],
        max_values: int,
        n_levels: int,
    ) -> None:
        gpu._require()
        rec = compile_scenario(scenario, seed_seq)
        gpu.check_supported(scenario, rec)
        self.name = gpu.device_name()
        self.method = method_code(sampling)
        self.n_total = n_paths if sampling == "lhs" else 0
        self.designs = _designs(rec, self.method, seed_seq, 0)
        self.parts = _blocks(0, n_paths, block)
        shapes = allocate(rec, 1, False)
        width = min(block, n_paths)
        fit = gpu.fitting_batch(rec, shapes, cap=width)
        if width > fit:
            raise ValueError(
                f"block={block}: the GPU's free memory holds about {fit:,} paths of this "
                "scenario at a time; pass a smaller block (the same block on the CPU gives the "
                "same table)"
            )
        self.device = gpu.Device(rec, width, shapes)
        H = scenario.horizon
        segments = list(scenario.segment_names)
        where: dict[tuple[str, int], int] = {}  # (output, year) -> its first row
        rows: list[tuple[int, int, int]] = []

        def add(name: str, t: int) -> int:
            where.setdefault((name, t), len(rows))
            if name.startswith("revenue.") and name not in OUTPUTS:
                rows.append((1, segments.index(name.split(".", 1)[1]), t))
            else:
                rows.append((0, OUTPUTS.index(name), t))
            return where[name, t]

        for name in names:  # the summarised rows first, in the table's order (repeats too)
            for t in range(H):
                add(name, t)
        self.n_rows = len(rows)  # the summarised rows; the risk rows may add more

        def row(name: str, t: int) -> int:
            return where[name, t] if (name, t) in where else add(name, t)

        npa = [row("net_profit_attributable", t) for t in range(H)]
        self.risk_rows = {"loss": npa, "miss": npa}
        self.risk_rows.update({name: [row(name, t) for t in range(H)] for name in PRICE_OUTPUTS})
        self.n_all = len(rows)
        thr = np.full((len(rows), 3), np.nan)  # below, below, above (NaN: none)
        thr[npa, 0] = 0.0  # a loss
        thr[npa, 1] = _forecast(scenario.forecast.net_profit_attributable, H)  # a miss
        for name in PRICE_OUTPUTS:
            thr[self.risk_rows[name], 2] = scenario.market_price
        self.rows = gpu.to_device(np.array(rows, np.int64))
        self.thr = gpu.to_device(thr)
        self.capacity = max(1, min(int(max_values), n_paths * self.n_rows))
        self.lanes = streaming.LANES
        if not 1 <= self.lanes <= 2048:  # _fold's thread block: lanes // 2 threads, at most 1024
            raise ValueError(f"LANES={self.lanes}: allowed 1 to 2048")
        self.kept: dict[int, Any] = {}  # block -> its device buffers, kept between passes
        self.block_bytes = sum(a.nbytes for a in self.device.bufs)
        # a pass refines at most 2 ranks x 3 levels x n_levels buckets a row (pass 1: brackets)
        buckets = self.n_rows * 6 * max(1, n_levels)
        self.pass_bytes = 3 * 8 * SUB * buckets + 8 * self.n_rows * self.lanes * (buckets + 1)
        self.pass_bytes += 16 * self.capacity  # the collected values
        self.room = self._room()

    def _room(self) -> int:
        """Bytes that may keep whole blocks on the device between passes: :data:`KEEP` of what
        is free, less the most a pass's own arrays take (:attr:`pass_bytes`) and 1 GiB."""
        if KEEP_BYTES is not None:
            return KEEP_BYTES
        if gpu.simulator():
            return 0
        context = cuda.current_context()
        context.deallocations.clear()  # an earlier run's buffers, freed now, not later
        free, _total = context.get_memory_info()
        return max(0, int(KEEP * free) - self.pass_bytes - (1 << 30))

    def _simulate(self, b: int) -> Any:
        """Block ``b``'s device buffers, simulated the first time it is asked for; kept on the
        device while there is room (later passes then reuse them), else simulated again into
        the launch's buffers."""
        if b in self.kept:
            return self.kept[b]
        start, n = self.parts[b]
        into = None
        if self.room >= self.block_bytes:
            into = self.kept[b] = self.device.empty_buffers()
            self.room -= self.block_bytes
        self.device.launch(start, n, self.n_total, self.method, self.designs(start, n), into)
        return self.device.bufs if into is None else into

    def run_pass(
        self,
        plan: Sequence[streaming.RowPlan | None],
        on_moments: Callable[[int, np.ndarray], object] | None,
        on_part: Callable[[list[streaming.RowPart | None]], object],
        on_risk: Callable[[dict[str, np.ndarray]], object],
    ) -> None:
        """One pass over every block: ``plan``'s order-statistic counts to ``on_part`` (once),
        and with ``on_moments`` (pass 1) each block's moments ``on_moments(block, (R, 5))`` and
        the risk counts to ``on_risk`` (once)."""
        R, Ra, L = self.n_rows, self.n_all, self.lanes
        B = len(self.parts)
        M = max([1] + [p[0].size for p in plan if p is not None])
        m = np.array([-1 if p is None else p[0].size for p in plan], np.int64)
        lo = np.zeros((R, M), np.uint64)
        hi = np.zeros((R, M), np.uint64)
        shift = np.zeros((R, M), np.int64)
        slot = np.full((R, M), -1, np.int64)  # refined bucket -> its sub-buckets; -1: collect
        refined = 0
        for r, p in enumerate(plan):
            if p is not None and p[0].size:
                k = p[0].size
                lo[r, :k], hi[r, :k], shift[r, :k] = p[0], p[1], p[2]
                own = np.flatnonzero(~p[3])
                slot[r, own] = refined + np.arange(own.size)
                refined += own.size
        to = gpu.to_device
        d_plan = [to(a) for a in (m, lo, hi, shift, slot)]
        size = max(1, refined) * SUB
        counts = to(np.zeros(size, np.int64))
        kmin = to(np.full(size, _KEY_MAX, np.uint64))
        kmax = to(np.zeros(size, np.uint64))
        gaps = to(np.zeros((R, L, M + 1), np.int64))
        ext = to(np.tile(np.array([_KEY_MAX, 0], np.uint64), (R, L, 1)))
        taken = to(np.zeros(1, np.int64))
        take = [gpu.device_empty((self.capacity,), t) for t in (np.int32, np.int32, np.float64)]
        first = on_moments is not None
        if first:
            mom = gpu.device_empty((Ra, L, 5), np.float64)
            res = gpu.device_empty((B, Ra, 5), np.float64)
            cnt = to(np.zeros((Ra, L, 3), np.int64))
        stats, fold, buckets = _kernel(_stats), _kernel(_fold), _kernel(_buckets)
        with gpu.ieee_compile():
            for b, (_start, n) in enumerate(self.parts):
                bufs = self._simulate(b)
                out, seg = bufs.out, bufs.seg_out
                if first:
                    blocks, tpb = _grid(Ra * L)
                    stats[blocks, tpb]((out, seg), self.rows, self.thr, n, mom, cnt)
                    fold[Ra, max(1, L // 2)](mom, res, b, True)
                blocks, tpb = _grid(R * L)
                bits = out.view(np.uint64), seg.view(np.uint64)
                buckets[blocks, tpb](
                    (out, seg),
                    bits,
                    self.rows,
                    n,
                    *d_plan,
                    counts,
                    kmin,
                    kmax,
                    gaps,
                    ext,
                    taken,
                    *take,
                )
        host = gpu._to_host
        got = int(host(taken)[0])
        if got > self.capacity:
            raise RuntimeError(
                f"backend='cuda': a pass collected {got:,} values, more than the "
                f"{self.capacity:,} planned (blocks changed between passes?)"
            )
        if on_moments is not None:
            res_h = host(res)
            for b in range(B):
                on_moments(b, res_h[b, :R].copy())
            cnt_h = host(cnt).sum(axis=1)
            on_risk(
                {
                    key: cnt_h[r, 0 if key == "loss" else 1 if key == "miss" else 2]
                    for key, r in self.risk_rows.items()
                }
            )
        on_part(
            self._part(
                plan,
                slot,
                host(counts),
                host(kmin),
                host(kmax),
                host(gaps),
                host(ext),
                [host(a)[:got] for a in take],
            )
        )

    @staticmethod
    def _part(
        plan: Sequence[streaming.RowPlan | None],
        slot: np.ndarray,
        counts: np.ndarray,
        kmin: np.ndarray,
        kmax: np.ndarray,
        gaps: np.ndarray,
        ext: np.ndarray,
        take: list[np.ndarray],
    ) -> list[streaming.RowPart | None]:
        """The pass's counts as one block's :meth:`OrderStatistics.part` would give them: per
        row the occupied sub-buckets (``bucket * 4096 + sub``, in order), the gaps, the
        extremes and the collected values by bucket."""
        take_row, take_node, take_val = take
        order = np.lexsort((take_node, take_row))
        take_row, take_node, take_val = take_row[order], take_node[order], take_val[order]
        counts, kmin, kmax = (a.reshape(-1, SUB) for a in (counts, kmin, kmax))
        out: list[streaming.RowPart | None] = []
        for r, p in enumerate(plan):
            if p is None:
                out.append(None)
                continue
            k = p[0].size
            idx, cnt, low, high = [], [], [], []
            for j in range(k):
                s = slot[r, j]
                if s < 0:
                    continue
                nz = np.flatnonzero(counts[s])
                idx.append(j * SUB + nz)
                cnt.append(counts[s, nz])
                low.append(kmin[s, nz])
                high.append(kmax[s, nz])
            sparse = (
                np.concatenate(idx) if idx else np.zeros(0, np.int64),
                np.concatenate(cnt) if cnt else np.zeros(0, np.int64),
                np.concatenate(low) if low else np.zeros(0, np.uint64),
                np.concatenate(high) if high else np.zeros(0, np.uint64),
            )
            a, z = np.searchsorted(take_row, [r, r + 1])
            extremes = np.array([ext[r, :, 0].min(), ext[r, :, 1].max()], np.uint64)
            row_gaps = gaps[r, :, : k + 1].sum(axis=0)
            out.append((sparse, row_gaps, extremes, take_node[a:z].astype(np.int64), take_val[a:z]))
        return out

    def tail_pass(self, cuts: np.ndarray, on_sums: Callable[[int, np.ndarray], object]) -> None:
        """The shortfall pass: per block ``on_sums(block, (H, J, 3))``, the count, sum and sum
        of squares of net profit attributable at or below ``cuts`` (H, J)."""
        H, J = cuts.shape
        L, B = self.lanes, len(self.parts)
        d_cuts = gpu.to_device(np.ascontiguousarray(cuts, dtype=np.float64))
        acc = gpu.device_empty((H * J, L, 3), np.float64)
        res = gpu.device_empty((B, H * J, 3), np.float64)
        tail, fold = _kernel(_tail), _kernel(_fold)
        with gpu.ieee_compile():
            for b, (_start, n) in enumerate(self.parts):
                out = self._simulate(b).out
                blocks, tpb = _grid(H * J * L)
                tail[blocks, tpb](out, d_cuts, n, acc)
                fold[H * J, max(1, L // 2)](acc, res, b, False)
        res_h = gpu._to_host(res)
        for b in range(B):
            on_sums(b, res_h[b].reshape(H, J, 3).copy())
