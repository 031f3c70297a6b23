"""Sampling methods over addressed streams: plain Monte Carlo, antithetic pairs, Latin hypercube
and scrambled Sobol.

Every method is a function of ``(stream key, path, year, slot)`` (plus the run's path count for
Latin hypercube and the scrambled Sobol table for Sobol), so blocks of paths can be computed in
any order, on any thread or machine, with identical bytes.

- ``"mc"``: :func:`distributions.streams.uniform`.
- ``"antithetic"``: paths come in pairs ``(2k, 2k+1)``; path ``2k+1`` uses ``1 - u`` of path ``2k``.
- ``"lhs"``: for each (stream, year, slot) a keyed pseudo-random permutation ``pi`` of
  ``[0, n_paths)`` (a Feistel network with cycle walking, keyed by Philox) assigns path ``p`` to
  stratum ``pi(p)``; ``u = (pi(p) + v) / n_paths`` with ``v`` a uniform jitter. Each stratum is
  hit exactly once. The prefix property does not hold (strata depend on ``n_paths``).

Every method's uniforms lie in ``[U_MIN, 1 - U_MIN]`` (:data:`distributions.streams.U_MIN`,
``2**-53``; Latin hypercube and Sobol points are clamped to it), so a normal score is at most
8.2095 in absolute value.
- ``"sobol"``: scrambled Sobol points (``scipy.stats.qmc.Sobol``, scrambled with a generator seeded
  from the run's seed) with point index = path and one dimension per (stream, year, slot).
  :func:`sobol_block` yields the points of a path range whatever the blocking. Dimensions are
  assigned by the sorted stream names, so adding a stream can move others' dimensions: factor
  isolation holds for ``mc``, ``antithetic`` and ``lhs`` only.
"""

from __future__ import annotations

import warnings

import numpy as np
from numba import prange

from ._kernel import ndtri_many, ppf_u, ppf_z
from ._numba import jit, pjit
from .copula import chi2_ppf, correlate_row, t_correlate_row
from .streams import U_MIN, handle_seed, philox4x32, uniform, uniform_pairs

__all__ = [
    "METHODS",
    "method_code",
    "sample_uniform",
    "sample_pairs",
    "lhs_permute",
    "SobolDesign",
    "draw",
]

METHODS = {"mc": 0, "antithetic": 1, "lhs": 2, "sobol": 3}
_LHS_ROUNDS = 4


def method_code(sampling: str) -> int:
    if not isinstance(sampling, str):  # a list or dict would fail the lookup with its own error
        raise TypeError(
            f"sampling={sampling!r} must be one of {sorted(METHODS)}; got {type(sampling).__name__}"
        )
    if sampling not in METHODS:
        raise ValueError(f"sampling={sampling!r} must be one of {sorted(METHODS)}")
    return METHODS[sampling]


@jit
def lhs_permute(k0, k1, year, slot, x, n):
    """A keyed bijection of ``[0, n)``: balanced Feistel network on 2*h bits + cycle walking."""
    bits = 1
    while (np.uint64(1) << np.uint64(2 * bits)) < np.uint64(n):
        bits += 1
    half = np.uint64(bits)
    mask = (np.uint64(1) << half) - np.uint64(1)
    y = np.uint64(x)
    while True:
        left = y >> half
        right = y & mask
        for r in range(_LHS_ROUNDS):
            f0, _, _, _ = philox4x32(
                right,
                np.uint64(r),
                np.uint64(year),
                np.uint64(0x80000000) | np.uint64(slot),
                k0,
                k1,
            )
            left, right = right, (left ^ f0) & mask
        y = (left << half) | right
        if y < np.uint64(n):
            return y


@jit
def sample_uniform(method, key, path, year, slot, n_paths):
    """The uniform of ``(key, path, year, slot)`` under sampling ``method`` (a ``METHODS`` code).

    Sobol (code 3) is not handled here: its uniforms come precomputed per block.
    """
    if method == 0:
        return uniform(key, path, year, slot)
    if method == 1:
        u = uniform(key, path >> 1, year, slot)
        return 1.0 - u if path & 1 else u
    # Latin hypercube
    stratum = lhs_permute(key[0], key[1], year, slot, path, n_paths)
    v = uniform(key, path, year, slot)
    # clamped like every sampler's uniforms: (n - 1 + v) / n rounds to 1.0 for v near 1, and
    # v / n falls below U_MIN (ndtri would give an infinite or a larger normal score)
    return min(max((np.float64(stratum) + v) / np.float64(n_paths), U_MIN), 1.0 - U_MIN)


