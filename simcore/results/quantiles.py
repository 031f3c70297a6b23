"""Exact quantiles, identical to ``np.nanquantile(x, q, method="linear")``, without sorting.

For each row the needed order statistics (two per quantile) are found by bucket selection:

1. A pilot of ``_PILOT`` evenly spaced values sets a range [lo, hi]. It need not hold every
   value: a value's bucket is ``(x - lo) * scale`` clamped to the first or last bucket, a
   non-decreasing function of ``x`` for any ``lo`` and ``scale > 0``, so the selection stays
   exact whatever the range; a good range only keeps the buckets small.
2. One pass counts the values in buckets (about 16 values a bucket, at most ``_NB``) and keeps
   each value's bucket (uint16). NaN has a bucket of its own, so its count is the number of
   NaNs: no NaN-free copy of the row.
3. The stored buckets (2 bytes a value, still in cache) pick out the values of the few buckets
   that hold a needed rank into a small buffer. Each such bucket goes to the quickselect
   :func:`_select` or, when it holds more than ``_SMALL`` values (heavy tails, point masses,
   values beyond the pilot's range), is bucketed again over its own exact range, in place in
   that buffer, unless it is a pass's bucket that kept most of its values (values spread over
   hundreds of octaves; a point mass).

The answer is then interpolated with numpy's own formula (``_lerp`` of
``numpy.lib._function_base_impl``), so the bytes equal numpy's. Rows run in parallel, rows of
several arrays in one call with :func:`quantiles_rows`.

Why the code looks as it does:

- First-run compile time (a fresh process with no numba cache compiles all of this). Every
  numba function, and every distinct set of argument types it is called with, is compiled on
  its own (0.1-0.7 s each), and numba's library functions are large: ``np.sort`` (its
  quicksort machinery, twice instantiated) cost about 3 s, ``np.min``, ``np.searchsorted``,
  ``np.count_nonzero``, ``np.zeros``, boolean-mask indexing and list stacks 0.1-0.5 s each.
  So: four functions with plain loops and ``np.empty`` only; a hand-written quickselect that
  finds just the needed order statistics; work lists in int64 arrays; each function compiled
  once, for one set of argument types. Beware of ``Literal[int]``: a constant passed as an
  argument (``f(x, 0)``, ``f(x, _NB)``) compiles a specialisation of its own next to the
  int64 one, so such ints go through ``np.int64`` or are computed inside. Compiling the whole
  takes about 2.5 s (it was 8.5 s with ``np.sort`` and small helpers).
  No recursion: numba cannot load a cached recursive function (numba issue #6061: segfault).
- Speed. numba compiles with ``fastmath=False``, so loops with a running min/max or
  data-dependent stores do not vectorise. The bucket of a chunk of values is computed
  branch-free (selects) in a loop of its own, which LLVM vectorises (over a slice: numba's
  negative-index check on ``x[s + i]`` would turn the loads into gathers); the counting and
  copying loops that use it are scalar. Two count arrays, for even and odd positions, halve the
  wait on the previous increment when a run of values shares a bucket (a point mass: 2x faster
  there, a few percent slower on spread-out data).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from distributions.kernels import jit, parallel_map

_NB = 16384  # most buckets a pass uses (< 65535: uint16 ids): 2 x 64 KB of int32 counts
_CHUNK = 16384  # values bucketed per vectorised step
_PILOT = 4096  # evenly spaced values that set the first level's range
_SMALL = 4096  # a needed bucket with more values is bucketed again (else _select)
_MAX_ROW = 2**31 - 1  # int32 counts; longer rows go to numpy


@jit
def _histogram(x: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``x`` in ``nb`` buckets of equal width over [lo, hi] (index ``nb``: NaN), and
    the bucket of every value; ``nb`` (64 to ``_NB``) gives about 16 values a bucket."""
    nb = 64
    while nb < _NB and nb * 16 < x.size:
        nb *= 2
    # buckets per unit: finite and > 0 whatever the range (halves first: hi - lo may
    # overflow); 1.0 where there is none (lo == hi, hi - lo subnormal, no finite pilot value)
    w = hi * 0.5 - lo * 0.5
    scale = (nb * 0.5) / w if w > 0.0 else 1.0  # no division by 0: plain Python raises there
    scale = scale if scale < np.inf else 1.0
    top = nb - 1.0
    idx = np.empty(x.size, np.uint16)
    c0 = np.empty(nb + 1, np.int32)
    c1 = np.empty(nb + 1, np.int32)
    for b in range(nb + 1):
        c0[b] = 0
        c1[b] = 0
    for s in range(0, x.size, _CHUNK):
        xs = x[s : s + _CHUNK]
        ids = idx[s : s + _CHUNK]
        for i in range(xs.size):  # branch-free: vectorised
            v = xs[i]
            t = (v - lo) * scale
            t = t if t > 0.0 else 0.0
            t = t if t < top else top
            t = top + 1.0 if np.isnan(v) else t
            ids[i] = np.uint16(t)
        m4 = ids.size - ids.size % 4
        for i in range(0, m4, 4):
            c0[ids[i]] += 1
            c1[ids[i + 1]] += 1
            c0[ids[i + 2]] += 1
            c1[ids[i + 3]] += 1
        for i in range(m4, ids.size):
            c0[ids[i]] += 1
    for b in range(nb + 1):  # < 2**31: rows are at most _MAX_ROW long
        c0[b] += c1[b]
    return c0, idx


