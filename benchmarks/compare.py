"""The kernel against its floor and its peers, in one process, with the issue's targets.

Run from the repository root::

    python -m benchmarks.compare [--json OUT.json]       # measure, print, optionally save
    python -m benchmarks.compare --compare A.json B.json  # two saved runs side by side

Per configuration (default scenario; 10^5 and 10^6 paths; horizon 3 and 10; default threads):

- ``e2e``: ``simulate`` followed by the quantiles (``DEFAULT_Q``) of every output, warm; its
  ns per path-year and paths per second. ``sim``: ``simulate`` alone.
- ``x floor``: e2e / the time to generate the run's random numbers alone (every stream's uniforms
  and the drivers' normal scores that the kernel draws; ``bench_simulate._random_numbers``).
  Target <= 2.
- ``ref/e2e``: the numpy reference (``simcore.model.equations.simulate_reference``) on
``--ref-paths``
  paths, scaled linearly to the configuration's paths, / e2e. Target >= 3.
- ``py/e2e``: the pure-Python loop (the kernel's own code run by the interpreter,
  :func:`benchmarks.baselines.python_simulate`) on ``--python-paths`` paths, scaled, / e2e.
- ``fade``: ``simulate`` / ``simulate`` of the same scenario with ``fade_years = 0``, timed in
  turns: what the staged DCF's fade (10 years per path by default) costs.
- ``peak RSS``: the highest resident set size sampled (every millisecond) during an e2e run minus
  the resident set size before it, free heap pages returned to the OS first (every allocation,
  numba's included; ``ru_maxrss`` gives the same where the run sets a new high-water mark, saved
  as ``peak_maxrss_bytes``), and that over the stored results' size (target <= 1.5 at 10^6 x 3);
  ``tracemalloc``: the peak seen by Python's allocators (numpy arrays; not numba's own). Measured
  before anything else, smallest configuration first.

Then the peer: monaco (the ``bench`` extra) runs the same default model, one Python call per
case as its users write models, on ``--monaco-paths`` cases; its time is scaled linearly to the
horizon-3 configuration with the most paths and divided by that configuration's e2e, and its
distribution of last-year net profit is checked against that run (two-sample KS, medians within
4 standard errors; ``benchmarks.peer_monaco``).

Then whole processes: the first-ever run with a fresh numba cache (target <= 15 s), the same run
warm, ``simcore run --no-charts`` at 10^6 paths warm (target <= 1.5 s) and the main job,
``simcore run`` with every default output, warm (targets <= 3 s and <= 6 x the e2e of 10^6 x 3
measured in the same benchmark run), with the seconds of each of its steps. Times are medians of
``--repeats``; e2e, simulate and the floor of a configuration are timed in turns, so that a
shared machine's drifting speed does not bias their ratio. Everything is validated against the
numpy reference before it is timed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import numba
import numpy as np

from distributions.kernels import set_threads
from simcore.engine.core import BLOCK, simulate
from simcore.results.result import DEFAULT_Q

from . import peer_monaco
from .baselines import RandomNumbers, numpy_reference, python_simulate
from .checks import assert_close_to_kernel, check_quantiles, check_simulation
from .harness import (
    CHECK_PATHS,
    SEED,
    machine_info,
    median_time,
    median_times,
    peak_rss,
    peak_traced,
    scenario,
    stored_bytes,
)
from .process import (
    api_process,
    check_cli_output,
    cli_missing_reason,
    cli_run,
    cold_start,
    main_job,
)

SCHEMA = "simcore-bench-compare/1"
TARGET_CONFIG = (1_000_000, 3)  # the default run
MB = 2.0**20


# -- measuring ----------------------------------------------------------------------------------
def _e2e(sc, n):
    r = simulate(sc, n, seed=SEED)
    qt = r.quantile_table(DEFAULT_Q)  # every stored output, one parallel call
    return r, {name: qt.loc[name] for name in r.names}


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def measure(args) -> dict:
    threads = set_threads(args.threads)
    configs = sorted(
        ((n, h) for n in args.paths for h in args.horizons), key=lambda c: stored_bytes(*c)
    )
    info = machine_info()
    _say(f"warming up (compiling) ... {threads} threads")
    # runs longer than one block pass the kernel non-contiguous slices of the outputs: a second
    # specialisation of the kernel, so warm up both
    warm = [1_000] + ([BLOCK + 1_000] if max(args.paths) > BLOCK else [])
    for h in args.horizons:
        sc = scenario(h)
        for n in warm:
            _e2e(sc, n)
        RandomNumbers(sc, 1_000, SEED)()

    rows = {}
    _say("peak memory, smallest configuration first")
    for n, h in configs:
        sc = scenario(h)
        mem = peak_rss(lambda sc=sc, n=n: _e2e(sc, n))
        stored = stored_bytes(n, h)
        rows[(n, h)] = {
            "paths": n,
            "horizon": h,
            "threads": threads,
            "stored_bytes": stored,
            "peak_rss_bytes": mem["rss"],
            "peak_rss_over_stored": mem["rss"] / stored,
            "peak_maxrss_bytes": mem["maxrss"],
            "peak_maxrss_new_high_water": mem["maxrss_new_peak"],
        }
    for n, h in configs:  # after every RSS measurement: tracemalloc's bookkeeping takes memory
        sc = scenario(h)
        traced = peak_traced(lambda sc=sc, n=n: _e2e(sc, n))
        rows[(n, h)].update(
            peak_tracemalloc_bytes=traced, peak_tracemalloc_over_stored=traced / stored_bytes(n, h)
        )

    _say("validating every variant against the numpy reference")
    for n, h in configs:
        sc = scenario(h)
        r, qs = _e2e(sc, n)
        check_simulation(r, seed=SEED)
        for name, df in qs.items():
            check_quantiles(df.to_numpy(), r[name].T, np.asarray(DEFAULT_Q))
        del r, qs
        RandomNumbers(sc, n, SEED).check()
    for h in args.horizons:
        sc = scenario(h)
        m = min(CHECK_PATHS, args.ref_paths)
        assert_close_to_kernel(numpy_reference(sc, m, SEED), simulate(sc, m, seed=SEED), rtol=1e-8)
        check_simulation(python_simulate(sc, min(args.python_paths, 50), SEED), seed=SEED)

    ref_t, py_t = {}, {}
    for h in args.horizons:
        sc = scenario(h)
        _say(
            f"numpy reference, {args.ref_paths:,} paths x {h}; pure Python, "
            f"{args.python_paths:,} paths x {h}"
        )
        ref_t[h], _ = median_time(
            lambda sc=sc: numpy_reference(sc, args.ref_paths, SEED), args.ref_repeats
        )
        py_t[h], _ = median_time(
            lambda sc=sc: python_simulate(sc, args.python_paths, SEED), args.python_repeats
        )

    for n, h in configs:
        sc = scenario(h)
        _say(f"timing {n:,} paths x {h} years, {args.repeats} repeats")
        floor = RandomNumbers(sc, n, SEED)
        no_fade = dataclasses.replace(sc, fade_years=0)  # the DCF without its fade
        (e2e, e2e_all), (sim, _), (rng, _), (sim0, _) = median_times(
            [
                lambda sc=sc, n=n: _e2e(sc, n),
                lambda sc=sc, n=n: simulate(sc, n, seed=SEED),
                floor,
                lambda sc=no_fade, n=n: simulate(sc, n, seed=SEED),
            ],
            args.repeats,
        )
        # the quantile step timed on its own: e2e - sim also carries simulate's spread (at
        # 10^7 paths, first touching 3.4 GB of fresh memory varies by seconds on a VM)
        r = simulate(sc, n, seed=SEED)
        qt, _ = median_time(lambda r=r: r.quantile_table(DEFAULT_Q), args.repeats)
        del r
        ref = ref_t[h] * n / args.ref_paths
        py = py_t[h] * n / args.python_paths
        rows[(n, h)].update(
            {
                "e2e_s": e2e,
                "e2e_all_s": e2e_all,
                "simulate_s": sim,
                "simulate_no_fade_s": sim0,
                "fade_over_no_fade": sim / sim0,
                "quantiles_s": qt,
                "random_numbers_s": rng,
                "reference_s_scaled": ref,
                "reference_paths": args.ref_paths,
                "python_s_scaled": py,
                "python_paths": args.python_paths,
                "ns_per_path_year": e2e / (n * h) * 1e9,
                "paths_per_s": n / e2e,
                "ratio_to_random_numbers": e2e / rng,
                "reference_over_e2e": ref / e2e,
                "python_over_e2e": py / e2e,
            }
        )

    peer = measure_peer(args, rows)
    process = measure_processes(args)
    out = {
        "schema": SCHEMA,
        "machine": info,
        "threads": threads,
        "threading_layer": _threading_layer(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "compare")},
        "configs": [rows[c] for c in sorted(rows)],
        "process": process,
        "peer": peer,
    }
    out["targets"] = targets(out)
    return out


def _threading_layer():
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel region has run
        return None


def measure_peer(args, rows) -> dict:
    """monaco on the same default model (``benchmarks.peer_monaco``): ``--monaco-paths`` cases,
    its time scaled linearly to the horizon-3 configuration with the most paths, over that
    configuration's e2e, and its distribution against that run's."""
    cfgs = [c for c in rows if c[1] == 3]
    if args.no_peer or not cfgs:
        return {"skipped": "--no-peer" if args.no_peer else "no horizon-3 configuration"}
    reason = peer_monaco.missing_reason()
    if reason:
        return {"skipped": reason}
    n, h = max(cfgs)
    m = args.monaco_paths
    _say(f"monaco on the same model, {m:,} cases x {h} years (one Python call per case)")
    sc = scenario(h)
    seconds, theirs = peer_monaco.run_monaco(sc, m, seed=SEED)
    ours = simulate(sc, n, seed=SEED)[peer_monaco.OUTPUT][:, -1]
    scaled = seconds * n / m
    return {
        "tool": "monaco",
        "version": peer_monaco.version(),
        "cases": m,
        "paths": n,
        "horizon": h,
        "seconds": seconds,
        "seconds_scaled": scaled,
        "per_case_ms": seconds / m * 1e3,
        "over_e2e": scaled / rows[(n, h)]["e2e_s"],
        **peer_monaco.agreement(ours, theirs),
    }


def measure_processes(args) -> dict:
    n, h = args.process_paths, 3
    res = {"paths": n, "horizon": h}
    if args.no_process:
        res["skipped"] = "--no-process"
        return res
    _say(f"whole processes, {n:,} paths x {h} years")
    api_process(n, h, validate=True)  # validation of the run every process below does
    if args.no_cold:
        res["cold_skipped"] = "--no-cold"
    else:
        cold = cold_start(n, h, fresh_cache=not args.tiny)
        res["cold_start_s"] = cold["wall_s"]
        res["cold_start_fresh_cache"] = cold["fresh_cache"]
        res["cold_start_child"] = {k: cold[k] for k in ("import_s", "simulate_s", "quantiles_s")}
    res["warm_api_process_s"], res["warm_api_process_all_s"] = median_time(
        lambda: api_process(n, h), args.process_repeats
    )
    reason = "--no-cli" if args.no_cli else cli_missing_reason()
    if reason:
        res["cli_skipped"] = reason
    else:
        steps: list[dict[str, float]] = []

        def whole(d: str) -> None:
            steps.append(main_job(n, tempfile.mkdtemp(dir=d))[1])

        with tempfile.TemporaryDirectory(prefix="simcore-bench-cli-") as d:
            cli_run(n, Path(d) / "warmup")
            check_cli_output(Path(d) / "warmup", n)
            main_job(n, Path(d) / "warmup-main")
            (
                (res["warm_cli_s"], res["warm_cli_all_s"]),
                (res["main_job_s"], res["main_job_all_s"]),
            ) = median_times(
                [lambda: cli_run(n, tempfile.mkdtemp(dir=d)), lambda: whole(d)],
                args.process_repeats,
            )
        res["main_job_steps_s"] = {k: float(np.median([s[k] for s in steps])) for k in steps[0]}
    return res


# -- targets ------------------------------------------------------------------------------------
def _row(out, cfg):
    for r in out["configs"]:
        if (r["paths"], r["horizon"]) == cfg:
            return r
    return None


def targets(out) -> list[dict]:
    """The issue's targets with the measured value, PASS/MISS (or n/a when not measured)."""
    cfg = TARGET_CONFIG
    r = _row(out, cfg) or {}
    p = out.get("process", {})
    where = f"{cfg[0]:.0e} x {cfg[1]}"
    spec = [
        (f"{where} end to end, warm (s)", r.get("e2e_s"), "<=", 0.3),
        (f"{where} e2e / random numbers alone", r.get("ratio_to_random_numbers"), "<=", 2.0),
        (f"{where} numpy reference / e2e", r.get("reference_over_e2e"), ">=", 3.0),
        (
            "first-ever run incl. compilation, whole process (s)",
            p.get("cold_start_s") if p.get("cold_start_fresh_cache", True) else None,
            "<=",
            15.0,
        ),
        (
            f"warm `simcore run --no-charts` {p.get('paths', 0):.0e} paths, whole process (s)",
            p.get("warm_cli_s"),
            "<=",
            1.5,
        ),
        (
            f"warm `simcore run` {p.get('paths', 0):.0e} paths, every output, whole process (s)",
            p.get("main_job_s"),
            "<=",
            3.0,
        ),
        (
            f"warm `simcore run` / {where} end to end",
            p["main_job_s"] / r["e2e_s"]
            if p.get("main_job_s") and r.get("e2e_s") and p.get("paths") == cfg[0]
            else None,
            "<=",
            6.0,
        ),
        (f"{where} peak memory (RSS) / stored results", r.get("peak_rss_over_stored"), "<=", 1.5),
    ]
    res = []
    for name, value, op, limit in spec:
        if value is None:
            status = "n/a"
        else:
            ok = value <= limit if op == "<=" else value >= limit
            status = "PASS" if ok else "MISS"
        res.append({"target": name, "value": value, "op": op, "limit": limit, "status": status})
    return res


