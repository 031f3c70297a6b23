"""One whole run in a fresh process, for the cold-start and warm-process benchmarks.

Run by :mod:`benchmarks.process` as ``python benchmarks/process_child.py --paths N --horizon H``:
imports simcore, simulates the default scenario and computes the quantiles (``DEFAULT_Q``) of every
output, which is what a first ``simcore run`` must compile and do, timing each step; prints one
line ``SIMCORE_BENCH_CHILD {json}`` and exits. Unless ``--no-validate`` (timed runs), it then
checks the run against the numpy reference and ``np.nanquantile`` before printing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

MARK = "SIMCORE_BENCH_CHILD "


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, required=True)
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--no-validate", action="store_true")
    args = ap.parse_args(argv)

    t = time.perf_counter()
    from simcore.engine.core import DEFAULT_SEED, simulate
    from simcore.io.scenario_file import default_scenario
    from simcore.results.result import DEFAULT_Q

    import_s = time.perf_counter() - t

    t0 = time.perf_counter()
    r = simulate(default_scenario(), args.paths, seed=DEFAULT_SEED, horizon=args.horizon)
    t1 = time.perf_counter()
    qt = r.quantile_table(DEFAULT_Q)  # every stored output, one parallel call
    qs = {name: qt.loc[name] for name in r.names}
    t2 = time.perf_counter()
    res = {
        "paths": args.paths,
        "horizon": args.horizon,
        "import_s": import_s,
        "simulate_s": t1 - t0,
        "quantiles_s": t2 - t1,
        "validated": False,
    }
    if not args.no_validate:
        import numpy as np

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from benchmarks.checks import check_quantiles, check_simulation

        check_simulation(r, seed=DEFAULT_SEED)
        for name, df in qs.items():
            check_quantiles(df.to_numpy(), r[name].T, np.asarray(DEFAULT_Q))
        res["validated"] = True
    print(MARK + json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