@jit
def _gather(
    x: np.ndarray,
    idx: np.ndarray,
    counts: np.ndarray,
    ranks: np.ndarray,
    work: np.ndarray,
    top: int,
    offset: int,
    ja: int,
    cap: int,
) -> tuple[np.ndarray, int]:
    """Copy the values of the buckets that hold one of ``ranks`` (sorted, 0-based among the
    non-NaN values of ``x``) into a new array ``buf``, bucket after bucket, and push a work item
    for each such bucket onto ``work`` at ``top`` (see :func:`_row_quantiles`): its start in
    ``buf`` plus ``offset``, its size, its ranks (indices ``ja + j``), and 1 if it may be
    bucketed again (size <= ``cap``). Returns ``buf`` and the new ``top``. ``ranks`` are
    rewritten relative to their bucket; ``counts`` is overwritten (a needed bucket's next slot
    in ``buf``, -1 for the others)."""
    m = ranks.size
    cum = 0  # values in buckets < b
    total = 0  # values in needed buckets < b
    j = 0
    for b in range(counts.size):
        c = counts[b]
        counts[b] = -1
        if b < counts.size - 1 and j < m and ranks[j] < cum + c:  # the last bucket: NaN
            counts[b] = total
            work[top] = offset + total
            work[top + 1] = c
            work[top + 2] = ja + j
            while j < m and ranks[j] < cum + c:
                ranks[j] -= cum
                j += 1
            work[top + 3] = ja + j
            work[top + 4] = 1 if c <= cap else 0
            top += 5
            total += c
        cum += c
    buf = np.empty(total)
    for i in range(x.size):
        b = idx[i]
        d = counts[b]
        if d >= 0:
            buf[d] = x[i]
            counts[b] = d + 1
    return buf, top


