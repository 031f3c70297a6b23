"""``simcore``: the command line.

::

    simcore run [--scenario FILE] [--paths N] [--seed S] [--horizon H] [--sampling METHOD]
                [--threads N] [--backend local|cuda]
                [--dask-scheduler ADDRESS | --dask-local N] [--nowcast [DATE]]
                [--out DIR] [--no-charts] [--save-paths [npz|parquet]] [--quiet] [--force]
                [--debug]
    simcore validate FILE [FILE ...]
    simcore scenarios
    simcore show-default
    simcore sensitivity [--scenario FILE] [--paths N] [--seed S] [--statistic SPEC ...]
                        [--outputs ...] [--sobol-n N] [--groups default|factors] [--no-sobol]
                        [--out DIR]
    simcore stress [--scenario FILE] [--paths N] [--seed S] [--stress NAME ...]
                   [--reverse TARGET --lever SPEC --bracket FROM TO] [--out DIR]

``simcore run`` simulates a scenario (default: the embedded Paratera scenario, 10^6 paths, the
engine's fixed seed), prints a compact summary and writes into ``--out`` (default
``./simcore-out``):

==========================  ===================================================================
``summary.csv``             :meth:`SimulationResult.summary` (every output, year, statistic)
``summary.parquet``         the same as Parquet
``risk.csv``, ``.parquet``  :meth:`SimulationResult.risk_metrics` (per year)
``simcore_run.xlsx``        the workbook (:mod:`simcore.report.tables`): contents, summary, risk,
                            fans, assumptions and, with the pack, the sensitivity sheets
``results.npz``             every path (:meth:`SimulationResult.save`); only with --save-paths
``paths.parquet``           every path, a row per path and year; with --save-paths parquet
``fan_net_profit.*``        charts, PNG and SVG (:mod:`simcore.report.charts`); not with --no-charts
``fan_valuation.*``
``distribution_net_profit.*``
``fan_revenue_segments.*``
``fan_financing.*``         cash, debt and returns: EBITDA, free cash flow, net debt, ROIC
``committee_pack.pdf``      the investment-committee pack (:mod:`simcore.report`); not with
                            --no-charts
``manifest.json``           the engine's manifest, the CLI arguments, the run id and the
                            sha256 of every file above
``run.json``                when the run happened and how long it took
==========================  ===================================================================

Dask (docs/dask.md): ``--dask-scheduler tcp://HOST:8786`` runs the paths as blocks on that
cluster's workers, ``--dask-local N`` on a local cluster of N single-threaded worker processes
started for the run and closed after it. The numbers and the files are those of a run without
Dask, byte for byte, except that ``manifest.json`` (and the manifest inside ``results.npz``)
records the backend.

GPU (docs/gpu.md): ``--backend cuda`` simulates the paths on an NVIDIA GPU, one GPU thread per
path, with the CPU kernel's own code compiled by numba-cuda (``pip install 'simcore[cuda]'``);
``manifest.json`` records the device. With ``--summary-only`` the summaries are computed on the
GPU too.

Reproducibility: with the same arguments, scenario, software and machine, every file except
``run.json`` is byte-identical from run to run. The engine's ``created`` timestamp is moved
from the manifest into ``run.json`` (which is the only file that carries time), charts and the PDF
are written without timestamps and with fixed SVG ids, and the entries of ``results.npz`` get a
fixed zip date. ``--out``, ``--quiet``, ``--force`` and ``--debug`` do not change any bytes.

Safety (:mod:`simcore.io.publish`, :mod:`simcore.cli.signals`): the whole output folder is written
beside ``--out`` and swapped into its place by one atomic system call once every file is
complete, so a signal at any moment, SIGKILL included, leaves ``--out`` holding either the
earlier run or the new one, complete. SIGINT, SIGTERM and SIGHUP stop a run cleanly (its staging
folder is removed; exit code 128 + the signal number: 130, 143, 129); a repeated signal is
ignored while cleaning up. Outputs of a *different* run (another run id: other scenario, paths,
seed, horizon, sampling, threads or charts setting), or an incomplete or altered folder, are not
replaced without ``--force``; rerunning the same command may overwrite, as the bytes would be
the same. ``--out`` must be new, empty, or hold only what simcore wrote there.

Exit codes: 0 success, 1 error (or an invalid scenario for ``validate``), 2 bad arguments,
128 + N stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from simcore.cli.common import (
    MANIFEST,
    RUN_LOG,
    UsageError,
    _err,
    _horizon,
    _load_scenario_arg,
    _one_line,
    _Parser,
    _positive_int,
    _precision_target,
    _printable,
    _run_id,
    _safe_name,
    _seconds,
    _seed,
    _sha256,
    add_nowcast,
    nowcast_arg,
    open_output,
    write_manifest,
)
from simcore.cli.signals import Interrupted, handled
from simcore.io.files import atomic_write

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client
    from matplotlib.figure import Figure

    from distributions.streams import SeedLike
    from simcore.engine.run_options import RunOptions
    from simcore.model.scenario import Scenario
    from simcore.results.result import SimulationResult

Say = Callable[[str], None]  # a progress message to the user

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_PATHS = 1_000_000
DEFAULT_OUT = "simcore-out"
SAMPLING = ("mc", "lhs", "sobol", "antithetic")

SUMMARY, RESULTS, PACK = "summary.csv", "results.npz", "committee_pack.pdf"
PATHS_PARQUET, WORKBOOK = "paths.parquet", "simcore_run.xlsx"
TABLES = ("summary.parquet", "risk.csv", "risk.parquet", WORKBOOK)
CHART_NAMES = (
    "fan_net_profit",
    "fan_valuation",
    "distribution_net_profit",
    "fan_revenue_segments",
    "fan_financing",
)
CHART_FORMATS = ("png", "svg")
KNOWN_OUTPUTS = frozenset(
    [SUMMARY, RESULTS, PATHS_PARQUET, PACK, MANIFEST, RUN_LOG, *TABLES]
    + [f"{c}.{ext}" for c in CHART_NAMES for ext in CHART_FORMATS]
)
MANIFEST_FORMAT = 1


def build_parser() -> argparse.ArgumentParser:
    from simcore._version import __version__ as version

    parser = _Parser(
        prog="simcore",
        description="Monte Carlo risk simulation of a listed company's forecast.",
        epilog="Exit codes: 0 success, 1 error or invalid scenario, 2 bad arguments, "
        "130 interrupted. 'simcore run --help' lists the run options.",
    )
    parser.add_argument("--version", action="version", version=f"simcore {version}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    common = _Parser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )

    run = sub.add_parser(
        "run",
        parents=[common],
        help="simulate a scenario and write charts, tables and a PDF",
        description="Simulate a scenario, print a summary and write the summary and risk tables "
        "(CSV, Parquet), an Excel workbook, charts (PNG, SVG), the committee pack (PDF), "
        "manifest.json and run.json into --out (every path too with --save-paths).",
    )
    run.add_argument(
        "--scenario",
        metavar="FILE",
        help="scenario TOML file, or the name of a built-in scenario "
        "(default: the embedded Paratera scenario)",
    )
    run.add_argument(
        "--paths",
        type=_positive_int,
        default=DEFAULT_PATHS,
        metavar="N",
        help=f"number of paths (default {DEFAULT_PATHS:,}; 1e5 and 100_000 work)",
    )
    run.add_argument(
        "--seed",
        type=_seed,
        default=None,
        metavar="S",
        help="non-negative integer seed (default: the engine's fixed seed)",
    )
    run.add_argument(
        "--horizon",
        type=_horizon,
        default=None,
        metavar="H",
        help="years to simulate, 1 to 30 (default: the scenario's)",
    )
    add_nowcast(run, "the run")
    run.add_argument(
        "--sampling",
        choices=SAMPLING,
        default="mc",
        help="uniform sampling: plain Monte Carlo, Latin hypercube, scrambled "
        "Sobol or antithetic pairs (default mc)",
    )
    run.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="numba threads (results are identical for any count)",
    )
    run.add_argument(
        "--precision",
        nargs="+",
        type=_precision_target,
        metavar="TARGET",
        help="stop at a stated precision, --paths becoming the cap: STAT[.OUTPUT][@YEAR]:rse=X "
        "(relative standard error) or :hw=X (95%% half-width), STAT one of mean, median, "
        "p<k>, p_loss, p_miss, var<k>, es<k>; e.g. p_loss:hw=0.005 es95:rse=0.02",
    )
    run.add_argument(
        "--summary-only",
        action="store_true",
        help="stream the run in blocks, holding no path: the exact summary and risk tables and "
        "the workbook in bounded memory, no charts or pack (chosen by itself, with a notice, "
        "when the paths would not fit in memory)",
    )
    run.add_argument(
        "--max-seconds",
        type=_seconds,
        default=None,
        metavar="S",
        help="with --precision: also stop before S seconds of simulating",
    )
    run.add_argument(
        "--backend",
        choices=("local", "cuda"),
        default="local",
        help="where the paths are simulated: this machine's CPU threads (local, the default) "
        "or an NVIDIA GPU through numba-cuda (cuda; needs simcore[cuda], see docs/gpu.md)",
    )
    dask = run.add_mutually_exclusive_group()
    dask.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="run the paths on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs "
        "simcore[dask]; results are identical to a local run)",
    )
    dask.add_argument(
        "--dask-local",
        type=_positive_int,
        metavar="N",
        help="run the paths on a local Dask cluster of N worker processes (one "
        "thread each), started for this run",
    )
    run.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output directory (default ./{DEFAULT_OUT})",
    )
    run.add_argument(
        "--save-paths",
        nargs="?",
        const="npz",
        choices=("npz", "parquet"),
        default=None,
        help="also write every path: results.npz (default; simcore backtest and "
        "SimulationResult.load read it) or paths.parquet (one row per path and year)",
    )
    run.add_argument(
        "--no-charts",
        dest="charts",
        action="store_false",
        help="skip the charts and the PDF pack (numbers only)",
    )
    run.add_argument(
        "--quiet", action="store_true", help="print nothing but errors (no summary, no progress)"
    )
    run.add_argument(
        "--force", action="store_true", help="replace the outputs of a different run in --out"
    )
    run.set_defaults(func=_cmd_run)

    val = sub.add_parser(
        "validate",
        parents=[common],
        help="check scenario files",
        description="Load and check each scenario file; print OK or what is "
        "wrong and where. Exit code 1 if any is invalid.",
    )
    val.add_argument("files", nargs="+", metavar="FILE")
    val.set_defaults(func=_cmd_validate)

    lst = sub.add_parser("scenarios", parents=[common], help="list the built-in scenarios")
    lst.set_defaults(func=_cmd_scenarios)

    show = sub.add_parser(
        "show-default",
        parents=[common],
        help="print the default scenario file, with its explanatory comments (a template to edit)",
    )
    show.set_defaults(func=_cmd_show_default)

    from simcore.cli.analyses import add_subcommands  # simcore sensitivity, simcore stress

    add_subcommands(sub, common)
    from simcore.cli.fit import add_fit  # simcore fit

    add_fit(sub, common)
    return parser


# -- small helpers ------------------------------------------------------------------------------
def _cmd_validate(args: argparse.Namespace) -> int:
    from distributions.streams import handle_seed
    from simcore.engine.core import DEFAULT_SEED
    from simcore.io.scenario_file import (
        ScenarioError,
        builtin_scenario,
        list_scenarios,
        load_scenario,
    )
    from simcore.model.compile import compile_scenario

    bad = 0
    for f in args.files:
        try:
            if not Path(f).exists() and f in list_scenarios():
                sc = builtin_scenario(f)
            else:
                sc = load_scenario(f)
            compile_scenario(sc, handle_seed(DEFAULT_SEED))  # what a run would build
        except (
            ScenarioError,
            OSError,
            ValueError,
            TypeError,
            KeyError,
            RecursionError,
            MemoryError,
        ) as exc:  # each file on its own: one bad file does not stop the rest
            bad += 1
            msg = _one_line(exc)
            if not isinstance(exc, ScenarioError) and f not in msg:
                msg = f"{f}: {msg}"
            _err(f"simcore: invalid scenario: {_printable(msg)}")
            if getattr(args, "debug", False):
                traceback.print_exc()
            continue
        print(
            f"OK: {_printable(f)}: {_printable(sc.name)} ({_printable(sc.ticker)}), base year "
            f"{sc.base_year}, horizon "
            f"{sc.horizon}, {len(sc.segments)} segments, {len(sc.drivers)} drivers, "
            f"{len(sc.shocks)} shocks"
        )
    return EXIT_ERROR if bad else EXIT_OK


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from simcore.io.scenario_file import DEFAULT_SCENARIO, list_scenarios

    names = list_scenarios()
    width = max((len(n) for n in names), default=0)
    for name, desc in names.items():
        mark = " (default)" if name == DEFAULT_SCENARIO else ""
        print(f"{name:<{width}}  {desc}{mark}")
    return EXIT_OK


def _cmd_show_default(args: argparse.Namespace) -> int:
    from simcore.io.scenario_file import DEFAULT_SCENARIO, builtin_scenario_text

    text = builtin_scenario_text(DEFAULT_SCENARIO)  # the shipped file, its comments kept
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


# -- kernels and progress -----------------------------------------------------------------------
def kernels_need_compiling() -> str | None:
    """Why the next run will compile numba kernels (``"first run"``, ``"cache disabled"``), or
    None when numba's on-disk cache already holds them.

    Checks the cache index of the simulation kernel and the quantile kernel the way numba does
    when it loads them (missing or stale index = compile). It cannot see a cache made stale by an
    edit of a *different* module the kernel calls; numba does not track that either.
    """
    from simcore.model import _kernel
    from simcore.results import quantiles as _quantiles

    for disp in (_kernel.simulate_block, _quantiles._row_quantiles):
        cache = getattr(disp, "_cache", None)
        if cache is None:  # NUMBA_DISABLE_JIT: plain Python, nothing to compile
            continue
        cache_file = getattr(cache, "_cache_file", None)
        if cache_file is None:
            return "cache disabled"
        try:
            if not cache_file._load_index():
                return "first run"
        except Exception:  # unreadable index: numba will recompile
            return "first run"
    return None


def _compile_side_by_side(scenario: Scenario, sampling: str) -> bool:
    """A first run's compilation on two cores: the simulation kernel (most of it) in a forked
    child, which leaves it in numba's on-disk cache, while this process compiles the kernels
    of the tables (quantiles, moments); the run then loads the simulation kernel from the cache.
    Without fork (:func:`simcore.io.background.can_fork`) the run compiles as it goes.
    Returns whether the child compiled."""
    import numpy as np

    from simcore.engine.core import simulate
    from simcore.io.background import Background, can_fork
    from simcore.results.moments import row_moments
    from simcore.results.quantiles import quantiles

    if not can_fork():
        return False

    def compile_kernel() -> dict[str, bytes]:
        simulate(scenario, n_paths=64, seed=0, sampling=sampling, threads=1)
        return {}

    with Background(compile_kernel, "compiling the simulation kernel") as child:
        x = np.linspace(0.0, 1.0, 16).reshape(2, 8)  # the tables' kernels, the run's types
        quantiles(x, [0.5])
        row_moments(x)
        child.result()
    return True


def progress_bar(
    total: int,
    stream: TextIO | None = None,
    *,
    enabled: bool | None = None,
    delay: float = 1.0,
) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """``(callback, close)`` for ``simulate(progress=callback)``: a tqdm bar on ``stream``
    (default stderr) that appears only if the run takes longer than ``delay`` seconds. Shown
    when ``enabled``, by default when ``stream`` is a terminal."""
    stream = sys.stderr if stream is None else stream
    if enabled is None:
        enabled = bool(getattr(stream, "isatty", lambda: False)())
    if not enabled:
        return None, _nothing
    from tqdm import tqdm

    size = shutil.get_terminal_size((80, 24))  # (80, 24) where a terminal reports 0 x 0,
    bar = tqdm(
        total=total,
        desc="simulating",
        unit="path",
        unit_scale=True,
        file=stream,
        delay=delay,
        leave=False,
        mininterval=0.2,  # where tqdm would print nothing
        ncols=min(size.columns, 100),
        nrows=max(size.lines, 2),
    )

    def update(done: int, n_paths: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close


# -- outputs ------------------------------------------------------------------------------------
def _run_identity(scenario: Scenario, args: argparse.Namespace, seed: SeedLike) -> dict[str, Any]:
    from simcore._version import __version__ as version

    return {
        "format": MANIFEST_FORMAT,
        "simcore": version,
        "scenario_sha256": scenario.digest(),
        "n_paths": args.paths,
        "seed": seed,
        "horizon": args.horizon if args.horizon is not None else scenario.horizon,
        "sampling": args.sampling,
        "threads": args.threads,
        "charts": args.charts,
        "save_paths": args.save_paths,
        **({"backend": "dask"} if _uses_dask(args) else {}),  # its manifest says so
        **({"backend": "cuda"} if getattr(args, "backend", "local") == "cuda" else {}),
        **_precision_identity(args),
        **({"summary_only": True} if getattr(args, "summary_only", False) else {}),
    }


def _precision_identity(args: argparse.Namespace) -> dict[str, Any]:
    if not getattr(args, "precision", None):
        return {}
    return {"precision": [t.text() for t in args.precision], "max_seconds": args.max_seconds}


def _uses_dask(args: argparse.Namespace) -> bool:
    return (
        getattr(args, "dask_scheduler", None) is not None
        or getattr(args, "dask_local", None) is not None
    )


@contextlib.contextmanager
def _dask_client(args: argparse.Namespace, say: Say) -> Iterator[Client | None]:
    """The ``distributed.Client`` that ``--dask-scheduler`` / ``--dask-local`` ask for (None
    without them); a local cluster is closed on the way out."""
    if args.dask_scheduler is None and args.dask_local is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(
            "--dask-scheduler and --dask-local need dask.distributed: pip install 'simcore[dask]'"
        ) from None
    import logging

    cluster = None
    if args.dask_local is not None:
        say(f"  starting a local Dask cluster of {args.dask_local} worker processes")
        cluster = LocalCluster(
            n_workers=args.dask_local,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            env={"NUMBA_NUM_THREADS": "1"},
        )  # one core per worker
        address = cluster
    else:
        say(f"  connecting to the Dask scheduler at {args.dask_scheduler}")
        address = args.dask_scheduler
    try:
        with Client(address) as client:
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def _write_bytes(fh: IO[bytes], data: bytes) -> None:
    fh.write(data)


class _Files:
    """Outputs written into a staging folder, each atomically, and the list of their names."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.names: list[str] = []

    def put(self, name: str, write: Callable[[IO[bytes]], object]) -> None:
        atomic_write(self.staging / _safe_name(name), write)
        self.names.append(name)

    def tables(self, tables: dict[str, pd.DataFrame]) -> None:
        """The summary and risk tables as CSV and Parquet."""
        from simcore.report import tables as tb

        for name in ("summary", "risk"):
            df = tables[name]
            csv = df.to_csv(index=False, lineterminator="\n").encode()
            self.put(f"{name}.csv", functools.partial(_write_bytes, data=csv))
            self.put(f"{name}.parquet", functools.partial(tb.write_parquet, table=df))


