"""The ``simcore sensitivity``, ``simcore stress`` and ``simcore reverse-dcf`` subcommands.

Glue only: the analyses live in :mod:`simcore.analysis.sensitivity` and
:mod:`simcore.analysis.stress`, the charts in :mod:`simcore.report.sensitivity_charts`;
:mod:`simcore.cli.commands` registers the subcommands with :func:`add_subcommands`.

``simcore sensitivity`` writes into ``--out`` (default ``./simcore-sensitivity``):
``tornado.{csv,png,svg}`` and ``spider.{csv,png,svg}`` per ``--statistic``
(numbered ``tornado_2`` ... from the second), ``rank_correlation.{csv,png,svg}``,
``sobol.csv`` and ``sobol_<output>.{png,svg}`` (not with ``--no-sobol``), ``tail_shift.csv``
(each input's shift in the worst 5% of the first output), ``tail_allocation.csv`` (ES and VaR
of net profit split into the paths' own part and each event's, :mod:`simcore.analysis.tail`)
, ``tail_contributions.csv`` (ES and VaR split over every driver and event) and
``reconciled.csv`` (every method's value and rank side by side, with Shapley effects:
:mod:`simcore.analysis.reconcile`).

``simcore stress`` writes ``stress.{csv,png,svg}``, ``attribution.csv``,
``waterfall_<metric>.{png,svg}`` and, with ``--reverse``, ``reverse_stress.{csv,png,svg}``.

``simcore reverse-dcf`` writes ``reverse_dcf.{csv,png,svg}``: for the fade-period growth and the
terminal NOPAT margin (``--solve-for``), what the DCF needs to give the market price (or
``--target``) on the central path and over the paths (:mod:`simcore.analysis.valuation`).

Both also write ``manifest.json`` (the command, its arguments, the scenario's SHA-256, the seed,
the versions and the sha256 of every file). As for ``simcore run``, the folder is written whole
beside ``--out`` and swapped into place in one atomic step (:mod:`simcore.io.publish`); the outputs
of a different command or arguments are not replaced without ``--force``; for the same
arguments every file is byte for byte the same.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from simcore.analysis import ANALYSIS_PATHS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from simcore.analysis.stress import Lever
    from simcore.model.scenario import Scenario

DEFAULT_SOBOL_N = 2**13
_FORMATS = ("png", "svg")


# -- argument parsing ------------------------------------------------------------------------------
def add_subcommands(sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Register ``sensitivity`` and ``stress`` on the CLI's subparsers (``common`` carries the
    shared ``--debug``)."""
    from simcore.cli.common import _positive_int, _seed, add_nowcast

    def shared(
        p: argparse.ArgumentParser,
        out: str,
        *,
        paths: int | None = ANALYSIS_PATHS,
        scenario: str = "scenario TOML file or built-in name (default: Paratera)",
        runs: str = "paths per run",
    ) -> None:
        p.add_argument("--scenario", metavar="FILE", help=scenario)
        p.add_argument(
            "--paths",
            type=_positive_int,
            default=paths,
            metavar="N",
            help=f"{runs} (default {ANALYSIS_PATHS:,}); every run uses the "
            "same seed (common random numbers)",
        )
        p.add_argument(
            "--seed",
            type=_seed,
            default=None,
            metavar="S",
            help="non-negative integer seed (default: the engine's fixed seed)",
        )
        if paths is not None:  # a backtest's vintages have their own as-of dates
            add_nowcast(p, "the runs")
        p.add_argument(
            "--out", default=out, metavar="DIR", help=f"output directory (default ./{out})"
        )
        p.add_argument("--quiet", action="store_true", help="print nothing but errors")
        p.add_argument(
            "--force", action="store_true", help="replace the outputs of a different run in --out"
        )

    sens = sub.add_parser(
        "sensitivity",
        parents=[common],
        help="tornado, spider, rank correlations, Sobol' indices",
        description="One-at-a-time (tornado, spider), sampling-based (rank correlation) and "
        "variance-based (Sobol') sensitivity of a scenario.",
    )
    shared(sens, "simcore-sensitivity")
    sens.add_argument(
        "--statistic",
        action="append",
        metavar="SPEC",
        help="what the tornado measures, e.g. 'median net_profit_attributable "
        "2027' (default) or 'prob_loss net_profit_attributable'; repeatable",
    )
    sens.add_argument(
        "--outputs",
        nargs="+",
        default=["net_profit_attributable"],
        metavar="OUTPUT",
        help="outputs of the rank correlations and Sobol' "
        "indices (default net_profit_attributable)",
    )
    sens.add_argument(
        "--sobol-n",
        type=_positive_int,
        default=DEFAULT_SOBOL_N,
        metavar="N",
        help=f"Sobol' base samples, a power of two (default {DEFAULT_SOBOL_N})",
    )
    sens.add_argument(
        "--sobol-precision",
        type=_half_width,
        default=None,
        metavar="HW",
        help="double --sobol-n (up to 65,536) until every Sobol' index's 95%% half-width is at "
        "most HW, e.g. 0.02",
    )
    sens.add_argument(
        "--groups",
        choices=("default", "factors"),
        default="default",
        help="Sobol' over named groups (default) or single factors",
    )
    sens.add_argument(
        "--no-sobol", dest="sobol", action="store_false", help="skip the Sobol' analysis"
    )
    sens.set_defaults(func=cmd_sensitivity)

    st = sub.add_parser(
        "stress",
        parents=[common],
        help="stress scenarios, shock attribution, reverse stress",
        description="Compare the scenario's stress scenarios with the base, attribute the shocks "
        "and optionally search for the smallest stress that breaks a target.",
    )
    shared(st, "simcore-stress")
    st.add_argument(
        "--stress",
        action="append",
        metavar="NAME",
        help="a [stress.<name>] of the scenario (default: all); repeatable",
    )
    st.add_argument(
        "--reverse",
        metavar="TARGET",
        help="e.g. 'prob_loss net_profit_attributable 2027 >= 0.5' or "
        "'median price_ps 2027 < market_price'",
    )
    st.add_argument(
        "--lever",
        metavar="SPEC",
        help="severity:SHOCK[:YEAR], "
        "shift:DRIVER[:add|scale] or probability:SHOCK (with --reverse)",
    )
    st.add_argument(
        "--bracket",
        nargs=2,
        type=float,
        metavar=("FROM", "TO"),
        help="lever values where the target holds not / holds (with --reverse)",
    )
    st.set_defaults(func=cmd_stress)

    rd = sub.add_parser(
        "reverse-dcf",
        parents=[common],
        help="what the market price needs: fade growth, terminal margin",
        description="Solve for the fade-period revenue growth and the terminal NOPAT margin at "
        "which the staged DCF gives the market price, on the central path and on every path.",
    )
    shared(rd, "simcore-reverse-dcf")
    rd.add_argument(
        "--solve-for",
        action="append",
        choices=("fade_growth", "terminal_margin"),
        help="the driver to solve for (default: both); repeatable",
    )
    rd.add_argument(
        "--target",
        type=float,
        default=None,
        metavar="PRICE",
        help="the price per share to reach (default: the scenario's market price)",
    )
    rd.set_defaults(func=cmd_reverse_dcf)

    bt = sub.add_parser(
        "backtest",
        parents=[common],
        help="where published actuals landed in a run's fans: PIT, bands, CRPS",
        description="Score actuals against saved runs (simcore run's results.npz) or against "
        "vintages re-run from a scenario as of several dates (--as-of): each actual's "
        "percentile, whether it fell inside the 50% and 90% bands, its CRPS, and the "
        "calibration of all of them. A run conditioned on actuals (a nowcast) is scored only "
        "on the actuals published after its as-of date.",
    )
    runs = bt.add_mutually_exclusive_group(required=True)
    runs.add_argument("--results", nargs="+", metavar="RUN.npz", help="one or more saved runs")
    runs.add_argument(
        "--as-of",
        nargs="+",
        metavar="DATE",
        help="re-run --scenario conditioned on the actuals published by each date (a vintage "
        "per date) and score each on the full-year actuals published after it",
    )
    shared(
        bt,
        "simcore-backtest",
        paths=None,  # None: not given, which --results requires
        scenario="scenario TOML file or built-in name: the vintages' scenario and the "
        "actuals (default: Paratera for --as-of; each run's own scenario for --results)",
        runs="paths per vintage, with --as-of",
    )
    bt.add_argument(
        "--actuals",
        metavar="ACTUALS.csv",
        help="columns output, year, actual and optionally date (published) (default: the "
        "scenario's [actuals.*] full-year tables)",
    )
    bt.set_defaults(func=cmd_backtest)


