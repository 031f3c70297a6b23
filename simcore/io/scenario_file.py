"""Scenario files: TOML in, :class:`~simcore.model.scenario.Scenario` out, and back.

- :func:`load_scenario` / :func:`loads_scenario` read a file / a string with the standard
  library's ``tomllib`` (data only: nothing in a file is ever evaluated as code) and validate it.
- :func:`default_scenario` and :func:`builtin_scenario` read the scenarios packaged in
  ``simcore/scenarios``; :func:`list_scenarios` names them.
- :func:`dumps_scenario` writes TOML that loads back to an equal scenario.

A bad file raises one :class:`ScenarioError` (a ``ValueError``) for the first problem found,
naming the file, the key path, the line, the value and what is allowed, e.g.::

    paratera.toml: drivers."growth.ai_cloud".persistence (line 57): 1.5 is out of range;
    allowed [0, 1]

What belongs to the file is checked here: its size (before it is read), the TOML syntax, the
layout's tables and keys (unknown keys with a suggestion, required keys), and the TOML types the
reader needs to build the dataclasses. Every rule on the values (ranges, lengths, names, text,
the correlation block, shocks, stresses, discounting and every limit of
:mod:`simcore.model.limits`) is :func:`simcore.model.validate.validate`'s, which checks a
scenario built in Python the same way; the reader calls it on what it built and adds the line
of the key it names. A leading UTF-8 byte-order mark is accepted and ignored.

``tomllib`` gives no line numbers for keys, so :class:`_LineIndex` finds them by scanning the
text for table headers and ``key =`` lines (best effort: a key inside an inline table or an
array points at the line where that value starts).

The file layout (``simcore/scenarios/toy.toml`` is the shortest complete example)::

    schema_version, name, ticker, currency, description, source, base_year, horizon,
    explicit_years (optional: years the bases describe when the horizon is longer)
    [market]              price, date, shares, rationale
    [segments.<name>]     revenue, label, rationale
    [drivers.<name>]      base, dist (omitted: deterministic), mode, persistence, label,
                          rationale (label: what a reader calls it; default made from the name)
    [correlation]         labels, matrix, kind, repair, copula, df, rationale
    [shocks.<name>]       probability, severity, enabled, forced, forced_only, label, rationale
    [[shocks.<name>.effects]]  target, size, profile, segments, cap, rationale
    [stress.<name>]       force = [{shock, year, severity, only}], shift = [{driver, add, scale}],
                          label, rationale (named stress scenarios, see simcore.analysis.stress)
    [schedules.<name>]    values (per year) | value (scalar), rationale: the opening balance
                          sheet, lives, working-capital ratios, financing rules (docs/model.md)
    [valuation]           multiples ("market": the file's market-implied multiples, or
                          "peers": the peers' median), rationale
    [peers.<name>]        ps, pe, ev_ebitda (any of them), date, source, rationale
    [actuals.<name>]      year, months (default 12), share (of a part year), date, source,
                          rationale, and reported figures: revenue, "revenue.<segment>",
                          gross_profit, operating_profit, net_profit_attributable
    [nowcast]             as_of (condition the run on the actuals dated by then), rationale
    [forecast]            revenue, net_profit_attributable, eps, rationale
    [history]             rationale; [history.<series>] <year> = value
    [notes]               free-form strings
"""

from __future__ import annotations

import datetime
import json
import math
import numbers
import os
import re
import stat
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

import distributions
from distributions import Distribution
from simcore.model.errors import (
    BARE_KEY,
    KeyPath,
    ScenarioError,
    brief,
    did_you_mean,
    fmt_float,
    fmt_key,
    format_key_path,
    show,
    toml_string,
    type_name,
)
from simcore.model.limits import MAX_FILE_BYTES, MAX_HORIZON
from simcore.model.scenario import (
    Actual,
    Driver,
    Effect,
    Forced,
    Forecast,
    ParameterDraws,
    Peer,
    Scenario,
    Segment,
    Shock,
    Stress,
    StressForce,
    StressShift,
)
from simcore.model.validate import (
    OLD_SCHEDULES,
    PEER_KINDS,
    REQUIRED_SCHEDULES,
    SCHEDULE_DEFAULTS,
    SCHEDULE_DOMAINS,
    distribution_param,
    integer,
    validate,
)

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from simcore.io.files import StrPath

__all__ = [
    "MAX_HORIZON",
    "SCHEMA_VERSION",
    "ScenarioError",
    "builtin_scenario",
    "default_scenario",
    "dumps_scenario",
    "list_scenarios",
    "load_scenario",
    "loads_scenario",
]

SCHEMA_VERSION = 2
DEFAULT_SCENARIO = "paratera"

_YEAR = re.compile(r"[0-9]{4}")
_MAX_DEPTH = 32  # where tomllib runs out of recursion, the first line nesting deeper is named
_MISSING = object()

# Schedules: toml key -> (Scenario field, kind, range, required).
_SCHEDULES = {
    key: (key, kind, rng, key in REQUIRED_SCHEDULES)
    for key, (kind, rng) in SCHEDULE_DOMAINS.items()
}
# per-year levels that default to their opening balance (an empty tuple on the Scenario)
_HELD = ("other_noncurrent_assets", "other_noncurrent_liabilities")