def _write_outputs(
    result: SimulationResult,
    staging: Path,
    manifest: dict[str, Any],
    args: argparse.Namespace,
    say: Say,
) -> list[str]:
    """Write every output into ``staging`` (atomically each); returns the file names."""
    import copy

    from simcore.report import tables as tb

    files = _Files(staging)
    names, put = files.names, files.put
    say("computing the summary and risk tables")
    tables = tb.run_tables(result)
    files.tables(tables)

    if args.save_paths == "npz":
        say("saving every path")
        saved = copy.copy(result)  # same arrays, the deterministic manifest inside the file
        saved.manifest = manifest
        saved.save(staging / _safe_name(RESULTS))
        names.append(RESULTS)
    elif args.save_paths == "parquet":
        say("saving every path")
        put(PATHS_PARQUET, lambda fh: tb.write_paths_parquet(fh, result))
    analyses = None

    if args.charts:
        import matplotlib

        matplotlib.use("Agg")
        from simcore.analysis.pack_analyses import pack_analyses
        from simcore.io.background import Background, can_fork
        from simcore.report import pack as report

        background = can_fork()  # while the analyses run; else here and now
        say(
            f"drawing {len(CHART_NAMES)} charts"
            + (" and the pack's chart pages in the background" if background else "")
        )
        with (
            Background(lambda: _chart_files(result), "drawing the charts") as drawn,
            report.draw_run_pages(result) as run_pages,
        ):
            if not background:
                drawn.result()
            say("running the sensitivity analyses for the committee pack")
            analyses = pack_analyses(result, say=lambda m: say(f"  {m}"))
            for name, data in drawn.result().items():  # in their order, as every output
                put(name, functools.partial(_write_bytes, data=data))
            say("writing the committee pack")
            pack_manifest = {**manifest, "files": f"listed with their sha256 in {MANIFEST}"}
            report.write_pack(
                result,
                staging / _safe_name(PACK),
                manifest=pack_manifest,
                analyses=analyses,
                run_drawing=run_pages,
            )
        names.append(PACK)
        tables.update(tb.analysis_tables(analyses))  # the run's tables as they were
    sc = result.scenario
    note = (
        f"{result.n_paths:,} paths, seed {_seed_of(manifest)}, {result.years[0]}-"
        f"{result.years[-1]}; amounts in {sc.currency} millions. "
        + ("" if args.charts else "Sensitivity sheets: not computed (--no-charts).")
    )
    title = f"{sc.name} ({sc.ticker})"
    say("writing the workbook")
    put(WORKBOOK, lambda fh: tb.write_workbook(fh, tables, title=title, note=note))
    return names