def parse_target(text: str) -> tuple[str, str, str | float]:
    """``"prob_loss net_profit_attributable 2027 >= 0.5"`` -> (stat spec, op, threshold)."""
    parts = text.split()
    ops = [i for i, p in enumerate(parts) if p in (">=", ">", "<=", "<")]
    if len(ops) != 1 or ops[0] + 2 != len(parts):
        raise ValueError(
            f"target {text!r} must read 'STAT OUTPUT [YEAR] OP THRESHOLD', e.g. "
            f"'prob_loss net_profit_attributable 2027 >= 0.5'"
        )
    i = ops[0]
    thr: str | float = parts[i + 1]
    if thr not in ("market_price", "forecast"):
        try:
            thr = float(thr)
        except ValueError:
            raise ValueError(
                f"target {text!r}: threshold {thr!r} must be a number, 'market_price' or 'forecast'"
            ) from None
    return " ".join(parts[:i]), parts[i], thr


def parse_lever(text: str) -> Lever:
    """``severity:SHOCK[:YEAR]``, ``shift:DRIVER[:add|scale]`` or ``probability:SHOCK``."""
    from simcore.analysis.stress import Lever

    kind, _, rest = text.partition(":")
    bits = rest.split(":") if rest else []
    if kind == "severity" and 1 <= len(bits) <= 2:
        return Lever.severity(bits[0], int(bits[1]) if len(bits) == 2 else None)
    if kind == "shift" and 1 <= len(bits) <= 2:
        return Lever.shift(bits[0], bits[1] if len(bits) == 2 else "add")
    if kind == "probability" and len(bits) == 1:
        return Lever.probability(bits[0])
    raise ValueError(
        f"lever {text!r} must be severity:SHOCK[:YEAR], shift:DRIVER[:add|scale] "
        f"or probability:SHOCK"
    )


