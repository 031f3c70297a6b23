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

Beyond each value's own domain, every size and magnitude limit of :mod:`simcore.model.limits` is
checked here, before any work starts: the file's size (before it is read), text lengths and
characters, counts, and the reach of every driver and shock effect (see ``check_reach``). A
leading UTF-8 byte-order mark is accepted and ignored.

``tomllib`` gives no line numbers for keys, so :class:`_LineIndex` finds them by scanning the
text for table headers and ``key =`` lines (best effort: a key inside an inline table or an
array points at the line where that value starts).

The file layout (``simcore/scenarios/toy.toml`` is the shortest complete example)::

    schema_version, name, ticker, currency, description, source, base_year, horizon
    [market]              price, date, shares, rationale
    [segments.<name>]     revenue, rationale
    [drivers.<name>]      base, dist (omitted: deterministic), mode, persistence, rationale
    [correlation]         labels, matrix, kind, repair, copula, df, rationale
    [shocks.<name>]       probability, severity, enabled, forced, forced_only, rationale
    [[shocks.<name>.effects]]  target, size, profile, segments, cap, rationale
    [stress.<name>]       force = [{shock, year, severity, only}], shift = [{driver, add, scale}],
                          rationale (named stress scenarios, see simcore.analysis.stress)
    [schedules.<name>]    values (per year) | value (scalar) [, base], rationale
    [forecast]            revenue, net_profit_attributable, eps, rationale
    [history]             rationale; [history.<series>] <year> = value
    [notes]               free-form strings