def _chart_files(result: SimulationResult) -> dict[str, bytes]:
    """The chart files' bytes by name (each chart in each of ``CHART_FORMATS``)."""
    from simcore.report import charts

    makers: dict[str, Callable[[SimulationResult], Figure]] = {
        "fan_net_profit": charts.fan_chart_net_profit,
        "fan_valuation": charts.fan_chart_valuation,
        "distribution_net_profit": charts.distribution_net_profit,
        "fan_revenue_segments": charts.fan_chart_revenue_segments,
        "fan_financing": charts.fan_chart_financing,
    }
    files = {}
    for name in CHART_NAMES:
        fig = makers[name](result)
        for ext in CHART_FORMATS:
            buf = io.BytesIO()
            charts.save_figure(fig, buf, ext)
            files[f"{name}.{ext}"] = buf.getvalue()
    return files


def _seed_of(manifest: dict[str, Any]) -> object:
    seed = manifest.get("seed")
    return seed.get("entropy") if isinstance(seed, dict) else seed


def _nothing() -> None:
    pass


def _print_summary(result: SimulationResult, run_id: str, out: Path, n_files: int) -> None:
    import numpy as np

    from simcore.report.caveats import nowcast_caveat, valuation_caveats
    from simcore.results.result import MULTIPLE_BASE

    sc = result.scenario
    cur = sc.currency or "CNY"
    years = result.years
    m = result.manifest
    seed = m.get("seed", {}).get("entropy") if isinstance(m.get("seed"), dict) else m.get("seed")
    lines = [
        f"{_printable(sc.name)} ({_printable(sc.ticker)}) · {result.n_paths:,} paths · "
        f"seed {seed} · sampling {m.get('sampling')} · {years[0]}–{years[-1]}",
        "",
    ]
    qs = (0.05, 0.25, 0.5, 0.75, 0.95)
    head = "".join(f"{h:>10}" for h in ("P5", "P25", "median", "P75", "P95"))
    risk = result.risk_metrics(levels=(0.95,))
    npa = result.quantiles("net_profit_attributable", qs)
    lines.append(f"Net profit attributable ({cur} m)")
    lines.append(f"  {'year':<6}{head}{'report':>10}{'P(loss)':>10}")
    for year in years:
        fc = risk["forecast"].loc[year]
        fc_s = f"{fc:,.1f}" if np.isfinite(fc) else "–"
        vals = "".join(f"{v:>10,.1f}" for v in npa.loc[year])
        lines.append(f"  {year:<6}{vals}{fc_s:>10}{risk['p_loss'].loc[year]:>10.1%}")
    lines.append("")
    lines.append(
        f"Implied price per share ({cur}/share); market price {sc.market_price:,.2f} "
        f"on {sc.market_date}"
    )
    lines.append(f"  {'method':<10}{'year':<6}{head}{'P(>market)':>12}")
    tv = np.nanmedian(result["dcf_terminal_share"], axis=0)
    for name, label in (
        ("price_ps", "P/S"),
        ("price_pe", "P/E"),
        ("price_ev_ebitda", "EV/EBITDA"),
        ("price_dcf", "DCF"),
    ):
        q = result.quantiles(name, qs)
        zero = result.undefined_share(name)
        base = MULTIPLE_BASE[name].upper() if name in MULTIPLE_BASE else None
        for t, year in enumerate(years):
            vals = "".join(f"{v:>10,.2f}" for v in q.loc[year])
            p = risk[f"p_{name}_above_market"].loc[year]
            note = f"  ({base} <= 0, price 0: {zero[t]:.0%} of paths)" if base and zero[t] else ""
            if name == "price_dcf":
                note = f"  (terminal value {tv[t]:.0%} of EV)"
            lines.append(f"  {label:<10}{year:<6}{vals}{p:>12.1%}{note}")
    caveats = valuation_caveats(sc)
    lines.append("")
    if sc.nowcast_as_of:
        lines.append(f"{nowcast_caveat(sc)}.")
    lines.append(
        "P(loss): probability that net profit attributable < 0. P(>market): probability "
        "that the implied price exceeds the market price."
    )
    if m.get("precision"):
        lines[-1:-1] = [*_precision_lines(result), ""]
    lines.append(f"Multiples (P/S, P/E, EV/EBITDA alike): {caveats['price_ps']}.")
    lines.append(f"DCF: {caveats['price_dcf']}; what the market price needs: simcore reverse-dcf.")
    lines.append(f"Wrote {n_files} files to {out}/ (run id {run_id}).")
    print("\n".join(lines), flush=True)


