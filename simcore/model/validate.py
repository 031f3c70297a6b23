"""Every domain rule of a scenario, checked on the Python objects: :func:`validate`.

A :class:`~simcore.model.scenario.Scenario` is checked the same way whether it was read from a
file (:mod:`simcore.io.scenario_file` builds it, then calls :func:`validate`) or built in
Python (``simulate`` calls :func:`validate`): each value's type and range, the per-year arrays'
lengths, names and texts, the correlation block (square, symmetric, unit diagonal, positive
semi-definite unless ``repair = "nearest"``), shocks' targets and segments, stresses that name
existing shocks and drivers, discounting (WACC above terminal growth on every path), and every
size and magnitude limit of :mod:`simcore.model.limits`, including the *reach* of every driver
and shock effect at the most extreme draws of a run (:meth:`_Validator.check_reach`).

The first problem raises a :class:`~simcore.model.errors.ScenarioError` whose key path is that
of the scenario file layout (``drivers."growth.x".persistence``), so a file's reader can add the
line of that key. The few functions a reader needs before it can build an object (a
distribution's parameters, the shape and entries of a correlation matrix) are public here, so
that each rule has one copy.
"""

from __future__ import annotations

import datetime
import math
import numbers
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias, TypeGuard

import numpy as np

from distributions import Distribution, Param
from simcore.model import limits
from simcore.model.errors import (
    KeyPath,
    ScenarioError,
    brief,
    contains,
    did_you_mean,
    interval,
    show,
    type_name,
)
from simcore.model.layout import SEGMENT_DRIVERS, SEGMENT_TARGETS
from simcore.model.limits import (
    MAX_EFFECTS,
    MAX_EMPIRICAL_POINTS,
    MAX_FADE_YEARS,
    MAX_HISTORY,
    MAX_HISTORY_SERIES,
    MAX_HORIZON,
    MAX_LINE_CHARS,
    MAX_MONEY,
    MAX_MULTIPLE,
    MAX_NAME_CHARS,
    MAX_NOTES,
    MAX_PARAMETER_ROWS,
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
    UNCERTAIN_FAMILIES,
)
from simcore.model.scenario import (
    FIXED_DRIVERS,
    SHOCK_TARGETS,
    Actual,
    Driver,
    Effect,
    Peer,
    Scenario,
    Shock,
    StressShift,
)

if TYPE_CHECKING:
    from distributions.copula import GaussianCopula, StudentTCopula

__all__ = [
    "SCHEDULE_DOMAINS",
    "attribute_of",
    "distribution_param",
    "integer",
    "matrix_shape",
    "real",
    "validate",
]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

# A range is (low, high, low_closed, high_closed).
_Range: TypeAlias = tuple[float, float, bool, bool]
# ``written(path)``: whether the source wrote the key ``path`` (see :func:`validate`)
_Written: TypeAlias = Callable[[KeyPath], bool]
_REAL: _Range = (-math.inf, math.inf, False, False)
# the magnitude limits of simcore.model.limits: money, rates
_MONEY = (-MAX_MONEY, MAX_MONEY, True, True)
_MONEY_NONNEG = (0.0, MAX_MONEY, True, True)
_MONEY_POS = (0.0, MAX_MONEY, False, True)
_RATE = (-MAX_RATE, MAX_RATE, True, True)
_RATE_NONNEG = (0.0, MAX_RATE, True, True)
_UNIT = (0.0, 1.0, True, True)

# Allowed range of a driver's ``base`` by role.
_BASE_RANGE = {
    "growth": (-1.0, 10.0, False, True),
    "margin": (-1.0, 1.0, True, True),
    "fixed_growth": (-1.0, 10.0, False, True),
    "capex_intensity": (0.0, MAX_RATE, True, True),
    "ratio": _UNIT,
    "interest_rate": _UNIT,
    "tax_rate": _UNIT,
    "multiple": (0.0, MAX_MULTIPLE, False, True),
    "wacc": (0.0, 1.0, False, True),
    "terminal_growth": (-1.0, 1.0, False, False),
}

# Schedules, in the file's order: Scenario field (= [schedules.<name>]) -> (kind, range).
_LIFE = (0.0, 100.0, False, True)
SCHEDULE_DOMAINS: dict[str, tuple[str, _Range]] = {
    # the balance sheet at the end of the base year
    "opening_cash": ("scalar", _MONEY_NONNEG),
    "opening_receivables": ("scalar", _MONEY_NONNEG),
    "opening_inventory": ("scalar", _MONEY_NONNEG),
    "opening_other_current_assets": ("scalar", _MONEY_NONNEG),
    "opening_fixed_assets": ("scalar", _MONEY_NONNEG),
    "opening_other_noncurrent_assets": ("scalar", _MONEY_NONNEG),
    "opening_debt": ("scalar", _MONEY_NONNEG),
    "opening_payables": ("scalar", _MONEY_NONNEG),
    "opening_other_current_liabilities": ("scalar", _MONEY_NONNEG),
    "opening_other_noncurrent_liabilities": ("scalar", _MONEY_NONNEG),
    "opening_equity": ("scalar", _MONEY),
    "opening_minority_equity": ("scalar", _MONEY),
    # income statement lines outside the drivers
    "other_income": ("per_year", _MONEY),
    "non_operating": ("per_year", _MONEY),
    "minority_share": ("per_year", _UNIT),
    "fixed_selling": ("scalar", _MONEY_NONNEG),
    "fixed_admin": ("scalar", _MONEY_NONNEG),
    "fixed_rnd": ("scalar", _MONEY_NONNEG),
    "tax_loss_carryforward": ("scalar", _MONEY_NONNEG),
    # capital and working capital
    "maintenance_capex": ("per_year", _RATE_NONNEG),
    "useful_life": ("scalar", _LIFE),
    "remaining_life": ("scalar", _LIFE),
    "other_noncurrent_assets": ("per_year", _MONEY_NONNEG),
    "other_noncurrent_liabilities": ("per_year", _MONEY_NONNEG),
    "receivables_ratio": ("per_year", _RATE_NONNEG),
    "inventory_ratio": ("per_year", _RATE_NONNEG),
    "other_current_assets_ratio": ("per_year", _RATE_NONNEG),
    "payables_ratio": ("per_year", _RATE_NONNEG),
    "other_current_liabilities_ratio": ("per_year", _RATE_NONNEG),
    # financing
    "repayment": ("per_year", _MONEY_NONNEG),
    "minimum_cash": ("per_year", _MONEY_NONNEG),
    "dividend_payout": ("per_year", _UNIT),
    "sweep": ("scalar", _UNIT),
    # valuation
    "terminal_roic": ("scalar", (MIN_TERMINAL_ROIC, MAX_TERMINAL_ROIC, True, True)),
    "fade_years": ("integer", (0, MAX_FADE_YEARS, True, True)),  # default 10
    "terminal_margin": ("optional", (-1.0, 1.0, True, True)),  # absent: each path's own
}
# Kinds: "scalar" (value, default 0), "per_year" (values), "integer" (value, a whole number;
# the Scenario field's default when absent), "optional" (value; None when absent).
SCHEDULE_DEFAULTS = {"fade_years": 10}
# the outputs an [actuals.<name>] table may report (and revenue.<segment>)
ACTUAL_OUTPUTS = ("revenue", "gross_profit", "operating_profit", "net_profit_attributable")
PEER_KINDS = ("ps", "pe", "ev_ebitda")  # the multiples a [peers.<name>] table may give