# -- key paths and their lines ----------------------------------------------------------------
def _parse_key(s: str, pos: int = 0) -> tuple[tuple[str, ...], int] | None:
    """A dotted TOML key starting at ``s[pos]``: its parts and the position after it."""
    parts = []
    n = len(s)
    while True:
        while pos < n and s[pos] in " \t":
            pos += 1
        if pos >= n:
            return None
        c = s[pos]
        if c == '"':
            end = pos + 1
            while end < n and s[end] != '"':
                end += 2 if s[end] == "\\" else 1
            if end >= n:
                return None
            try:
                parts.append(json.loads(s[pos : end + 1]))
            except ValueError:
                parts.append(s[pos + 1 : end])
            pos = end + 1
        elif c == "'":
            end = s.find("'", pos + 1)
            if end < 0:
                return None
            parts.append(s[pos + 1 : end])
            pos = end + 1
        else:
            m = BARE_KEY.match(s, pos)
            if not m:
                return None
            parts.append(m.group())
            pos = m.end()
        while pos < n and s[pos] in " \t":
            pos += 1
        if pos < n and s[pos] == ".":
            pos += 1
            continue
        return tuple(parts), pos


class _LineIndex:
    """Line numbers of table headers, ``key = value`` lines and the elements of arrays that
    span lines (e.g. the rows of a matrix), by full key path."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple, int] = {}
        table: tuple = ()
        aot: dict[tuple, int] = {}  # array-of-tables path -> last index
        self.depth = 0  # open brackets/braces of a value spanning lines
        self.ml = ""  # open multi-line string delimiter
        self.array: tuple | None = None  # key path of the array value being scanned
        self.index = 0  # its current element
        self.expect = False  # whether the next token starts an element
        self.in_array = False  # whether the value being scanned is an array (not a table)
        self.deep_line: int | None = None  # the first line nesting deeper than _MAX_DEPTH
        for no, line in enumerate(text.splitlines(), 1):
            pos = 0
            if not self.ml and self.depth == 0:
                s = line.lstrip()
                if not s or s.startswith("#"):
                    continue
                if s.startswith("["):
                    is_aot = s.startswith("[[")
                    parsed = _parse_key(s, 2 if is_aot else 1)
                    if parsed is None:
                        continue
                    key = parsed[0]
                    if is_aot:
                        aot[key] = aot.get(key, -1) + 1
                    table = self._resolve(key, aot)
                    self._add(table, no)
                    continue
                parsed = _parse_key(s)
                if parsed is None or parsed[1] >= len(s) or s[parsed[1]] != "=":
                    continue
                self.array = table + parsed[0]
                self._add(self.array, no)
                pos = len(line) - len(s) + parsed[1] + 1
            self._scan(line, pos, no)

    def _add(self, path: tuple, no: int) -> None:
        for k in range(1, len(path) + 1):
            self.lines.setdefault(path[:k], no)

    @staticmethod
    def _resolve(key: tuple, aot: dict) -> tuple:
        out: tuple = ()
        for i, part in enumerate(key):
            out += (part,)
            if key[: i + 1] in aot and i + 1 < len(key):
                out += (aot[key[: i + 1]],)
        if key in aot:
            out += (aot[key],)
        return out

    def _element(self, no: int) -> None:
        """At depth 1 of an array value, a token that starts element ``self.index``."""
        if self.expect and self.depth == 1 and self.in_array and self.array is not None:
            self.lines.setdefault(self.array + (self.index,), no)
        self.expect = False

    def _scan(self, line: str, pos: int, no: int) -> None:
        """Bracket depth, open multi-line string and array elements of ``line[pos:]``."""
        n = len(line)
        while pos < n:
            if self.ml:
                end = line.find(self.ml, pos)
                if end < 0:
                    return
                pos, self.ml = end + 3, ""
                continue
            c = line[pos]
            if c == "#":
                return
            if c in " \t":
                pos += 1
                continue
            if c == "," and self.depth == 1 and self.in_array:
                self.index += 1
                self.expect = True
                pos += 1
                continue
            if c in "]}":
                self.depth = max(self.depth - 1, 0)
                pos += 1
                continue
            self._element(no)
            if line.startswith('"""', pos) or line.startswith("'''", pos):
                self.ml = line[pos : pos + 3]
                pos += 3
            elif c in "\"'":
                end = pos + 1
                while end < n and line[end] != c:
                    end += 2 if (c == '"' and line[end] == "\\") else 1
                pos = end + 1
            else:
                if c in "[{":
                    if self.depth == 0:
                        self.in_array = c == "["
                        self.index, self.expect = 0, self.in_array
                    self.depth += 1
                    if self.depth > _MAX_DEPTH and self.deep_line is None:
                        self.deep_line = no
                pos += 1

    def line_of(self, path: tuple) -> int | None:
        """The line of ``path``, else of its nearest ancestor that has one."""
        for k in range(len(path), 0, -1):
            if path[:k] in self.lines:
                return self.lines[path[:k]]
        return None