def _run_streamed(
    args: argparse.Namespace,
    scenario: Scenario,
    scenario_label: str,
    opts: RunOptions,
    identity: dict[str, Any],
    folder: Any,
    say: Say,
) -> int:
    """``simcore run --summary-only``: the run streamed block by block
    (:func:`simcore.engine.dask.simulate_summary`, here or on Dask), no path held anywhere; the
    summary and risk tables, the workbook, the manifest and run.json."""
    import datetime as _dt
    import platform

    from simcore.engine.core import versions
    from simcore.engine.dask import simulate_summary
    from simcore.report import tables as tb

    t_start = time.monotonic()
    run_id = _run_id(identity)
    out = Path(args.out)
    with folder.staging() as staging:
        if not args.quiet:
            _err(
                f"simcore: {_printable(scenario.name)} ({_printable(scenario.ticker)}): "
                f"{args.paths:,} paths, summary only, seed {opts.seed}, sampling "
                f"{args.sampling}, horizon {identity['horizon']} years -> {out}/"
            )
            if args.charts:
                _err("simcore: a summary-only run draws no charts or pack (they need every path)")
        say(f"streaming {args.paths:,} paths in blocks (passes: moments, quantiles, shortfall)")
        created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        with _dask_client(args, say) as client:
            t_sim = time.monotonic()
            table = simulate_summary(
                scenario,
                opts.n_paths,
                opts.seed,
                client=client,
                horizon=opts.horizon,
                sampling=opts.sampling,
                threads=opts.threads,
                shortfall=(0.95, 0.99) if _has_forecast(opts.scenario(scenario)) else (),
                backend=getattr(args, "backend", "local"),
            )
            sim_seconds = time.monotonic() - t_sim
        sc = opts.scenario(scenario)
        say("writing the summary and risk tables")
        tables = tb.streamed_tables(table, sc)
        files = _Files(staging)
        names, put = files.names, files.put
        files.tables(tables)
        say("writing the workbook")
        note = (
            f"{opts.n_paths:,} paths streamed (summary only), seed {opts.seed}, "
            f"{sc.years[0]}-{sc.years[-1]}; amounts in {sc.currency} millions. Charts and "
            "sensitivity sheets need every path: not in a summary-only run."
        )
        title = f"{sc.name} ({sc.ticker})"
        put(WORKBOOK, lambda fh: tb.write_workbook(fh, tables, title=title, note=note))
        attrs = dict(table.attrs)
        manifest: dict[str, Any] = {
            "simcore_manifest": 1,
            "versions": versions(),
            "platform": platform.platform(),
            "seed": attrs.get("seed"),
            "scenario": {"name": sc.name, "ticker": sc.ticker, "sha256": sc.digest()},
            "sampling": opts.sampling,
            "n_paths": opts.n_paths,
            "horizon": sc.horizon,
            "summary_only": {
                k: attrs.get(k)
                for k in ("block", "passes", "pass_seconds", "backend", "device")
                if k in attrs
            },
            "run": {"id": run_id, "identity": identity, "timestamp_file": RUN_LOG},
            "cli": _cli_record(args, scenario_label, scenario),
        }
        manifest = json.loads(json.dumps(manifest, default=str))
        write_manifest(staging, manifest, names)
        _write_run_log(staging, args, run_id, created, sim_seconds, t_start)
        folder.publish()
    if not args.quiet:
        _print_streamed(sc, tables, opts, run_id, out, len(names) + 2)
    return EXIT_OK