# -- commands --------------------------------------------------------------------------------------
_KNOWN = {
    "sensitivity": re.compile(
        r"((tornado|spider)(_\d+)?|rank_correlation)\.(csv|png|svg)"
        r"|sobol\.csv|sobol_[A-Za-z0-9_.]+\.(png|svg)|tail_(shift|allocation|contributions)\.csv|reconciled\.csv"
        r"|manifest\.json"
    ),
    "backtest": re.compile(r"(backtest|coverage)\.csv|backtest\.(png|svg)|manifest\.json"),
    "reverse-dcf": re.compile(r"reverse_dcf\.(csv|png|svg)|manifest\.json"),
    "stress": re.compile(
        r"(stress|reverse_stress)\.(csv|png|svg)|attribution\.csv"
        r"|waterfall_[a-z_]+\.(png|svg)|manifest\.json"
    ),
}


class _Writer:
    """Writes a command's tables and figures into its staging folder ``self.out``."""

    def __init__(self, out: Path, quiet: bool) -> None:
        self.out, self.quiet = out, quiet
        self.names: list[str] = []

    def table(self, name: str, df: pd.DataFrame) -> None:
        from simcore.io.files import atomic_write

        text = df.to_csv(lineterminator="\n").encode()
        atomic_write(self.out / f"{name}.csv", lambda fh: fh.write(text))
        self.names.append(f"{name}.csv")

    def figure(self, name: str, fig: Figure) -> None:
        from simcore.io.files import atomic_write
        from simcore.report.charts import save_figure

        for ext in _FORMATS:

            def write(fh: IO[bytes], ext: str = ext) -> None:
                save_figure(fig, fh, ext)

            atomic_write(self.out / f"{name}.{ext}", write)
            self.names.append(f"{name}.{ext}")

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)


def _setup(args: argparse.Namespace) -> tuple[Scenario, int]:
    import matplotlib

    matplotlib.use("Agg")
    from simcore.cli.common import _load_scenario_arg, nowcast_arg
    from simcore.engine.core import DEFAULT_SEED

    scenario, _label = _load_scenario_arg(args.scenario)
    scenario = nowcast_arg(scenario, getattr(args, "nowcast", None))
    seed = DEFAULT_SEED if args.seed is None else args.seed
    return scenario, seed