@jit  # not inlined: the kernels write the Monte Carlo case out; the others are rare and slow
def sample_pairs(method, k0s, k1s, path, year, pair, n_paths, out0, out1):
    """Slots ``2*pair`` (``out0``) and ``2*pair+1`` (``out1``) of every stream at ``(path, year)``
    under ``method`` (not Sobol): the vectorised form of :func:`sample_uniform`."""
    if method == 0:
        uniform_pairs(k0s, k1s, path, year, pair, out0, out1)
    elif method == 1:
        uniform_pairs(k0s, k1s, path >> 1, year, pair, out0, out1)
        if path & 1:
            for i in range(k0s.size):
                out0[i] = 1.0 - out0[i]
                out1[i] = 1.0 - out1[i]
    else:
        uniform_pairs(k0s, k1s, path, year, pair, out0, out1)
        n = np.float64(n_paths)
        for i in range(k0s.size):
            s0 = lhs_permute(k0s[i], k1s[i], year, 2 * pair, path, n_paths)
            s1 = lhs_permute(k0s[i], k1s[i], year, 2 * pair + 1, path, n_paths)
            out0[i] = min(max((np.float64(s0) + out0[i]) / n, U_MIN), 1.0 - U_MIN)
            out1[i] = min(max((np.float64(s1) + out1[i]) / n, U_MIN), 1.0 - U_MIN)


class SobolDesign:
    """Scrambled Sobol points addressed by path index.

    ``dims`` is the number of dimensions; scrambling is seeded from the run's seed, so the same
    seed gives the same points. ``block(start, n)`` returns float64[n, dims] in (0, 1).
    """

    def __init__(self, dims: int, seed, *, stream: str = "sobol"):
        from scipy.stats import qmc

        from .streams import stream_key

        if dims < 1:
            raise ValueError(f"Sobol: dims={dims} must be >= 1")
        key = stream_key(handle_seed(seed), stream)
        rng = np.random.Generator(np.random.PCG64(int(key[0]) << 32 | int(key[1])))
        self.dims = int(dims)
        self._engine = qmc.Sobol(self.dims, scramble=True, rng=rng)

    def block(self, start: int, n: int) -> np.ndarray:
        eng = self._engine
        eng.reset()
        if start:
            eng.fast_forward(int(start))
        with warnings.catch_warnings():
            # qmc warns when n is not a power of two; blocks of a larger design need not be
            warnings.simplefilter("ignore", UserWarning)
            pts = eng.random(int(n))
        # keep strictly inside (0, 1) for inverse CDFs (scrambled points are never exactly 0 in
        # practice, but a 2**-53 floor costs nothing)
        return np.clip(pts, U_MIN, 1.0 - U_MIN)


# --- drawing named factors -----------------------------------------------------------------
@jit
def _draw_block(
    b,
    block_size,
    start,
    n,
    n_total,
    years,
    method,
    sobol_u,
    k0s,
    k1s,
    codes,
    params,
    offsets,
    tables,
    corr_idx,
    L,
    t_df,
    mix_k0,
    mix_k1,
    out,
):
    F = k0s.size
    C = corr_idx.size
    u0 = np.empty(F)
    u1 = np.empty(F)
    z = np.empty(F)
    tails = np.empty(F, np.int64)
    work = np.empty((3, F))
    zc = np.empty(C)
    xc = np.empty(C)
    mk0 = np.empty(1, np.uint64)
    mk1 = np.empty(1, np.uint64)
    mk0[0] = mix_k0
    mk1[0] = mix_k1
    m0 = np.empty(1)
    m1 = np.empty(1)
    lo = b * block_size
    hi = min(lo + block_size, n)
    for i in range(lo, hi):
        path = start + i
        for t in range(years):
            if method == 3:
                for f in range(F):
                    u0[f] = sobol_u[i, t, f]
                m0[0] = sobol_u[i, t, F]
            else:
                sample_pairs(method, k0s, k1s, path, t, 0, n_total, u0, u1)
                if t_df > 0.0:
                    sample_pairs(method, mk0, mk1, path, t, 0, n_total, m0, m1)
            for f in range(F):
                out[f, t, i] = ppf_u(codes[f], params[f], tables, offsets[f], u0[f])
            if C:
                ndtri_many(u0, z, tails, work)
                for c in range(C):
                    zc[c] = z[corr_idx[c]]
                if t_df > 0.0:
                    t_correlate_row(L, t_df, zc, chi2_ppf(t_df, m0[0]), xc)
                else:
                    correlate_row(L, zc, xc)
                for c in range(C):
                    f = corr_idx[c]
                    out[f, t, i] = ppf_z(codes[f], params[f], tables, offsets[f], xc[c])


