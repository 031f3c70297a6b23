"""Exact quantiles, identical to ``np.nanquantile(x, q, method="linear")``, without sorting.

For each row the needed order statistics (two per quantile) are found by bucket selection:

1. A pilot of ``_PILOT`` evenly spaced values sets a range [lo, hi]. It need not hold every
   value: a value's bucket is ``(x - lo) * scale`` clamped to the first or last bucket, a
   non-decreasing function of ``x`` for any ``lo`` and ``scale > 0``, so the selection stays
   exact whatever the range; a good range only keeps the buckets small.
2. One pass counts the values in ``_NB`` buckets and keeps each value's bucket (uint16). NaN
   has a bucket of its own, so its count is the number of NaNs: no NaN-free copy of the row.
3. The stored buckets (2 bytes a value, still in cache) pick out the values of the few buckets
   that hold a needed rank into a small buffer; each such bucket is sorted or, when it holds
   more than ``_SMALL`` values (heavy tails, point masses, values beyond the pilot's range),
   bucketed again over its own exact range (:func:`_select_buckets`).

The answer is then interpolated with numpy's own formula (``_lerp`` of
``numpy.lib._function_base_impl``), so the bytes equal numpy's. Rows run in parallel, rows of
several arrays in one call with :func:`quantiles_rows`.

Why the loops look as they do: numba compiles with ``fastmath=False``, so loops with a running
min/max or data-dependent stores do not vectorise. The bucket of a chunk of values is computed
branch-free (selects) in a loop of its own, which LLVM vectorises (over a slice: numba's
negative-index check on ``x[s + i]`` would turn the loads into gathers); the counting and
copying loops that use it are scalar. Two count arrays, for even and odd positions, halve the
wait on the previous increment when a run of values shares a bucket (a point mass: 2x faster
there, a few percent slower on spread-out data).
"""

from __future__ import annotations

import numpy as np

from distributions._numba import jit, parallel_map

_NB = 16384  # first-level buckets (< 65535: uint16 ids): 2 x 64 KB of int32 counts
_CHUNK = 16384  # values bucketed per vectorised step
_PILOT = 4096  # evenly spaced values that set the first level's range
_SMALL = 4096  # a needed bucket with more values is bucketed again (else sorted)
_MAX_ROW = 2**31 - 1  # int32 counts; longer rows go to numpy


@jit
def _bucket_chunk(xs, lo, scale, top, idx):
    """``idx[i]``: bucket of ``xs[i]``, ``(xs[i] - lo) * scale`` clamped to [0, top] and
    truncated; NaN gets ``top + 1``. Branch-free, so LLVM vectorises it."""
    for i in range(xs.size):
        v = xs[i]
        t = (v - lo) * scale
        t = t if t > 0.0 else 0.0
        t = t if t < top else top
        t = top + 1.0 if np.isnan(v) else t
        idx[i] = np.uint16(t)


@jit
def _histogram(x, lo, scale, nb):
    """Counts of ``x`` in ``nb`` buckets (index ``nb``: NaN) and the bucket of every value."""
    idx = np.empty(x.size, np.uint16)
    c0 = np.zeros(nb + 1, np.int32)
    c1 = np.zeros(nb + 1, np.int32)
    for s in range(0, x.size, _CHUNK):
        ids = idx[s: s + _CHUNK]
        _bucket_chunk(x[s: s + _CHUNK], lo, scale, nb - 1.0, ids)
        m4 = ids.size - ids.size % 4
        for i in range(0, m4, 4):
            c0[ids[i]] += 1
            c1[ids[i + 1]] += 1
            c0[ids[i + 2]] += 1
            c1[ids[i + 3]] += 1
        for i in range(m4, ids.size):
            c0[ids[i]] += 1
    counts = c0.astype(np.int64)
    counts += c1
    return counts, idx