@contextlib.contextmanager
def _outputs(
    args: argparse.Namespace, scenario: Scenario, seed: int, **options: Any
) -> Iterator[_Writer]:
    """A :class:`_Writer` on a staging folder for ``args.command``; on success the manifest is
    written and the folder published in place of ``--out`` (see :mod:`simcore.io.publish`)."""
    from simcore._version import __version__ as version
    from simcore.cli.common import _run_id, open_output, write_manifest
    from simcore.engine.core import versions

    identity = {
        "command": args.command,
        "simcore": version,
        "scenario_sha256": scenario.digest(),
        "n_paths": args.paths,
        "seed": seed,
        **options,
    }
    run_id = _run_id(identity)
    folder = open_output(args, _KNOWN[args.command].fullmatch, run_id)
    with folder.staging() as stage:
        w = _Writer(stage, args.quiet)
        yield w
        manifest = {
            "simcore_manifest": 1,
            "run": {"id": run_id, "command": args.command, "identity": identity},
            "scenario": {
                "name": scenario.name,
                "ticker": scenario.ticker,
                "sha256": scenario.digest(),
            },
            "versions": versions(),
        }
        write_manifest(stage, manifest, w.names)
        folder.publish()
    w.say(f"wrote {len(w.names) + 1} files to {args.out}")


def cmd_sensitivity(args: argparse.Namespace) -> int:
    sc, seed = _setup(args)
    specs = args.statistic or [f"median net_profit_attributable {sc.years[-1]}"]
    with _outputs(
        args,
        sc,
        seed,
        statistic=specs,
        outputs=args.outputs,
        sobol=args.sobol,
        sobol_n=args.sobol_n,
        sobol_precision=args.sobol_precision,
        groups=args.groups,
    ) as w:
        _sensitivity(args, sc, seed, specs, w)
    return 0


def _sensitivity(
    args: argparse.Namespace, sc: Scenario, seed: int, specs: list[str], w: _Writer
) -> None:
    from simcore.analysis import sensitivity as sa
    from simcore.engine.core import simulate
    from simcore.report import sensitivity_charts as ch

    for i, spec in enumerate(specs, 1):
        suffix = "" if i == 1 else f"_{i}"
        w.say(f"tornado and spider of {spec!r} ({args.paths:,} paths per run)")
        t = sa.tornado(sc, spec, n_paths=args.paths, seed=seed)
        w.table(f"tornado{suffix}", t)
        w.figure(f"tornado{suffix}", ch.tornado_chart(t))
        sp = sa.spider(sc, spec, n_paths=args.paths, seed=seed)
        w.table(f"spider{suffix}", sp)
        w.figure(f"spider{suffix}", ch.spider_chart(sp))
        top = ", ".join(f"{f} {s:+.3g}" for f, s in t["swing"].head(3).items())
        w.say(f"  largest swings: {top}")
    w.say("rank correlations and tail shifts (one run, stored draws)")
    run = simulate(sc, args.paths, seed=seed, keep_draws=True)
    rc = sa.rank_correlation(run, args.outputs)
    w.table("rank_correlation", rc)
    w.figure("rank_correlation", ch.rank_correlation_chart(rc))
    from simcore.analysis.tail import tail_allocation, tail_shift

    out0 = args.outputs[0]
    ts = tail_shift(run, out0, level=0.05)
    w.table("tail_shift", ts)
    top = ", ".join(f"{f} (percentile {p:.2f})" for f, p in ts["tail_percentile"].head(3).items())
    w.say(f"  in the worst 5% of {out0} {ts.attrs['year']}: {top}")
    if any(s.enabled for s in sc.shocks) and out0 == "net_profit_attributable":
        ta = tail_allocation(sc, out0, level=0.05, n_paths=args.paths, seed=seed)
        w.table("tail_allocation", ta)
        parts = ", ".join(f"{c} {v:,.1f}" for c, v in ta["ES"].iloc[:-1].items())
        w.say(f"  ES 5% below the forecast {ta.attrs['ES']:,.1f} = {parts}")
    if sc.copula != "student_t":
        from simcore.analysis.tail import tail_contributions

        tc = tail_contributions(sc, out0, level=0.05, n_paths=args.paths, seed=seed % 2**32)
        w.table("tail_contributions", tc)
        big = tc["ES"].drop(["total", "central value"]).sort_values(ascending=False).head(3)
        parts = ", ".join(f"{c} {v:,.1f}" for c, v in big.items())
        w.say(f"  ES 5% by input (of {tc.attrs['ES']:,.1f}): {parts}, ...")
    from simcore.analysis.reconcile import reconciled_table

    w.say(f"every method side by side, with Shapley effects ({args.paths:,} paths per run)")
    rec = reconciled_table(sc, out0, n_paths=args.paths, seed=seed)
    w.table("reconciled", rec)
    top = ", ".join(
        f"{f} {v:.0%} ± {e:.0%}"
        for f, v, e in zip(
            rec.index[:4], rec["Shapley"].head(4), rec["Shapley_se"].head(4), strict=True
        )
    )
    w.say(f"  largest Shapley effects on {out0} {rec.attrs['year']}: {top}")
    if args.sobol:
        groups: Literal["default"] | None = "default" if args.groups == "default" else None
        w.say(f"Sobol' indices (N = {args.sobol_n:,}, {args.groups})")
        so = sa.sobol_analysis(
            sc,
            args.sobol_n,
            outputs=args.outputs,
            groups=groups,
            seed=seed,
            precision=args.sobol_precision,
        )
        w.table("sobol", so)
        if args.sobol_precision is not None:
            pr = so.attrs["precision"]
            steps = ", ".join(f"N {s['n']:,}: ± {s['widest_half_width']:.3f}" for s in pr["steps"])
            w.say(f"  to ± {args.sobol_precision:g}: {steps} ({pr['stopped']})")
        for out in args.outputs:
            w.figure(f"sobol_{out}", ch.sobol_chart(so, out))
        w.say(f"  note: {so.attrs['note']}")


