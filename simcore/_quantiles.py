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
from numba import prange

from distributions._numba import jit, pjit

_NB = 65536
_SMALL = 32768


@jit
def _bucket(x, lo, scale, nb):
    b = int((x - lo) * scale)
    return nb - 1 if b >= nb else b


@jit
def _select_sorted(vals, ranks, out, small):
    """Order statistics ``ranks`` (sorted ascending, 0-based) of the finite array ``vals``."""
    n = vals.size
    if n <= small:
        s = np.sort(vals)
        for j in range(ranks.size):
            out[j] = s[ranks[j]]
        return
    lo = vals.min()
    hi = vals.max()
    if lo == hi:
        for j in range(ranks.size):
            out[j] = lo
        return
    nb = _NB
    scale = nb / (hi - lo)
    if not np.isfinite(scale):
        s = np.sort(vals)
        for j in range(ranks.size):
            out[j] = s[ranks[j]]
        return
    counts = np.zeros(nb + 1, np.int64)
    for i in range(n):
        counts[_bucket(vals[i], lo, scale, nb) + 1] += 1
    for b in range(nb):
        counts[b + 1] += counts[b]  # counts[b] = number of values in buckets < b
    need = np.zeros(nb, np.bool_)
    rb = np.empty(ranks.size, np.int64)
    for j in range(ranks.size):
        r = ranks[j]
        # bucket b with counts[b] <= r < counts[b + 1]
        b = np.searchsorted(counts, r, side="right") - 1
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
    j = 0
    while j < ranks.size:
        b = rb[j]
        k = j
        while k < ranks.size and rb[k] == b:
            k += 1
        seg = buf[dest[b]: dest[b] + counts[b + 1] - counts[b]]
        local = ranks[j:k] - counts[b]
        sub = np.empty(k - j)
        if seg.size > small and small > 0:
            _select_sorted(seg.copy(), local, sub, 0)  # second level; then plain sort
        else:
            s = np.sort(seg)
            for m in range(k - j):
                sub[m] = s[local[m]]
        for m in range(k - j):
            out[j + m] = sub[m]
        j = k


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
    ranks = np.unique(np.concatenate((prev, nxt)))
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


@pjit
def _rows_quantiles(x2d, q, out):
    for r in prange(x2d.shape[0]):
        _row_quantiles(x2d[r], q, out[r])


def quantiles(x, q) -> np.ndarray:
    """``np.nanquantile(x, q, axis=-1)`` (linear method) for 1-D or 2-D ``x``; shape (..., len(q))."""
    x = np.asarray(x, dtype=np.float64)
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if np.isnan(q).any() or ((q < 0) | (q > 1)).any():
        raise ValueError(f"quantile levels q={q.tolist()} must lie in [0, 1]")
    x2 = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
    out = np.empty((x2.shape[0], q.size))
    _rows_quantiles(x2, q, out)
    return out.reshape(*x.shape[:-1], q.size)