@jit
def _gather(x, idx, counts, ranks):
    """The values of the buckets that hold one of ``ranks`` (sorted, 0-based among the non-NaN
    values), packed bucket by bucket into ``buf``; for rank j, its bucket's offset ``first[j]``
    and size ``size[j]`` in ``buf`` and the number of values in lower buckets ``below[j]``."""
    m = ranks.size
    first = np.empty(m, np.int64)
    size = np.empty(m, np.int64)
    below = np.empty(m, np.int64)
    need = np.zeros(counts.size, np.bool_)
    dest = np.zeros(counts.size, np.int64)  # where the next value of a needed bucket goes
    cum = 0  # values in buckets < b
    total = 0  # values in needed buckets < b
    j = 0
    for b in range(counts.size - 1):  # the last bucket is NaN's, never needed
        c = counts[b]
        if j < m and ranks[j] < cum + c:
            need[b] = True
            dest[b] = total
            while j < m and ranks[j] < cum + c:
                first[j] = total
                size[j] = c
                below[j] = cum
                j += 1
            total += c
        cum += c
    buf = np.empty(total)
    for i in range(x.size):
        b = idx[i]
        if need[b]:
            buf[dest[b]] = x[i]
            dest[b] += 1
    return buf, first, size, below


@jit
def _scale(lo, hi, nb):
    """Buckets per unit for [lo, hi] (finite): finite and > 0 whatever the range (halves
    first: hi - lo may overflow); 1.0 where there is none (lo == hi, or hi - lo subnormal)."""
    w = hi * 0.5 - lo * 0.5
    s = (nb * 0.5) / w if w > 0.0 else 1.0  # no division by 0: plain Python raises there
    return s if s < np.inf else 1.0


@jit
def _pick(vals, ranks, out):
    """Order statistics ``ranks`` of the NaN-free ``vals`` by sorting. Many values first set
    the copies of their min and max aside: a point mass (an output floored at 0) keeps a
    bucket large at every level, and sorting 10^5 equal values is slow."""
    if vals.size <= _SMALL:
        s = np.sort(vals)
        for j in range(ranks.size):
            out[j] = s[ranks[j]]
        return
    lo = vals.min()
    hi = vals.max()
    n_lo = np.count_nonzero(vals == lo)
    n_hi = np.count_nonzero(vals == hi)
    s = np.sort(vals[(vals > lo) & (vals < hi)])
    for j in range(ranks.size):
        r = ranks[j]
        out[j] = lo if r < n_lo else (hi if r >= vals.size - n_hi else s[r - n_lo])


@jit
def _bucket_groups(first):
    """Start of each run of ranks that share a bucket (same ``first``), and the end."""
    starts = [0]
    for j in range(1, first.size):
        if first[j] != first[j - 1]:
            starts.append(j)
    starts.append(first.size)
    return starts


@jit
def _select_buckets(vals, ranks, out):
    """Order statistics ``ranks`` of the NaN-free ``vals`` (a first-level bucket): bucket
    passes over the exact range of each needed bucket until it is small or one value, then
    :func:`_pick`; also :func:`_pick` for a bucket that a pass hardly splits (values spread
    over hundreds of octaves). A loop over a stack, not recursion: numba cannot load a cached
    recursive function (numba issue #6061: segfault)."""
    stack = [(vals, ranks, 0)]  # values, their needed ranks, where the ranks go in ``out``
    while len(stack) > 0:
        v, r, o = stack.pop()
        if v.size > _SMALL:
            lo = v.min()
            hi = v.max()
            if lo < hi and np.isfinite(lo) and np.isfinite(hi):
                nb = 64
                while nb < _NB and nb * 16 < v.size:
                    nb *= 2
                counts, idx = _histogram(v, lo, _scale(lo, hi, nb), nb)
                buf, first, size, below = _gather(v, idx, counts, r)
                g = _bucket_groups(first)
                for k in range(len(g) - 1):
                    j, e = g[k], g[k + 1]
                    seg = buf[first[j]: first[j] + size[j]]
                    if 2 * seg.size > v.size:
                        _pick(seg, r[j:e] - below[j], out[o + j: o + e])
                    else:
                        stack.append((seg, r[j:e] - below[j], o + j))
                continue
        _pick(v, r, out[o: o + r.size])


@jit
def _sorted_unique(a, b):
    """Sorted distinct values of two small int arrays (insertion sort: np.unique would
    compile a general sort, seconds of first-run time for a handful of ranks)."""
    m = a.size + b.size
    buf = np.empty(m, np.int64)
    k = 0
    for src in (a, b):
        for v in src:
            j = k
            while j > 0 and buf[j - 1] > v:
                buf[j] = buf[j - 1]
                j -= 1
            buf[j] = v
            k += 1
    n = 0
    for i in range(m):
        if n == 0 or buf[i] != buf[n - 1]:
            buf[n] = buf[i]
            n += 1
    return buf[:n].copy()


