"""Exact statistics of a run streamed in blocks: mergeable moments and order statistics.

Private; :func:`simcore.engine.dask.simulate_summary` uses it. Blocks may finish in any order
and in any process; everything merged here is either an integer count (order-free) or merged
in block order (moments), so the result does not depend on scheduling.

Moments: per block the count and central sums ``(n, mean, M2, M3, M4)`` of each of
:data:`LANES` interleaved lanes of its paths, the lanes merged pairwise in a fixed tree and the
blocks in block order, by Pébay's update (Pébay 2008, "Formulas for robust, one-pass parallel
computation of covariances and arbitrary-order statistical moments", eqs. 2.1, 2.3 and 3.1). The
tail sums behind the expected shortfall are added the same way. The GPU computes the lanes with
one thread each and so gets the same bytes.

Order statistics (:class:`OrderStatistics`), exact, in passes over the same blocks:

- Every non-NaN float64 maps to a uint64 *key* whose unsigned order is the order of the floats
  (sign bit flipped for positives, all bits for negatives; -0.0 is counted as +0.0). A
  *bucket* is a key range ``lo .. hi``.
- A pilot (the run's first paths) brackets each sought quantile: a bucket around it wide
  enough (5 binomial standard deviations of the pilot, and more) to hold it almost surely.
- Pass 1 counts each row's values in 2**12 sub-buckets of each bracket, with the smallest and
  largest key in each, and counts exactly how many values fall in each gap between brackets
  (and the row's min and max). Counts add across blocks. A rank then lies either in a
  sub-bucket of a bracket, or (rarely) in a gap, which becomes a bucket of its own.
- Each later pass takes every located bucket either to *collect* (its values come back and are
  sorted: ranks resolved) or to *refine* (counted again in 2**12 sub-buckets of its range).
  Buckets are collected smallest first while the values to collect stay within a budget; a
  bucket whose min and max key are equal is one value and needs no more passes. With the
  default budget two passes suffice up to beyond 10^9 paths; the refinement is what keeps the
  answer exact (and memory bounded) when a bracket missed or a bucket is too full.

Values are then interpolated as numpy does (``np.quantile(..., method="linear")``): the bytes
equal ``np.nanquantile`` of the whole data and :func:`simcore.results.quantiles.quantiles`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from distributions.kernels import jit

SUB_BITS = 12
_SIGN = np.uint64(1 << 63)
_INF_BITS = np.uint64(0x7FF0000000000000)
_KEY_MAX = (1 << 64) - 1

# a row's buckets for one pass: lo, hi (uint64 keys), child shift (int64), collect (bool)
RowPlan: TypeAlias = "tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]"
# a row's share of a pass from one block: sparse sub-bucket (codes, counts, kmin, kmax), gap
# counts, (min key, max key), and the collected values' bucket numbers and values
RowPart: TypeAlias = (
    "tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray, "
    "np.ndarray, np.ndarray, np.ndarray]"
)


# -- keys ------------------------------------------------------------------------------------------
@jit(inline="always")
def _key(b: np.uint64) -> np.uint64:
    """The order key of the float64 with bits ``b`` (not NaN); -0.0 gives +0.0's key."""
    if b == _SIGN:
        b = np.uint64(0)
    if b & _SIGN:
        return ~b
    return b | _SIGN


def keys(x: ArrayLike) -> np.ndarray:
    """uint64 keys of the non-NaN float64 values ``x`` (numpy; the kernels inline the same)."""
    b = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
    b = np.where(b == _SIGN, np.uint64(0), b)
    return np.where(b & _SIGN, ~b, b | _SIGN)


def key_value(key: int) -> float:
    """The float64 of a key (inverse of :func:`keys`)."""
    k = np.uint64(key)
    b = k & ~_SIGN if k & _SIGN else ~k
    return float(np.array([b], np.uint64).view(np.float64)[0])


