"""What the ``simcore`` commands share: argument types, one-line errors, the scenario argument,
and the output folder each command publishes (its checks before any work, its manifest)."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from simcore.io.files import atomic_write
from simcore.io.publish import OutputError, OutputFolder
from simcore.model.limits import MAX_HORIZON

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario

MANIFEST, RUN_LOG = "manifest.json", "run.json"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class UsageError(Exception):
    """A bad command line: reported as one line, exit code 2."""


class RunError(OutputError):
    """A run that cannot go ahead (e.g. another run's outputs in the way): exit code 1."""


class _Parser(argparse.ArgumentParser):
    # one line instead of usage + message, and no sys.exit
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# -- argument types ---------------------------------------------------------------------------
def _integer(text: str) -> int:
    """An integer written plainly, with ``_`` or ``,`` separators, or in exponent form (``1e6``,
    read exactly: ``1e30`` is 10**30, not the nearest float)."""
    s = str(text).strip().replace("_", "").replace(",", "")
    try:
        return int(s)
    except ValueError:
        pass
    try:
        x = Decimal(s)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not x.is_finite() or x.adjusted() > 4000 or x != x.to_integral_value():
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer")
    return int(x)


def _int_in(text: str, low: int, high: int | None, what: str) -> int:
    """An argparse integer in ``[low, high]``; the error says what is allowed."""
    try:
        v = _integer(text)
    except argparse.ArgumentTypeError:
        v = None
    if v is None or v < low or (high is not None and v > high):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return v


def _positive_int(text: str) -> int:
    return _int_in(text, 1, None, "a positive integer")


def _seed(text: str) -> int:
    return _int_in(text, 0, None, "a non-negative integer")


def _horizon(text: str) -> int:
    return _int_in(text, 1, MAX_HORIZON, f"a horizon in years; allowed 1 to {MAX_HORIZON}")


def _precision_target(text: str) -> object:
    from simcore.results.precision import parse_target

    try:
        return parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--precision {text!r}: ")) from None


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return v


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line (its type name if it has none)."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and len(exc.args) == 1 else str(exc)
    text = " ".join(_ANSI.sub("", text).split())  # numba colours its messages
    return text or type(exc).__name__


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _safe_name(name: str) -> str:
    """A plain file name (no directory part, no leading dot): all this module ever writes."""
    if not _SAFE_NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"unsafe output file name {name!r}")
    return name


def _printable(text: object) -> str:
    """``text`` with control characters (ANSI escapes, newlines) shown as escapes, for the
    terminal."""
    return "".join(
        c if unicodedata.category(c)[0] != "C" else c.encode("unicode_escape").decode("ascii")
        for c in str(text)
    )


# -- scenarios ----------------------------------------------------------------------------------
def _load_scenario_arg(value: str | None) -> tuple[Scenario, str]:
    """(scenario, label) for ``--scenario``: a file, or a built-in name. A missing file is a
    usage error; an invalid one raises ScenarioError."""
    from simcore.io.scenario_file import (
        builtin_scenario,
        default_scenario,
        list_scenarios,
        load_scenario,
    )

    if value is None:
        return default_scenario(), "builtin:default"
    p = Path(value)
    if p.is_file():
        return load_scenario(p), value
    if p.exists():
        raise UsageError(f"argument --scenario: {value!r} is not a file")
    names = list_scenarios()
    if value in names:
        return builtin_scenario(value), f"builtin:{value}"
    raise UsageError(
        f"argument --scenario: file {value!r} not found and not a built-in "
        f"scenario (built-in: {', '.join(names)})"
    )


def add_nowcast(parser: argparse.ArgumentParser, what: str) -> None:
    """``--nowcast [DATE]`` on ``parser`` (``what``: the run or the runs)."""
    parser.add_argument(
        "--nowcast",
        nargs="?",
        const="latest",
        default=None,
        metavar="DATE",
        help=f"condition {what} on the scenario's [actuals.*] published by DATE (default: all "
        "of them): the reported part of a year fixed, the rest simulated",
    )


def nowcast_arg(scenario: Scenario, value: str | None) -> Scenario:
    """``scenario`` conditioned as ``--nowcast`` asks (None: as the file says; ``latest``:
    on every actual), checked before any work: a refusal names the option."""
    if value is None:
        return scenario
    from simcore.model.validate import validate

    if value != "latest":
        try:
            value = datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            raise UsageError(
                f"argument --nowcast: {value!r} is not a date; allowed an ISO date such as "
                "2025-06-09, or no value for every actual"
            ) from None
    try:
        sc = scenario.with_nowcast(value)
        validate(sc)
    except ValueError as exc:
        raise UsageError(f"argument --nowcast: {exc}") from None
    return sc


def _run_id(identity: dict[str, Any]) -> str:
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _previous_run(out: Path, known: Callable[[str], object]) -> dict[str, Any] | None:
    """What an earlier command left in ``out``: None if none of its files are there. A folder
    whose files do not match its manifest (names and sizes) is reported with ``run_id`` None."""
    if not out.is_dir():
        return None
    present = sorted(p.name for p in out.iterdir() if known(p.name))
    if not present:
        return None
    info = {"files": present, "run_id": None, "describe": "unknown run (no readable manifest)"}
    try:
        m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        run = m["run"]
        listed = {f["name"]: f["bytes"] for f in m["files"]}
        ident = run.get("identity", {})
        what = m["scenario"]["name"] if "scenario" in m else run.get("command", "?")
        describe = (
            f"run {run['id']}: {_printable(what)}, "
            f"{ident.get('n_paths', '?'):,} paths, seed {ident.get('seed', '?')}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return info
    extra = sorted(set(present) - set(listed) - {MANIFEST, RUN_LOG})
    wrong = sorted(
        n
        for n, size in listed.items()
        if not (out / n).is_file() or (out / n).stat().st_size != size
    )
    if extra or wrong:
        info["describe"] = (
            f"incomplete or altered {describe} ("
            + ", ".join(
                [f"{n} missing or changed" for n in wrong]
                + [f"{n} not in its manifest" for n in extra]
            )
            + ")"
        )
        return info
    info["run_id"] = run["id"]
    info["describe"] = describe
    return info


def open_output(
    args: argparse.Namespace, known: Callable[[str], object], run_id: str
) -> OutputFolder:
    """``--out`` made ready before any work: leftovers of dead runs removed, a live run's or a
    foreign folder refused, another run's outputs refused without ``--force``."""
    sig = getattr(args, "_signals", None)
    folder = OutputFolder(args.out, known, guard=sig.deferred if sig else contextlib.nullcontext)
    folder.prepare()
    prev = _previous_run(folder.out, known)
    if prev is not None and prev["run_id"] != run_id and not getattr(args, "force", False):
        raise RunError(
            f"{args.out}/ holds the outputs of a different {prev['describe']}; use "
            f"--force to replace them or --out to write elsewhere"
        )
    folder.previous = prev
    return folder


def write_manifest(staging: Path, manifest: dict[str, Any], names: Iterable[str]) -> None:
    """``manifest.json``: ``manifest`` plus the size and sha256 of every file in ``names``."""
    files = [
        {"name": n, "bytes": (staging / n).stat().st_size, "sha256": _sha256(staging / n)}
        for n in sorted(names)
    ]
    text = json.dumps({**manifest, "files": files}, indent=2, default=str) + "\n"
    atomic_write(staging / MANIFEST, lambda fh: fh.write(text.encode()))
