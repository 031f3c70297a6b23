"""How often the fits' 90% bootstrap intervals cover the true parameters (docs/fitting.md).

    python -m benchmarks.fit_coverage                         # the table of docs/fitting.md
    python -m benchmarks.fit_coverage --datasets 40 --n 200 --families StudentT --boot 60

Data drawn from each family at known parameters (addressed streams, seeds 1000 + i), fitted
with ``distributions.fit``, and the share of datasets whose interval holds each truth printed
with its binomial standard error. Not timed; a statistical check of the method.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

from distributions import FAMILIES, fit
from distributions.fitting import FitWarning

CASES = {
    "Normal": {"loc": 0.2, "scale": 0.1},
    "LogNormal": {"mu": 0.0, "sigma": 0.4},
    "Gamma": {"shape": 3.0, "scale": 2.0},
    "Beta": {"a": 2.0, "b": 5.0},
    "StudentT": {"df": 4.0, "loc": 0.0, "scale": 1.0},
}


def coverage(family: str, n: int, datasets: int, boot: int, confidence: float) -> dict[str, float]:
    truth = CASES[family]
    dist = FAMILIES[family](**truth)
    hits = dict.fromkeys(truth, 0)
    for i in range(datasets):
        x = dist.rvs(n, seed=1000 + i, stream="coverage")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            best = fit(x, [family], n_boot=boot, seed=i).best
        for k, v in truth.items():
            lo, hi = best.interval(k, confidence)
            hits[k] += lo <= v <= hi
    return {k: h / datasets for k, h in hits.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--families", default=",".join(CASES), help="comma-separated")
    p.add_argument("--n", default="10,30", help="sample sizes, comma-separated")
    p.add_argument("--datasets", type=int, default=200)
    p.add_argument("--boot", type=int, default=200)
    p.add_argument("--confidence", type=float, default=0.9)
    a = p.parse_args(argv)
    se = math.sqrt(a.confidence * (1 - a.confidence) / a.datasets)
    print(
        f"{a.confidence:.0%} intervals, {a.datasets} datasets, {a.boot} replicates; "
        f"binomial standard error {se:.3f}"
    )
    for family in a.families.split(","):
        for n in (int(v) for v in a.n.split(",")):
            t = time.perf_counter()
            cov = coverage(family, n, a.datasets, a.boot, a.confidence)
            shown = ", ".join(f"{k} {v:.3f}" for k, v in cov.items())
            print(f"{family:<10} n={n:<4} {shown}  ({time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
