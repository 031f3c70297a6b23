"""Exact quantiles, identical to ``np.nanquantile(x, q, method="linear")``, without sorting.

For each row the needed order statistics (two per quantile) are found by a two-level bucket
selection: one pass computes min, max and the count of non-NaN values; a second pass counts the
values in 65,536 equal-width buckets; the buckets holding a needed rank are scattered into a
small buffer and sorted (a bucket still holding more than ``_SMALL`` values is bucketed once more
over its own range). The answer is then interpolated with numpy's own formula (``_lerp`` of
``numpy.lib._function_base_impl``), so the bytes equal numpy's. Rows run in parallel.
"""

from __future__ import annotations

import numpy as np

from distributions._numba import jit, parallel_map

_NB = 65536
_SMALL = 32768


@jit
def _bucket(x, lo, scale, nb):
    b = int((x - lo) * scale)
    return nb - 1 if b >= nb else b


@jit
def _pick_sorted(vals, ranks, out):
    s = np.sort(vals)
    for j in range(ranks.size):
        out[j] = s[ranks[j]]


@jit
def _buckets(vals, ranks):
    """One bucket pass over the finite ``vals`` (min < max): the values of the buckets that hold
    a needed rank, packed into ``buf``; for rank j, its bucket's offset ``first[j]`` and size
    ``size[j]`` in ``buf`` and the number of values in lower buckets ``below[j]``. Returns
    ``ok=False`` (and nothing useful) when the range is too wide for equal-width buckets."""
    n = vals.size
    lo = vals.min()
    hi = vals.max()
    nb = _NB
    scale = nb / (hi - lo)
    m = ranks.size
    first = np.zeros(m, np.int64)
    size = np.zeros(m, np.int64)
    below = np.zeros(m, np.int64)
    if not np.isfinite(scale):
        return False, np.empty(0), first, size, below
    counts = np.zeros(nb + 1, np.int64)
    for i in range(n):
        counts[_bucket(vals[i], lo, scale, nb) + 1] += 1
    for b in range(nb):
        counts[b + 1] += counts[b]  # counts[b] = number of values in buckets < b
    need = np.zeros(nb, np.bool_)
    rb = np.empty(m, np.int64)
    for j in range(m):
        # bucket b with counts[b] <= r < counts[b + 1]
        b = np.searchsorted(counts, ranks[j], side="right") - 1
        rb[j] = b
        need[b] = True
    dest = np.full(nb, -1, np.int64)
    total = 0
    for b in range(nb):
        if need[b]:
            dest[b] = total
            total += counts[b + 1] - counts[b]
    buf = np.empty(total)
    fill = dest.copy()
    for i in range(n):
        b = _bucket(vals[i], lo, scale, nb)
        if need[b]:
            buf[fill[b]] = vals[i]
            fill[b] += 1
    for j in range(m):
        b = rb[j]
        first[j] = dest[b]
        size[j] = counts[b + 1] - counts[b]
        below[j] = counts[b]
    return True, buf, first, size, below


@jit
def _select_flat(vals, ranks, out):
    """Order statistics ``ranks`` of ``vals`` by one bucket pass, then sorting each needed
    bucket. The second level of :func:`_select_sorted`; deliberately not recursive, because
    numba cannot load a cached recursive function (numba issue #6061: segfault)."""
    if vals.min() == vals.max():
        for j in range(ranks.size):
            out[j] = vals[0]
        return
    ok, buf, first, size, below = _buckets(vals, ranks)
    if not ok:
        _pick_sorted(vals, ranks, out)
        return
    j = 0
    while j < ranks.size:
        k = j
        while k < ranks.size and first[k] == first[j]:
            k += 1
        _pick_sorted(buf[first[j]: first[j] + size[j]], ranks[j:k] - below[j], out[j:k])
        j = k


@jit
def _select_sorted(vals, ranks, out, small):
    """Order statistics ``ranks`` (sorted ascending, 0-based) of the finite array ``vals``."""
    n = vals.size
    if n <= small:
        _pick_sorted(vals, ranks, out)
        return
    if vals.min() == vals.max():
        for j in range(ranks.size):
            out[j] = vals[0]
        return
    ok, buf, first, size, below = _buckets(vals, ranks)
    if not ok:
        _pick_sorted(vals, ranks, out)
        return
    j = 0
    while j < ranks.size:
        k = j
        while k < ranks.size and first[k] == first[j]:
            k += 1
        seg = buf[first[j]: first[j] + size[j]]
        local = ranks[j:k] - below[j]
        if seg.size > small and small > 0:
            _select_flat(seg.copy(), local, out[j:k])  # second level; then plain sort
        else:
            _pick_sorted(seg, local, out[j:k])
        j = k


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
def _row_quantiles(x, q, out):
    n = 0
    for i in range(x.size):
        if not np.isnan(x[i]):
            n += 1
    if n == 0:
        for j in range(q.size):
            out[j] = np.nan
        return
    vals = np.empty(n)
    k = 0
    for i in range(x.size):
        if not np.isnan(x[i]):
            vals[k] = x[i]
            k += 1
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
    ranks = _sorted_unique(prev, nxt)
    stats = np.empty(ranks.size)
    _select_sorted(vals, ranks, stats, _SMALL)
    for j in range(m):
        a = stats[np.searchsorted(ranks, prev[j])]
        b = stats[np.searchsorted(ranks, nxt[j])]
        t = gamma[j]
        d = b - a
        r = a + d * t
        if t >= 0.5:
            r = b - d * (1.0 - t)
        out[j] = r


def quantiles(x, q) -> np.ndarray:
    """``np.nanquantile(x, q, axis=-1)`` (linear method) for 1-D or 2-D ``x``;
    shape (..., len(q))."""
    x = np.asarray(x, dtype=np.float64)
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if np.isnan(q).any() or ((q < 0) | (q > 1)).any():
        raise ValueError(f"quantile levels q={q.tolist()} must lie in [0, 1]")
    x2 = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
    out = np.empty((x2.shape[0], q.size))
    parallel_map(_row_quantiles, [(x2[r], q, out[r]) for r in range(x2.shape[0])])
    return out.reshape(*x.shape[:-1], q.size)