"""

from __future__ import annotations

import datetime
import difflib
import json
import math
import numbers
import os
import re
import stat
import tomllib
import unicodedata
import warnings
from dataclasses import fields, replace
from importlib import resources
from pathlib import Path

import numpy as np

import distributions
from distributions import Distribution
from simcore.model import limits
from simcore.model.limits import (
    MAX_EFFECTS,
    MAX_EMPIRICAL_POINTS,
    MAX_FILE_BYTES,
    MAX_HISTORY_SERIES,
    MAX_HORIZON,
    MAX_LINE_CHARS,
    MAX_MONEY,
    MAX_MULTIPLE,
    MAX_NAME_CHARS,
    MAX_NOTES,
    MAX_RATE,
    MAX_SEGMENTS,
    MAX_SEVERITY,
    MAX_SHARES,
    MAX_SHOCKS,
    MAX_STRESSES,
    MAX_TERMINAL_ROIC,
    MAX_TEXT_CHARS,
    MIN_DISCOUNT_SPREAD,
    MIN_SHARES,
    MIN_TERMINAL_ROIC,
)
from simcore.model.scenario import (
    FIXED_DRIVERS,
    SHOCK_TARGETS,
    Driver,
    Effect,
    Forced,
    Forecast,
    Scenario,
    Segment,
    Shock,
    Stress,
    StressForce,
    StressShift,
)

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

SCHEMA_VERSION = 1
DEFAULT_SCENARIO = "paratera"

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_YEAR = re.compile(r"[0-9]{4}")
_MAX_DEPTH = 32  # where tomllib runs out of recursion, the first line nesting deeper is named
_MISSING = object()

# Allowed range of a driver's ``base`` by role: (low, high, low_closed, high_closed).
_BASE_RANGE = {
    "growth": (-1.0, 10.0, False, True),
    "gross_margin": (-1.0, 1.0, True, True),
    "ratio": (0.0, 1.0, True, True),
    "interest_rate": (0.0, 1.0, True, True),
    "tax_rate": (0.0, 1.0, True, True),
    "multiple": (0.0, MAX_MULTIPLE, False, True),
    "wacc": (0.0, 1.0, False, True),
    "terminal_growth": (-1.0, 1.0, False, False),
}

# Schedules: toml key -> (Scenario field, kind, (low, high, low_closed, high_closed), required).
_REAL = (-math.inf, math.inf, False, False)
# the magnitude limits of simcore.model.limits: money, rates
_MONEY = (-MAX_MONEY, MAX_MONEY, True, True)
_MONEY_NONNEG = (0.0, MAX_MONEY, True, True)
_MONEY_POS = (0.0, MAX_MONEY, False, True)
_RATE = (-MAX_RATE, MAX_RATE, True, True)
_RATE_NONNEG = (0.0, MAX_RATE, True, True)
_SCHEDULES = {
    "debt": ("debt", "per_year", _MONEY_NONNEG, True),
    "net_debt": ("net_debt", "per_year", _MONEY, True),
    "other_income": ("other_income", "per_year", _MONEY, False),
    "non_operating": ("non_operating", "per_year", _MONEY, False),
    "minority_share": ("minority_share", "per_year", (0.0, 1.0, True, True), False),
    "da_ratio": ("da_ratio", "per_year", _RATE_NONNEG, True),
    "capex_ratio": ("capex_ratio", "per_year", _RATE_NONNEG, True),
    "wc_ratio": ("wc_ratio", "scalar", _RATE, False),
    "terminal_roic": ("terminal_roic", "scalar",
                      (MIN_TERMINAL_ROIC, MAX_TERMINAL_ROIC, True, True), True),
    "tax_loss_carryforward": ("tax_loss_carryforward", "scalar", _MONEY_NONNEG, False),
}
# Tables whose ``rationale`` is kept in ``Scenario.notes`` under this name.
_NOTE_TABLES = ("market", "correlation", "forecast", "history")


class ScenarioError(ValueError):
    """A scenario file (or string) that cannot be loaded; the message says where and why.

    Attributes: ``source`` (file), ``key_path`` (e.g. ``drivers."growth.x".persistence``),
    ``line`` (1-based, or None), ``value`` (the offending value, or None) and ``allowed``.
    """

    def __init__(self, message: str, *, source: str = "<string>", key_path: str = "",
                 line: int | None = None, value=None, allowed: str = ""):
        self.source = source
        self.key_path = key_path
        self.line = line
        self.value = value
        self.allowed = allowed
        self.reason = message
        where = key_path or "(top level)"
        if line is not None:
            where += f" (line {line})"
        super().__init__(f"{source}: {where}: {message}")


# -- key paths and their lines ----------------------------------------------------------------
def _toml_string(s: str) -> str:
    """``s`` as a TOML basic string: JSON's escapes, and ``\\uXXXX`` (``\\UXXXXXXXX``) for any
    other character that is not printable (DEL, format characters, separators), so the text
    loads back equal and no message prints such a character raw. Lone surrogates stay (TOML
    has no escape for them; the text checks refuse them with a message)."""
    out = json.dumps(s, ensure_ascii=False)
    if out.isprintable():
        return out
    return "".join(
        c if c.isprintable() or unicodedata.category(c) == "Cs"
        else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
        for c in out)


def _fmt_key(part: str) -> str:
    return part if _BARE_KEY.fullmatch(part) else _toml_string(part)


def _brief(s: str, n: int = 60) -> str:
    """``s`` cut to about ``n`` characters for a message, saying how long it was."""
    return s if len(s) <= n else f"{s[: n - 10]}...({len(s):,} characters)"


def format_key_path(path) -> str:
    """``("drivers", "growth.x", "dist")`` -> ``drivers."growth.x".dist``; ints index arrays."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _fmt_key(part)
    return out


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
            m = _BARE_KEY.match(s, pos)
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

    def __init__(self, text: str):
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
def _show(value) -> str:
    """A value as it would be written in TOML (for messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(_brief(value))
    if isinstance(value, float):
        return _fmt_float(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{_fmt_key(_brief(str(k)))} = {_show(v)}"
                          for k, v in list(value.items())[:8])
        text = "{ " + inner + (" ..." if len(value) > 8 else "") + " }"
        return text if len(text) <= 120 else text[:114] + " ... }"
    if isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(v) for v in value[:20]) + (", ..." if len(value) > 20
                                                               else "") + "]"
        return text if len(text) <= 80 else text[:76] + " ...]"
    return str(value)


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    return f"a {type(value).__name__}"


def _interval(low, high, low_closed, high_closed) -> str:
    lo = "[" if low_closed else "("
    hi = "]" if high_closed else ")"
    return f"{lo}{_fmt_bound(float(low))}, {_fmt_bound(float(high))}{hi}"


def _fmt_bound(x: float) -> str:
    """A bound for a message: ``1e+15`` rather than ``1000000000000000.0`` where exact."""
    short = f"{x:g}"
    return short if float(short) == x else _fmt_float(x)


def _contains(x, low, high, low_closed, high_closed) -> bool:
    above = x >= low if low_closed else x > low
    below = x <= high if high_closed else x < high
    return above and below


def _did_you_mean(word: str, options) -> str:
    options = [str(o) for o in options]
    hint = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if not hint and str(word):  # an abbreviation: "ai" for "ai_cloud"
        hint = [o for o in options if o.startswith(str(word))][:2]
        hint = hint if len(hint) == 1 else []
    return f" (did you mean {hint[0]!r}?)" if hint else ""


class _Reader:
    """Validates the parsed TOML document and builds the :class:`Scenario`."""

    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source
        self._index: _LineIndex | None = None
        self.copula = None  # set by correlation()

    # errors
    def line_of(self, path: tuple) -> int | None:
        if self._index is None:
            self._index = _LineIndex(self.text)
        return self._index.line_of(path)

    def fail(self, path: tuple, message: str, value=_MISSING, allowed: str = ""):
        raise ScenarioError(
            message,
            source=self.source,
            key_path=format_key_path(tuple(_brief(k, 80) if isinstance(k, str) else k
                                           for k in path)),
            line=self.line_of(path),
            value=None if value is _MISSING else value,
            allowed=allowed,
        )

    # keys
    def table(self, value, path: tuple) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"{_show(value)} is {_type_name(value)}; allowed a table", value,
                      "a table")
        return value

    def keys(self, table, path: tuple, required=(), optional=()):
        self.table(table, path)
        allowed = [*required, *optional]
        for key in table:
            if key not in allowed:
                tip = _did_you_mean(_brief(key), allowed)
                self.fail(path + (key,), f"unknown key {_brief(key)!r}{tip}; allowed keys: "
                          f"{', '.join(allowed)}", key, ", ".join(allowed))
        for key in required:
            if key not in table:
                self.fail(path + (key,), f"missing required key {key!r} in "
                          f"{format_key_path(path) or 'the top level'}", None, key)

    # scalars
    def number(self, value, path, rng=_REAL, what: str = "a number") -> float:
        allowed = what if rng == _REAL else f"{what} in {_interval(*rng)}"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            tip = ""
            if isinstance(value, str) and value.strip().endswith("%"):
                tip = " (write a fraction, e.g. 0.05 for 5%)"
            self.fail(path, f"{_show(value)} is {_type_name(value)}; allowed {allowed}{tip}",
                      value, allowed)
        x = float(value)
        if math.isnan(x) or not _contains(x, *rng):
            self.fail(path, f"{_show(value)} is out of range; allowed {_interval(*rng)}", value,
                      _interval(*rng))
        return x

    def integer(self, value, path, low: int, high: int) -> int:
        allowed = f"an integer in [{low}, {high}]"
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"{_show(value)} is {_type_name(value)}; allowed {allowed}", value,
                      allowed)
        if not low <= value <= high:
            self.fail(path, f"{value} is out of range; allowed [{low}, {high}]", value,
                      f"[{low}, {high}]")
        return int(value)

    def string(self, value, path, choices=None, kind: str | None = None) -> str:
        """A string: one of ``choices``, or free text of ``kind`` ``"line"`` (one line, at
        most MAX_LINE_CHARS) or ``"text"`` (newlines and tabs allowed, MAX_TEXT_CHARS)."""
        allowed = f"one of {', '.join(map(repr, choices))}" if choices else "a string"
        if not isinstance(value, str):
            self.fail(path, f"{_show(value)} is {_type_name(value)}; allowed {allowed}", value,
                      allowed)
        if choices and value not in choices:
            tip = _did_you_mean(_brief(value), choices)
            self.fail(path, f"{_show(value)} is not allowed{tip}; allowed {allowed}", value,
                      allowed)
        if kind is not None:
            self.free_text(value, path, kind == "text",
                           MAX_TEXT_CHARS if kind == "text" else MAX_LINE_CHARS)
        return value

    def free_text(self, value: str, path, multiline: bool, limit: int) -> None:
        """Free text that reaches terminals, charts and the PDF: at most ``limit`` characters,
        no control or format characters (newlines and tabs in ``multiline`` text)."""
        if len(value) > limit:
            allowed = f"at most {limit:,} characters"
            self.fail(path, f"{_show(value)} is too long ({len(value):,} characters); allowed "
                      f"{allowed}", value, allowed)
        problem = limits.text_problem(value, multiline)
        if problem:
            allowed = ("text without control or format characters (newlines and tabs are "
                       "allowed)" if multiline else "one line of text without control or format "
                       "characters (no ANSI escapes, line breaks or tabs)")
            self.fail(path, f"{_show(value)} contains {problem}; allowed {allowed}", value,
                      allowed)

    def boolean(self, value, path) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"{_show(value)} is {_type_name(value)}; allowed true or false",
                      value, "true or false")
        return value

    def name(self, value: str, path, what: str) -> str:
        allowed = (f"a letter followed by letters, digits, '_' or '-', at most {MAX_NAME_CHARS} "
                   f"characters")
        if not _NAME.fullmatch(value) or len(value) > MAX_NAME_CHARS:
            self.fail(path, f"{what} name {_brief(value)!r} is not allowed; allowed {allowed}",
                      value, allowed)
        return value

    def count(self, items, path, limit: int, what: str) -> None:
        """At most ``limit`` entries in the table or array ``items`` (the first one beyond it
        is named)."""
        if len(items) > limit:
            extra = list(items)[limit] if isinstance(items, dict) else limit
            allowed = f"at most {limit} {what}"
            self.fail(path + (extra,), f"{len(items)} {what} are too many; allowed {allowed}",
                      len(items), allowed)

    def per_year(self, value, path, rng=_REAL, scalar_ok: bool = True,
                 min_len: int = 1) -> tuple[float, ...]:
        """A number (if ``scalar_ok``) or a list of 1..MAX_HORIZON numbers, as a float tuple."""
        if scalar_ok and not isinstance(value, list):
            return (self.number(value, path, rng),)
        if not isinstance(value, list):
            self.fail(path, f"{_show(value)} is {_type_name(value)}; allowed an array of numbers",
                      value, "an array of numbers")
        if len(value) < min_len:
            allowed = f"{min_len} to {MAX_HORIZON} values (extended by the last one)"
            self.fail(path, f"an empty array is not allowed; allowed {allowed}", value, allowed)
        if len(value) > MAX_HORIZON:
            allowed = f"at most {MAX_HORIZON} values (the maximum horizon)"
            self.fail(path, f"{len(value)} values is too many; allowed {allowed}", value, allowed)
        return tuple(self.number(v, path + (i,), rng) for i, v in enumerate(value))

    def dist(self, spec, path) -> Distribution:
        if not isinstance(spec, dict):
            allowed = 'a table like { family = "Normal", loc = 0, scale = 0.1 }'
            self.fail(path, f"{_show(spec)} is {_type_name(spec)}; allowed {allowed}", spec,
                      allowed)
        family = spec.get("family", _MISSING)
        families = sorted(distributions.FAMILIES)
        if family is _MISSING:
            self.fail(path + ("family",), f"missing required key 'family'; allowed one of "
                      f"{', '.join(families)}", None, ", ".join(families))
        if not isinstance(family, str) or family not in distributions.FAMILIES:
            tip = _did_you_mean(family, families)
            self.fail(path + ("family",), f"unknown distribution family {_show(family)}{tip}; "
                      f"allowed one of {', '.join(families)}", family, ", ".join(families))
        cls = distributions.FAMILIES[family]
        data = spec.get("data")
        if family == "Empirical" and isinstance(data, list) and len(data) > MAX_EMPIRICAL_POINTS:
            allowed = f"at most {MAX_EMPIRICAL_POINTS:,} data points"
            self.fail(path + ("data",), f"{len(data):,} data points are too many; allowed "
                      f"{allowed}", len(data), allowed)
        declared = {p.name: p for p in cls.params}
        for key, value in spec.items():
            if key == "family" or cls.__init__ is not Distribution.__init__:
                # a family with its own constructor (Empirical's data) checks its arguments
                continue
            if key not in declared:
                tip = _did_you_mean(key, declared)
                self.fail(path + (key,), f"unknown parameter {key!r} of {family}{tip}; allowed "
                          f"{', '.join(declared)}", key, ", ".join(declared))
            p = declared[key]
            rng = (p.low, p.high, p.low_closed, p.high_closed)
            x = self.number(value, path + (key,), rng, "an integer" if p.integer else "a number")
            if p.integer and x != int(x):
                self.fail(path + (key,), f"{_show(value)} is not an integer; allowed "
                          f"{p.interval()}", value, p.interval())
        try:
            return distributions.from_dict(dict(spec), where=format_key_path(path))
        except (TypeError, ValueError) as exc:
            self.fail(path, str(exc), spec, "parameters that satisfy the family's constraints")
        raise AssertionError("unreachable")  # pragma: no cover

    # -- sections ---------------------------------------------------------------------------
    def read(self, doc: dict) -> Scenario:
        top_required = ("name", "currency", "base_year", "horizon", "market", "segments",
                        "drivers", "schedules")
        top_optional = ("schema_version", "ticker", "description", "source", "correlation",
                        "shocks", "stress", "forecast", "history", "notes")
        self.keys(doc, (), top_required, top_optional)
        version = doc.get("schema_version", SCHEMA_VERSION)
        self.integer(version, ("schema_version",), SCHEMA_VERSION, SCHEMA_VERSION)
        name = self.string(doc["name"], ("name",), kind="line")
        currency = self.string(doc["currency"], ("currency",), kind="line")
        ticker = self.string(doc.get("ticker", ""), ("ticker",), kind="line")
        description = self.string(doc.get("description", ""), ("description",), kind="text")
        source = self.string(doc.get("source", ""), ("source",), kind="line")
        base_year = self.integer(doc["base_year"], ("base_year",), 1900, 2200)
        horizon = self.integer(doc["horizon"], ("horizon",), 1, MAX_HORIZON)
        notes: dict[str, str] = {}

        market = doc["market"]
        self.keys(market, ("market",), ("price", "date", "shares"), ("rationale",))
        price = self.number(market["price"], ("market", "price"), _MONEY_POS)
        shares = self.number(market["shares"], ("market", "shares"),
                             (MIN_SHARES, MAX_SHARES, True, True), "a number of shares (millions)")
        date = self.date(market["date"], ("market", "date"))
        self.note(notes, "market", market, ("market",))

        segments = self.segments(doc["segments"])
        seg_names = [s.name for s in segments]
        drivers = self.drivers(doc["drivers"], seg_names)
        labels, matrix, corr = self.correlation(doc.get("correlation", {}), drivers, notes)
        shocks = self.shocks(doc.get("shocks", {}), seg_names, base_year)
        sched = self.schedules(doc["schedules"], notes)
        forecast = self.forecast(doc.get("forecast", {}), notes)
        history = self.history(doc.get("history", {}), notes)
        self.free_notes(doc.get("notes", {}), notes)

        self.check_discounting(drivers, shocks, sched["terminal_roic"], doc["drivers"])
        self.check_reach(drivers, shocks, doc["drivers"])
        stresses = self.stresses(doc.get("stress", {}), drivers, shocks, base_year,
                                 sched["terminal_roic"], doc["drivers"])
        return Scenario(
            name=name,
            ticker=ticker,
            currency=currency,
            base_year=base_year,
            horizon=horizon,
            segments=segments,
            drivers=drivers,
            correlation_labels=labels,
            correlation=matrix,
            shocks=shocks,
            shares=shares,
            market_price=price,
            market_date=date,
            history=history,
            forecast=forecast,
            description=description,
            source=source,
            notes=notes,
            stresses=stresses,
            **corr,
            **sched,
        )

    def note(self, notes: dict, key: str, table: dict, path: tuple) -> None:
        if "rationale" in table:
            text = self.string(table["rationale"], path + ("rationale",), kind="text")
            if text:
                notes[key] = text

    def date(self, value, path) -> str:
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return value.isoformat()
        allowed = "a date, e.g. 2025-06-05"
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        self.fail(path, f"{_show(value)} is not a date; allowed {allowed}", value, allowed)
        raise AssertionError("unreachable")  # pragma: no cover

    def segments(self, table) -> tuple[Segment, ...]:
        path = ("segments",)
        self.table(table, path)  # its keys are segment names
        if not table:
            self.fail(path, "no segments; allowed at least one [segments.<name>] table", {},
                      "at least one segment")
        self.count(table, path, MAX_SEGMENTS, "segments")
        out = []
        for name, spec in table.items():
            p = path + (name,)
            self.name(name, p, "segment")
            self.keys(spec, p, ("revenue",), ("rationale",))
            revenue = self.number(spec["revenue"], p + ("revenue",), _MONEY_POS,
                                  "a positive number (base-year revenue)")
            rationale = self.string(spec.get("rationale", ""), p + ("rationale",), kind="text")
            out.append(Segment(name, revenue, rationale))
        return tuple(out)

    def drivers(self, table, seg_names) -> tuple[Driver, ...]:
        path = ("drivers",)
        self.table(table, path)
        roles = [f"growth.{s}" for s in seg_names] + list(FIXED_DRIVERS)
        out = []
        for name, spec in table.items():
            p = path + (name,)
            if name not in roles:
                if name.startswith("growth."):
                    seg = name.split(".", 1)[1]
                    msg = (f"driver {_brief(name)!r} names no segment"
                           f"{_did_you_mean(_brief(seg), seg_names)}; allowed segments "
                           f"{', '.join(seg_names)}")
                else:
                    msg = (f"unknown driver role {_brief(name)!r}"
                           f"{_did_you_mean(_brief(name), roles)}; allowed {', '.join(roles)}")
                self.fail(p, msg, name, ", ".join(roles))
            self.keys(spec, p, ("base",), ("dist", "mode", "persistence", "rationale"))
            role = "growth" if name.startswith("growth.") else name.split(".")[0]
            base = self.per_year(spec["base"], p + ("base",), _BASE_RANGE[role])
            mode = self.string(spec.get("mode", "add"), p + ("mode",), ("add", "mul"))
            # no dist: a deterministic driver equal to its base
            dist_spec = spec.get("dist", {"family": "Constant", "value": 0 if mode == "add" else 1})
            dist = self.dist(dist_spec, p + ("dist",))
            persistence = self.number(spec.get("persistence", 0.0), p + ("persistence",),
                                      (0.0, 1.0, True, True))
            rationale = self.string(spec.get("rationale", ""), p + ("rationale",), kind="text")
            if mode == "mul" and dist.support()[0] < 0.0:
                allowed = "a non-negative distribution (e.g. LogNormal, Gamma) for mode 'mul'"
                self.fail(p + ("dist",), f"{dist!r} can be negative; allowed {allowed}",
                          dist_spec, allowed)
            out.append(Driver(name, base, dist, mode, persistence, rationale))
        have = {d.name for d in out}
        for name in roles:
            if name not in have:
                what = ("every segment needs a growth driver" if name.startswith("growth.")
                        else "the model reads every fixed driver")
                self.fail(path + (name,), f"missing driver {name!r} ({what})", None,
                          "a [drivers.<name>] table with a base (and usually a dist)")
        return tuple(out)

    def correlation(self, table, drivers, notes):
        path = ("correlation",)
        self.keys(table, path, ("labels", "matrix") if table else (),
                  ("kind", "repair", "copula", "df", "rationale"))
        extra = {"correlation_kind": "pearson", "correlation_repair": None,
                 "copula": "gaussian", "copula_df": 0.0}
        self.copula = None  # the copula object (its factor bounds the drivers' scores)
        if not table:
            return (), _frozen(np.zeros((0, 0))), extra
        kind = self.string(table.get("kind", "pearson"), path + ("kind",), ("pearson", "spearman"))
        repair = None
        if "repair" in table:
            repair = self.string(table["repair"], path + ("repair",), ("nearest",))
        copula = self.string(table.get("copula", "gaussian"), path + ("copula",),
                             ("gaussian", "student_t"))
        if copula == "student_t":
            if "df" not in table:
                self.fail(path + ("df",), "missing required key 'df' for copula 'student_t'",
                          None, "a number >= 1")
            df = self.number(table["df"], path + ("df",), (1.0, math.inf, True, False))
        else:
            if "df" in table:
                self.fail(path + ("df",), "'df' only applies to copula = \"student_t\"",
                          table["df"], "no 'df' for a gaussian copula")
            df = 0.0
        self.note(notes, "correlation", table, path)
        labels_raw = table["labels"]
        if not isinstance(labels_raw, list) or not labels_raw:
            self.fail(path + ("labels",), f"{_show(labels_raw)} is not allowed; allowed a "
                      "non-empty array of driver names", labels_raw, "driver names")
        names = [d.name for d in drivers]
        labels = []
        for i, lab in enumerate(labels_raw):
            self.string(lab, path + ("labels", i))
            if lab not in names:
                self.fail(path + ("labels", i), f"{_show(lab)} is not a driver"
                          f"{_did_you_mean(lab, names)}; allowed {', '.join(names)}", lab,
                          ", ".join(names))
            if lab in labels:
                self.fail(path + ("labels", i), f"{_show(lab)} is listed twice", lab,
                          "each driver once")
            labels.append(lab)
        k = len(labels)
        rows = table["matrix"]
        shape_msg = f"a {k} x {k} array of numbers (one row and column per label)"
        if not isinstance(rows, list) or len(rows) != k:
            n_rows = len(rows) if isinstance(rows, list) else _type_name(rows)
            self.fail(path + ("matrix",), f"{n_rows} rows; allowed {shape_msg}", rows, shape_msg)
        m = np.empty((k, k))
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != k:
                self.fail(path + ("matrix", i), f"row {i} is {_show(row)}; allowed {shape_msg}",
                          row, shape_msg)
            for j, v in enumerate(row):
                m[i, j] = self.number(v, path + ("matrix", i, j), (-1.0, 1.0, True, True))
        for i in range(k):
            if m[i, i] != 1.0:
                self.fail(path + ("matrix", i, i), f"diagonal entry {_show(m[i, i])} for "
                          f"{labels[i]!r}; allowed 1", m[i, i], "1 on the diagonal")
            for j in range(i):
                if m[i, j] != m[j, i]:
                    self.fail(path + ("matrix", i, j), f"not symmetric: {labels[i]!r} x "
                              f"{labels[j]!r} is {_show(m[i, j])} but {labels[j]!r} x "
                              f"{labels[i]!r} is {_show(m[j, i])}", m[i, j], "a symmetric matrix")
        from distributions.copula import GaussianCopula, StudentTCopula

        try:
            with warnings.catch_warnings():
                # an opted-in repair warns; it is reported (and recorded) when the run builds
                # its copula, not on every load
                warnings.simplefilter("ignore")
                if copula == "student_t":
                    self.copula = StudentTCopula(labels, m, df, kind=kind, repair=repair)
                else:
                    self.copula = GaussianCopula(labels, m, kind=kind, repair=repair)
        except ValueError as exc:
            allowed = ("a positive semi-definite matrix (or repair = \"nearest\" to use the "
                       "nearest one, recorded in the run's metadata)")
            self.fail(path + ("matrix",), f"{exc}; allowed {allowed}", rows, allowed)
        extra.update(correlation_kind=kind, correlation_repair=repair, copula=copula,
                     copula_df=df)
        return tuple(labels), _frozen(m), extra

    def shocks(self, table, seg_names, base_year) -> tuple[Shock, ...]:
        path = ("shocks",)
        self.table(table, path)
        self.count(table, path, MAX_SHOCKS, "shocks")
        out = []
        for name, spec in table.items():
            p = path + (name,)
            self.name(name, p, "shock")
            self.keys(spec, p, ("probability", "severity", "effects"),
                      ("enabled", "forced", "forced_only", "rationale"))
            prob = self.number(spec["probability"], p + ("probability",), (0.0, 1.0, True, True),
                               "an annual probability")
            severity = self.dist(spec["severity"], p + ("severity",))
            enabled = self.boolean(spec.get("enabled", True), p + ("enabled",))
            rationale = self.string(spec.get("rationale", ""), p + ("rationale",), kind="text")
            effects_raw = spec["effects"]
            if not isinstance(effects_raw, list) or not effects_raw:
                allowed = "one or more [[shocks.<name>.effects]] tables"
                self.fail(p + ("effects",), f"{_show(effects_raw)} is not allowed; allowed "
                          f"{allowed}", effects_raw, allowed)
            self.count(effects_raw, p + ("effects",), MAX_EFFECTS, "effects")
            effects = tuple(self.effect(e, p + ("effects", i), seg_names)
                            for i, e in enumerate(effects_raw))
            forced = self.forced(spec.get("forced", []), p + ("forced",), base_year)
            only = self.boolean(spec.get("forced_only", False), p + ("forced_only",))
            out.append(Shock(name, prob, severity, effects, rationale, enabled, forced, only))
        return tuple(out)

    def array(self, value, path, what: str) -> list:
        if not isinstance(value, list):
            self.fail(path, f"{_show(value)} is {_type_name(value)}; allowed an array of {what}",
                      value, f"an array of {what}")
        return value

    def year(self, value, path, base_year: int) -> int:
        return self.integer(value, path, base_year + 1, base_year + MAX_HORIZON)

    def severity(self, value, path) -> float:
        return self.number(value, path, (0.0, MAX_SEVERITY, True, True), "a severity multiplier")

    def forced(self, value, path, base_year) -> tuple[Forced, ...]:
        """``forced = [{ year = 2025, severity = 2.0 }]`` of a shock (a stressed scenario)."""
        out = []
        for i, spec in enumerate(self.array(value, path, "tables { year, severity }")):
            q = path + (i,)
            self.keys(spec, q, ("year",), ("severity",))
            year = self.year(spec["year"], q + ("year",), base_year)
            if any(f.year == year for f in out):
                self.fail(q + ("year",), f"year {year} is forced twice", year, "each year once")
            sev = self.severity(spec["severity"], q + ("severity",)) if "severity" in spec \
                else None
            out.append(Forced(year, sev))
        return tuple(out)

    def stresses(self, table, drivers, shocks, base_year, terminal_roic, raw_drivers):
        """``[stress.<name>]`` tables: named stress scenarios (forced shocks, shifted drivers)."""
        path = ("stress",)
        self.table(table, path)
        self.count(table, path, MAX_STRESSES, "stress scenarios")
        by_driver = {d.name: d for d in drivers}
        shock_names = [s.name for s in shocks]
        out = []
        for name, spec in table.items():
            p = path + (name,)
            self.name(name, p, "stress scenario")
            self.keys(spec, p, (), ("force", "shift", "rationale"))
            if not spec.get("force") and not spec.get("shift"):
                allowed = "at least one force = [...] or shift = [...] entry"
                self.fail(p, f"stress scenario {name!r} changes nothing; allowed {allowed}",
                          spec, allowed)
            force = []
            for i, f in enumerate(self.array(spec.get("force", []), p + ("force",),
                                             "tables { shock, year, severity, only }")):
                q = p + ("force", i)
                self.keys(f, q, ("shock", "year"), ("severity", "only"))
                shock = self.string(f["shock"], q + ("shock",), shock_names or ["(no shocks)"])
                year = self.year(f["year"], q + ("year",), base_year)
                sev = self.severity(f["severity"], q + ("severity",)) if "severity" in f else None
                only = self.boolean(f.get("only", False), q + ("only",))
                for g in force:
                    if g.shock == shock and g.year == year:
                        self.fail(q, f"shock {shock!r} is forced in {year} twice", f,
                                  "each shock and year once")
                    if g.shock == shock and g.only != only:
                        self.fail(q + ("only",), f"'only' of shock {shock!r} differs between its "
                                  "force entries", only, "the same 'only' for every entry")
                force.append(StressForce(shock, year, sev, only))
            shift = []
            for i, f in enumerate(self.array(spec.get("shift", []), p + ("shift",),
                                             "tables { driver, add, scale }")):
                q = p + ("shift", i)
                self.keys(f, q, ("driver",), ("add", "scale"))
                driver = self.string(f["driver"], q + ("driver",), list(by_driver))
                if "add" not in f and "scale" not in f:
                    self.fail(q, "a shift needs 'add' and/or 'scale'", f,
                              "add = <number> and/or scale = <positive number>")
                add = self.number(f.get("add", 0.0), q + ("add",))
                scale = self.number(f.get("scale", 1.0), q + ("scale",),
                                    (0.0, math.inf, False, False), "a positive factor")
                if any(g.driver == driver for g in shift):
                    self.fail(q + ("driver",), f"driver {driver!r} is shifted twice", driver,
                              "each driver once")
                d = by_driver[driver]
                role = "growth" if driver.startswith("growth.") else driver.split(".")[0]
                rng = _BASE_RANGE[role]
                for b in d.base:
                    nb = b * scale + add
                    if not _contains(nb, *rng):
                        key = "add" if "add" in f else "scale"
                        self.fail(q + (key,), f"moves the base of {driver!r} from {_show(b)} to "
                                  f"{nb:.6g}, out of range; allowed a base in {_interval(*rng)}",
                                  f[key], _interval(*rng))
                shift.append(StressShift(driver, add, scale))
            if any(f.driver in ("wacc", "terminal_growth") for f in shift):
                moved = tuple(_shifted(d, shift) for d in drivers)
                try:
                    self.check_discounting(moved, shocks, terminal_roic, raw_drivers)
                except ScenarioError as exc:
                    self.fail(p + ("shift",), f"under this stress, {exc.reason}", None,
                              exc.allowed)
            if shift or any(f.severity is not None for f in force):
                moved = tuple(_shifted(d, shift) for d in drivers)
                forced = {}
                for f in force:
                    if f.severity is not None:
                        forced.setdefault(f.shock, []).append(f.severity)
                try:
                    self.check_reach(moved, shocks, raw_drivers, forced)
                except ScenarioError as exc:
                    where = "shift" if shift and exc.key_path.startswith("drivers") else "force"
                    self.fail(p + (where if where in spec else "shift",),
                              f"under this stress, {exc.reason}", None, exc.allowed)
            rationale = self.string(spec.get("rationale", ""), p + ("rationale",), kind="text")
            out.append(Stress(name, tuple(force), tuple(shift), rationale))
        return tuple(out)

    def effect(self, spec, p, seg_names) -> Effect:
        self.keys(spec, p, ("target", "size"), ("profile", "segments", "cap", "rationale"))
        targets = list(SHOCK_TARGETS)
        target = spec["target"]
        if not isinstance(target, str) or target not in SHOCK_TARGETS:
            self.fail(p + ("target",), f"{_show(target)} is not a shock target"
                      f"{_did_you_mean(target, targets)}; allowed {', '.join(targets)}", target,
                      ", ".join(targets))
        size = self.number(spec["size"], p + ("size",), _RATE)
        profile = self.per_year(spec.get("profile", [1.0]), p + ("profile",), _RATE,
                                scalar_ok=False)
        segs_raw = spec.get("segments", [])
        if not isinstance(segs_raw, list):
            self.fail(p + ("segments",), f"{_show(segs_raw)} is {_type_name(segs_raw)}; allowed "
                      "an array of segment names", segs_raw, "an array of segment names")
        if segs_raw and target not in ("growth", "churn"):
            self.fail(p + ("segments",), f"segments only apply to targets 'growth' and 'churn', "
                      f"not {target!r}", segs_raw, "no segments for this target")
        segs = []
        for i, s in enumerate(segs_raw):
            self.string(s, p + ("segments", i))
            if s not in seg_names:
                self.fail(p + ("segments", i), f"{_show(s)} is not a segment"
                          f"{_did_you_mean(s, seg_names)}; allowed {', '.join(seg_names)}", s,
                          ", ".join(seg_names))
            if s in segs:
                self.fail(p + ("segments", i), f"{_show(s)} is listed twice", s,
                          "each segment once")
            segs.append(s)
        cap = self.number(spec.get("cap", math.inf), p + ("cap",),
                          (0.0, math.inf, False, True), "a positive number")
        rationale = self.string(spec.get("rationale", ""), p + ("rationale",), kind="text")
        return Effect(target, size, profile, tuple(segs), cap, rationale)

    def schedules(self, table, notes) -> dict:
        path = ("schedules",)
        required = tuple(k for k, v in _SCHEDULES.items() if v[3])
        optional = tuple(k for k, v in _SCHEDULES.items() if not v[3])
        self.keys(table, path, required, optional)
        out = {}
        for key, (field, kind, rng, _req) in _SCHEDULES.items():
            spec = table.get(key, {"value": 0.0} if kind == "scalar" else {"values": [0.0]})
            p = path + (key,)
            if kind == "scalar":
                self.keys(spec, p, ("value",), ("rationale",))
                out[field] = self.number(spec["value"], p + ("value",), rng)
            else:
                self.keys(spec, p, ("values", "base") if key == "debt" else ("values",),
                          ("rationale",))
                out[field] = self.per_year(spec["values"], p + ("values",), rng)
                if key == "debt":
                    out["debt_base"] = self.number(spec["base"], p + ("base",), rng)
            self.note(notes, key, spec, p)
        return out

    def forecast(self, table, notes) -> Forecast:
        path = ("forecast",)
        series = ("revenue", "net_profit_attributable", "eps")
        self.keys(table, path, (), (*series, "rationale"))
        self.note(notes, "forecast", table, path)
        values = {}
        for key in series:
            if key in table:
                values[key] = self.per_year(table[key], path + (key,), _MONEY, scalar_ok=False)
        lengths = {len(v) for v in values.values()}
        if len(lengths) > 1:
            first = next(iter(values))
            for key, v in values.items():
                if len(v) != len(values[first]):
                    allowed = f"{len(values[first])} values, one per forecast year like {first!r}"
                    self.fail(path + (key,), f"{len(v)} values do not match {first!r} "
                              f"({len(values[first])}); allowed {allowed}", list(v), allowed)
        return Forecast(**values)

    def history(self, table, notes) -> dict:
        path = ("history",)
        self.table(table, path)
        self.note(notes, "history", table, path)
        self.count(table, path, MAX_HISTORY_SERIES + ("rationale" in table), "history series")
        out = {}
        for series, years in table.items():
            if series == "rationale":
                continue
            p = path + (series,)
            self.free_text(series, p, False, MAX_LINE_CHARS)
            self.table(years, p)
            out[series] = {}
            for year, value in years.items():
                if not _YEAR.fullmatch(year):  # not str.isdigit: it accepts "²"
                    self.fail(p + (year,), f"{_brief(year)!r} is not a year; allowed a year "
                              "like 2024", year, "a year")
                out[series][int(year)] = self.number(value, p + (year,), _MONEY)
        return out

    def free_notes(self, table, notes) -> None:
        path = ("notes",)
        self.table(table, path)
        self.count(table, path, MAX_NOTES, "notes")
        for key, value in table.items():
            self.free_text(key, path + (key,), False, MAX_LINE_CHARS)
            if key in notes:
                self.fail(path + (key,), f"note {key!r} clashes with the rationale of "
                          f"[{key}] or [schedules.{key}]", value, "a different name")
            notes[key] = self.string(value, path + (key,), kind="text")

    # -- cross checks -------------------------------------------------------------------------
    def check_discounting(self, drivers, shocks, terminal_roic, raw) -> None:
        """WACC above terminal growth on every path; terminal reinvestment g / ROIC below 1."""
        by_name = {d.name: d for d in drivers}
        w_lo = _driver_bound(by_name["wacc"], low=True)
        g_hi = _driver_bound(by_name["terminal_growth"], low=False)
        shock_lo = 0.0
        for s in shocks:
            for e in s.effects:
                if e.target == "wacc":
                    sev_lo = s.severity.support()[0]
                    if sev_lo < 0.0 or any(e.size * x < 0.0 for x in e.profile):
                        shock_lo -= e.cap
        lowest = w_lo + shock_lo
        if not lowest - g_hi >= MIN_DISCOUNT_SPREAD:
            d_w, d_g = by_name["wacc"], by_name["terminal_growth"]
            path = ("drivers", "wacc", "dist")
            if math.isinf(w_lo) or math.isinf(g_hi) or math.isinf(shock_lo):
                allowed = ("bounded distributions (e.g. TruncatedNormal) for wacc and "
                           "terminal_growth, so that WACC > terminal growth on every path")
                self.fail(path, f"WACC ({d_w.dist!r}, {d_w.mode}) can fall to or below "
                          f"terminal growth ({d_g.dist!r}, {d_g.mode}) on some path; allowed "
                          f"{allowed}", raw["wacc"].get("dist"), allowed)
            allowed = (f"lowest possible WACC >= highest possible terminal growth + "
                       f"{MIN_DISCOUNT_SPREAD:g}")
            self.fail(path, f"lowest possible WACC {lowest:.6g} (base {min(d_w.base):g} with "
                      f"{d_w.dist!r}) is not above the highest possible terminal growth "
                      f"{g_hi:.6g} (base {max(d_g.base):g} with {d_g.dist!r}) by at least "
                      f"{MIN_DISCOUNT_SPREAD:g}; allowed {allowed}", lowest, allowed)
        if not terminal_roic > g_hi:
            allowed = f"terminal_roic > highest possible terminal growth {g_hi:.6g}"
            self.fail(("schedules", "terminal_roic", "value"), f"{_show(terminal_roic)} would "
                      f"reinvest g / ROIC >= 100% of terminal profit; allowed {allowed}",
                      terminal_roic, allowed)

    def check_reach(self, drivers, shocks, raw, forced=None) -> None:
        """Every driver, with the shock effects on its target, and every effect-only target
        stays within the limits of :mod:`simcore.model.limits` at the most extreme draws a run can
        make, so no path can overflow (``forced``: a stress's forced severities by shock)."""
        forced = forced or {}
        names = [d.name for d in drivers]
        cop = self.copula
        labels = [names.index(lab) for lab in cop.labels] if cop is not None else []
        df = float(getattr(cop, "df", 0.0)) if cop is not None else 0.0
        zs = limits.score_bounds([d.persistence for d in drivers], labels,
                                 None if cop is None else cop.factor, df)
        if not np.isfinite(zs).all():
            allowed = "a larger df, fewer or less correlated labels, or the gaussian copula"
            self.fail(("correlation", "df"), f"with df = {df:g} the Student-t copula can turn "
                      f"an extreme draw into an infinite normal score; allowed {allowed}", df,
                      allowed)
        effects: dict = {}  # target (growth/churn: (target, segment)) -> [(path, lo, hi)]
        segs = [n.split(".", 1)[1] for n in names if n.startswith("growth.")]
        for s in shocks:
            extra = [f.severity for f in s.forced if f.severity is not None]
            s_lo, s_hi = limits.severity_range(s.severity, extra + forced.get(s.name, []))
            if not max(-s_lo, s_hi) <= MAX_SEVERITY:
                allowed = f"severities within [-{MAX_SEVERITY:g}, {MAX_SEVERITY:g}]"
                self.fail(("shocks", s.name, "severity"), f"{s.severity!r} reaches "
                          f"{s_lo:.6g} .. {s_hi:.6g} at the most extreme draws of a run; allowed "
                          f"{allowed}", s.severity.to_dict(), allowed)
            for i, e in enumerate(s.effects):
                part = (("shocks", s.name, "effects", i),
                        *limits.effect_range(e.size, e.profile, e.cap, s_lo, s_hi))
                keys = ([(e.target, g) for g in (e.segments or segs)]
                        if e.target in ("growth", "churn") else [e.target])
                for key in keys:
                    effects.setdefault(key, []).append(part)
        for d, z in zip(drivers, zs, strict=True):
            spec = raw.get(d.name, {})
            path = ("drivers", d.name, "dist" if "dist" in spec else "base")
            lo, hi = limits.ppf_z_range(d.dist, float(z))
            parts = [(path, *limits.driver_range(d.base, d.mode, lo, hi))]
            role = "growth" if d.name.startswith("growth.") else d.name.split(".")[0]
            target = ("growth", d.name[7:]) if role == "growth" else d.name
            self.within(d.name, parts + effects.pop(target, []), limits.role_range(role),
                        f"{d.dist!r} ({d.mode}) at a normal score of +-{z:.4g}, the most its "
                        f"copula and persistence allow")
        for target, parts in effects.items():  # effects on churn, one-off loss, multiples
            name = target if isinstance(target, str) else f"{target[0]} of {target[1]}"
            self.within(name, parts, limits.RATE_RANGE, "")

    def within(self, what: str, parts, allowed_range, how: str) -> None:
        """``parts`` ((path, low, high) ranges of a driver and the effects on it) add up to a
        range inside ``allowed_range``, else fail at the part that takes it outside."""
        low, high = allowed_range
        lo = sum(p[1] for p in parts)
        hi = sum(p[2] for p in parts)
        if low <= lo and hi <= high:
            return
        # blame a part that is out of range by itself, else the effect that adds the most
        effects = [p for p in parts if p[0][0] != "drivers"] or parts
        if not hi <= high:
            bad = [p for p in parts if not p[2] <= high] or [max(effects, key=lambda p: p[2])]
        else:
            bad = [p for p in parts if not p[1] >= low] or [min(effects, key=lambda p: p[1])]
        path = bad[0][0]
        if path[0] == "drivers":
            by = f" ({how})" if how else ""
        else:
            by = f" (this effect alone {bad[0][1]:.6g} .. {bad[0][2]:.6g})"
        with_effects = " with shock effects" if len(parts) > 1 else ""
        allowed = f"{what} within [{low:g}, {high:g}] (docs/model.md, Input limits)"
        self.fail(path, f"{what}{with_effects} can reach {lo:.6g} .. {hi:.6g} at the most "
                  f"extreme draws of a run{by}; allowed {allowed}", [lo, hi], allowed)


def _shifted(d: Driver, shift) -> Driver:
    """``d`` with the stress shifts applied to its base (``base * scale + add``)."""
    for f in shift:
        if f.driver == d.name:
            return replace(d, base=tuple(b * f.scale + f.add for b in d.base))
    return d


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.flags.writeable = False
    return a


def _driver_bound(d: Driver, low: bool) -> float:
    """Lowest (``low``) or highest value a driver can take in any year."""
    s_lo, s_hi = d.dist.support()
    vals = []
    for b in d.base:
        if d.mode == "add":
            vals += [b + s_lo, b + s_hi]
        else:
            vals += [0.0 if b == 0.0 else b * s for s in (s_lo, s_hi)]
    return min(vals) if low else max(vals)


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
        return _Reader(text, source).read(doc)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ScenarioError(f"not valid TOML: {exc}", source=source,
                            line=int(m.group(1)) if m else None,
                            allowed="TOML 1.0 syntax") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        allowed = "arrays and inline tables nested a few levels deep, as the layout needs"
        raise ScenarioError(f"arrays or inline tables are nested too deeply to read; allowed "
                            f"{allowed}", source=source, line=_LineIndex(text).deep_line,
                            allowed=allowed) from None


def _too_large(size: int, source: str) -> ScenarioError:
    allowed = f"at most {MAX_FILE_BYTES:,} bytes"
    return ScenarioError(f"the scenario is {size:,} bytes, too large; allowed {allowed}",
                         source=source, value=size, allowed=allowed)


_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def load_scenario(path) -> Scenario:
    """A validated :class:`Scenario` from a TOML file (UTF-8, a leading byte-order mark is
    ignored). Only a regular file of at most ``MAX_FILE_BYTES`` is read: a FIFO, a device (a
    link to ``/dev/zero``), a directory or a larger file is refused before reading it."""
    p = Path(path)
    source = str(path)
    allowed = "a regular TOML file"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)  # non-blocking: opening a FIFO must not wait for a writer
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        hint = ""
        if p.stem in _builtin_names():
            hint = f"; for the built-in scenario use builtin_scenario({p.stem!r})"
        raise FileNotFoundError(f"scenario file {str(p)!r} not found{hint}") from None
    except IsADirectoryError:
        raise ScenarioError(f"is a directory, not a file; allowed {allowed}", source=source,
                            allowed=allowed) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in _FILE_KINDS if test(info.st_mode)), "a special file")
            raise ScenarioError(f"is {kind}, not a regular file; allowed {allowed}",
                                source=source, allowed=allowed)
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
        raise ScenarioError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                            source=source, allowed="a UTF-8 TOML file") from None
    return loads_scenario(text, source=source)