# -- reading: the first problem raises -----------------------------------------------------------
def _date(value: Any) -> Any:
    """A TOML date (or ISO date text) as the ISO text the dataclass holds."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    return value


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.flags.writeable = False
    return a


class _Reader:
    """Builds the :class:`Scenario` of a parsed TOML document: its tables and keys, and the
    TOML types it needs to build each object; then :func:`validate` checks the values, and
    every error is placed at the line of its key."""

    def __init__(self, text: str, source: str, doc: dict[str, Any]) -> None:
        self.text = text
        self.source = source
        self.doc = doc
        self._index: _LineIndex | None = None
        self.valid = False  # whether validate passed
        self.big = False  # whether build() kept an integer of 1e15 or more

    def read(self) -> Scenario:
        try:
            scenario = self.build(self.doc)
            validate(scenario, source=self.source, written=self.written)
        except ScenarioError as exc:
            raise exc.located(self.source, self.line_of(exc.path)) from None
        self.valid = True
        if self.big:  # valid: now as floats
            scenario = self.build(self.doc)
        if not isinstance(scenario.correlation, np.ndarray):  # a valid k x k matrix
            scenario = replace(scenario, correlation=_frozen(scenario.correlation))
        return scenario

    def real(self, value: Any) -> Any:
        """A TOML integer as the float the dataclasses hold; anything else as it is, for
        validate to name. Until validate has passed, an integer of 1e15 or more stays too: a
        message shows it as written (its float would print as 1e+15)."""
        if isinstance(value, int) and not isinstance(value, bool):
            if abs(value) < 1e15 or self.valid:
                try:
                    return float(value)
                except OverflowError:  # valid, so an unbounded value (a cap)
                    return math.copysign(math.inf, value)
            self.big = True
        return value

    # errors
    def line_of(self, path: KeyPath) -> int | None:
        if self._index is None:
            self._index = _LineIndex(self.text)
        return self._index.line_of(path)

    def written(self, path: KeyPath) -> bool:
        """Whether the file holds the key (or array element) ``path``."""
        node: Any = self.doc
        for part in path:
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return False
        return True

    @staticmethod
    def fail(path: KeyPath, message: str, value: object = None, allowed: str = "") -> NoReturn:
        raise ScenarioError(message, path=path, value=value, allowed=allowed)

    # keys
    def table(self, value: Any, path: KeyPath) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(
                path, f"{show(value)} is {type_name(value)}; allowed a table", value, "a table"
            )
        return value

    def keys(
        self, table: Any, path: KeyPath, required: Sequence[str] = (), optional: Sequence[str] = ()
    ) -> None:
        self.table(table, path)
        allowed = [*required, *optional]
        for key in table:
            if key not in allowed:
                tip = did_you_mean(brief(key), allowed)
                self.fail(
                    path + (key,),
                    f"unknown key {brief(key)!r}{tip}; allowed keys: {', '.join(allowed)}",
                    key,
                    ", ".join(allowed),
                )
        for key in required:
            if key not in table:
                self.fail(
                    path + (key,),
                    f"missing required key {key!r} in {format_key_path(path) or 'the top level'}",
                    None,
                    key,
                )

    # values
    def per_year(self, value: Any, scalar_ok: bool = True) -> Any:
        """An array as a tuple (a number too, if ``scalar_ok``: the value of every year);
        anything else as it is."""
        if isinstance(value, list):
            return tuple(self.real(v) for v in value)
        return (self.real(value),) if scalar_ok else value

    def entries(
        self,
        value: Any,
        path: KeyPath,
        required: Sequence[str],
        optional: Sequence[str],
        make: Callable[[dict[str, Any]], object],
    ) -> Any:
        """An array of tables as a tuple of ``make(table)``; anything else as it is."""
        if not isinstance(value, list):
            return value
        out = []
        for i, spec in enumerate(value):
            self.keys(spec, path + (i,), required, optional)
            out.append(make(spec))
        return tuple(out)

    def dist(self, spec: Any, path: KeyPath) -> Distribution:
        if not isinstance(spec, dict):
            allowed = 'a table like { family = "Normal", loc = 0, scale = 0.1 }'
            self.fail(path, f"{show(spec)} is {type_name(spec)}; allowed {allowed}", spec, allowed)
        family = spec.get("family", _MISSING)
        families = sorted(distributions.FAMILIES)
        if family is _MISSING:
            self.fail(
                path + ("family",),
                f"missing required key 'family'; allowed one of {', '.join(families)}",
                None,
                ", ".join(families),
            )
        if not isinstance(family, str) or family not in distributions.FAMILIES:
            tip = did_you_mean(family, families)
            self.fail(
                path + ("family",),
                f"unknown distribution family {show(family)}{tip}; "
                f"allowed one of {', '.join(families)}",
                family,
                ", ".join(families),
            )
        cls = distributions.FAMILIES[family]
        declared = {p.name: p for p in cls.params}
        for key, value in spec.items():
            if key == "family" or cls.__init__ is not Distribution.__init__:
                # a family with its own constructor (Empirical's data) checks its arguments
                continue
            if key not in declared:
                tip = did_you_mean(key, declared)
                self.fail(
                    path + (key,),
                    f"unknown parameter {key!r} of {family}{tip}; allowed {', '.join(declared)}",
                    key,
                    ", ".join(declared),
                )
            distribution_param(declared[key], value, path + (key,))  # before it is built
        try:
            return distributions.from_dict(dict(spec), where=format_key_path(path))
        except (TypeError, ValueError) as exc:
            self.fail(path, str(exc), spec, "parameters that satisfy the family's constraints")
        raise AssertionError("unreachable")  # pragma: no cover

    # -- sections ---------------------------------------------------------------------------
    def build(self, doc: dict[str, Any]) -> Scenario:
        top_required = (
            "name",
            "currency",
            "base_year",
            "horizon",
            "market",
            "segments",
            "drivers",
            "schedules",
        )
        top_optional = (
            "schema_version",
            "explicit_years",
            "valuation",
            "peers",
            "actuals",
            "nowcast",
            "ticker",
            "description",
            "source",
            "correlation",
            "shocks",
            "stress",
            "forecast",
            "history",
            "notes",
        )
        self.keys(doc, (), top_required, top_optional)
        version = doc.get("schema_version", SCHEMA_VERSION)
        old = [
            k
            for k in OLD_SCHEDULES
            if isinstance(doc.get("schedules"), dict) and k in doc["schedules"]
        ]
        if version == 1 or old:
            self.first_model(doc, old)
        integer(version, ("schema_version",), SCHEMA_VERSION, SCHEMA_VERSION)
        notes: dict = {}
        market = doc["market"]
        self.keys(market, ("market",), ("price", "date", "shares"), ("rationale",))
        self.note(notes, "market", market)
        segments = self.segments(doc["segments"])
        drivers = self.drivers(doc["drivers"])
        labels, matrix, corr = self.correlation(doc.get("correlation", {}), notes)
        shocks = self.shocks(doc.get("shocks", {}))
        sched = self.schedules(doc["schedules"], notes)
        forecast = self.forecast(doc.get("forecast", {}), notes)
        history = self.history(doc.get("history", {}), notes)
        self.free_notes(doc.get("notes", {}), notes)
        stresses = self.stresses(doc.get("stress", {}))
        valuation = doc.get("valuation", {})
        self.keys(valuation, ("valuation",), (), ("multiples", "rationale"))
        self.note(notes, "valuation", valuation)
        peers = self.peers(doc.get("peers", {}))
        actuals = self.actuals(doc.get("actuals", {}))
        nowcast = doc.get("nowcast", {})
        self.keys(nowcast, ("nowcast",), (), ("as_of", "rationale"))
        self.note(notes, "nowcast", nowcast)
        return Scenario(
            name=doc["name"],
            ticker=doc.get("ticker", ""),
            currency=doc["currency"],
            base_year=doc["base_year"],
            horizon=doc["horizon"],
            segments=segments,
            drivers=drivers,
            correlation_labels=labels,
            correlation=matrix,
            shocks=shocks,
            shares=self.real(market["shares"]),
            market_price=self.real(market["price"]),
            market_date=_date(market["date"]),
            history=history,
            forecast=forecast,
            description=doc.get("description", ""),
            source=doc.get("source", ""),
            notes=notes,
            stresses=stresses,
            explicit_years=doc.get("explicit_years", 0),
            multiples_centre=valuation.get("multiples", "market"),
            peers=peers,
            actuals=actuals,
            nowcast_as_of=_date(nowcast["as_of"]) if "as_of" in nowcast else "",
            **corr,
            **sched,
        )

    @staticmethod
    def note(notes: dict[str, Any], key: str, table: dict[str, Any]) -> None:
        """A table's rationale, kept in ``notes[key]`` (an empty one is dropped)."""
        if table.get("rationale", "") != "":
            notes[key] = table["rationale"]

    def segments(self, table: Any) -> tuple[Segment, ...]:
        path = ("segments",)
        self.table(table, path)  # its keys are segment names
        out = []
        for name, spec in table.items():
            self.keys(spec, path + (name,), ("revenue",), ("label", "rationale"))
            out.append(
                Segment(
                    name,
                    self.real(spec["revenue"]),
                    spec.get("rationale", ""),
                    spec.get("label", ""),
                )
            )
        return tuple(out)

    def drivers(self, table: Any) -> tuple[Driver, ...]:
        path = ("drivers",)
        self.table(table, path)
        out = []
        for name, spec in table.items():
            p = path + (name,)
            self.keys(
                spec,
                p,
                ("base",),
                ("dist", "mode", "persistence", "label", "rationale", "uncertainty"),
            )
            mode = spec.get("mode", "add")
            # no dist: a deterministic driver equal to its base
            dist_spec = spec.get("dist", {"family": "Constant", "value": 0 if mode == "add" else 1})
            dist = self.dist(dist_spec, p + ("dist",))
            out.append(
                Driver(
                    name,
                    self.per_year(spec["base"]),
                    dist,
                    mode,
                    self.real(spec.get("persistence", 0.0)),
                    spec.get("rationale", ""),
                    spec.get("label", ""),
                    self.uncertainty(spec["uncertainty"], p) if "uncertainty" in spec else None,
                )
            )
        return tuple(out)

    def uncertainty(self, table: Any, driver: KeyPath) -> ParameterDraws:
        """``[drivers.<name>.uncertainty]``: equal-length arrays of parameter values, one per
        parameter (which parameters and which values validate checks against ``dist``)."""
        path = driver + ("uncertainty",)
        self.table(table, path)
        allowed = (
            "an array of numbers, one per parameter row, of the same length for every parameter"
        )
        params = [k for k in table if k != "rationale"]
        if not params:
            self.fail(path, "no parameter rows; allowed a key per parameter of dist, " + allowed)
        columns = []
        for k in params:
            v = table[k]
            if not isinstance(v, list) or not v:
                self.fail(
                    path + (k,), f"{show(v)} is {type_name(v)}; allowed {allowed}", v, allowed
                )
            if len(v) != len(table[params[0]]):
                self.fail(
                    path + (k,),
                    f"{len(v)} values where {params[0]!r} has {len(table[params[0]])}; allowed "
                    + allowed,
                    len(v),
                    allowed,
                )
            columns.append([self.real(x) for x in v])
        rows = tuple(zip(*columns, strict=True))
        return ParameterDraws(tuple(params), rows, table.get("rationale", ""))

    def correlation(self, table: Any, notes: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
        path = ("correlation",)
        self.keys(
            table,
            path,
            ("labels", "matrix") if table else (),
            ("kind", "repair", "copula", "df", "rationale"),
        )
        extra = {
            "correlation_kind": "pearson",
            "correlation_repair": None,
            "copula": "gaussian",
            "copula_df": 0.0,
        }
        if not table:
            return (), _frozen(np.zeros((0, 0))), extra
        copula = table.get("copula", "gaussian")
        if copula == "student_t" and "df" not in table:
            self.fail(
                path + ("df",),
                "missing required key 'df' for copula 'student_t'",
                None,
                "a number >= 1",
            )
        if copula == "gaussian" and "df" in table:
            self.fail(
                path + ("df",),
                "'df' only applies to copula = \"student_t\"",
                table["df"],
                "no 'df' for a gaussian copula",
            )
        self.note(notes, "correlation", table)
        labels = table["labels"]
        if not isinstance(labels, list) or not labels:
            self.fail(
                path + ("labels",),
                f"{show(labels)} is not allowed; allowed a non-empty array of driver names",
                labels,
                "driver names",
            )
        extra.update(
            correlation_kind=table.get("kind", "pearson"),
            correlation_repair=table.get("repair"),
            copula=copula,
            copula_df=self.real(table.get("df", 0.0)),
        )
        # the matrix as written (validate checks its shape and entries); read() freezes it
        return tuple(labels), table["matrix"], extra

    def shocks(self, table: Any) -> tuple[Shock, ...]:
        path = ("shocks",)
        self.table(table, path)
        out = []
        for name, spec in table.items():
            p = path + (name,)
            self.keys(
                spec,
                p,
                ("probability", "severity", "effects"),
                ("enabled", "forced", "forced_only", "label", "rationale"),
            )
            severity = self.dist(spec["severity"], p + ("severity",))
            effects = self.entries(
                spec["effects"],
                p + ("effects",),
                ("target", "size"),
                ("profile", "segments", "cap", "rationale"),
                lambda e: Effect(
                    e["target"],
                    self.real(e["size"]),
                    self.per_year(e.get("profile", [1.0]), scalar_ok=False),
                    _tuple(e.get("segments", [])),
                    self.real(e.get("cap", math.inf)),
                    e.get("rationale", ""),
                ),
            )
            forced = self.entries(
                spec.get("forced", []),
                p + ("forced",),
                ("year",),
                ("severity",),
                lambda f: Forced(f["year"], self.real(f["severity"]) if "severity" in f else None),
            )
            out.append(
                Shock(
                    name,
                    self.real(spec["probability"]),
                    severity,
                    effects,
                    spec.get("rationale", ""),
                    spec.get("enabled", True),
                    forced,
                    spec.get("forced_only", False),
                    spec.get("label", ""),
                )
            )
        return tuple(out)

    def stresses(self, table: Any) -> tuple[Stress, ...]:
        """``[stress.<name>]`` tables: named stress scenarios (forced shocks, shifted drivers)."""
        path = ("stress",)
        self.table(table, path)
        out = []
        for name, spec in table.items():
            p = path + (name,)
            self.keys(spec, p, (), ("force", "shift", "label", "rationale"))
            force = self.entries(
                spec.get("force", []),
                p + ("force",),
                ("shock", "year"),
                ("severity", "only"),
                lambda f: StressForce(
                    f["shock"],
                    f["year"],
                    self.real(f["severity"]) if "severity" in f else None,
                    f.get("only", False),
                ),
            )
            shift = self.entries(
                spec.get("shift", []),
                p + ("shift",),
                ("driver",),
                ("add", "scale"),
                lambda f: StressShift(
                    f["driver"], self.real(f.get("add", 0.0)), self.real(f.get("scale", 1.0))
                ),
            )
            rationale, label = spec.get("rationale", ""), spec.get("label", "")
            out.append(Stress(name, force, shift, rationale, label))
        return tuple(out)

    def first_model(self, doc: dict[str, Any], old: list[str]) -> None:
        """A file of the first model (schema 1): one error saying what to add."""
        path = ("schedules", old[0]) if old else ("schema_version",)
        have = set(doc.get("schedules", {})) if isinstance(doc.get("schedules"), dict) else set()
        add = [f"[schedules.{k}]" for k in REQUIRED_SCHEDULES if k not in have]
        drivers = doc.get("drivers", {}) if isinstance(doc.get("drivers"), dict) else {}
        add += [
            f"[drivers.{k!r}]".replace("'", '"')
            for k in (
                "fixed_growth.selling",
                "fixed_growth.admin",
                "fixed_growth.rnd",
                "capex_intensity",
            )
            if k not in drivers
        ]
        if "gross_margin" in drivers:
            add.append('[drivers."margin.<segment>"] for every segment (instead of gross_margin)')
        what = ", ".join(f"[schedules.{k}]" for k in old) or "schema_version = 1"
        allowed = (
            "a schema 2 file: remove "
            + ", ".join(f"[schedules.{k}]" for k in OLD_SCHEDULES)
            + ", set schema_version = 2 and add "
            + ", ".join(add)
            + " (docs/model.md, 'Moving a schema 1 file'; simcore show-default prints a full file)"
        )
        self.fail(
            path,
            f"{what}: this file describes the first model, whose fixed debt, D&A, capex and "
            f"working-capital schedules were replaced by the three statements; allowed {allowed}",
            old or 1,
            allowed,
        )

    def schedules(self, table: Any, notes: dict[str, Any]) -> dict[str, Any]:
        path = ("schedules",)
        required = tuple(k for k, v in _SCHEDULES.items() if v[3])
        optional = tuple(k for k, v in _SCHEDULES.items() if not v[3])
        self.keys(table, path, required, optional)
        out: dict[str, Any] = {}
        for key, (field, kind, _rng, _req) in _SCHEDULES.items():
            default = {"value": 0.0} if kind == "scalar" else {"values": [0.0]}
            if key in _HELD and key not in table:
                out[field] = ()
                continue
            if kind in ("integer", "optional") and key not in table:
                out[field] = SCHEDULE_DEFAULTS.get(key)
                continue
            spec = table.get(key, default)
            p = path + (key,)
            if kind == "optional":  # a rationale without a value keeps the default rule
                self.keys(spec, p, (), ("value", "rationale"))
                out[field] = self.real(spec["value"]) if "value" in spec else None
            elif kind in ("scalar", "integer"):
                self.keys(spec, p, ("value",), ("rationale",))
                out[field] = spec["value"] if kind == "integer" else self.real(spec["value"])
            else:
                self.keys(spec, p, ("values",), ("rationale",))
                out[field] = self.per_year(spec["values"])
            self.note(notes, key, spec)
        return out

    def peers(self, table: Any) -> tuple[Peer, ...]:
        path = ("peers",)
        self.table(table, path)
        out = []
        for name, spec in table.items():
            p = path + (name,)
            self.keys(spec, p, ("date", "source"), (*PEER_KINDS, "rationale"))
            out.append(
                Peer(
                    name=name,
                    date=_date(spec["date"]),
                    source=spec["source"],
                    rationale=spec.get("rationale", ""),
                    **{k: self.real(spec[k]) for k in PEER_KINDS if k in spec},
                )
            )
        return tuple(out)

    def actuals(self, table: Any) -> tuple[Actual, ...]:
        path = ("actuals",)
        self.table(table, path)
        out = []
        meta = ("year", "months", "share", "date", "source", "rationale")
        for name, spec in table.items():
            p = path + (name,)
            self.table(spec, p)
            for k in ("year", "date", "source"):
                if k not in spec:
                    self.fail(
                        p,
                        f"[actuals.{name}] has no {k!r}; allowed year, months, share, date, "
                        "source, rationale and the reported figures",
                        spec,
                        k,
                    )
            values = tuple((k, self.real(v)) for k, v in spec.items() if k not in meta)
            out.append(
                Actual(
                    name=name,
                    year=spec["year"],
                    months=spec.get("months", 12),
                    share=self.real(spec["share"]) if "share" in spec else None,
                    date=_date(spec["date"]),
                    source=spec["source"],
                    rationale=spec.get("rationale", ""),
                    values=values,
                )
            )
        return tuple(out)

    def forecast(self, table: Any, notes: dict[str, Any]) -> Forecast:
        path = ("forecast",)
        series = ("revenue", "net_profit_attributable", "eps")
        self.keys(table, path, (), (*series, "rationale"))
        self.note(notes, "forecast", table)
        return Forecast(
            **{key: self.per_year(table[key], scalar_ok=False) for key in series if key in table}
        )

    def history(self, table: Any, notes: dict[str, Any]) -> dict[str, dict[int, Any]]:
        path = ("history",)
        self.table(table, path)
        self.note(notes, "history", table)
        out: dict = {}
        for series, years in table.items():
            if series == "rationale":
                continue
            p = path + (series,)
            self.table(years, p)
            out[series] = {}
            for year, value in years.items():
                if not _YEAR.fullmatch(year):  # not str.isdigit: it accepts "²"
                    self.fail(
                        p + (year,),
                        f"{brief(year)!r} is not a year; allowed a year like 2024",
                        year,
                        "a year",
                    )
                out[series][int(year)] = self.real(value)
        return out

    def free_notes(self, table: Any, notes: dict[str, Any]) -> None:
        path = ("notes",)
        self.table(table, path)
        for key, value in table.items():
            if key in notes:
                self.fail(
                    path + (key,),
                    f"note {key!r} clashes with the rationale of [{key}] or [schedules.{key}]",
                    value,
                    "a different name",
                )
            notes[key] = value


def _tuple(value: Any) -> Any:
    """An array as a tuple; anything else as it is."""
    return tuple(value) if isinstance(value, list) else value


# -- public reading API -------------------------------------------------------------------------
def loads_scenario(text: str, source: str = "<string>") -> Scenario:
    """A validated :class:`Scenario` from TOML text; ``source`` names it in error messages."""
    if not isinstance(text, str):
        raise TypeError(f"{source}: text must be a str, got {type(text).__name__}")
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark (some editors write one)
        text = text[1:]
    size = len(text) if len(text) > MAX_FILE_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise _too_large(size, source)
    try:
        doc = tomllib.loads(text)
        return _Reader(text, source, doc).read()
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(
            f"not valid TOML: {exc}",
            source=source,
            line=int(m.group(1)) if m else None,
            allowed="TOML 1.0 syntax",
        ) from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        allowed = "arrays and inline tables nested a few levels deep, as the layout needs"
        raise ScenarioError(
            f"arrays or inline tables are nested too deeply to read; allowed {allowed}",
            source=source,
            line=_LineIndex(text).deep_line,
            allowed=allowed,
        ) from None


def _too_large(size: int, source: str) -> ScenarioError:
    allowed = f"at most {MAX_FILE_BYTES:,} bytes"
    return ScenarioError(
        f"the scenario is {size:,} bytes, too large; allowed {allowed}",
        source=source,
        value=size,
        allowed=allowed,
    )


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def load_scenario(path: StrPath) -> Scenario:
    """A validated :class:`Scenario` from a TOML file (UTF-8, a leading byte-order mark is
    ignored). Only a regular file of at most ``MAX_FILE_BYTES`` is read: a FIFO, a device (a
    link to ``/dev/zero``), a directory or a larger file is refused before reading it."""
    p = Path(path)
    source = str(path)
    allowed = "a regular TOML file"
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_CLOEXEC", 0)
        | getattr(os, "O_BINARY", 0)
    )  # non-blocking: opening a FIFO must not wait for a writer
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        hint = ""
        if p.stem in _builtin_names():
            hint = f"; for the built-in scenario use builtin_scenario({p.stem!r})"
        raise FileNotFoundError(f"scenario file {str(p)!r} not found{hint}") from None
    except IsADirectoryError:
        raise ScenarioError(
            f"is a directory, not a file; allowed {allowed}", source=source, allowed=allowed
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in _FILE_KINDS if test(info.st_mode)), "a special file")
            raise ScenarioError(
                f"is {kind}, not a regular file; allowed {allowed}", source=source, allowed=allowed
            )
        if info.st_size > MAX_FILE_BYTES:
            raise _too_large(info.st_size, source)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # at most one byte more (a file that grew)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(len(data), source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            source=source,
            allowed="a UTF-8 TOML file",
        ) from None
    return loads_scenario(text, source=source)