# Schedules a scenario must give; the others default to 0 (the other non-current lines: held at
# their opening balance).
REQUIRED_SCHEDULES = (
    "opening_cash",
    "opening_fixed_assets",
    "opening_debt",
    "opening_equity",
    "useful_life",
    "remaining_life",
    "terminal_roic",
)
# Schedules of the first model (schema 1), replaced by the three statements.
OLD_SCHEDULES = ("debt", "net_debt", "da_ratio", "capex_ratio", "wc_ratio")
# An opening balance sheet balances when assets - liabilities - equity is within this share of
# its assets (rounding error only; the statements then tie to the same precision every year).
BALANCE_TOLERANCE = 1e-9
# Tables whose ``rationale`` is kept in ``Scenario.notes`` under the table's name.
_NOTE_TABLES = ("market", "correlation", "forecast", "history", "valuation")


def validate(
    scenario: Scenario, *, source: str | None = None, written: _Written | None = None
) -> None:
    """Check every domain rule of ``scenario``; raise a ScenarioError at the first problem.

    ``source`` names the scenario in the message (default ``scenario '<name>'``).
    ``written(path) -> bool`` says whether the source wrote the key ``path`` (a tuple of keys
    and indices); a file leaves keys out and may write a one-value array as a number, and the
    messages name the keys it did write. Without it, the keys are those of the scenario's TOML
    form (:func:`simcore.io.scenario_file.dumps_scenario`).
    """
    try:
        _Validator(scenario, written).run()
    except ScenarioError as exc:
        where = f"scenario {scenario.name!r}" if source is None else source
        attribute = "" if written is not None else attribute_of(scenario, exc.path)
        raise exc.located(where, attribute=attribute) from None


# where a key of the file layout is on the Scenario object
_FIELD_OF: dict[KeyPath, str] = {
    ("market", "price"): "market_price",
    ("market", "shares"): "shares",
    ("market", "date"): "market_date",
    ("correlation", "labels"): "correlation_labels",
    ("correlation", "matrix"): "correlation",
    ("correlation", "kind"): "correlation_kind",
    ("correlation", "repair"): "correlation_repair",
    ("correlation", "copula"): "copula",
    ("correlation", "df"): "copula_df",
}
_TUPLES = {"segments": "segments", "drivers": "drivers", "shocks": "shocks", "stress": "stresses"}


def attribute_of(scenario: Scenario, path: KeyPath) -> str:
    """Where the key ``path`` of the file layout is on ``scenario``:
    ``("segments", "a", "revenue")`` -> ``segments[0].base_revenue``."""

    def indices(parts: Iterable[str | int]) -> str:
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)

    path = tuple(path)
    for n in (3, 2):
        if path[:n] in _FIELD_OF:
            return _FIELD_OF[path[:n]] + indices(path[n:])
    if not path:
        return ""
    first = path[0]
    if (
        len(path) >= 2
        and path[-1] == "rationale"
        and (first in _NOTE_TABLES or first == "schedules")
    ):
        return f"notes[{path[-2]!r}]"
    if first in _TUPLES:
        field = _TUPLES[first]
        items = getattr(scenario, field, ())
        names = [getattr(x, "name", None) for x in items] if isinstance(items, tuple | list) else []
        if len(path) < 2 or path[1] not in names:
            return field
        rest = ["base_revenue" if first == "segments" and p == "revenue" else p for p in path[2:]]
        return f"{field}[{names.index(path[1])}]" + indices(rest)
    if first == "schedules" and len(path) >= 2:
        return str(path[1]) + indices(path[3:])
    if first == "history" and len(path) >= 2:
        years = [
            y if isinstance(y, str) and y.isdigit() else repr(y) for y in path[2:3]
        ]  # int keys
        return f"history[{path[1]!r}]" + "".join(f"[{y}]" for y in years)
    if first == "notes" and len(path) >= 2:
        return f"notes[{path[1]!r}]"
    return str(first) + indices(path[1:])


# -- one value ------------------------------------------------------------------------------------
def _fail(path: KeyPath, message: str, value: object = None, allowed: str = "") -> NoReturn:
    raise ScenarioError(message, path=path, value=value, allowed=allowed)


def real(value: object, path: KeyPath, rng: _Range = _REAL, what: str = "a number") -> float:
    """``value`` as a float: a number (not a boolean) in ``rng``, else a ScenarioError."""
    allowed = what if rng == _REAL else f"{what} in {interval(*rng)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        tip = ""
        if isinstance(value, str) and value.strip().endswith("%"):
            tip = " (write a fraction, e.g. 0.05 for 5%)"
        _fail(path, f"{show(value)} is {type_name(value)}; allowed {allowed}{tip}", value, allowed)
    try:
        x = float(value)
    except OverflowError:  # an integer beyond the floats
        x = math.copysign(math.inf, value)
    if math.isnan(x) or not contains(x, *rng):
        _fail(
            path, f"{show(value)} is out of range; allowed {interval(*rng)}", value, interval(*rng)
        )
    return x


def integer(value: object, path: KeyPath, low: int, high: int) -> int:
    """``value``: an integer (not a boolean, not a float) in ``[low, high]``."""
    allowed = f"an integer in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(path, f"{show(value)} is {type_name(value)}; allowed {allowed}", value, allowed)
    n = int(value)
    if not low <= n <= high:
        _fail(path, f"{value} is out of range; allowed [{low}, {high}]", value, f"[{low}, {high}]")
    return n


def _string(
    value: object, path: KeyPath, choices: Sequence[str] | None = None, kind: str | None = None
) -> str:
    """A string: one of ``choices``, or free text of ``kind`` ``"line"`` (one line, at most
    MAX_LINE_CHARS) or ``"text"`` (newlines and tabs allowed, MAX_TEXT_CHARS)."""
    allowed = f"one of {', '.join(map(repr, choices))}" if choices else "a string"
    if not isinstance(value, str):
        _fail(path, f"{show(value)} is {type_name(value)}; allowed {allowed}", value, allowed)
    if choices and value not in choices:
        tip = did_you_mean(brief(value), choices)
        _fail(path, f"{show(value)} is not allowed{tip}; allowed {allowed}", value, allowed)
    if kind is not None:
        _free_text(
            value, path, kind == "text", MAX_TEXT_CHARS if kind == "text" else MAX_LINE_CHARS
        )
    return value


