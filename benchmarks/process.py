"""Whole-process runs: a cold start (first compile, fresh numba cache) and warm processes (the
Python API through :mod:`benchmarks.process_child`, and the ``simcore run --no-charts`` CLI).

The wall time of a process is measured here, from spawn to exit, so it includes starting the
interpreter and importing numpy, scipy, pandas and numba.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .harness import REPO, SEED

CHILD = Path(__file__).resolve().parent / "process_child.py"
MARK = "SIMCORE_BENCH_CHILD "
# ``simcore run`` arguments; {paths}, {seed} and {out} are filled in. Override with the
# environment variable SIMCORE_BENCH_CLI_ARGS if the CLI spells them differently.
CLI_ARGS = "run --no-charts --paths {paths} --seed {seed} --out {out}"
CLI_MAIN = "import sys; from simcore.cli import main; sys.exit(main())"


def _run(cmd, env=None, timeout=900) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        code = proc.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"
        raise RuntimeError(
            f"{shlex.join(map(str, cmd))} exited with {how}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return wall, proc


def api_process(
    n_paths: int, horizon: int = 3, *, cache_dir: str | None = None, validate: bool = False
) -> dict:
    """One process that imports simcore, simulates ``n_paths`` x ``horizon`` of the default
    scenario and computes every output's quantiles; ``wall_s`` is its whole lifetime.
    ``cache_dir`` sets ``NUMBA_CACHE_DIR`` (a fresh empty directory = a cold start).
    ``validate=True`` also checks the run (untimed use only: the check is inside ``wall_s``)."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    cmd = [sys.executable, str(CHILD), "--paths", str(n_paths), "--horizon", str(horizon)]
    if not validate:
        cmd.append("--no-validate")
    wall, proc = _run(cmd, env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if not lines:
        raise RuntimeError(f"no result line from {CHILD.name}:\n{proc.stdout[-3000:]}")
    res = json.loads(lines[-1][len(MARK) :])
    if validate and not res["validated"]:
        raise AssertionError("the child process did not validate its run")
    res["wall_s"] = wall
    return res


def cold_start(n_paths: int, horizon: int = 3, *, fresh_cache: bool = True) -> dict:
    """:func:`api_process` with a fresh, empty ``NUMBA_CACHE_DIR``: everything compiles. Checks
    that the cache directory was filled (so the run really compiled, and into that directory).
    ``fresh_cache=False`` keeps the warm cache (the smoke test's tiny mode). Validate the same
    run with ``api_process(..., validate=True)`` first: compiled code does not depend on the
    cache."""
    if not fresh_cache:
        res = api_process(n_paths, horizon)
        res["fresh_cache"] = False
        return res
    with tempfile.TemporaryDirectory(prefix="simcore-numba-cold-") as d:
        res = api_process(n_paths, horizon, cache_dir=d)
        index = list(Path(d).rglob("*.nbi"))
        if not index:
            raise AssertionError(f"the cold start left no numba cache index in {d}")
        res["fresh_cache"] = True
        res["cache_files"] = len(index)
    return res


# -- the CLI ------------------------------------------------------------------------------------
def cli_missing_reason() -> str | None:
    """Why the CLI benchmark cannot run, or None when ``simcore.cli`` exists."""
    if importlib.util.find_spec("simcore.cli") is None:
        return "simcore.cli does not exist yet (the `simcore run` CLI is being written)"
    return None


def cli_command(n_paths: int, out_dir) -> list[str]:
    template = os.environ.get("SIMCORE_BENCH_CLI_ARGS", CLI_ARGS)
    args = shlex.split(template.format(paths=n_paths, seed=SEED, out=out_dir))
    return [sys.executable, "-c", CLI_MAIN, *args]


def cli_run(n_paths: int, out_dir) -> float:
    """Wall time of one ``simcore run --no-charts`` process writing into ``out_dir``."""
    wall, _ = _run(cli_command(n_paths, out_dir))
    return wall


MAIN_JOB_ARGS = "run --paths {paths} --seed {seed} --out {out}"  # every default output
STEP = re.compile(r"^simcore: \[(\d+)/(\d+) · ([0-9.]+) s\] (.*?)\.\.\.$")


def main_job(n_paths: int, out_dir) -> tuple[float, dict[str, float]]:
    """Wall time of one ``simcore run`` process with every default output (tables, charts,
    analyses, the pack, the workbook) writing into ``out_dir``, and the seconds of each of its
    steps, from the progress lines it prints on stderr (each step until the next, the last
    until the process ends)."""
    args = shlex.split(MAIN_JOB_ARGS.format(paths=n_paths, seed=SEED, out=out_dir))
    wall, proc = _run([sys.executable, "-c", CLI_MAIN, *args])
    marks = [m.groups() for m in map(STEP.match, proc.stderr.splitlines()) if m]
    starts = [float(t) for _, _, t, _ in marks] + [wall]
    steps = {what: starts[i + 1] - starts[i] for i, (_, _, _, what) in enumerate(marks)}
    return wall, {"before the first step": starts[0], **steps}


def check_cli_output(out_dir, n_paths: int) -> None:
    """The run wrote something; every results file it saved (``.npz``) has ``n_paths`` paths and
    quantiles identical to ``np.nanquantile``; no chart was written (``--no-charts``)."""
    import numpy as np

    from simcore.results.result import DEFAULT_Q, SimulationResult

    from .checks import check_quantiles

    files = [p for p in Path(out_dir).rglob("*") if p.is_file()]
    if not files:
        raise AssertionError(f"`simcore run` wrote nothing into {out_dir}")
    charts = [p for p in files if p.suffix.lower() in (".png", ".svg")]
    if charts:
        raise AssertionError(f"`simcore run --no-charts` wrote charts: {charts[:3]}")
    for p in files:
        if p.suffix != ".npz":
            continue
        with np.load(p, allow_pickle=False) as z:
            if not {"out", "seg", "hits", "meta", "scenario"} <= set(z.files):
                continue  # not a saved SimulationResult
        r = SimulationResult.load(p)
        if r.n_paths != n_paths:
            raise AssertionError(f"{p}: {r.n_paths} paths, expected {n_paths}")
        for name in ("revenue", "net_profit_attributable", "price_pe"):
            check_quantiles(
                r.quantiles(name, DEFAULT_Q).to_numpy(), r[name].T, np.asarray(DEFAULT_Q)
            )