def _scenario_dir() -> Traversable:
    return resources.files("simcore").joinpath("scenarios")


def _builtin_names() -> list[str]:
    return sorted(f.name[:-5] for f in _scenario_dir().iterdir() if f.name.endswith(".toml"))


def builtin_scenario_text(name: str) -> str:
    """The TOML text of a scenario shipped with the package, with its explanatory comments."""
    names = _builtin_names()
    if name not in names:
        raise ValueError(
            f"no built-in scenario {name!r}{did_you_mean(name, names)}; allowed {', '.join(names)}"
        )
    return _scenario_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8")


def builtin_scenario(name: str) -> Scenario:
    """A scenario shipped with the package, by name (see :func:`list_scenarios`)."""
    return loads_scenario(builtin_scenario_text(name), source=f"simcore/scenarios/{name}.toml")


def default_scenario() -> Scenario:
    """The embedded default: Paratera (839493.BJ), base year 2024, horizon 3."""
    return builtin_scenario(DEFAULT_SCENARIO)


def list_scenarios() -> dict[str, str]:
    """Built-in scenario names and their one-line descriptions."""
    out = {}
    for name in _builtin_names():
        doc = tomllib.loads(_scenario_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8"))
        lines = str(doc.get("description", "")).strip().splitlines()
        out[name] = lines[0] if lines else ""
    return out


# -- writing -------------------------------------------------------------------------------------
def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        return fmt_float(float(v))
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{fmt_key(str(k))} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple | np.ndarray):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} ({type(v).__name__}) to TOML")


