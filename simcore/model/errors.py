"""The error of a scenario that breaks a rule, and how its messages show keys and values.

A :class:`ScenarioError` names where the problem is as a key path of the scenario file layout
(``drivers."growth.x".persistence``), whether the scenario was read from a file
(:mod:`simcore.io.scenario_file` adds the file and the line) or built in Python
(:mod:`simcore.model.validate`). Values are shown as they would be written in TOML.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import TypeAlias

__all__ = ["BARE_KEY", "KeyPath", "ScenarioError", "format_key_path"]

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # a TOML key that needs no quotes
KeyPath: TypeAlias = "tuple[str | int, ...]"  # keys of tables and indices of arrays


class ScenarioError(ValueError):
    """A scenario (a file, a string or a Python object) that cannot be used; the message says
    where and why.

    Attributes: ``source`` (file), ``key_path`` (e.g. ``drivers."growth.x".persistence``),
    ``path`` (the same as a tuple of keys and array indices), ``line`` (1-based, or None),
    ``attribute`` (for a scenario built in Python, where the value is on the object, e.g.
    ``drivers[0].persistence``, or ""), ``value`` (the offending value, or None), ``allowed``
    and ``reason`` (the message without the place).
    """

    def __init__(
        self,
        message: str,
        *,
        source: str = "<string>",
        key_path: str = "",
        line: int | None = None,
        value: object = None,
        allowed: str = "",
        path: KeyPath = (),
        attribute: str = "",
    ) -> None:
        self.source = source
        self.path = tuple(path)
        self.key_path = key_path or format_key_path(
            tuple(brief(k, 80) if isinstance(k, str) else k for k in self.path)
        )
        self.line = line
        self.attribute = attribute
        self.value = value
        self.allowed = allowed
        self.reason = message
        where = self.key_path or "(top level)"
        if line is not None:
            where += f" (line {line})"
        elif attribute:
            where += f" ({attribute})"
        super().__init__(f"{source}: {where}: {message}")

    def located(self, source: str, line: int | None = None, attribute: str = "") -> ScenarioError:
        """The same error, placed in ``source`` at ``line`` (a file) or ``attribute``."""
        return ScenarioError(
            self.reason,
            source=source,
            key_path=self.key_path,
            line=line,
            value=self.value,
            allowed=self.allowed,
            path=self.path,
            attribute=attribute,
        )


# -- keys -----------------------------------------------------------------------------------------
def toml_string(s: str) -> str:
    """``s`` as a TOML basic string: JSON's escapes, and ``\\uXXXX`` (``\\UXXXXXXXX``) for any
    other character that is not printable (DEL, format characters, separators), so the text
    loads back equal and no message prints such a character raw. Lone surrogates stay (TOML
    has no escape for them; the text checks refuse them with a message)."""
    out = json.dumps(s, ensure_ascii=False)
    if out.isprintable():
        return out
    return "".join(
        c
        if c.isprintable() or unicodedata.category(c) == "Cs"
        else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
        for c in out
    )


def fmt_key(part: str) -> str:
    """One key as TOML writes it: bare, or quoted."""
    return part if BARE_KEY.fullmatch(part) else toml_string(part)


def brief(s: str, n: int = 60) -> str:
    """``s`` cut to about ``n`` characters for a message, saying how long it was."""
    return s if len(s) <= n else f"{s[: n - 10]}...({len(s):,} characters)"


def format_key_path(path: Iterable[str | int]) -> str:
    """``("drivers", "growth.x", "dist")`` -> ``drivers."growth.x".dist``; ints index arrays."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + fmt_key(part)
    return out


# -- values ---------------------------------------------------------------------------------------
def fmt_float(x: float) -> str:
    """A float as TOML writes it: ``2`` for 2.0, ``inf``, ``nan``, else its repr."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def show(value: object) -> str:
    """A value as it would be written in TOML (for messages)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(brief(value))
    if isinstance(value, float):
        return fmt_float(value)
    if isinstance(value, dict):
        inner = ", ".join(
            f"{fmt_key(brief(str(k)))} = {show(v)}" for k, v in list(value.items())[:8]
        )
        text = "{ " + inner + (" ..." if len(value) > 8 else "") + " }"
        return text if len(text) <= 120 else text[:114] + " ... }"
    if isinstance(value, list | tuple):
        text = (
            "["
            + ", ".join(show(v) for v in value[:20])
            + (", ..." if len(value) > 20 else "")
            + "]"
        )
        return text if len(text) <= 80 else text[:76] + " ...]"
    return str(value)


def type_name(value: object) -> str:
    """``"a boolean"``, ``"a string"``, ``"a table"``, ``"an array"``, ``"an integer"``, ..."""
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


def interval(low: float, high: float, low_closed: bool, high_closed: bool) -> str:
    """``(0, 1e+15]``: the range ``(low, high, low_closed, high_closed)`` for a message."""
    lo = "[" if low_closed else "("
    hi = "]" if high_closed else ")"
    return f"{lo}{_fmt_bound(float(low))}, {_fmt_bound(float(high))}{hi}"


def _fmt_bound(x: float) -> str:
    """A bound for a message: ``1e+15`` rather than ``1000000000000000.0`` where exact."""
    short = f"{x:g}"
    return short if float(short) == x else fmt_float(x)


def contains(x: float, low: float, high: float, low_closed: bool, high_closed: bool) -> bool:
    """Whether ``x`` lies in the range ``(low, high, low_closed, high_closed)``."""
    above = x >= low if low_closed else x > low
    below = x <= high if high_closed else x < high
    return above and below


def did_you_mean(word: object, options: Iterable[object]) -> str:
    """`` (did you mean 'x'?)`` for the option closest to ``word``, or ``""``."""
    names = [str(o) for o in options]
    hint = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    if not hint and str(word):  # an abbreviation: "ai" for "ai_cloud"
        hint = [o for o in names if o.startswith(str(word))][:2]
        hint = hint if len(hint) == 1 else []
    return f" (did you mean {hint[0]!r}?)" if hint else ""