@jit
def _ranks(n, q):
    """numpy's linear method for ``n`` values: per level the ranks below and above (``prev``,
    ``nxt``) and the weight ``gamma``; ``ranks``: their sorted distinct values."""
    m = q.size
    prev = np.empty(m, np.int64)
    nxt = np.empty(m, np.int64)
    gamma = np.empty(m)
    for j in range(m):
        v = (n - 1) * q[j]
        p = np.floor(v)
        if v >= n - 1:
            prev[j] = n - 1
            nxt[j] = n - 1
            gamma[j] = v - (-1.0)
        else:
            prev[j] = int(p)
            nxt[j] = int(p) + 1
            gamma[j] = v - p
    return prev, nxt, gamma, _sorted_unique(prev, nxt)


@jit
def _pilot_range(x):
    """Min and max of the finite values among ``_PILOT`` evenly spaced values of ``x``
    ((0, 0) if none is finite)."""
    lo = np.inf
    hi = -np.inf
    for i in range(0, x.size, max(x.size // _PILOT, 1)):
        v = x[i]
        if np.isfinite(v):
            lo = min(lo, v)
            hi = max(hi, v)
    return (lo, hi) if lo <= hi else (0.0, 0.0)


@jit
def _row_quantiles(x, q, out):
    """``out[j] = np.nanquantile(x, q[j])`` for a contiguous 1-D ``x``."""
    if x.size <= _SMALL:
        buf = x[~np.isnan(x)]
        n = buf.size
    else:
        lo, hi = _pilot_range(x)
        counts, idx = _histogram(x, lo, _scale(lo, hi, _NB), _NB)
        n = x.size - counts[_NB]
    if n == 0:
        out[:] = np.nan
        return
    prev, nxt, gamma, ranks = _ranks(n, q)
    stats = np.empty(ranks.size)
    if x.size <= _SMALL:
        _pick(buf, ranks, stats)
    else:
        buf, first, size, below = _gather(x, idx, counts, ranks)
        g = _bucket_groups(first)
        for k in range(len(g) - 1):
            j, e = g[k], g[k + 1]
            _select_buckets(buf[first[j]: first[j] + size[j]], ranks[j:e] - below[j], stats[j:e])
    for j in range(q.size):  # numpy's _lerp
        a = stats[np.searchsorted(ranks, prev[j])]
        b = stats[np.searchsorted(ranks, nxt[j])]
        t = gamma[j]
        d = b - a
        r = a + d * t
        if t >= 0.5:
            r = b - d * (1.0 - t)
        out[j] = r


def _check_q(q) -> np.ndarray:
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if q.ndim != 1 or np.isnan(q).any() or ((q < 0) | (q > 1)).any():
        raise ValueError(f"quantile levels q={q.tolist()} must lie in [0, 1]")
    return q


def quantiles_rows(rows, q) -> np.ndarray:
    """``np.nanquantile(row, q)`` (linear method) of each 1-D array in ``rows``, computed in
    one parallel call so that rows of several arrays share the threads; shape
    (len(rows), len(q)). Contiguous float64 rows (rows of a C-ordered array) are not copied."""
    q = _check_q(q)
    rows = [np.ascontiguousarray(r, dtype=np.float64) for r in rows]
    if any(r.ndim != 1 for r in rows):
        raise ValueError("rows must be 1-D arrays")
    out = np.empty((len(rows), q.size))
    tasks = []
    for i, r in enumerate(rows):
        if r.size > _MAX_ROW:
            out[i] = np.nanquantile(r, q)
        else:
            tasks.append((r, q, out[i]))
    tasks.sort(key=lambda t: -t[0].size)  # longest first: threads finish together
    parallel_map(_row_quantiles, tasks)
    return out


def quantiles(x, q) -> np.ndarray:
    """``np.nanquantile(x, q, axis=-1)`` (linear method) for 1-D or N-D ``x``;
    shape (..., len(q))."""
    x = np.asarray(x, dtype=np.float64)
    q = _check_q(q)
    x2 = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
    return quantiles_rows(list(x2), q).reshape(*x.shape[:-1], q.size)