@jit
def _select(v: np.ndarray, r: np.ndarray, out: np.ndarray) -> None:
    """``out[j]``: the ``r[j]``-th smallest value (0-based) of the NaN-free ``v``, for sorted
    distinct ranks ``r``; reorders ``v`` in place.

    Quickselect for several ranks at once, over a work list of segments ``v[lo:hi]`` that hold
    the ranks ``r[ja:jb]`` (a loop, not recursion: see top). A segment is split into values <,
    == and > a pivot, and only the parts that hold a rank are kept:

    - Three-way: ties (a point mass at 0 or at a cap, a two-valued row) end in the middle part
      in one pass, and the ranks there are then known; a two-way split would pass over them
      again and again.
    - The pivot is the median of three values at pseudo-random positions (a fixed-seed LCG:
      the same pivots on every run). Positions that do not depend on the data make the work
      linear on average for any order of the values (sorted, reversed, organ pipes,
      median-of-3 killers); a quadratic run needs an input built against this generator.
      A guaranteed O(n log n) fallback (heapsort, as in introselect) would add about 0.3 s
      of first-run compile time for inputs nobody feeds to a Monte Carlo summary.

    Written out rather than ``np.sort``/``np.partition``: those cost seconds of compile time,
    and a sort does more work than a few order statistics need."""
    seed = 1  # the generator's state (fixed seed: the same pivots on every run)
    # pending segments, 4 ints each: lo, hi, ja, jb. Their rank sets are disjoint and not
    # empty, so at most r.size are pending at once.
    work = np.empty(4 * r.size, np.int64)
    work[0] = 0
    work[1] = v.size
    work[2] = 0
    work[3] = r.size
    top = 4
    while top > 0:
        top -= 4
        lo = work[top]
        hi = work[top + 1]
        ja = work[top + 2]
        jb = work[top + 3]
        # the pivot: the median of the values at three pseudo-random positions, from the
        # "minimal standard" LCG (Park and Miller): products < 2**47 never overflow int64
        m = hi - lo  # >= 1: the segment holds a rank
        seed = seed * 48271 % 2147483647
        a = v[lo + seed % m]
        seed = seed * 48271 % 2147483647
        b = v[lo + seed % m]
        seed = seed * 48271 % 2147483647
        c = v[lo + seed % m]
        if a > b:
            a, b = b, a
        pivot = b if b <= c else (c if c > a else a)  # the median of the three
        lt = lo  # v[lo:lt] < pivot, v[lt:i] == pivot, v[gt:hi] > pivot
        i = lo
        gt = hi
        while i < gt:
            e = v[i]
            if e < pivot:
                v[i] = v[lt]
                v[lt] = e
                lt += 1
                i += 1
            elif e > pivot:
                gt -= 1
                v[i] = v[gt]
                v[gt] = e
            else:
                i += 1
        j = ja
        while j < jb and r[j] < lt:
            j += 1
        if j > ja:
            work[top] = lo
            work[top + 1] = lt
            work[top + 2] = ja
            work[top + 3] = j
            top += 4
        while j < jb and r[j] < gt:
            out[j] = v[r[j]]
            j += 1
        if j < jb:
            work[top] = gt
            work[top + 1] = hi
            work[top + 2] = j
            work[top + 3] = jb
            top += 4