def _cli_record(args: argparse.Namespace, scenario_label: str, scenario: Scenario) -> dict:
    """The manifest's record of the ``run`` command line."""
    record = {
        "command": "run",
        "scenario": scenario_label,
        "paths": args.paths,
        "seed": args.seed,
        "horizon": args.horizon,
        "sampling": args.sampling,
        "threads": args.threads,
        "nowcast": scenario.nowcast_as_of or None,  # "latest" resolved to its date
        "no_charts": not args.charts,
        "save_paths": args.save_paths,
        **_precision_identity(args),
    }
    if args.summary_only:
        record["summary_only"] = True
    if _uses_dask(args):
        record.update(dask_scheduler=args.dask_scheduler, dask_local=args.dask_local)
    return record


def _write_run_log(
    staging: Path,
    args: argparse.Namespace,
    run_id: str,
    created: str | None,
    sim_seconds: float,
    t_start: float,
    aside: bool = False,
) -> None:
    """``run.json``: the run's timings, whether kernels compiled (``aside``: the simulation
    kernel in a child process beside this one), the manifest's digest."""
    import datetime as _dt

    from simcore.model import _kernel

    stats = getattr(_kernel.simulate_block, "stats", None)
    log = {
        "run_id": run_id,
        "created": created,
        "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "simulate_seconds": round(sim_seconds, 3),
        "total_seconds": round(time.monotonic() - t_start, 3),
        "kernels_compiled": aside or (bool(stats.cache_misses) if stats is not None else False),
        "compiled_side_by_side": aside,
        "manifest_sha256": _sha256(staging / MANIFEST),
        "argv": list(getattr(args, "_argv", [])),
    }
    text = (json.dumps(log, indent=2) + "\n").encode()
    atomic_write(staging / RUN_LOG, functools.partial(_write_bytes, data=text))