def _stress_entry(
    entry: StressForce | StressShift, defaults: dict[str, object]
) -> dict[str, object]:
    """A stress entry as an inline table, leaving out keys at their default."""
    out = {}
    for f in fields(entry):
        v = getattr(entry, f.name)
        if f.name not in defaults or v != defaults[f.name]:
            out[f.name] = v
    return out


def dumps_scenario(scenario: Scenario) -> str:
    """TOML text of ``scenario`` in the file layout; :func:`loads_scenario` reads it back equal."""
    sc = scenario
    notes = dict(sc.notes)
    lines: list[str] = []

    def kv(key: str, value: object) -> None:
        lines.append(f"{fmt_key(key)} = {toml_value(value)}")

    def header(*path: str, array: bool = False) -> None:
        name = format_key_path(path)
        lines.extend(["", f"[[{name}]]" if array else f"[{name}]"])

    def rationale(text: str) -> None:
        if text:
            kv("rationale", text)

    def per_year(values: Sequence[float]) -> list[float] | float:
        return list(values) if len(values) != 1 else values[0]

    kv("schema_version", SCHEMA_VERSION)
    kv("name", sc.name)
    kv("ticker", sc.ticker)
    kv("currency", sc.currency)
    kv("description", sc.description)
    kv("source", sc.source)
    kv("base_year", int(sc.base_year))
    kv("horizon", int(sc.horizon))
    if sc.explicit_years:
        kv("explicit_years", int(sc.explicit_years))

    header("market")
    kv("price", sc.market_price)
    kv("date", sc.market_date)
    kv("shares", sc.shares)
    rationale(notes.pop("market", ""))

    for seg in sc.segments:
        header("segments", seg.name)
        kv("revenue", seg.base_revenue)
        if seg.label:
            kv("label", seg.label)
        rationale(seg.rationale)

    for d in sc.drivers:
        header("drivers", d.name)
        kv("base", per_year(d.base))
        kv("mode", d.mode)
        kv("persistence", d.persistence)
        kv("dist", d.dist.to_dict())
        if d.label:
            kv("label", d.label)
        rationale(d.rationale)
        if d.uncertainty is not None:
            header("drivers", d.name, "uncertainty")
            for i, k in enumerate(d.uncertainty.params):
                kv(k, [r[i] for r in d.uncertainty.rows])
            rationale(d.uncertainty.rationale)

    note = notes.pop("correlation", "")
    if sc.correlation_labels:
        header("correlation")
        kv("labels", list(sc.correlation_labels))
        kv("kind", sc.correlation_kind)
        if sc.correlation_repair is not None:
            kv("repair", sc.correlation_repair)
        kv("copula", sc.copula)
        if sc.copula == "student_t":
            kv("df", sc.copula_df)
        lines.append("matrix = [")
        lines.extend(f"    {toml_value(list(row))}," for row in np.asarray(sc.correlation))
        lines.append("]")
        rationale(note)

    for s in sc.shocks:
        header("shocks", s.name)
        kv("probability", s.probability)
        kv("enabled", s.enabled)
        kv("severity", s.severity.to_dict())
        if s.forced:
            kv(
                "forced",
                [
                    {"year": f.year}
                    if f.severity is None
                    else {"year": f.year, "severity": f.severity}
                    for f in s.forced
                ],
            )
        if s.forced_only:
            kv("forced_only", True)
        if s.label:
            kv("label", s.label)
        rationale(s.rationale)
        for e in s.effects:
            header("shocks", s.name, "effects", array=True)
            kv("target", e.target)
            kv("size", e.size)
            kv("profile", list(e.profile))
            if e.segments:
                kv("segments", list(e.segments))
            if not math.isinf(e.cap):
                kv("cap", e.cap)
            rationale(getattr(e, "rationale", ""))

    note = notes.pop("valuation", "")
    if sc.multiples_centre != "market" or note:
        header("valuation")
        kv("multiples", sc.multiples_centre)
        rationale(note)
    for peer in sc.peers:
        header("peers", peer.name)
        for key in PEER_KINDS:
            if getattr(peer, key) is not None:
                kv(key, getattr(peer, key))
        kv("date", peer.date)
        kv("source", peer.source)
        rationale(peer.rationale)

    for a in sc.actuals:
        header("actuals", a.name)
        kv("year", a.year)
        if a.months != 12:
            kv("months", a.months)
        if a.share is not None:
            kv("share", a.share)
        kv("date", a.date)
        kv("source", a.source)
        for key, value in a.values:
            kv(key, value)
        rationale(a.rationale)
    note = notes.pop("nowcast", "")
    if sc.nowcast_as_of or note:
        header("nowcast")
        if sc.nowcast_as_of:
            kv("as_of", sc.nowcast_as_of)
        rationale(note)

    for st in sc.stresses:
        header("stress", st.name)
        if st.force:
            kv("force", [_stress_entry(f, {"severity": None, "only": False}) for f in st.force])
        if st.shift:
            kv("shift", [_stress_entry(f, {"add": 0.0, "scale": 1.0}) for f in st.shift])
        if st.label:
            kv("label", st.label)
        rationale(st.rationale)

    for key, (field, kind, _rng, _req) in _SCHEDULES.items():
        value = getattr(sc, field)
        if key in _HELD and not value:
            continue  # held at the opening balance
        if kind == "optional" and value is None:
            if key in notes:  # the rule's default, with its rationale
                header("schedules", key)
                rationale(notes.pop(key))
            continue
        header("schedules", key)
        if kind in ("scalar", "integer", "optional"):
            kv("value", value)
        else:
            kv("values", list(value))
        rationale(notes.pop(key, ""))

    fc = sc.forecast
    note = notes.pop("forecast", "")
    if fc.revenue or fc.net_profit_attributable or fc.eps or note:
        header("forecast")
        for key in ("revenue", "net_profit_attributable", "eps"):
            if getattr(fc, key):
                kv(key, list(getattr(fc, key)))
        rationale(note)

    note = notes.pop("history", "")
    if sc.history or note:
        header("history")
        rationale(note)
        for series, years in sc.history.items():
            header("history", series)
            for year, value in years.items():
                kv(str(year), value)

    if notes:
        header("notes")
        for key, value in notes.items():
            kv(key, value)
    return "\n".join(lines) + "\n"
