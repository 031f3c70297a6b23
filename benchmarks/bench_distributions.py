"""Inverse CDFs per family: the kernel path a distribution takes, its exact fallback, and scipy.

Run: ``python benchmarks/bench_distributions.py [--n 1000000] [--repeats 5] [--family Beta]``

For every entry of ``distributions.testing.SANE_PARAMS``: nanoseconds per ``ppf_u`` call inside
a serial numba loop for (a) the path ``kernel_args()`` selects (closed form, table or exact),
(b) for the tabulated families, the exact scipy.special path (family code, no table), and
(c) ``to_scipy().ppf`` on the same numpy array. The JIT is warmed up and each variant's output
is validated against scipy (1e-8 relative, 1e-10 absolute) before timing; medians of
``--repeats``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from benchmarks.harness import median_time as _median_times
from distributions.kernels import jit, ppf_u
from distributions.testing import sane_distributions

TABULATED = {"Beta", "PERT", "Gamma", "StudentT"}


def _median(fn, repeats):
    return _median_times(fn, repeats)[0]


@jit
def _loop(code, p, tables, offset, u, out):
    for i in range(u.size):
        out[i] = ppf_u(code, p, tables, offset, u[i])


def validate(got: np.ndarray, ref: np.ndarray, what: str) -> None:
    bad = ~(np.abs(got - ref) <= 1e-8 * np.abs(ref) + 1e-10)
    assert not bad.any(), f"{what}: {bad.sum()} values off scipy"


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--family", default=None, help="only this family")
    args = ap.parse_args(argv)
    u = np.random.default_rng(0).random(args.n)  # arbitrary fixed seed
    out = np.empty_like(u)
    rows = []
    print(f"ns per ppf, n={args.n:,}, medians of {args.repeats}")
    print(f"  {'distribution':<20} {'path':<6} {'kernel':>8} {'exact':>8} {'scipy':>8}")
    for name, dist in sane_distributions():
        if args.family and dist.family != args.family:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frozen = dist.to_scipy()
            ref = np.asarray(frozen.ppf(u))
        code, p, table = dist.kernel_args()
        offset = 0 if table.shape[0] else -1
        variants = {"kernel": (code, p, table if table.shape[0] else np.zeros((1, 2)), offset)}
        if dist.family in TABULATED:
            variants["exact"] = (dist.code, p, np.zeros((1, 2)), -1)
        path = {"Poisson": "search", "Empirical": "data"}.get(dist.family, "closed")
        row = {"name": name, "path": getattr(dist, "kernel_path", lambda p=path: p)()}
        for label, a in variants.items():
            _loop(*a, u, out)  # warm-up (compiles once) and validation
            validate(out, ref, f"{name} {label}")
            row[label] = _median(lambda a=a: _loop(*a, u, out), args.repeats) / args.n * 1e9
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            t = _median(lambda f=frozen: f.ppf(u), max(1, args.repeats // 2))
        row["scipy"] = t / args.n * 1e9
        rows.append(row)
        exact = f"{row['exact']:8.1f}" if "exact" in row else " " * 8
        print(f"  {name:<20} {row['path']:<6} {row['kernel']:8.1f} {exact} {row['scipy']:8.1f}")
    return rows


if __name__ == "__main__":
    main()
