"""``simcore fit HISTORY.csv``: driver blocks of a scenario fitted to yearly history."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from simcore.cli.common import UsageError, _int_in, _seed, _sha256


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more names, comma-separated")
    return names


def add_fit(sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Register ``simcore fit``."""
    from distributions.fitting import CRITERIA, DEFAULT_FAMILIES, FIT_FAMILIES

    p = sub.add_parser(
        "fit",
        parents=[common],
        help="fit drivers (marginals, persistence, correlation) to yearly history",
        description="Fit each series of a yearly history (CSV: a 'year' column, one column per "
        "series named as the scenario's driver) by maximum likelihood, ranked by AICc, AIC or "
        "BIC with bootstrap KS and Anderson-Darling p-values; estimate each one's persistence "
        "(AR(1) of its normal scores) and the correlation of their innovations; write the "
        "driver blocks and the [correlation] table as scenario TOML, each with a rationale "
        "naming the data and the fit.",
    )
    p.add_argument("history", metavar="HISTORY.csv", help="the yearly history")
    p.add_argument("--series", type=_names, metavar="A,B", help="series to fit (default: all)")
    p.add_argument(
        "--families",
        type=_names,
        metavar="F,G",
        help=f"candidate families (default {','.join(DEFAULT_FAMILIES)}; allowed "
        f"{','.join(FIT_FAMILIES)})",
    )
    p.add_argument("--rank-by", choices=CRITERIA, default="aicc", help="the ranking (default aicc)")
    p.add_argument(
        "--bootstrap",
        type=lambda t: _int_in(t, 0, 100_000, "--bootstrap"),
        default=200,
        metavar="N",
        help="parametric bootstrap replicates per family (default 200; 0: none)",
    )
    p.add_argument("--seed", type=_seed, default=0, metavar="S", help="bootstrap seed (default 0)")
    p.add_argument(
        "--growth",
        action="store_true",
        help="the columns are levels (e.g. revenue): fit their year-on-year growth",
    )
    p.add_argument(
        "--uncertain",
        type=_names,
        metavar="A,B|all",
        help="two-layer uncertainty: these series' fitted parameters stay uncertain, one "
        "bootstrap draw per path ('all': every series)",
    )
    p.add_argument("--out", metavar="FILE.toml", help="write the TOML here (default: print it)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=cmd_fit)


def cmd_fit(args: argparse.Namespace) -> int:
    from simcore._version import __version__
    from simcore.analysis.history_fit import fit_history
    from simcore.io.files import atomic_write
    from simcore.io.history_csv import read_history

    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.force:
        raise UsageError(f"{out} exists; pass --force to replace it")
    history = read_history(args.history)
    if args.growth:
        history = history.growth()
    uncertain = args.uncertain or []
    if uncertain == ["all"]:
        uncertain = list(args.series or history.values)
    result = fit_history(
        history,
        args.series,
        families=args.families,
        rank_by=args.rank_by,
        n_boot=args.bootstrap,
        seed=args.seed,
        uncertain=uncertain,
    )
    header = [
        f"simcore {shlex.join(args._argv)} (simcore {__version__})",
        f"data: {Path(args.history).name} sha256 {_sha256(Path(args.history))}",
        "paste these blocks into a scenario's [drivers] and [correlation] (docs/model.md, "
        "section 13)",
    ]
    text = result.to_toml(header)
    if out is None:
        sys.stdout.write(text)
    else:
        atomic_write(out, lambda fh: fh.write(text.encode()))
    if not args.quiet:
        frame = result.to_frame()
        show = sys.stderr if out is None else sys.stdout
        print(frame.to_string(float_format=lambda v: f"{v:.3g}"), file=show)
        for note in result.notes:
            print(f"note: {note}", file=show)
        if out is not None:
            print(f"wrote {out}", file=show)
    return 0