# -- kernel --------------------------------------------------------------------------------------
@jit
def _bucket_counts(
    bits: np.ndarray,
    vals: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    cshift: np.ndarray,
    collect: np.ndarray,
    counts: np.ndarray,
    kmin: np.ndarray,
    kmax: np.ndarray,
    gaps: np.ndarray,
    extremes: np.ndarray,
    take_node: np.ndarray,
    take_val: np.ndarray,
) -> int:
    """One block row against buckets ``j`` (keys ``lo[j] .. hi[j]`` inclusive, uint64 (m,),
    sorted and disjoint; ``m`` may be 0) for the non-NaN values (float64 ``vals``, their bits
    ``bits``, shape (n,)).

    A value in a bucket to refine (``collect[j]`` False) is counted in sub-bucket
    ``(key - lo[j]) >> cshift[j]`` of ``counts``/``kmin``/``kmax`` (shape (m, 2**12)); one in
    a bucket to collect is appended to ``take_node`` (int64) and ``take_val`` (float64), both
    of length >= n; one in no bucket is counted in ``gaps[j]`` (int64 (m+1,): gap j lies below
    bucket j). ``extremes`` (uint64 (2,)) takes the smallest and largest key. Returns how many
    values were appended."""
    m = lo.size
    taken = 0
    for i in range(bits.size):
        b = bits[i]
        if (b & ~_SIGN) > _INF_BITS:  # NaN
            continue
        k = _key(b)
        if k < extremes[0]:
            extremes[0] = k
        if k > extremes[1]:
            extremes[1] = k
        if m == 0 or k < lo[0]:
            gaps[0] += 1
            continue
        a = 0  # the last bucket with lo <= k (binary search)
        z = m - 1
        while a < z:
            mid = (a + z + 1) // 2
            if lo[mid] <= k:
                a = mid
            else:
                z = mid - 1
        if k > hi[a]:
            gaps[a + 1] += 1
        elif collect[a]:
            take_node[taken] = a
            take_val[taken] = vals[i]
            taken += 1
        else:
            c = np.intp((k - lo[a]) >> np.uint64(cshift[a]))
            counts[a, c] += 1
            if k < kmin[a, c]:
                kmin[a, c] = k
            if k > kmax[a, c]:
                kmax[a, c] = k
    return taken


# -- moments and tail sums, in lanes --------------------------------------------------------------
LANES = 512  # a block's paths reduce in this many interleaved lanes: path i of the block in lane
#              i % LANES, each lane in path order, then the lanes pairwise in a fixed tree. The
#              GPU backend runs one thread per lane: the same operations in the same order, so
#              the same bytes (:mod:`simcore.engine.cuda_summary`).


@jit(inline="always")
def merge_one(
    na: float,
    ma: float,
    m2a: float,
    m3a: float,
    m4a: float,
    nb: float,
    mb: float,
    m2b: float,
    m3b: float,
    m4b: float,
) -> tuple[float, float, float, float, float]:
    """Pébay's merge of the moments ``(n, mean, M2, M3, M4)`` of ``a`` (earlier values) and
    ``b`` (later ones); either may be empty (``n = 0``)."""
    if na == 0.0:
        return nb, mb, m2b, m3b, m4b
    if nb == 0.0:
        return na, ma, m2a, m3a, m4a
    n = na + nb
    delta = mb - ma
    dn = delta / n
    dn2 = dn * dn
    t1 = delta * dn * na * nb
    mean = ma + nb * dn
    m2 = m2a + m2b + t1
    m3 = m3a + m3b + t1 * dn * (na - nb) + 3.0 * dn * (na * m2b - nb * m2a)
    m4 = (
        m4a
        + m4b
        + t1 * dn2 * (na * na - na * nb + nb * nb)
        + 6.0 * dn2 * (na * na * m2b + nb * nb * m2a)
        + 4.0 * dn * (na * m3b - nb * m3a)
    )
    return n, mean, m2, m3, m4