def _free_text(value: str, path: KeyPath, multiline: bool, limit: int) -> None:
    """Free text that reaches terminals, charts and the PDF: at most ``limit`` characters,
    no control or format characters (newlines and tabs in ``multiline`` text)."""
    if len(value) > limit:
        allowed = f"at most {limit:,} characters"
        _fail(
            path,
            f"{show(value)} is too long ({len(value):,} characters); allowed {allowed}",
            value,
            allowed,
        )
    problem = limits.text_problem(value, multiline)
    if problem:
        allowed = (
            "text without control or format characters (newlines and tabs are allowed)"
            if multiline
            else "one line of text without control or format "
            "characters (no ANSI escapes, line breaks or tabs)"
        )
        _fail(path, f"{show(value)} contains {problem}; allowed {allowed}", value, allowed)


def _boolean(value: object, path: KeyPath) -> bool:
    if not isinstance(value, bool):
        _fail(
            path,
            f"{show(value)} is {type_name(value)}; allowed true or false",
            value,
            "true or false",
        )
    return value


def _name(value: object, path: KeyPath, what: str) -> str:
    allowed = (
        f"a letter followed by letters, digits, '_' or '-', at most {MAX_NAME_CHARS} characters"
    )
    if not isinstance(value, str) or not _NAME.fullmatch(value) or len(value) > MAX_NAME_CHARS:
        _fail(
            path,
            f"{what} name {brief(str(value))!r} is not allowed; allowed {allowed}",
            value,
            allowed,
        )
    return value


def _unique(name: str, seen: set[str], path: KeyPath, what: str) -> None:
    """A name given once (a file cannot repeat a table; a Python tuple can)."""
    if name in seen:
        _fail(
            path,
            f"{what} {name!r} is defined twice; allowed each name once",
            name,
            "each name once",
        )
    seen.add(name)


def _count(keys: Sequence[str | int], path: KeyPath, limit: int, what: str) -> None:
    """At most ``limit`` entries (``keys``: their names, or indices; the first one beyond the
    limit is named)."""
    if len(keys) > limit:
        allowed = f"at most {limit} {what}"
        _fail(
            path + (keys[limit],),
            f"{len(keys)} {what} are too many; allowed {allowed}",
            len(keys),
            allowed,
        )


def _is_array(value: object) -> TypeGuard[list[Any] | tuple[Any, ...] | np.ndarray]:
    return isinstance(value, list | tuple) or (isinstance(value, np.ndarray) and value.ndim == 1)


def _items(value: object, path: KeyPath, allowed: str) -> list[Any]:
    """The entries of a tuple (or list) of dataclasses."""
    if not isinstance(value, list | tuple):
        _fail(path, f"{show(value)} is {type_name(value)}; allowed {allowed}", value, allowed)
    return list(value)


def distribution_param(p: Param, value: object, path: KeyPath) -> float:
    """One parameter of a distribution in its family's declared domain (:class:`Param`)."""
    rng = (p.low, p.high, p.low_closed, p.high_closed)
    x = real(value, path, rng, "an integer" if p.integer else "a number")
    if p.integer and x != int(x):
        _fail(path, f"{show(value)} is not an integer; allowed {p.interval()}", value, p.interval())
    return x


def matrix_shape(rows: object, k: int, path: KeyPath) -> None:
    """``rows``: ``k`` rows of ``k`` entries (one row and column per correlation label)."""
    shape_msg = f"a {k} x {k} array of numbers (one row and column per label)"
    if isinstance(rows, np.ndarray):
        rows = rows.tolist()
    if not isinstance(rows, list | tuple) or len(rows) != k:
        n_rows = len(rows) if isinstance(rows, list | tuple) else type_name(rows)
        _fail(path, f"{n_rows} rows; allowed {shape_msg}", rows, shape_msg)
    for i, row in enumerate(rows):
        if not isinstance(row, list | tuple) or len(row) != k:
            _fail(path + (i,), f"row {i} is {show(row)}; allowed {shape_msg}", row, shape_msg)