def _has_forecast(sc: Scenario) -> bool:
    """Whether the report forecasts net profit attributable in every simulated year."""
    fc = sc.forecast.net_profit_attributable
    return len(fc) >= sc.horizon


def _print_streamed(
    sc: Scenario,
    tables: dict[str, pd.DataFrame],
    opts: RunOptions,
    run_id: str,
    out: Path,
    n_files: int,
) -> None:
    """The summary of a summary-only run: net profit attributable's fan, P(loss), VaR."""
    cur = sc.currency or "CNY"
    fans, risk = tables["fans"], tables["risk"].set_index("year")
    npa = fans[fans["output"] == "net_profit_attributable"].set_index("year")
    lines = [
        f"{_printable(sc.name)} ({_printable(sc.ticker)}) · {opts.n_paths:,} paths, summary "
        f"only · seed {opts.seed} · sampling {opts.sampling} · {sc.years[0]}–{sc.years[-1]}",
        "",
        f"Net profit attributable ({cur} m)",
        f"  {'year':<6}"
        + "".join(f"{h:>10}" for h in ("P5", "P25", "median", "P75", "P95", "report", "P(loss)")),
    ]
    q = npa[["P5", "P25", "P50", "P75", "P95"]].to_numpy(dtype=float)
    fcs, p_loss = (risk[c].to_numpy(dtype=float) for c in ("forecast", "p_loss"))
    for t, year in enumerate(npa.index):
        vals = "".join(f"{v:>10,.1f}" for v in q[t])
        fc_s = f"{fcs[t]:,.1f}" if fcs[t] == fcs[t] else "–"
        lines.append(f"  {year:<6}{vals}{fc_s:>10}{p_loss[t]:>10.1%}")
    lines.append("")
    for col, what in (("VaR0.95", "VaR 95%"), ("ES0.95", "ES 95%")):
        if col in risk.columns:
            v = ", ".join(f"{y}: {x:,.1f}" for y, x in risk[col].items() if x == x)
            lines += [f"{what} of the shortfall below the report ({cur} m): {v}"]
    lines += [
        "",
        "Exact quantiles, probabilities and shortfall from a streamed run (no path held); the "
        "charts and the pack need every path: run without --summary-only.",
        f"Wrote {n_files} files to {out}/ (run id {run_id}).",
    ]
    print("\n".join(lines), flush=True)