def _half_width(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 < v < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive half-width (e.g. 0.02)")
    return v


def cmd_stress(args: argparse.Namespace) -> int:
    sc, seed = _setup(args)
    if args.reverse and (not args.lever or not args.bracket):
        raise ValueError("--reverse needs --lever and --bracket")
    with _outputs(
        args,
        sc,
        seed,
        stress=args.stress,
        reverse=args.reverse,
        lever=args.lever,
        bracket=args.bracket,
    ) as w:
        _stress(args, sc, seed, w)
    return 0


def _stress(args: argparse.Namespace, sc: Scenario, seed: int, w: _Writer) -> None:
    from simcore.analysis import stress as st
    from simcore.report import sensitivity_charts as ch

    if sc.stresses or args.stress:
        w.say(f"stress scenarios ({args.paths:,} paths per run)")
        table = st.compare_stresses(sc, args.stress, n_paths=args.paths, seed=seed)
        w.table("stress", table)
        w.figure("stress", ch.stress_chart(table))
    else:
        w.say(f"{sc.name} defines no [stress.<name>] tables: no comparison")
    if any(s.enabled for s in sc.shocks):
        w.say("shock attribution")
        attr = st.attribution(sc, n_paths=args.paths, seed=seed)
        w.table("attribution", attr.to_frame().set_index(["metric", "year", "component", "kind"]))
        for metric in ("median", "prob_loss"):
            w.figure(f"waterfall_{metric}", ch.waterfall_chart(attr, metric))
    if args.reverse:
        stat, op, thr = parse_target(args.reverse)
        rev = st.reverse_stress(
            sc,
            stat,
            op,
            thr,
            parse_lever(args.lever),
            tuple(args.bracket),
            n_paths=args.paths,
            seed=seed,
        )
        w.table("reverse_stress", rev.to_frame())
        w.figure("reverse_stress", ch.reverse_stress_chart(rev))
        w.say(
            f"reverse stress: {rev.lever} = {rev.threshold:.6g} makes {rev.target} "
            f"(value {rev.value:.6g}; {'converged' if rev.converged else 'NOT converged'})"
        )


def cmd_reverse_dcf(args: argparse.Namespace) -> int:
    from simcore.model.equations import dcf_fade_years

    sc, seed = _setup(args)
    solve = args.solve_for or (
        ["fade_growth", "terminal_margin"] if dcf_fade_years(sc) else ["terminal_margin"]
    )
    with _outputs(args, sc, seed, solve_for=solve, target=args.target) as w:
        import pandas as pd

        from simcore.analysis.valuation import reverse_dcf
        from simcore.report.valuation_charts import reverse_dcf_chart

        w.say(f"reverse DCF ({args.paths:,} paths)")
        results = [
            reverse_dcf(sc, s, target=args.target, n_paths=args.paths, seed=seed) for s in solve
        ]
        table = pd.concat({r.solve_for: r.table()["value"] for r in results}, names=["solve_for"])
        w.table("reverse_dcf", table.to_frame())
        w.figure("reverse_dcf", reverse_dcf_chart(results, scenario_name=sc.name))
        for r in results:
            w.say(f"  {r.summary()}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    import pandas as pd

    from simcore.analysis.backtest import backtest, coverage, scenario_actuals, vintages
    from simcore.results.result import SimulationResult

    actuals = None
    if args.actuals is not None:
        try:
            actuals = pd.read_csv(args.actuals)
        except (OSError, ValueError) as exc:
            raise ValueError(f"--actuals {args.actuals}: cannot be read as CSV: {exc}") from None
    runs: dict[str, SimulationResult] = {}
    identity: dict[str, Any] = {}
    if args.as_of:
        args.paths = ANALYSIS_PATHS if args.paths is None else args.paths
        sc, seed = _setup(args)
        scores, runs = vintages(sc, args.as_of, n_paths=args.paths, seed=seed, actuals=actuals)
        runs = {f"as of {d}": r for d, r in runs.items()}
        scores["vintage"] = "as of " + scores["vintage"]
    else:
        from simcore.cli.common import UsageError

        for option, value in (("--paths", args.paths), ("--seed", args.seed)):
            if value is not None:
                raise UsageError(
                    f"argument {option}: only with --as-of (a saved run keeps its own)"
                )
        import matplotlib

        matplotlib.use("Agg")
        if args.scenario is not None and actuals is None:
            from simcore.cli.common import _load_scenario_arg

            actuals = scenario_actuals(_load_scenario_arg(args.scenario)[0])
        frames = []
        for path in args.results:
            result = SimulationResult.load(path)
            as_of = result.scenario.nowcast_as_of
            label = f"as of {as_of}" if as_of else f"run {path}"
            label = label if label not in runs else f"{label} ({path})"
            runs[label] = result
            identity.setdefault("runs", []).append(
                {"results": str(path), "scenario_sha256": result.scenario.digest(), "as_of": as_of}
            )
            # every actual checked before anything is written
            frames.append(backtest(result, actuals).assign(vintage=label))
        scores = pd.concat(frames, ignore_index=True)
        scores = scores[["vintage", *[c for c in scores.columns if c != "vintage"]]]
        first = next(iter(runs.values()))
        sc, args.paths = first.scenario, first.n_paths
        entropy = first.manifest.get("seed", {})
        seed = entropy.get("entropy", 0) if isinstance(entropy, dict) else 0
    if scores.empty:
        raise ValueError(
            "no actuals to score: give --actuals, or [actuals.<name>] full-year tables for the "
            "run's years published after its as-of date"
        )
    cov = coverage(scores)
    sole = next(iter(runs.values()))
    with _outputs(
        args,
        sc,
        seed,
        actuals=str(args.actuals),
        results=[str(r) for r in args.results or ()],
        as_of=list(args.as_of or ()),
        **identity,
    ) as w:
        w.table("backtest", scores.set_index(["vintage", "output", "year"]))
        w.table("coverage", cov)
        from simcore.report.backtest_charts import backtest_chart

        w.figure("backtest", backtest_chart(runs if len(runs) > 1 else sole, scores))
        many = len(runs) > 1
        for r in scores.itertuples(index=False):
            w.say(
                f"  {f'{r.vintage}: ' if many else ''}{r.output} {r.year}: actual "
                f"{r.actual:,.4g} at percentile {r.pit:.0%} (90% band {r.q05:,.4g} to "
                f"{r.q95:,.4g}; CRPS {r.crps:,.4g})"
            )
        inside = ", ".join(f"{b} {row.inside:.0%} ± {row.se:.0%}" for b, row in cov.iterrows())
        w.say(
            f"  {cov.attrs['n']} actuals{f' over {len(runs)} vintages' if many else ''}: "
            f"inside {inside}; PIT uniformity KS p = {cov.attrs['p_value']:.3g}"
        )
        if cov.attrs["distinct"] < cov.attrs["n"]:
            w.say(
                f"  ({cov.attrs['distinct']} distinct figures: a figure scored by several "
                "vintages is not independent, so the ± and p overstate the evidence)"
            )
    return 0


if __name__ == "__main__":  # pragma: no cover - for trying the subcommands without cli.py
    p = argparse.ArgumentParser(prog="python -m simcore.cli.analyses")
    add_subcommands(
        p.add_subparsers(dest="command", required=True), argparse.ArgumentParser(add_help=False)
    )
    a = p.parse_args()
    sys.exit(a.func(a))