# -- the scenario -------------------------------------------------------------------------------
class _Validator:
    """The checks of one scenario, in the order of the file layout."""

    def __init__(self, scenario: Scenario, written: _Written | None) -> None:
        self.sc = scenario
        self.written = written
        # set by correlation(): its factor bounds the drivers' scores
        self.copula: GaussianCopula | StudentTCopula | None = None

    def has(self, path: KeyPath, default: bool) -> bool:
        """Whether the source wrote ``path``; ``default``: whether the TOML form would."""
        return default if self.written is None else bool(self.written(path))

    def run(self) -> None:
        sc = self.sc
        if not isinstance(sc.notes, dict):
            _fail(
                ("notes",),
                f"{show(sc.notes)} is {type_name(sc.notes)}; allowed a table",
                sc.notes,
                "a table",
            )
        _string(sc.name, ("name",), kind="line")
        _string(sc.currency, ("currency",), kind="line")
        _string(sc.ticker, ("ticker",), kind="line")
        _string(sc.description, ("description",), kind="text")
        _string(sc.source, ("source",), kind="line")
        integer(sc.base_year, ("base_year",), 1900, 2200)
        integer(sc.horizon, ("horizon",), 1, MAX_HORIZON)
        integer(sc.explicit_years, ("explicit_years",), 0, MAX_HORIZON)
        real(sc.market_price, ("market", "price"), _MONEY_POS)
        real(
            sc.shares,
            ("market", "shares"),
            (MIN_SHARES, MAX_SHARES, True, True),
            "a number of shares (millions)",
        )
        self.date(sc.market_date, ("market", "date"))
        self.rationale_note("market")
        self.segments()
        self.drivers()
        self.correlation()
        self.shocks()
        self.schedules()
        self.forecast()
        self.history()
        self.free_notes()
        self.valuation()
        self.actuals()
        self.nowcast()
        self.check_discounting(sc.drivers, sc.shocks)
        self.check_reach(sc.drivers, sc.shocks)
        if sc.multiples_centre == "peers":  # the multiples the run will use
            from simcore.model.peers import apply_peers

            self.check_reach(apply_peers(sc).drivers, sc.shocks)
        self.stresses()

    # -- values ---------------------------------------------------------------------------
    def per_year(
        self, values: object, path: KeyPath, rng: _Range = _REAL, one_as_number: bool = False
    ) -> None:
        """1..MAX_HORIZON numbers in ``rng``, one per year (the last extends). An element is
        named by its index unless the source wrote the array as one number (``dumps_scenario``
        writes a one-value driver base so: ``one_as_number``)."""
        if not _is_array(values):
            _fail(
                path,
                f"{show(values)} is {type_name(values)}; allowed an array of numbers",
                values,
                "an array of numbers",
            )
        values = list(values)
        if not values:
            allowed = f"1 to {MAX_HORIZON} values (extended by the last one)"
            _fail(path, f"an empty array is not allowed; allowed {allowed}", values, allowed)
        if len(values) > MAX_HORIZON:
            allowed = f"at most {MAX_HORIZON} values (the maximum horizon)"
            _fail(path, f"{len(values)} values is too many; allowed {allowed}", values, allowed)
        indexed = self.has(path + (0,), not (one_as_number and len(values) == 1))
        for i, v in enumerate(values):
            real(v, path + (i,) if indexed else path, rng)

    def valuation(self) -> None:
        """The centre of the multiples and the peer set (simcore.model.peers)."""
        sc = self.sc
        _string(sc.multiples_centre, ("valuation", "multiples"), choices=("market", "peers"))
        if not isinstance(sc.peers, tuple):
            _fail(
                ("peers",),
                f"{show(sc.peers)} is {type_name(sc.peers)}; allowed a tuple of Peer",
                sc.peers,
                "a tuple of Peer",
            )
        seen: set = set()
        for peer in sc.peers:
            p = ("peers", getattr(peer, "name", "?"))
            if not isinstance(peer, Peer):
                _fail(p, f"{show(peer)} is {type_name(peer)}; allowed a Peer", peer, "a Peer")
            self.sourced(peer, p, "peer", seen, "where the multiples come from")
            given = [k for k in PEER_KINDS if getattr(peer, k) is not None]
            if not given:
                allowed = "at least one of " + ", ".join(PEER_KINDS)
                _fail(p, f"peer {peer.name!r} gives no multiple; allowed {allowed}", None, allowed)
            for k in given:
                real(getattr(peer, k), p + (k,), (0.0, MAX_MULTIPLE, False, True), "a multiple")
        if sc.multiples_centre == "peers" and not sc.peers:
            allowed = "at least one [peers.<name>] table, or multiples = 'market'"
            _fail(
                ("valuation", "multiples"),
                f"'peers' is chosen but the scenario has no peers; allowed {allowed}",
                sc.multiples_centre,
                allowed,
            )

    def sourced(self, entry: Peer | Actual, p: KeyPath, what: str, seen: set, where: str) -> None:
        """A named, dated entry with a non-empty source and an optional rationale (a peer's
        multiples, reported actuals)."""
        _name(entry.name, p, what)
        _unique(entry.name, seen, p, what)
        self.date(entry.date, p + ("date",))
        _string(entry.source, p + ("source",), kind="line")
        if not entry.source.strip():
            allowed = f"{where} (e.g. 'Wind, 2025-06-05 close')"
            _fail(
                p + ("source",),
                f"an empty source is not allowed; allowed {allowed}",
                entry.source,
                "a source",
            )
        _string(entry.rationale, p + ("rationale",), kind="line")

    def actuals(self) -> None:
        """Reported figures: a forecast year, 1-12 months of it, a date, a source, and figures
        of the outputs they can be compared with."""
        sc = self.sc
        allowed_keys = ACTUAL_OUTPUTS + tuple(f"revenue.{s}" for s in sc.segment_names)
        seen: set = set()
        for a in sc.actuals:
            p = ("actuals", getattr(a, "name", "?"))
            if not isinstance(a, Actual):
                _fail(p, f"{show(a)} is {type_name(a)}; allowed an Actual", a, "an Actual")
            self.sourced(a, p, "actuals", seen, "where the figures were published")
            # earlier years are history: their part years give seasonal shares
            integer(a.year, p + ("year",), sc.base_year - MAX_HISTORY, sc.base_year + MAX_HORIZON)
            integer(a.months, p + ("months",), 1, 12)
            if a.share is not None:
                if a.months == 12:
                    _fail(
                        p + ("share",),
                        f"a share is for part years; actuals {a.name!r} report the full year "
                        "(months = 12); allowed no share",
                        a.share,
                        "no share",
                    )
                real(a.share, p + ("share",), (0.0, 1.0, False, False), "a seasonal share")
            if not a.values:
                allowed = "at least one of " + ", ".join(allowed_keys)
                _fail(p, f"actuals {a.name!r} give no figure; allowed {allowed}", None, allowed)
            for key, value in a.values:
                if key not in allowed_keys:
                    allowed = "one of " + ", ".join(allowed_keys)
                    _fail(
                        p + (key,),
                        f"{key!r} is not a figure the model forecasts; allowed {allowed}",
                        key,
                        allowed,
                    )
                real(value, p + (key,), _MONEY_NONNEG if key.startswith("revenue") else _MONEY)
            figures = dict(a.values)
            if "gross_profit" in figures and "revenue" in figures:
                if figures["gross_profit"] > figures["revenue"]:
                    _fail(
                        p + ("gross_profit",),
                        f"gross profit {figures['gross_profit']:g} is above the revenue "
                        f"{figures['revenue']:g} of the same period; allowed at most the revenue",
                        figures["gross_profit"],
                        "at most the revenue",
                    )

    def nowcast(self) -> None:
        """The as-of date of a nowcast, and every figure it conditions on usable (a reachable
        year-to-date growth, consistent segments, part years where last year is known)."""
        sc = self.sc
        if not sc.nowcast_as_of:
            return
        self.date(sc.nowcast_as_of, ("nowcast", "as_of"))
        from simcore.model.nowcast import pins

        try:
            now = pins(sc)[0]
        except ValueError as exc:
            _fail(("nowcast", "as_of"), str(exc), sc.nowcast_as_of, "usable actuals")
        for f, d in enumerate(sc.drivers):
            if d.uncertainty is not None and now.drv[0, f].any():
                allowed = "a nowcast of drivers without parameter uncertainty"
                _fail(
                    ("drivers", d.name, "uncertainty"),
                    f"the nowcast as of {sc.nowcast_as_of} conditions {d.name!r}, whose "
                    f"parameters are drawn per path; conditioning on a drawn parameter is not "
                    f"supported: remove the uncertainty table or the nowcast; allowed {allowed}",
                    d.name,
                    allowed,
                )

    def date(self, value: object, path: KeyPath) -> None:
        allowed = "a date, e.g. 2025-06-05"
        if isinstance(value, datetime.date):  # built in Python: the dataclass holds ISO text
            allowed = "a date as ISO text, e.g. '2025-06-05'"
            _fail(
                path,
                f"{type(value).__name__} {value.isoformat()} is not text; allowed {allowed}",
                value,
                allowed,
            )
        if isinstance(value, str):
            try:  # one spelling, YYYY-MM-DD: dates are compared as text
                if datetime.date.fromisoformat(value).isoformat() == value:
                    return
            except ValueError:
                pass
        _fail(path, f"{show(value)} is not a date; allowed {allowed}", value, allowed)

    def distribution(self, dist: object, path: KeyPath) -> None:
        if not isinstance(dist, Distribution):
            allowed = "a distribution, e.g. distributions.Normal(0, 0.1)"
            _fail(path, f"{show(dist)} is {type_name(dist)}; allowed {allowed}", dist, allowed)
        if type(dist).__init__ is Distribution.__init__:  # declared parameters
            spec = dist.to_dict()
            for p in type(dist).params:
                distribution_param(p, spec[p.name], path + (p.name,))
        if dist.family == "Empirical" and dist.data.size > MAX_EMPIRICAL_POINTS:
            n = dist.data.size
            allowed = f"at most {MAX_EMPIRICAL_POINTS:,} data points"
            _fail(
                path + ("data",), f"{n:,} data points are too many; allowed {allowed}", n, allowed
            )

    def parameter_draws(self, d: Driver, path: KeyPath) -> None:
        """A driver's parameter rows: parameters its family declares, 2 to
        MAX_PARAMETER_ROWS rows of numbers, each row a valid member of the family."""
        u = d.uncertainty
        assert u is not None
        family = d.dist.family
        if family not in UNCERTAIN_FAMILIES:
            allowed = f"a dist of one of the families {', '.join(UNCERTAIN_FAMILIES)}"
            _fail(
                path,
                f"parameters of a {family} cannot be drawn per path; allowed {allowed}",
                family,
                allowed,
            )
        declared = [q.name for q in type(d.dist).params]
        for k in u.params:
            if k not in declared:
                allowed = f"parameters of {family}: {', '.join(declared)}"
                _fail(
                    path + (k,),
                    f"{brief(str(k))!r} is not a parameter of {family}"
                    f"{did_you_mean(brief(str(k)), declared)}; allowed {allowed}",
                    k,
                    allowed,
                )
        n = len(u.rows)
        if not 2 <= n <= MAX_PARAMETER_ROWS:
            allowed = f"2 to {MAX_PARAMETER_ROWS:,} rows"
            _fail(path + (u.params[0],), f"{n:,} parameter rows; allowed {allowed}", n, allowed)
        fixed = {k: v for k, v in d.dist.to_dict().items() if k != "family"}
        for i, row in enumerate(u.rows):
            for k, v in zip(u.params, row, strict=True):
                real(v, path + (k, i))
            values = dict(zip(u.params, row, strict=True))
            try:
                type(d.dist)(**{**fixed, **values})
            except (TypeError, ValueError) as exc:
                allowed = f"rows that are each a valid {family}"
                named = [k for k in u.params if f"{k}=" in str(exc)] or list(u.params)
                _fail(path + (named[0], i), f"parameter row {i}: {exc}", values, allowed)
        _string(u.rationale, path + ("rationale",), kind="text")

    def note_path(self, key: str) -> KeyPath:
        """Where ``notes[key]`` is written: the ``rationale`` of the table it is named after
        (``[market]``, ``[schedules.debt]``, ...), else ``[notes]``."""
        table = ("schedules", key) if key in SCHEDULE_DOMAINS else (key,)
        if (key in _NOTE_TABLES or key in SCHEDULE_DOMAINS) and self.has(
            table + ("rationale",), True
        ):
            return table + ("rationale",)
        return ("notes", key)

    def rationale_note(self, key: str) -> None:
        path = self.note_path(key)
        if key in self.sc.notes and path[0] != "notes":
            _string(self.sc.notes[key], path, kind="text")

    # -- sections ---------------------------------------------------------------------------
    def segments(self) -> None:
        path = ("segments",)
        segments = _items(self.sc.segments, path, "a tuple of Segment")
        if not segments:
            _fail(
                path,
                "no segments; allowed at least one [segments.<name>] table",
                {},
                "at least one segment",
            )
        _count([s.name for s in segments], path, MAX_SEGMENTS, "segments")
        seen: set = set()
        for s in segments:
            p = path + (s.name,)
            _name(s.name, p, "segment")
            _unique(s.name, seen, p, "segment")
            real(
                s.base_revenue,
                p + ("revenue",),
                _MONEY_POS,
                "a positive number (base-year revenue)",
            )
            _string(s.rationale, p + ("rationale",), kind="text")
            _string(s.label, p + ("label",), kind="line")

    def drivers(self) -> None:
        path = ("drivers",)
        drivers = _items(self.sc.drivers, path, "a tuple of Driver")
        seg_names = [s.name for s in self.sc.segments]
        roles = [f"{r}.{s}" for r in SEGMENT_DRIVERS for s in seg_names] + list(FIXED_DRIVERS)
        seen: set = set()
        for d in drivers:
            name, p = d.name, path + (d.name,)
            if name not in roles:
                text = brief(str(name))
                if isinstance(name, str) and name.split(".")[0] in SEGMENT_DRIVERS:
                    seg = name.split(".", 1)[1]
                    msg = (
                        f"driver {text!r} names no segment"
                        f"{did_you_mean(brief(seg), seg_names)}; allowed segments "
                        f"{', '.join(seg_names)}"
                    )
                else:
                    msg = (
                        f"unknown driver role {text!r}{did_you_mean(text, roles)}; allowed "
                        f"{', '.join(roles)}"
                    )
                _fail(p, msg, name, ", ".join(roles))
            _unique(name, seen, p, "driver")
            self.per_year(d.base, p + ("base",), _BASE_RANGE[_role(name)], one_as_number=True)
            _string(d.mode, p + ("mode",), ("add", "mul"))
            self.distribution(d.dist, p + ("dist",))
            real(d.persistence, p + ("persistence",), _UNIT)
            _string(d.rationale, p + ("rationale",), kind="text")
            _string(d.label, p + ("label",), kind="line")
            if d.uncertainty is not None:
                self.parameter_draws(d, p + ("uncertainty",))
            for i, dist in enumerate(d.row_dists()):
                if d.mode == "mul" and dist.support()[0] < 0.0:
                    allowed = "a non-negative distribution (e.g. LogNormal, Gamma) for mode 'mul'"
                    where = p + (("dist",) if d.uncertainty is None else ("uncertainty",))
                    row = "" if d.uncertainty is None else f" (parameter row {i})"
                    _fail(
                        where,
                        f"{dist!r}{row} can be negative; allowed {allowed}",
                        dist.to_dict(),
                        allowed,
                    )
        for name in roles:
            if name not in seen:
                what = (
                    f"every segment needs a {name.split('.')[0]} driver"
                    if name.split(".")[0] in SEGMENT_DRIVERS
                    else "the model reads every fixed driver"
                )
                _fail(
                    path + (name,),
                    f"missing driver {name!r} ({what})",
                    None,
                    "a [drivers.<name>] table with a base (and usually a dist)",
                )

    def correlation(self) -> None:
        sc, path = self.sc, ("correlation",)
        self.copula = None
        labels = _items(sc.correlation_labels, path + ("labels",), "an array of driver names")
        if not labels:  # no copula: the drivers are independent
            return
        _string(sc.correlation_kind, path + ("kind",), ("pearson", "spearman"))
        repair = sc.correlation_repair
        if repair is not None:
            _string(repair, path + ("repair",), ("nearest",))
        copula = _string(sc.copula, path + ("copula",), ("gaussian", "student_t"))
        if copula == "student_t":
            real(sc.copula_df, path + ("df",), (1.0, math.inf, True, False))
        else:  # not read (a file gives a gaussian copula no df)
            real(sc.copula_df, path + ("df",))
        self.rationale_note("correlation")
        names = [d.name for d in sc.drivers]
        seen: list = []
        for i, lab in enumerate(labels):
            q = path + ("labels", i)
            _string(lab, q)
            if lab not in names:
                _fail(
                    q,
                    f"{show(lab)} is not a driver{did_you_mean(lab, names)}; allowed "
                    f"{', '.join(names)}",
                    lab,
                    ", ".join(names),
                )
            if lab in seen:
                _fail(q, f"{show(lab)} is listed twice", lab, "each driver once")
            seen.append(lab)
        k = len(labels)
        rows = sc.correlation
        matrix_shape(rows, k, path + ("matrix",))
        rows = rows.tolist() if isinstance(rows, np.ndarray) else rows
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                real(v, path + ("matrix", i, j), (-1.0, 1.0, True, True))
        m = np.array(rows, dtype=np.float64)
        for i in range(k):
            if m[i, i] != 1.0:
                _fail(
                    path + ("matrix", i, i),
                    f"diagonal entry {show(m[i, i])} for {labels[i]!r}; allowed 1",
                    m[i, i],
                    "1 on the diagonal",
                )
            for j in range(i):
                if m[i, j] != m[j, i]:
                    _fail(
                        path + ("matrix", i, j),
                        f"not symmetric: {labels[i]!r} x "
                        f"{labels[j]!r} is {show(m[i, j])} but {labels[j]!r} x "
                        f"{labels[i]!r} is {show(m[j, i])}",
                        m[i, j],
                        "a symmetric matrix",
                    )
        try:
            # built once per distinct block (the run shares it; a file's rows are the same
            # block as the array its reader makes); a repair's warning is reported when the
            # run builds its copula, not here
            block = sc if isinstance(sc.correlation, np.ndarray) else replace(sc, correlation=m)
            self.copula = block.copula_model(warn=False)
        except ValueError as exc:
            allowed = (
                'a positive semi-definite matrix (or repair = "nearest" to use the '
                "nearest one, recorded in the run's metadata)"
            )
            _fail(path + ("matrix",), f"{exc}; allowed {allowed}", m.tolist(), allowed)

    def shocks(self) -> None:
        path = ("shocks",)
        shocks = _items(self.sc.shocks, path, "a tuple of Shock")
        _count([s.name for s in shocks], path, MAX_SHOCKS, "shocks")
        seg_names = [s.name for s in self.sc.segments]
        seen: set = set()
        for s in shocks:
            p = path + (s.name,)
            _name(s.name, p, "shock")
            _unique(s.name, seen, p, "shock")
            real(s.probability, p + ("probability",), _UNIT, "an annual probability")
            self.distribution(s.severity, p + ("severity",))
            _boolean(s.enabled, p + ("enabled",))
            _string(s.rationale, p + ("rationale",), kind="text")
            _string(s.label, p + ("label",), kind="line")
            effects = s.effects
            if not isinstance(effects, list | tuple) or not effects:
                allowed = "one or more [[shocks.<name>.effects]] tables"
                _fail(
                    p + ("effects",),
                    f"{show(effects)} is not allowed; allowed {allowed}",
                    effects,
                    allowed,
                )
            _count(list(range(len(effects))), p + ("effects",), MAX_EFFECTS, "effects")
            for i, e in enumerate(effects):
                self.effect(e, p + ("effects", i), seg_names)
            self.forced(s.forced, p + ("forced",))
            _boolean(s.forced_only, p + ("forced_only",))

    def effect(self, e: Effect, p: KeyPath, seg_names: Sequence[str]) -> None:
        targets = list(SHOCK_TARGETS)
        target = e.target
        if not isinstance(target, str) or target not in SHOCK_TARGETS:
            _fail(
                p + ("target",),
                f"{show(target)} is not a shock target"
                f"{did_you_mean(target, targets)}; allowed {', '.join(targets)}",
                target,
                ", ".join(targets),
            )
        real(e.size, p + ("size",), _RATE)
        self.per_year(e.profile, p + ("profile",), _RATE)
        segs = _items(e.segments, p + ("segments",), "an array of segment names")
        if segs and target not in SEGMENT_TARGETS:
            _fail(
                p + ("segments",),
                f"segments only apply to targets {', '.join(map(repr, SEGMENT_TARGETS))}, "
                f"not {target!r}",
                segs,
                "no segments for this target",
            )
        seen: list = []
        for i, s in enumerate(segs):
            q = p + ("segments", i)
            _string(s, q)
            if s not in seg_names:
                _fail(
                    q,
                    f"{show(s)} is not a segment{did_you_mean(s, seg_names)}; allowed "
                    f"{', '.join(seg_names)}",
                    s,
                    ", ".join(seg_names),
                )
            if s in seen:
                _fail(q, f"{show(s)} is listed twice", s, "each segment once")
            seen.append(s)
        real(e.cap, p + ("cap",), (0.0, math.inf, False, True), "a positive number")
        _string(e.rationale, p + ("rationale",), kind="text")

    def year(self, value: object, path: KeyPath) -> int:
        base = self.sc.base_year
        return integer(value, path, base + 1, base + MAX_HORIZON)

    @staticmethod
    def severity(value: object, path: KeyPath) -> float:
        return real(value, path, (0.0, MAX_SEVERITY, True, True), "a severity multiplier")

    def forced(self, value: object, path: KeyPath) -> None:
        """A shock's forced years (a stressed scenario)."""
        years: list = []
        for i, f in enumerate(_items(value, path, "an array of tables { year, severity }")):
            q = path + (i,)
            year = self.year(f.year, q + ("year",))
            if year in years:
                _fail(q + ("year",), f"year {year} is forced twice", year, "each year once")
            years.append(year)
            if f.severity is not None:
                self.severity(f.severity, q + ("severity",))

    def schedules(self) -> None:
        for key, (kind, rng) in SCHEDULE_DOMAINS.items():
            p = ("schedules", key)
            value = getattr(self.sc, key)
            if kind == "scalar" or (kind == "optional" and value is not None):
                real(value, p + ("value",), rng)
            elif kind == "integer":
                integer(value, p + ("value",), int(rng[0]), int(rng[1]))
            elif kind == "optional":
                pass  # None: the rule's default (see Scenario)
            elif key in ("other_noncurrent_assets", "other_noncurrent_liabilities") and not (
                getattr(self.sc, key)
            ):
                pass  # () holds the opening balance
            else:
                self.per_year(getattr(self.sc, key), p + ("values",), rng)
            self.rationale_note(key)
        self.opening_balance()

    def opening_balance(self) -> None:
        """The opening balance sheet balances (the statements then tie on every path)."""
        sc = self.sc
        assets = (
            sc.opening_cash
            + sc.opening_receivables
            + sc.opening_inventory
            + sc.opening_other_current_assets
            + sc.opening_fixed_assets
            + sc.opening_other_noncurrent_assets
        )
        liabilities = (
            sc.opening_debt
            + sc.opening_payables
            + sc.opening_other_current_liabilities
            + sc.opening_other_noncurrent_liabilities
        )
        equity = sc.opening_equity + sc.opening_minority_equity
        gap = assets - liabilities - equity
        if not abs(gap) <= BALANCE_TOLERANCE * max(abs(assets), 1.0):
            allowed = (
                "opening assets = opening liabilities + opening_equity + "
                "opening_minority_equity (adjust a line, and say so in its rationale)"
            )
            _fail(
                ("schedules", "opening_equity", "value"),
                f"the opening balance sheet does not balance: assets {assets:.10g} - "
                f"liabilities {liabilities:.10g} - equity {equity:.10g} = {gap:.6g}; "
                f"allowed {allowed}",
                sc.opening_equity,
                allowed,
            )

    def forecast(self) -> None:
        path = ("forecast",)
        self.rationale_note("forecast")
        values = {}
        for key in ("revenue", "net_profit_attributable", "eps"):
            v = getattr(self.sc.forecast, key)
            empty = isinstance(v, list | tuple) and not v  # not given (the file: not written)
            if not empty or self.has(path + (key,), False):
                self.per_year(v, path + (key,), _MONEY)
                values[key] = v
        if len({len(v) for v in values.values()}) > 1:
            first = next(iter(values))
            n = len(values[first])
            for key, v in values.items():
                if len(v) != n:
                    allowed = f"{n} values, one per forecast year like {first!r}"
                    _fail(
                        path + (key,),
                        f"{len(v)} values do not match {first!r} ({n}); allowed {allowed}",
                        list(v),
                        allowed,
                    )

    def history(self) -> None:
        path, history = ("history",), self.sc.history
        if not isinstance(history, dict):
            _fail(
                path,
                f"{show(history)} is {type_name(history)}; allowed a table",
                history,
                "a table",
            )
        self.rationale_note("history")
        _count(list(history), path, MAX_HISTORY_SERIES, "history series")
        for series, years in history.items():
            p = path + (series,)
            _string(series, p, kind="line")
            if not isinstance(years, dict):
                _fail(p, f"{show(years)} is {type_name(years)}; allowed a table", years, "a table")
            for year, value in years.items():
                q = p + (str(year),)
                if isinstance(year, bool) or not isinstance(year, numbers.Integral):
                    _fail(
                        q,
                        f"{brief(str(year))!r} is not a year; allowed a year like 2024",
                        year,
                        "a year",
                    )
                real(value, q, _MONEY)

    def free_notes(self) -> None:
        path = ("notes",)
        free = [k for k in self.sc.notes if self.note_path(k)[0] == "notes"]
        _count(free, path, MAX_NOTES, "notes")
        for key in free:
            _string(key, path + (key,), kind="line")
            _string(self.sc.notes[key], path + (key,), kind="text")

    def stresses(self) -> None:
        """Named stress scenarios: forced shocks and shifted drivers, each of which must keep
        the scenario inside every limit."""
        path = ("stress",)
        stresses = _items(self.sc.stresses, path, "a tuple of Stress")
        _count([s.name for s in stresses], path, MAX_STRESSES, "stress scenarios")
        drivers, shocks = self.sc.drivers, self.sc.shocks
        by_driver = {d.name: d for d in drivers}
        shock_names = [s.name for s in shocks]
        seen: set = set()
        for st in stresses:
            p = path + (st.name,)
            _name(st.name, p, "stress scenario")
            _unique(st.name, seen, p, "stress scenario")
            if not st.force and not st.shift:
                allowed = "at least one force = [...] or shift = [...] entry"
                _fail(
                    p,
                    f"stress scenario {st.name!r} changes nothing; allowed {allowed}",
                    None,
                    allowed,
                )
            force: list = []
            for i, f in enumerate(
                _items(
                    st.force, p + ("force",), "an array of tables { shock, year, severity, only }"
                )
            ):
                q = p + ("force", i)
                shock = _string(f.shock, q + ("shock",), shock_names or ["(no shocks)"])
                year = self.year(f.year, q + ("year",))
                if f.severity is not None:
                    self.severity(f.severity, q + ("severity",))
                only = _boolean(f.only, q + ("only",))
                for g in force:
                    if g.shock == shock and g.year == year:
                        _fail(
                            q,
                            f"shock {shock!r} is forced in {year} twice",
                            None,
                            "each shock and year once",
                        )
                    if g.shock == shock and g.only != only:
                        _fail(
                            q + ("only",),
                            f"'only' of shock {shock!r} differs between its force entries",
                            only,
                            "the same 'only' for every entry",
                        )
                force.append(f)
            shift: list = []
            for i, f in enumerate(
                _items(st.shift, p + ("shift",), "an array of tables { driver, add, scale }")
            ):
                q = p + ("shift", i)
                driver = _string(f.driver, q + ("driver",), list(by_driver))
                has_add = self.has(q + ("add",), f.add != 0.0)
                if not has_add and not self.has(q + ("scale",), f.scale != 1.0):
                    _fail(
                        q,
                        "a shift needs 'add' and/or 'scale'",
                        None,
                        "add = <number> and/or scale = <positive number>",
                    )
                add = real(f.add, q + ("add",))
                scale = real(
                    f.scale, q + ("scale",), (0.0, math.inf, False, False), "a positive factor"
                )
                if any(g.driver == driver for g in shift):
                    _fail(
                        q + ("driver",),
                        f"driver {driver!r} is shifted twice",
                        driver,
                        "each driver once",
                    )
                rng = _BASE_RANGE[_role(driver)]
                for b in by_driver[driver].base:
                    nb = b * scale + add
                    if not contains(nb, *rng):
                        key = "add" if has_add else "scale"
                        _fail(
                            q + (key,),
                            f"moves the base of {driver!r} from {show(b)} to "
                            f"{nb:.6g}, out of range; allowed a base in {interval(*rng)}",
                            getattr(f, key),
                            interval(*rng),
                        )
                shift.append(f)
            self.check_stress(p, force, shift)
            _string(st.rationale, p + ("rationale",), kind="text")

    def check_stress(self, p: KeyPath, force: list[Any], shift: list[Any]) -> None:
        """Discounting and reach of the stressed scenario, blamed on the stress."""
        drivers, shocks = self.sc.drivers, self.sc.shocks
        moved = tuple(_shifted(d, shift) for d in drivers)
        if any(f.driver in ("wacc", "terminal_growth") for f in shift):
            try:
                self.check_discounting(moved, shocks)
            except ScenarioError as exc:
                _fail(p + ("shift",), f"under this stress, {exc.reason}", None, exc.allowed)
        if shift or any(f.severity is not None for f in force):
            forced: dict = {}
            for f in force:
                if f.severity is not None:
                    forced.setdefault(f.shock, []).append(f.severity)
            try:
                self.check_reach(moved, shocks, forced)
            except ScenarioError as exc:
                where = "shift" if shift and exc.key_path.startswith("drivers") else "force"
                if not self.has(p + (where,), bool(force if where == "force" else shift)):
                    where = "shift"
                _fail(p + (where,), f"under this stress, {exc.reason}", None, exc.allowed)

    # -- cross checks -------------------------------------------------------------------------
    def check_discounting(self, drivers: Sequence[Driver], shocks: Sequence[Shock]) -> None:
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
                allowed = (
                    "bounded distributions (e.g. TruncatedNormal) for wacc and "
                    "terminal_growth, so that WACC > terminal growth on every path"
                )
                _fail(
                    path,
                    f"WACC ({d_w.dist!r}, {d_w.mode}) can fall to or below "
                    f"terminal growth ({d_g.dist!r}, {d_g.mode}) on some path; allowed "
                    f"{allowed}",
                    d_w.dist.to_dict(),
                    allowed,
                )
            allowed = (
                f"lowest possible WACC >= highest possible terminal growth + "
                f"{MIN_DISCOUNT_SPREAD:g}"
            )
            _fail(
                path,
                f"lowest possible WACC {lowest:.6g} (base {min(d_w.base):g} with "
                f"{d_w.dist!r}) is not above the highest possible terminal growth "
                f"{g_hi:.6g} (base {max(d_g.base):g} with {d_g.dist!r}) by at least "
                f"{MIN_DISCOUNT_SPREAD:g}; allowed {allowed}",
                lowest,
                allowed,
            )
        roic = self.sc.terminal_roic
        if not roic > g_hi:
            allowed = f"terminal_roic > highest possible terminal growth {g_hi:.6g}"
            _fail(
                ("schedules", "terminal_roic", "value"),
                f"{show(roic)} would reinvest "
                f"g / ROIC >= 100% of terminal profit; allowed {allowed}",
                roic,
                allowed,
            )

    def check_reach(
        self,
        drivers: Sequence[Driver],
        shocks: Sequence[Shock],
        forced: dict[str, list[float]] | None = None,
    ) -> None:
        """Every driver, with the shock effects on its target, and every effect-only target
        stays within the limits of :mod:`simcore.model.limits` at the most extreme draws a run
        can make, so no path can overflow (``forced``: a stress's forced severities by shock).
        """
        forced = forced or {}
        names = [d.name for d in drivers]
        cop = self.copula
        labels: list[int] = [names.index(lab) for lab in cop.labels] if cop is not None else []
        df = float(getattr(cop, "df", 0.0)) if cop is not None else 0.0
        zs = limits.score_bounds(
            [d.persistence for d in drivers], labels, None if cop is None else cop.factor, df
        )
        if not np.isfinite(zs).all():
            allowed = "a larger df, fewer or less correlated labels, or the gaussian copula"
            _fail(
                ("correlation", "df"),
                f"with df = {df:g} the Student-t copula can turn "
                f"an extreme draw into an infinite normal score; allowed {allowed}",
                df,
                allowed,
            )
        effects: dict = {}  # target (growth/churn: (target, segment)) -> [(path, lo, hi)]
        segs = [n.split(".", 1)[1] for n in names if n.startswith("growth.")]
        for s in shocks:
            extra = [f.severity for f in s.forced if f.severity is not None]
            s_lo, s_hi = limits.severity_range(s.severity, extra + forced.get(s.name, []))
            if not max(-s_lo, s_hi) <= MAX_SEVERITY:
                allowed = f"severities within [-{MAX_SEVERITY:g}, {MAX_SEVERITY:g}]"
                _fail(
                    ("shocks", s.name, "severity"),
                    f"{s.severity!r} reaches "
                    f"{s_lo:.6g} .. {s_hi:.6g} at the most extreme draws of a run; allowed "
                    f"{allowed}",
                    s.severity.to_dict(),
                    allowed,
                )
            for i, e in enumerate(s.effects):
                part = (
                    ("shocks", s.name, "effects", i),
                    *limits.effect_range(e.size, e.profile, e.cap, s_lo, s_hi),
                )
                keys = (
                    [(e.target, g) for g in (e.segments or segs)]
                    if e.target in SEGMENT_TARGETS
                    else [e.target]
                )
                for key in keys:
                    effects.setdefault(key, []).append(part)
        for d, z in zip(drivers, zs, strict=True):
            # a driver the file gives no dist is its base alone: blame the base
            where = "dist" if self.has(("drivers", d.name, "dist"), True) else "base"
            exact = d.uncertainty is not None  # drawn per path: the kernel's exact inverse
            ranges = [limits.ppf_z_range(x, float(z), exact) for x in d.row_dists()]
            lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
            what = f"{d.dist!r} ({d.mode})"
            if exact and (lo, hi) != limits.ppf_z_range(d.dist, float(z), exact):
                where = "uncertainty"  # a row reaches further than the dist itself
                what += f" with its {len(ranges)} parameter rows"
            parts = [(("drivers", d.name, where), *limits.driver_range(d.base, d.mode, lo, hi))]
            role = _role(d.name)
            seg_target = {"growth": "growth", "margin": "gross_margin"}.get(role)
            target = (seg_target, d.name.split(".", 1)[1]) if seg_target else d.name
            _within(
                d.name,
                parts + effects.pop(target, []),
                limits.role_range(role),
                f"{what} at a normal score of +-{z:.4g}, the most its copula and persistence allow",
            )
        for target, parts in effects.items():  # effects on churn, one-off loss, multiples
            name = target if isinstance(target, str) else f"{target[0]} of {target[1]}"
            _within(name, parts, limits.RATE_RANGE, "")