def _scenario_dir():
    return resources.files("simcore").joinpath("scenarios")


def _builtin_names() -> list[str]:
    return sorted(f.name[:-5] for f in _scenario_dir().iterdir() if f.name.endswith(".toml"))


def builtin_scenario(name: str) -> Scenario:
    """A scenario shipped with the package, by name (see :func:`list_scenarios`)."""
    names = _builtin_names()
    if name not in names:
        raise ValueError(f"no built-in scenario {name!r}{_did_you_mean(name, names)}; "
                         f"allowed {', '.join(names)}")
    text = _scenario_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return loads_scenario(text, source=f"simcore/scenarios/{name}.toml")


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
def _fmt_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        return _fmt_float(float(v))
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_fmt_key(str(k))} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple | np.ndarray):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} ({type(v).__name__}) to TOML")


def _stress_entry(entry, defaults: dict) -> dict:
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

    def kv(key: str, value) -> None:
        lines.append(f"{_fmt_key(key)} = {_value(value)}")

    def header(*path, array: bool = False) -> None:
        name = format_key_path(path)
        lines.extend(["", f"[[{name}]]" if array else f"[{name}]"])

    def rationale(text: str) -> None:
        if text:
            kv("rationale", text)

    def per_year(values) -> list | float:
        return list(values) if len(values) != 1 else values[0]

    kv("schema_version", SCHEMA_VERSION)
    kv("name", sc.name)
    kv("ticker", sc.ticker)
    kv("currency", sc.currency)
    kv("description", sc.description)
    kv("source", sc.source)
    kv("base_year", int(sc.base_year))
    kv("horizon", int(sc.horizon))

    header("market")
    kv("price", sc.market_price)
    kv("date", sc.market_date)
    kv("shares", sc.shares)
    rationale(notes.pop("market", ""))

    for seg in sc.segments:
        header("segments", seg.name)
        kv("revenue", seg.base_revenue)
        rationale(seg.rationale)

    for d in sc.drivers:
        header("drivers", d.name)
        kv("base", per_year(d.base))
        kv("mode", d.mode)
        kv("persistence", d.persistence)
        kv("dist", d.dist.to_dict())
        rationale(d.rationale)

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
        lines.extend(f"    {_value(list(row))}," for row in np.asarray(sc.correlation))
        lines.append("]")
        rationale(note)

    for s in sc.shocks:
        header("shocks", s.name)
        kv("probability", s.probability)
        kv("enabled", s.enabled)
        kv("severity", s.severity.to_dict())
        if s.forced:
            kv("forced", [{"year": f.year} if f.severity is None
                          else {"year": f.year, "severity": f.severity} for f in s.forced])
        if s.forced_only:
            kv("forced_only", True)
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

    for st in sc.stresses:
        header("stress", st.name)
        if st.force:
            kv("force", [_stress_entry(f, {"severity": None, "only": False}) for f in st.force])
        if st.shift:
            kv("shift", [_stress_entry(f, {"add": 0.0, "scale": 1.0}) for f in st.shift])
        rationale(st.rationale)

    for key, (field, kind, _rng, _req) in _SCHEDULES.items():
        header("schedules", key)
        value = getattr(sc, field)
        if kind == "scalar":
            kv("value", value)
        else:
            if key == "debt":
                kv("base", sc.debt_base)
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
