"""The bytes a refactor must not change: a sha256 of every stored output of 32 configurations.

    python -m benchmarks.fingerprint [--paths N] [--json OUT.json] [--compare A.json B.json]

Configurations: four scenarios (the default; the toy; the toy with a Student-t copula; the toy
with a persistence-1 driver, WACC, inside the copula) x four sampling methods (mc, antithetic,
LHS, Sobol) x horizons 3 and 10, each at a fixed seed with ``keep_draws=True``. The digest covers
every output, the segment revenues, the shock hits and the stored draws, so any change of a
bit anywhere shows. Record it before a change and compare after.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

SEED = 20260601  # arbitrary, fixed


def scenarios() -> dict:
    from pathlib import Path

    import simcore
    from simcore import builtin_scenario, default_scenario, loads_scenario

    toy = builtin_scenario("toy")
    text = (Path(simcore.__file__).parent / "scenarios" / "toy.toml").read_text(encoding="utf-8")
    t_copula = text.replace("[correlation]\n", '[correlation]\ncopula = "student_t"\ndf = 5\n', 1)
    held = text.replace(
        'labels = ["growth.core", "margin.core"]',
        'labels = ["growth.core", "margin.core", "wacc"]',
    ).replace(
        "    [1.0, 0.3],\n    [0.3, 1.0],\n",
        "    [1.0, 0.3, -0.2],\n    [0.3, 1.0, 0.0],\n    [-0.2, 0.0, 1.0],\n",
    )
    return {
        "default": default_scenario(),
        "toy": toy,
        "toy-student-t": loads_scenario(t_copula, "toy-student-t"),
        "toy-held-in-copula": loads_scenario(held, "toy-held-in-copula"),
    }


def fingerprint(n_paths: int) -> dict:
    from simcore import simulate

    out = {}
    for name, sc in scenarios().items():
        for sampling in ("mc", "antithetic", "lhs", "sobol"):
            for horizon in (3, 10):
                r = simulate(
                    sc, n_paths, seed=SEED, horizon=horizon, sampling=sampling, keep_draws=True
                )
                h = hashlib.sha256()
                for key in r.names:  # every output and every segment's revenue
                    h.update(r[key].tobytes())
                h.update(r.hits.tobytes())
                for group in ("drivers", "severity"):
                    for k in sorted(r.draws[group]):
                        h.update(r.draws[group][k].tobytes())
                out[f"{name}/{sampling}/h{horizon}"] = h.hexdigest()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.fingerprint",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--paths", type=int, default=20_000)
    p.add_argument("--json", metavar="OUT.json")
    p.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"))
    args = p.parse_args(argv)
    if args.compare:
        a, b = (json.load(open(f)) for f in args.compare)
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        print(f"{len(set(a) & set(b)) - len(diff)} of {len(a)} configurations identical")
        for k in diff:
            print(f"  differs: {k}")
        return 1 if diff else 0
    fp = {"paths": args.paths, **fingerprint(args.paths)}
    text = json.dumps(fp, indent=1, sort_keys=True)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