@jit
def _row_quantiles(x: np.ndarray, q: np.ndarray, out: np.ndarray) -> None:
    """``out[j] = np.nanquantile(x, q[j])`` for a contiguous 1-D ``x``."""
    lo = np.inf  # the pilot's range: finite values among _PILOT evenly spaced ones
    hi = -np.inf
    for i in range(0, x.size, x.size // _PILOT + 1):
        v = x[i]
        if np.isfinite(v):
            lo = v if v < lo else lo
            hi = v if v > hi else hi
    counts, idx = _histogram(x, lo, hi)
    n = x.size - counts[counts.size - 1]
    m = q.size
    if n == 0:
        for j in range(m):
            out[j] = np.nan
        return

    # numpy's linear method: per level the weight gamma and the ranks below and above,
    # ``ranks[at[2j]]`` and ``ranks[at[2j + 1]]``; ``ranks``: sorted and distinct (insertion of
    # a few ints), and made relative to their bucket as the selection goes on.
    gamma = np.empty(m)
    at = np.empty(2 * m, np.int64)
    ranks = np.empty(2 * m, np.int64)
    k = 0
    for j in range(m):
        v = (n - 1) * q[j]
        p = np.floor(v)
        gamma[j] = v - (-1.0) if v >= n - 1 else v - p  # numpy: both indices -1 at the top
        for h in range(2):
            rank = n - 1 if v >= n - 1 else int(p) + h
            at[2 * j + h] = rank
            i = k
            while i > 0 and ranks[i - 1] > rank:
                i -= 1
            if i == 0 or ranks[i - 1] != rank:
                for t in range(k, i, -1):
                    ranks[t] = ranks[t - 1]
                ranks[i] = rank
                k += 1
    for j in range(2 * m):
        i = 0
        while ranks[i] != at[j]:
            i += 1
        at[j] = i
    ranks = ranks[:k]

    # stats[i]: the order statistic of rank ranks[i]. Work items, 5 ints each: start and size
    # of a segment of ``buf`` (the needed buckets' values), the ranks ranks[ja:jb] it holds,
    # whether it may be bucketed again (no: a pass that hardly split it, e.g. values spread
    # over hundreds of octaves or a point mass; select instead). Their rank sets are disjoint
    # and not empty, so at most k are pending at once.
    stats = np.empty(k)
    work = np.empty(5 * k, np.int64)
    zero = np.int64(0)  # not the literal 0: that would compile _gather a second time
    buf, top = _gather(x, idx, counts, ranks, work, zero, zero, zero, x.size)
    while top > 0:
        top -= 5
        start = work[top]
        s = work[top + 1]
        ja = work[top + 2]
        jb = work[top + 3]
        seg = buf[start : start + s]
        if work[top + 4] != 0 and s > _SMALL:
            lo = seg[0]
            hi = seg[0]
            for i in range(1, s):
                lo = seg[i] if seg[i] < lo else lo
                hi = seg[i] if seg[i] > hi else hi
            if lo < hi and np.isfinite(lo) and np.isfinite(hi):  # bucket over the exact range
                counts, idx = _histogram(seg, lo, hi)
                sub, top = _gather(seg, idx, counts, ranks[ja:jb], work, top, start, ja, s // 2)
                for i in range(sub.size):  # the needed buckets' values, to the segment's start
                    seg[i] = sub[i]
                continue
        _select(seg, ranks[ja:jb], stats[ja:jb])

    for j in range(m):  # numpy's _lerp
        a = stats[at[2 * j]]
        b = stats[at[2 * j + 1]]
        t = gamma[j]
        d = b - a
        r = a + d * t
        if t >= 0.5:
            r = b - d * (1.0 - t)
        out[j] = r


def _check_q(q: ArrayLike) -> np.ndarray:
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if q.ndim != 1 or np.isnan(q).any() or ((q < 0) | (q > 1)).any():
        raise ValueError(f"quantile levels q={q.tolist()} must lie in [0, 1]")
    return q


def quantiles_rows(rows: Iterable[ArrayLike], q: ArrayLike) -> np.ndarray:
    """``np.nanquantile(row, q)`` (linear method) of each 1-D array in ``rows``, computed in
    one parallel call so that rows of several arrays share the threads; shape
    (len(rows), len(q)). Contiguous float64 rows (rows of a C-ordered array) are not copied."""
    q = _check_q(q)
    arrays = [np.ascontiguousarray(r, dtype=np.float64) for r in rows]
    if any(r.ndim != 1 for r in arrays):
        raise ValueError("rows must be 1-D arrays")
    out = np.empty((len(arrays), q.size))
    tasks = []
    for i, r in enumerate(arrays):
        if r.size > _MAX_ROW:
            out[i] = np.nanquantile(r, q)
        else:
            tasks.append((r, q, out[i]))
    tasks.sort(key=lambda t: -t[0].size)  # longest first: threads finish together
    parallel_map(_row_quantiles, tasks)
    return out


def quantiles(x: ArrayLike, q: ArrayLike) -> np.ndarray:
    """``np.nanquantile(x, q, axis=-1)`` (linear method) for 1-D or N-D ``x``;
    shape (..., len(q))."""
    x = np.asarray(x, dtype=np.float64)
    q = _check_q(q)
    x2 = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
    return quantiles_rows(list(x2), q).reshape(*x.shape[:-1], q.size)