@jit
def _merge_rows(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for r in range(a.shape[0]):
        out[r, 0], out[r, 1], out[r, 2], out[r, 3], out[r, 4] = merge_one(
            a[r, 0], a[r, 1], a[r, 2], a[r, 3], a[r, 4], b[r, 0], b[r, 1], b[r, 2], b[r, 3], b[r, 4]
        )


@jit
def _lane_moments(x: np.ndarray, acc: np.ndarray) -> None:
    """``acc`` (lanes, 5): per lane the count, mean and central sums M2, M3, M4 of the non-NaN
    values of ``x`` in that lane, each lane in path order (the mean first, then the sums)."""
    lanes, n = acc.shape[0], x.size
    acc[:] = 0.0
    for base in range(0, n, lanes):
        for c in range(min(lanes, n - base)):
            v = x[base + c]
            if v == v:
                acc[c, 0] += 1.0
                acc[c, 1] += v
    for c in range(lanes):
        if acc[c, 0] > 0.0:
            acc[c, 1] = acc[c, 1] / acc[c, 0]
    for base in range(0, n, lanes):
        for c in range(min(lanes, n - base)):
            v = x[base + c]
            if v == v:
                d = v - acc[c, 1]
                d2 = d * d
                acc[c, 2] += d2
                acc[c, 3] += d2 * d
                acc[c, 4] += d2 * d2


@jit
def _lane_tail(x: np.ndarray, cut: float, acc: np.ndarray) -> None:
    """``acc`` (lanes, 3): per lane the count, sum and sum of squares of the values of ``x``
    at or below ``cut``, each lane in path order."""
    lanes, n = acc.shape[0], x.size
    acc[:] = 0.0
    for base in range(0, n, lanes):
        for c in range(min(lanes, n - base)):
            v = x[base + c]
            if v <= cut:
                acc[c, 0] += 1.0
                acc[c, 1] += v
                acc[c, 2] += v * v


@jit
def _fold_lanes(acc: np.ndarray, moments: bool) -> None:
    """Merge (``moments``: Pébay's update of ``n, mean, M2, M3, M4``) or add the lanes of
    ``acc`` pairwise into ``acc[0]``: at step ``s = 1, 2, 4, ...`` lane ``c`` (a multiple of
    ``2 s``) takes in lane ``c + s``."""
    lanes = acc.shape[0]
    s = 1
    while s < lanes:
        for c in range(0, lanes - s, 2 * s):
            if moments:
                acc[c, 0], acc[c, 1], acc[c, 2], acc[c, 3], acc[c, 4] = merge_one(
                    acc[c, 0],
                    acc[c, 1],
                    acc[c, 2],
                    acc[c, 3],
                    acc[c, 4],
                    acc[c + s, 0],
                    acc[c + s, 1],
                    acc[c + s, 2],
                    acc[c + s, 3],
                    acc[c + s, 4],
                )
            else:
                for k in range(acc.shape[1]):
                    acc[c, k] += acc[c + s, k]
        s *= 2


def block_moments(rows: Sequence[np.ndarray]) -> np.ndarray:
    """(R, 5) ``n, mean, M2, M3, M4`` of the non-NaN values of each row, in :data:`LANES`
    lanes merged pairwise."""
    out = np.zeros((len(rows), 5))
    acc = np.empty((LANES, 5))
    for i, x in enumerate(rows):
        _lane_moments(np.ascontiguousarray(x, dtype=np.float64), acc)
        _fold_lanes(acc, True)
        out[i] = acc[0]
    return out


def tail_sums(x: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """(J, 3) count, sum and sum of squares of the values of ``x`` at or below each of
    ``cuts`` (J,), in :data:`LANES` lanes added pairwise."""
    out = np.zeros((cuts.size, 3))
    acc = np.empty((LANES, 3))
    x = np.ascontiguousarray(x, dtype=np.float64)
    for j, cut in enumerate(cuts.tolist()):
        _lane_tail(x, cut, acc)
        _fold_lanes(acc, False)
        out[j] = acc[0]
    return out


def merge_moments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Merge (R, 5) moment rows ``a`` (earlier blocks) and ``b`` (the next block)."""
    out = np.empty_like(a)
    _merge_rows(np.ascontiguousarray(a), np.ascontiguousarray(b), out)
    return out


class InOrder:
    """Blocks' results combined in block order whatever order they arrive in: ``combine(total,
    value)`` gives the new total (``total`` starts as ``start``)."""

    def __init__(self, start: np.ndarray, combine: Callable[[np.ndarray, np.ndarray], np.ndarray]):
        self.total, self._combine = start, combine
        self._early: dict[int, np.ndarray] = {}
        self._next = 0

    def add(self, i: int, value: np.ndarray) -> None:
        self._early[i] = value
        while self._next in self._early:
            self.total = self._combine(self.total, self._early.pop(self._next))
            self._next += 1


# -- quantile arithmetic (numpy's linear method) -------------------------------------------------
def quantile_ranks(n: int, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(prev, nxt, gamma)``: the 0-based order statistics and weights of each level for ``n``
    values, as ``numpy.quantile(method="linear")`` and :mod:`simcore.results.quantiles` compute
    them."""
    v = (n - 1) * levels
    p = np.floor(v)
    top = v >= n - 1
    prev = np.where(top, n - 1, p).astype(np.int64)
    nxt = np.where(top, n - 1, p + 1).astype(np.int64)
    gamma = np.where(top, v + 1.0, v - p)
    return prev, nxt, gamma


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's ``_lerp``, elementwise: ``a + (b - a) t``, from ``b`` when ``t >= 0.5``."""
    d = b - a
    return np.where(t >= 0.5, b - d * (1.0 - t), a + d * t)


# -- the order statistics ------------------------------------------------------------------------
PILOT_SD = 5.0  # bracket half-width in binomial standard deviations of the pilot's ranks


class _Sparse:
    """Sub-bucket code -> (count, min key, max key), merged from blocks' sparse parts."""

    def __init__(self) -> None:
        self.idx = np.zeros(0, np.int64)
        self.count = np.zeros(0, np.int64)
        self.kmin = np.zeros(0, np.uint64)
        self.kmax = np.zeros(0, np.uint64)

    def add(self, idx: np.ndarray, count: np.ndarray, kmin: np.ndarray, kmax: np.ndarray) -> None:
        if not idx.size:
            return
        u, inv = np.unique(np.concatenate([self.idx, idx]), return_inverse=True)
        c = np.zeros(u.size, np.int64)
        np.add.at(c, inv, np.concatenate([self.count, count]))
        lo = np.full(u.size, _KEY_MAX, np.uint64)
        np.minimum.at(lo, inv, np.concatenate([self.kmin, kmin]))
        hi = np.zeros(u.size, np.uint64)
        np.maximum.at(hi, inv, np.concatenate([self.kmax, kmax]))
        self.idx, self.count, self.kmin, self.kmax = u, c, lo, hi

    def bucket(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(count, kmin, kmax)`` of the occupied sub-buckets of bucket ``j``, in key order."""
        sel = (self.idx >> SUB_BITS) == j
        return self.count[sel], self.kmin[sel], self.kmax[sel]


class _Bucket:
    """Keys ``lo .. hi`` (inclusive) of a row: ``count`` values, ``below`` of the row's values
    lower, and the ranks sought inside."""

    __slots__ = ("lo", "hi", "count", "below", "ranks")

    def __init__(self, lo: int, hi: int, count: int, below: int) -> None:
        self.ranks: list[int] = []
        self.lo, self.hi, self.count, self.below = lo, hi, count, below


def _plan_row(buckets: Sequence[_Bucket], collect: ArrayLike) -> RowPlan:
    lo = np.array([b.lo for b in buckets], np.uint64)
    hi = np.array([b.hi for b in buckets], np.uint64)
    shift = np.array([max(0, (b.hi - b.lo).bit_length() - SUB_BITS) for b in buckets], np.int64)
    return lo, hi, shift, np.asarray(collect, bool)


def pilot_brackets(
    rows: Sequence[np.ndarray], levels_of: Callable[[int], np.ndarray]
) -> list[RowPlan | None]:
    """Brackets (a pass-1 plan) from a pilot block: per row, buckets around the pilot's order
    statistics at each of ``levels_of(n_pilot_defined)`` widened by :data:`PILOT_SD` binomial
    standard deviations (overlaps merged). Levels 0 and 1 need none (the extremes are exact)."""
    plan: list[RowPlan | None] = []
    for x in rows:
        v = np.sort(x[~np.isnan(x)])
        m = v.size
        spans: list[list[int]] = []
        if m:
            lev = np.unique(levels_of(m))
            lev = lev[(lev > 0.0) & (lev < 1.0)]
            half = PILOT_SD * np.sqrt(lev * (1 - lev) * m) + 2.0
            lo_r = np.clip(np.floor(lev * (m - 1) - half), 0, m - 1).astype(np.int64)
            hi_r = np.clip(np.ceil(lev * (m - 1) + half), 0, m - 1).astype(np.int64)
            k = keys(v)
            for a, b in zip(k[lo_r].tolist(), k[hi_r].tolist(), strict=True):
                if spans and a <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], b)
                else:
                    spans.append([a, b])
        buckets = [_Bucket(a, b, 0, 0) for a, b in spans]
        plan.append(_plan_row(buckets, [False] * len(buckets)))
    return plan


class OrderStatistics:
    """Exact order statistics of ``n_rows`` rows of values that arrive in blocks, in passes.

    On the client: :meth:`start` with a pass-1 plan (:func:`pilot_brackets`); then for each
    pass, :meth:`part` of every block (on the workers) given to :meth:`add`, then
    :meth:`end_pass`; after pass 1, :meth:`seek` each row's ranks; :meth:`plan` gives the next
    pass (``None`` when every rank is found). :attr:`found` ``[row][rank]`` holds the values.
    ``max_values``: most values collected in one pass (any >= 1 gives the same result).
    """

    def __init__(self, n_rows: int, max_values: int) -> None:
        self.max_values = int(max_values)
        self.found: list[dict[int, float]] = [{} for _ in range(n_rows)]
        self._buckets: list[list[_Bucket]] = [[] for _ in range(n_rows)]
        self._plan: list[RowPlan | None] | None = None
        self._first: list[RowPlan | None] | None = None
        # the pass under way (None between passes), per row (None: the row is not in it)
        self._subs: list[_Sparse | None] | None = None
        self._gaps: list[np.ndarray | None] | None = None
        self._ext: list[list[int] | None] | None = None
        self._vals: list[list[list[np.ndarray]] | None] | None = None

    # on a worker ---------------------------------------------------------------------------------
    @staticmethod
    def part(rows: Sequence[np.ndarray], plan: Sequence[RowPlan | None]) -> list[RowPart | None]:
        """One block's share of a pass: per row (``plan[row]`` not None) the sparse sub-bucket
        counts of the buckets to refine, the gap counts, the row's min and max key, and the
        values of the buckets to collect, by bucket."""
        out: list[RowPart | None] = []
        for x, p in zip(rows, plan, strict=True):
            if p is None:
                out.append(None)
                continue
            lo, hi, cshift, collect = p
            x = np.ascontiguousarray(x)
            m = lo.size
            counts = np.zeros((m, 1 << SUB_BITS), np.int64)
            kmin = np.full((m, 1 << SUB_BITS), _KEY_MAX, np.uint64)
            kmax = np.zeros((m, 1 << SUB_BITS), np.uint64)
            gaps = np.zeros(m + 1, np.int64)
            ext = np.array([_KEY_MAX, 0], np.uint64)
            node = np.empty(x.size, np.int64)
            val = np.empty(x.size)
            t = _bucket_counts(
                x.view(np.uint64),
                x,
                lo,
                hi,
                cshift,
                collect,
                counts,
                kmin,
                kmax,
                gaps,
                ext,
                node,
                val,
            )
            nz = np.flatnonzero(counts.reshape(-1))
            sparse = (nz, counts.reshape(-1)[nz], kmin.reshape(-1)[nz], kmax.reshape(-1)[nz])
            order = np.argsort(node[:t], kind="stable")
            out.append((sparse, gaps, ext, node[:t][order], val[:t][order]))
        return out

    # on the client -------------------------------------------------------------------------------
    def start(self, plan: list[RowPlan | None]) -> None:
        """Pass 1 will count ``plan`` (per row: lo, hi, child shift, collect=False)."""
        self._begin(plan)
        self._first = plan

    def _begin(self, plan: list[RowPlan | None]) -> None:
        self._plan = plan
        self._subs = [None if p is None else _Sparse() for p in plan]
        self._gaps = [None if p is None else np.zeros(p[0].size + 1, np.int64) for p in plan]
        self._ext = [None if p is None else [_KEY_MAX, 0] for p in plan]
        self._vals = [None if p is None else [[] for _ in range(p[0].size)] for p in plan]

    def add(self, part: Sequence[RowPart | None]) -> None:
        assert self._subs is not None and self._gaps is not None  # in a pass: _begin ran
        assert self._ext is not None and self._vals is not None
        for row, p in enumerate(part):
            if p is None:
                continue
            sparse, gaps, ext, node, val = p
            sub, row_gaps, e, row_vals = (
                self._subs[row],
                self._gaps[row],
                self._ext[row],
                self._vals[row],
            )
            assert sub is not None and row_gaps is not None  # the row is in the pass's plan
            assert e is not None and row_vals is not None
            sub.add(*sparse)
            row_gaps += gaps
            e[0], e[1] = min(e[0], int(ext[0])), max(e[1], int(ext[1]))
            if node.size:
                cuts = np.flatnonzero(np.diff(node)) + 1
                for ids, chunk in zip(np.split(node, cuts), np.split(val, cuts), strict=True):
                    row_vals[int(ids[0])].append(chunk)

    def seek(self, row: int, n: int, ranks: Sequence[int]) -> None:
        """After pass 1: locate the sorted, distinct ``ranks`` of ``row`` (``n`` values)."""
        assert self._first is not None and self._gaps is not None  # after pass 1
        assert self._ext is not None and self._subs is not None
        first_plan, gaps, ext, sub = (
            self._first[row],
            self._gaps[row],
            self._ext[row],
            self._subs[row],
        )
        assert first_plan is not None and gaps is not None  # the row is in pass 1's plan
        assert ext is not None and sub is not None
        lo, hi, _shift, _collect = first_plan
        gmin, gmax = ext
        m = lo.size
        counts = [int(sub.bucket(j)[0].sum()) for j in range(m)]
        if sum(counts) + int(gaps.sum()) != n:
            raise RuntimeError(
                "blocks changed between passes: pass 1 counted "
                f"{sum(counts) + int(gaps.sum())} values of {n}"
            )
        into = self._buckets[row]
        region_lo = [gmin] + [int(h) + 1 for h in hi]
        region_hi = [int(v) - 1 for v in lo] + [gmax]
        starts: list[tuple[str, int, int]] = []
        below = 0  # (kind, j, first rank) of gap j and bucket j, in key order
        for j in range(m + 1):
            starts.append(("gap", j, below))
            below += int(gaps[j])
            if j < m:
                starts.append(("bucket", j, below))
                below += counts[j]
        firsts = [st[2] for st in starts]
        for r in ranks:
            if r == 0 or r == n - 1:  # the extremes are exact already
                self.found[row][r] = key_value(gmin if r == 0 else gmax)
                continue
            kind, j, first = starts[int(np.searchsorted(firsts, r, side="right")) - 1]
            if kind == "bucket":
                c, kmn, kmx = sub.bucket(j)
                self._locate(row, c, kmn, kmx, first, [r], into)
            elif into and into[-1].below == first and into[-1].lo == region_lo[j]:
                into[-1].ranks.append(r)
            else:  # a bracket missed: the gap is searched like any bucket
                b = _Bucket(region_lo[j], region_hi[j], int(gaps[j]), first)
                b.ranks.append(r)
                into.append(b)

    def pass1_done(self) -> None:
        self._plan = self._subs = self._gaps = self._ext = self._vals = None
        self._first = None

    def _locate(
        self,
        row: int,
        count: np.ndarray,
        kmin: np.ndarray,
        kmax: np.ndarray,
        below: int,
        ranks: Sequence[int],
        into: list[_Bucket],
    ) -> None:
        """Append to ``into`` the bucket (occupied sub-buckets in key order: ``count``,
        ``kmin``, ``kmax``; ``below`` values lie lower) of each of the sorted ``ranks``."""
        cum = np.cumsum(count)
        for r in ranks:
            c = int(np.searchsorted(cum, r - below, side="right"))
            lo, hi = int(kmin[c]), int(kmax[c])
            if lo == hi:  # one key: every value in the sub-bucket is this one
                self.found[row][r] = key_value(lo)
                continue
            if into and into[-1].lo == lo:
                into[-1].ranks.append(r)
                continue
            b = _Bucket(lo, hi, int(count[c]), below + int(cum[c] - count[c]))
            b.ranks.append(r)
            into.append(b)

    def plan(self) -> list[RowPlan | None] | None:
        """The next pass's plan (``None``: every rank found): per row ``None`` or arrays
        ``(lo, hi, child shift, collect)`` of its buckets. Collects the smallest buckets first
        while the values stay within ``max_values``."""
        sizes = sorted(
            (b.count, row, j) for row, bs in enumerate(self._buckets) for j, b in enumerate(bs)
        )
        if not sizes:
            return None
        collect = [np.zeros(len(bs), bool) for bs in self._buckets]
        room = self.max_values
        for count, row, j in sizes:
            if count > room:
                break
            collect[row][j] = True
            room -= count
        plan: list[RowPlan | None] = [
            _plan_row(bs, collect[row]) if bs else None for row, bs in enumerate(self._buckets)
        ]
        self._begin(plan)
        return plan

    def end_pass(self) -> None:
        """Resolve the collected buckets and locate the ranks of the refined ones."""
        assert self._plan is not None and self._subs is not None  # in a pass: plan() ran
        assert self._vals is not None
        for row, bs in enumerate(self._buckets):
            if not bs:
                continue
            row_plan, sub, row_vals = self._plan[row], self._subs[row], self._vals[row]
            assert row_plan is not None and sub is not None  # a row with buckets is planned
            assert row_vals is not None
            collect = row_plan[3]
            nxt: list[_Bucket] = []
            for j, b in enumerate(bs):
                if collect[j]:
                    chunks = row_vals[j]
                    # + 0.0 makes -0.0 +0.0 (they share a key): the sort then does not
                    # depend on the order the values arrived in
                    vals = np.sort(np.concatenate(chunks) + 0.0) if chunks else np.zeros(0)
                    if vals.size != b.count:
                        raise RuntimeError(
                            f"blocks changed between passes: {vals.size} values "
                            f"in a bucket that held {b.count}"
                        )
                    for r in b.ranks:
                        self.found[row][r] = vals[r - b.below]
                    continue
                c, kmn, kmx = sub.bucket(j)
                if int(c.sum()) != b.count:
                    raise RuntimeError(
                        "blocks changed between passes: a bucket's sub-bucket "
                        "counts do not add up to its count"
                    )
                self._locate(row, c, kmn, kmx, b.below, b.ranks, nxt)
            self._buckets[row] = nxt
        self._plan = self._subs = self._gaps = self._ext = self._vals = None