def _precision_lines(result: SimulationResult) -> list[str]:
    """The achieved precision of a run with --precision, one line per target."""
    pr = result.precision()
    a = pr.attrs
    lines = [
        f"Precision: stopped at {a['paths']:,} paths after {a['seconds']:.1f} s ({a['stopped']}); "
        "95% half-width from 32 batch means"
    ]
    from simcore.results.precision import headline

    heads = headline(result)
    width = max(len(x) for x in [*pr["label"], *heads.index])
    for row in pr.itertuples():
        lines.append(
            f"  {row.label:<{width}}  {row.value:>12,.4g} ± {row.hw:<10,.3g} rse {row.rse:7.2%}"
            f"   wanted {row.wanted:<16}{'met' if row.met else 'NOT MET'}"
        )
    lines.append("  and the headline numbers:")
    for label, h in heads.iterrows():
        rse = h["se"] / abs(h["value"]) if h["value"] else float("inf")
        lines.append(f"  {label:<{width}}  {h['value']:>12,.4g} ± {h['hw']:<10,.3g} rse {rse:7.2%}")
    return lines


def _check_precision(args: argparse.Namespace, scenario: Scenario) -> None:
    """--precision checked against the scenario before anything runs."""
    from simcore.results.precision import BATCHES
    from simcore.results.precision import check as check_target

    if args.sampling == "lhs":
        raise UsageError(
            "argument --sampling: a run to --precision cannot grow a Latin hypercube (its "
            "strata depend on the final path count); allowed mc, sobol or antithetic"
        )
    if args.paths < 2 * BATCHES:
        raise UsageError(
            f"argument --paths: a run to --precision needs at least {2 * BATCHES} paths"
        )
    for t in args.precision:
        try:
            check_target(t, scenario)
        except ValueError as exc:
            raise UsageError(f"argument --precision: {exc}") from None


def _run_options(scenario: Scenario, args: argparse.Namespace) -> RunOptions:
    """The run's arguments checked by the engine's own rules (:class:`RunOptions`), before the
    output folder is touched; a refusal names the command-line option."""
    from simcore.engine.core import DEFAULT_SEED
    from simcore.engine.precision import GROWING
    from simcore.engine.run_options import RunOptions

    seed = DEFAULT_SEED if args.seed is None else args.seed
    try:
        opts = RunOptions.checked(
            args.paths, seed, args.horizon, args.sampling, threads=args.threads
        )
    except (TypeError, ValueError) as exc:  # argparse checked each alone; these are joint rules
        name = str(exc).split("=", 1)[0]
        option = {
            "n_paths": "--paths",
            "seed": "--seed",
            "horizon": "--horizon",
            "sampling": "--sampling",
            "threads": "--threads",
        }.get(name, "--paths")
        raise UsageError(f"argument {option}: {exc}") from None
    every = "--save-paths" if args.save_paths else "--precision" if args.precision else ""
    if args.summary_only and every:
        raise UsageError(f"argument --summary-only: {every} needs every path; drop one of them")
    need, limit = opts.memory_needed(scenario)
    if args.precision:
        _check_precision(args, opts.scenario(scenario))
        need *= GROWING  # the run so far and its join with the next block
    if need > limit:
        why = (
            f"{args.paths:,} paths x {opts.scenario(scenario).horizon} years need "
            f"{need / 2**30:,.1f} GiB, more than the {limit / 2**30:,.1f} GiB of memory available"
        )
        if every:
            raise UsageError(
                f"argument --paths: {why}, and {every} needs every path in memory; use fewer "
                "paths or a shorter --horizon"
            )
        if not args.summary_only and not args.quiet:
            _err(
                f"simcore: {why}: streaming a summary-only run instead (exact summary and risk "
                "tables in bounded memory; no charts or pack)"
            )
        args.summary_only = True
    if getattr(args, "backend", "local") == "cuda":
        if _uses_dask(args):
            raise UsageError(
                "argument --backend: cuda simulates on this machine's GPU and --dask-* on a "
                "cluster; choose one"
            )
    return opts