def _within(
    what: str,
    parts: Sequence[tuple[KeyPath, float, float]],
    allowed_range: tuple[float, float],
    how: str,
) -> None:
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
    _fail(
        path,
        f"{what}{with_effects} can reach {lo:.6g} .. {hi:.6g} at the most extreme "
        f"draws of a run{by}; allowed {allowed}",
        [lo, hi],
        allowed,
    )


def _role(name: str) -> str:
    """``growth`` for ``growth.<segment>``, ``ratio`` for ``ratio.selling``, ..."""
    return name.split(".")[0]


def _shifted(d: Driver, shift: Iterable[StressShift]) -> Driver:
    """``d`` with the stress shifts applied to its base (``base * scale + add``)."""
    for f in shift:
        if f.driver == d.name:
            return replace(d, base=tuple(b * f.scale + f.add for b in d.base))
    return d


def _driver_bound(d: Driver, low: bool) -> float:
    """Lowest (``low``) or highest value a driver can take in any year."""
    supports = [x.support() for x in d.row_dists()]
    s_lo, s_hi = min(x[0] for x in supports), max(x[1] for x in supports)
    vals = []
    for b in d.base:
        if d.mode == "add":
            vals += [b + s_lo, b + s_hi]
        else:
            vals += [0.0 if b == 0.0 else b * s for s in (s_lo, s_hi)]
    return min(vals) if low else max(vals)