@pjit
def _draw(
    block_size,
    start,
    n,
    n_total,
    years,
    method,
    sobol_u,
    k0s,
    k1s,
    codes,
    params,
    offsets,
    tables,
    corr_idx,
    L,
    t_df,
    mix_k0,
    mix_k1,
    out,
):
    for b in prange((n + block_size - 1) // block_size):
        _draw_block(
            b,
            block_size,
            start,
            n,
            n_total,
            years,
            method,
            sobol_u,
            k0s,
            k1s,
            codes,
            params,
            offsets,
            tables,
            corr_idx,
            L,
            t_df,
            mix_k0,
            mix_k1,
            out,
        )


def draw(
    dists,
    n_paths: int,
    seed,
    *,
    years: int = 1,
    sampling: str = "mc",
    copula=None,
    start: int = 0,
    block_size: int = 65536,
) -> dict:
    """Draw named factors: ``{name: float64[n_paths, years]}``, uniform first.

    ``dists`` maps factor names to distribution specs; each name keys its own stream, so
    adding, removing or re-parametrising one factor leaves the others' draws unchanged
    (with a copula: those of factors it is not correlated with). ``copula`` is a
    :class:`~distributions.copula.GaussianCopula` or ``StudentTCopula`` over some of the
    names; its labelled factors take ``ppf_z`` of the correlated normal scores. Paths are
    ``start .. start + n_paths - 1``; the bytes do not depend on ``block_size`` or threads.
    """
    from ._base import Distribution
    from .streams import stream_key

    if not isinstance(dists, dict) or not dists:
        raise TypeError("dists must be a non-empty dict {name: Distribution}")
    for name, d in dists.items():
        if not isinstance(d, Distribution):
            raise TypeError(f"dists[{name!r}] must be a Distribution, got {type(d).__name__}")
    for arg, val, low in (
        ("n_paths", n_paths, 1),
        ("years", years, 1),
        ("start", start, 0),
        ("block_size", block_size, 1),
    ):
        if isinstance(val, bool) or not isinstance(val, int | np.integer) or val < low:
            raise ValueError(f"{arg}={val!r} must be an integer >= {low}")
    method = method_code(sampling)
    if sampling == "antithetic" and (n_paths % 2 or start % 2):
        raise ValueError(f"n_paths={n_paths} and start={start} must be even for antithetic")
    ss = handle_seed(seed)
    names = list(dists)
    keys = np.array([stream_key(ss, nm) for nm in names], np.uint64).reshape(-1, 2)
    codes = np.zeros(len(names), np.int64)
    params = np.zeros((len(names), 8))
    offsets = np.full(len(names), -1, np.int64)
    tabs, used = [], 0
    for f, nm in enumerate(names):
        c, p, tab = dists[nm].kernel_args()
        codes[f], params[f] = c, p
        if tab.shape[0]:
            offsets[f], used = used, used + tab.shape[0]
            tabs.append(tab)
    tables = np.concatenate(tabs) if tabs else np.zeros((1, 2))
    t_df, mix = 0.0, np.zeros(2, np.uint64)
    if copula is not None:
        missing = [lab for lab in copula.labels if lab not in dists]
        if missing:
            raise ValueError(f"copula labels {missing} are not among the factors {names}")
        corr_idx = np.array([names.index(lab) for lab in copula.labels], np.int64)
        L = np.ascontiguousarray(copula.factor)
        if hasattr(copula, "df"):
            t_df = float(copula.df)
            mix = stream_key(ss, copula.mixing_stream)
    else:
        corr_idx, L = np.zeros(0, np.int64), np.zeros((0, 0))
    if method == METHODS["sobol"]:
        sobol_u = SobolDesign(years * (len(names) + 1), ss).block(start, n_paths)
        sobol_u = sobol_u.reshape(n_paths, years, len(names) + 1)
    else:
        sobol_u = np.empty((0, years, len(names) + 1))
    out = np.empty((len(names), years, n_paths))
    n_total = start + n_paths if sampling == "lhs" else 0
    _draw(
        int(block_size),
        int(start),
        int(n_paths),
        n_total,
        int(years),
        method,
        sobol_u,
        np.ascontiguousarray(keys[:, 0]),
        np.ascontiguousarray(keys[:, 1]),
        codes,
        params,
        offsets,
        tables,
        corr_idx,
        L,
        t_df,
        mix[0],
        mix[1],
        out,
    )
    return {nm: out[f].T for f, nm in enumerate(names)}