def _cmd_run(args: argparse.Namespace) -> int:
    t_start = time.monotonic()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"argument --out: {args.out!r} exists and is not a directory")
    quiet = args.quiet
    # the main job's steps, counted and timed on stderr: simulate, tables, [paths], then with
    # charts: charts, analyses, pack; the workbook last
    total = 3 + (args.save_paths is not None) + 3 * (args.charts and not args.summary_only)
    step = [0]

    def say(msg: str) -> None:
        if quiet:
            return
        if msg.startswith("  "):  # a part of the current step
            _err(f"simcore:     {msg.strip()}...")
            return
        step[0] += 1
        _err(f"simcore: [{step[0]}/{total} · {time.monotonic() - t_start:.1f} s] {msg}...")

    from simcore.engine.core import simulate

    if args.max_seconds is not None and not args.precision:
        raise UsageError("argument --max-seconds: it needs --precision (the targets to stop at)")
    scenario, scenario_label = _load_scenario_arg(args.scenario)
    scenario = nowcast_arg(scenario, args.nowcast)
    opts = _run_options(scenario, args)
    if args.summary_only:
        total = 3
    seed = opts.seed
    identity = _run_identity(scenario, args, seed)
    run_id = _run_id(identity)
    folder = open_output(args, KNOWN_OUTPUTS.__contains__, run_id)
    if args.summary_only:
        return _run_streamed(args, scenario, scenario_label, opts, identity, folder, say)
    close_bar = _nothing
    try:
        with folder.staging() as staging:
            reason = kernels_need_compiling()
            if not quiet:
                _err(
                    f"simcore: {_printable(scenario.name)} ({_printable(scenario.ticker)}): "
                    f"{args.paths:,} paths, seed {seed}, sampling {args.sampling}, horizon "
                    f"{identity['horizon']} years -> {out}/"
                )
                if reason == "first run":
                    _err("simcore: compiling kernels (first run only; about a minute)...")
                elif reason:
                    _err(f"simcore: compiling kernels ({reason})...")
            aside = False
            if reason == "first run" and args.backend == "local" and not _uses_dask(args):
                aside = _compile_side_by_side(opts.scenario(scenario), opts.sampling)
            update, close_bar = progress_bar(args.paths, enabled=None if not quiet else False)
            say(
                f"simulating {args.paths:,} paths"
                if not args.precision
                else f"simulating until {len(args.precision)} precision targets are met "
                f"(at most {args.paths:,} paths"
                + (f" or {args.max_seconds:g} s)" if args.max_seconds else ")")
            )
            with _dask_client(args, say) as client:
                t_sim = time.monotonic()
                backend: dict[str, Any] = (
                    {"backend": args.backend}
                    if client is None
                    else {"backend": "dask", "client": client}
                )
                if args.precision:
                    backend.update(precision=args.precision, max_seconds=args.max_seconds)
                result = simulate(
                    scenario,
                    n_paths=opts.n_paths,
                    seed=opts.seed,
                    horizon=opts.horizon,
                    sampling=opts.sampling,
                    threads=opts.threads,
                    progress=update,
                    **backend,
                )
                sim_seconds = time.monotonic() - t_sim
            close_bar()
            created = result.manifest.get("created")
            manifest = {k: v for k, v in result.manifest.items() if k != "created"}
            manifest["run"] = {"id": run_id, "identity": identity, "timestamp_file": RUN_LOG}
            manifest["cli"] = _cli_record(args, scenario_label, scenario)
            names = _write_outputs(result, staging, manifest, args, say)
            write_manifest(staging, manifest, names)
            _write_run_log(staging, args, run_id, created, sim_seconds, t_start, aside)
            folder.publish()
    except KeyboardInterrupt:
        close_bar()
        raise
    n_written = len(names) + 2
    if not quiet:
        _print_summary(result, run_id, out, n_written)
    return EXIT_OK


# -- entry point --------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Run the ``simcore`` command line; returns the exit code."""
    program = argv is None  # the process itself, not a call from Python
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    debug = "--debug" in argv
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        args._argv = argv
        debug = bool(getattr(args, "debug", False))
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        with handled(program=program) as args._signals:
            try:
                code = args.func(args)
                late = args._signals.received  # held back while the outputs were published
                if late and code == EXIT_OK:
                    _err(
                        f"simcore: {signal.Signals(late).name} arrived after the outputs were "
                        f"complete; they are in {args.out}/"
                    )
                    return 128 + late
                return code
            except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: cleanup has run
                code = exc.exit_code if isinstance(exc, Interrupted) else EXIT_INTERRUPTED
                what = "interrupted" if code == EXIT_INTERRUPTED else f"stopped by {exc}"
                out = getattr(args, "out", None)
                tail = (
                    f"; the earlier outputs in {out}/ are intact"
                    if out and Path(out).is_dir() and any(Path(out).iterdir())
                    else ""
                )
                _err(f"simcore: {what}; no outputs written{tail}")
                return code
    except UsageError as exc:
        _err(f"simcore: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("simcore: interrupted; no outputs written")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the one place that turns errors into a line
        if debug:
            traceback.print_exc()
        _err(f"simcore: error: {_one_line(exc)}")
        return EXIT_ERROR