# -- printing -----------------------------------------------------------------------------------
def _fmt(v, spec=".3g"):
    return "-" if v is None else format(v, spec)


def print_run(out) -> None:
    m = out["machine"]
    v = m["versions"]
    print(
        f"machine: {m['cpu']}, {m['cores_usable']} usable cores, numba {v['numba']} "
        f"({out['threads']} threads, {out['threading_layer']}), numpy {v['numpy']}, "
        f"python {v['python']}, load {m['load_average_1_5_15']}"
    )
    print(
        f"commit {m['git_commit']}{' (dirty)' if m['git_dirty'] else ''}, {m['created']}; "
        f"medians of {out['settings']['repeats']} repeats"
    )
    print()
    hdr = (
        f"{'paths x years':>15} {'e2e s':>8} {'sim s':>8} {'ns/path-yr':>10} "
        f"{'paths/s':>9} {'x floor':>8} {'ref/e2e':>8} {'py/e2e':>8} "
        f"{'peak RSS MB':>11} {'/stored':>7} {'tracem MB':>9} {'fade':>6}"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in out["configs"]:
        rss_ratio = _fmt(r["peak_rss_over_stored"], ".2f")
        print(
            f"{r['paths']:>11,} x {r['horizon']:>2} {r['e2e_s']:8.3f} {r['simulate_s']:8.3f} "
            f"{r['ns_per_path_year']:10.0f} {r['paths_per_s']:9.3g} "
            f"{r['ratio_to_random_numbers']:8.2f} {r['reference_over_e2e']:8.2f} "
            f"{r['python_over_e2e']:8.0f} {r['peak_rss_bytes'] / MB:11.0f} {rss_ratio:>7} "
            f"{r['peak_tracemalloc_bytes'] / MB:9.0f} {_fmt(r.get('fade_over_no_fade'), '.3f'):>6}"
        )
    c0 = out["configs"][0]
    print(
        "e2e = simulate + quantiles of every output; x floor = e2e / random numbers alone;\n"
        f"ref/e2e, py/e2e = numpy reference, pure Python (timed on {c0['reference_paths']:,} "
        f"and {c0['python_paths']:,} paths, scaled) / e2e;\n"
        "peak RSS = highest resident set size sampled every ms during e2e, minus before;\n"
        "fade = simulate / simulate with fade_years = 0 (the cost of the DCF's fade)."
    )
    p = out["process"]
    print()
    print(f"whole processes ({p['paths']:,} paths x {p['horizon']}):")
    if "skipped" in p:
        print(f"  skipped ({p['skipped']})")
    elif "cold_start_s" in p:
        c = p["cold_start_child"]
        fresh = "fresh numba cache" if p["cold_start_fresh_cache"] else "WARM cache (tiny mode)"
        print(
            f"  first run, {fresh}: {p['cold_start_s']:.2f} s (import {c['import_s']:.2f}, "
            f"simulate {c['simulate_s']:.2f}, quantiles {c['quantiles_s']:.2f})"
        )
    if "warm_api_process_s" in p:
        print(f"  same run, warm cache: {p['warm_api_process_s']:.2f} s")
    if "warm_cli_s" in p:
        print(f"  simcore run --no-charts, warm: {p['warm_cli_s']:.2f} s")
    elif "cli_skipped" in p:
        print(f"  simcore run --no-charts: skipped ({p['cli_skipped']})")
    if "main_job_s" in p:
        print(f"  simcore run, every default output, warm: {p['main_job_s']:.2f} s; its steps:")
        for what, sec in p["main_job_steps_s"].items():
            print(f"    {sec:6.2f} s  {what}")
    print_peer(out.get("peer") or {"skipped": "not measured"})
    print()
    print_targets({"": out})


def print_peer(q: dict) -> None:
    print()
    if "skipped" in q:
        print(f"peer (monaco): skipped ({q['skipped']})")
        return
    print(
        f"peer: monaco {q['version']}, the same model, {q['cases']:,} cases x {q['horizon']} "
        f"years in {q['seconds']:.2f} s ({q['per_case_ms']:.2f} ms a case); scaled to "
        f"{q['paths']:,} paths {q['seconds_scaled']:.4g} s = {q['over_e2e']:.4g}x our e2e"
    )
    print(
        f"  its distribution against ours (net profit attributable, last year): KS "
        f"{q['ks_statistic']:.4f} (p = {q['ks_pvalue']:.3g}), medians {q['median_monaco']:.2f} "
        f"against {q['median_ours']:.2f} ({q['median_diff_se']:+.2f} standard errors): "
        f"{'agree' if q['agree'] else 'DISAGREE'}"
    )


def print_targets(runs: dict) -> None:
    names = list(runs)
    first = runs[names[0]]["targets"]
    width = max(len(t["target"]) for t in first)
    head = "".join(f"  {(n or 'value'):>16}" for n in names)
    print(f"{'target':<{width}}  {'limit':>9}{head}")
    for i, t in enumerate(first):
        cells = ""
        for n in names:
            u = runs[n]["targets"][i]
            cells += f"  {_fmt(u['value'], '.3g'):>9} {u['status']:>6}"
        print(f"{t['target']:<{width}}  {t['op']} {t['limit']:<6g}{cells}")


METRICS = (  # (key, label, format)
    ("e2e_s", "e2e s", ".4g"),
    ("simulate_s", "simulate s", ".4g"),
    ("simulate_no_fade_s", "sim, no DCF fade s", ".4g"),
    ("fade_over_no_fade", "fade / no fade", ".3g"),
    ("ns_per_path_year", "ns/path-year", ".4g"),
    ("paths_per_s", "paths/s", ".4g"),
    ("random_numbers_s", "random numbers s", ".4g"),
    ("ratio_to_random_numbers", "e2e / floor", ".3g"),
    ("reference_over_e2e", "reference / e2e", ".3g"),
    ("python_over_e2e", "python / e2e", ".4g"),
    ("peak_rss_bytes", "peak RSS MB", ".4g"),
    ("peak_rss_over_stored", "peak RSS / stored", ".3g"),
    ("peak_tracemalloc_bytes", "tracemalloc MB", ".4g"),
)
PROCESS_METRICS = (
    ("cold_start_s", "cold start s"),
    ("warm_api_process_s", "warm process s"),
    ("warm_cli_s", "warm CLI s"),
)


def print_comparison(a: dict, b: dict, na: str, nb: str) -> None:
    for label, run in (("A", a), ("B", b)):
        m = run["machine"]
        print(
            f"{label}: {m['cpu']}, {m['cores_usable']} cores, {run['threads']} threads, numba "
            f"{m['versions']['numba']}, numpy {m['versions']['numpy']}, commit "
            f"{(m['git_commit'] or '?')[:10]}{'+dirty' if m['git_dirty'] else ''}, "
            f"{m['created']}"
        )
    print(f"A = {na}\nB = {nb}\n")
    print(f"{'configuration':<16} {'metric':<18} {'A':>11} {'B':>11} {'B/A':>7}")
    rb = {(r["paths"], r["horizon"]): r for r in b["configs"]}
    for r in a["configs"]:
        key = (r["paths"], r["horizon"])
        if key not in rb:
            continue
        s = rb[key]
        for k, label, spec in METRICS:
            x, y = r.get(k), s.get(k)
            if k in ("peak_rss_bytes", "peak_tracemalloc_bytes"):
                x, y = (None if v is None else v / MB for v in (x, y))
            ratio = f"{y / x:7.3f}" if x and y is not None else "      -"
            print(
                f"{r['paths']:>10,} x {r['horizon']:<3} {label:<18} {_fmt(x, spec):>11} "
                f"{_fmt(y, spec):>11} {ratio}"
            )
    qa, qb = a.get("peer", {}), b.get("peer", {})
    for k, label in (("seconds_scaled", "monaco scaled s"), ("over_e2e", "monaco / e2e")):
        x, y = qa.get(k), qb.get(k)
        ratio = f"{y / x:7.3f}" if x and y is not None else "      -"
        print(f"{'peer':<16} {label:<18} {_fmt(x, '.4g'):>11} {_fmt(y, '.4g'):>11} {ratio}")
    pa, pb = a["process"], b["process"]
    for k, label in PROCESS_METRICS:
        x, y = pa.get(k), pb.get(k)
        ratio = f"{y / x:7.3f}" if x and y is not None else "      -"
        print(f"{'process':<16} {label:<18} {_fmt(x, '.4g'):>11} {_fmt(y, '.4g'):>11} {ratio}")
    print()
    print_targets({"A": a, "B": b})


# -- command line -------------------------------------------------------------------------------
def parse(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.compare", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--paths", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--horizons", type=int, nargs="+", default=[3, 10])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    ap.add_argument("--ref-paths", type=int, default=100_000)
    ap.add_argument("--ref-repeats", type=int, default=3)
    ap.add_argument("--python-paths", type=int, default=200)
    ap.add_argument("--python-repeats", type=int, default=3)
    ap.add_argument(
        "--monaco-paths", type=int, default=2_000, help="cases of the monaco peer (~4 ms each)"
    )
    ap.add_argument("--no-peer", action="store_true", help="skip the monaco peer")
    ap.add_argument("--process-paths", type=int, default=1_000_000)
    ap.add_argument("--process-repeats", type=int, default=3)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold start (~10-30 s)")
    ap.add_argument("--no-cli", action="store_true", help="skip `simcore run`")
    ap.add_argument(
        "--no-process",
        action="store_true",
        help="skip every whole-process measurement (cold start, warm process, CLI)",
    )
    ap.add_argument(
        "--tiny",
        action="store_true",
        help="tiny sizes, 1 repeat, warm-cache 'cold' start: checks that it runs",
    )
    ap.add_argument("--json", metavar="OUT.json", help="save the results (with machine info)")
    ap.add_argument(
        "--compare",
        nargs=2,
        metavar=("A.json", "B.json"),
        help="print two saved runs side by side (B/A ratios) and exit",
    )
    args = ap.parse_args(argv)
    if args.tiny:
        args.paths, args.repeats, args.ref_paths, args.ref_repeats = [1_000, 2_000], 1, 500, 1
        args.python_paths, args.python_repeats = 10, 1
        args.process_paths, args.process_repeats = 1_000, 1
        args.monaco_paths = 200
    if min(args.python_paths, args.ref_paths, args.repeats, args.monaco_paths) < 1:
        ap.error("--repeats, --ref-paths, --python-paths and --monaco-paths must be positive")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        for p, run in zip(args.compare, (a, b), strict=True):
            if run.get("schema") != SCHEMA:
                raise SystemExit(f"{p}: not a `python -m benchmarks.compare --json` file")
        print_comparison(a, b, *args.compare)
        return 0
    out = measure(args)
    print_run(out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"\nsaved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
