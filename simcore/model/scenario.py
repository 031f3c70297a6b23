"""The scenario: one company's base year, drivers, correlations, shocks and valuation inputs.

A :class:`Scenario` is a frozen, validated description. It is built from a TOML file by
:mod:`simcore.io.scenario_file` (``load_scenario``), or in Python. Nothing here runs a simulation;
:mod:`simcore.engine` does.

Every driver and shock is *named*: names key the random streams, so adding or removing one
leaves every other's draws unchanged.

Driver roles the model reads (``layout.FIXED_DRIVERS`` and, per segment, ``growth.<segment>``
and ``margin.<segment>``); a scenario must define each one:

=====================  =====  ==================================================================
name                   unit   meaning
=====================  =====  ==================================================================
growth.<segment>       frac   revenue growth of the segment (AR(1) via ``persistence``)
margin.<segment>       frac   the segment's gross margin before D&A (D&A is in the cost of
                              revenue: gross profit = sum of revenue x margin - D&A)
ratio.taxes_surcharges frac   taxes and surcharges / revenue
ratio.selling          frac   variable selling expense / revenue (plus the fixed part)
ratio.admin            frac   variable admin expense / revenue
ratio.rnd              frac   variable R&D expense / revenue
fixed_growth.<line>    frac   growth of the fixed part of selling, admin, R&D (e.g. wages)
ratio.impairment       frac   credit impairment loss / revenue (positive = loss)
capex_intensity        x      capex per unit of revenue growth (plus maintenance capex)
interest_rate          frac   financial expense / opening interest-bearing debt
tax_rate               frac   effective income-tax rate on positive taxable profit
multiple.ps            x      price / sales multiple
multiple.pe            x      price / earnings multiple
wacc                   frac   discount rate of the DCF
terminal_growth        frac   Gordon growth of the DCF (wacc > terminal_growth on every path)
=====================  =====  ==================================================================

The deterministic inputs (the opening balance sheet, depreciation lives, working-capital ratios,
the financing rules) are the ``[schedules.<name>]`` fields below; ``docs/model.md`` gives every
equation.

A driver's value in year t is ``base[t] + X_t`` (``mode="add"``) or ``base[t] * X_t``
(``mode="mul"``), where ``X_t`` has the marginal ``dist`` in every year and its normal score
follows ``z_t = persistence * z_{t-1} + sqrt(1 - persistence**2) * eps_t`` (``eps`` correlated
across drivers through the scenario's copula). ``persistence = 1`` draws once per path.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from distributions import Distribution
from simcore.model.layout import FIXED_DRIVERS, OUTPUTS, SHOCK_TARGETS  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from distributions.copula import GaussianCopula, StudentTCopula


@dataclass(frozen=True)
class Segment:
    name: str
    base_revenue: float
    rationale: str = ""
    label: str = ""  # what a reader calls it ("" : simcore.report.labels makes one)


MIXTURE_GRID = 1024  # quantile levels per parameter row in Driver.ppf


@dataclass(frozen=True)
class ParameterDraws:
    """A driver's parameter uncertainty (the second layer of two): ``rows`` of values of the
    parameters ``params`` of its distribution, e.g. a fit's bootstrap. Each path draws one row
    (uniformly, from its own stream) and keeps it in every year, so the fans show parameter and
    shock uncertainty together; parameters not named keep their value in ``dist``."""

    params: tuple[str, ...]
    rows: tuple[tuple[float, ...], ...]
    rationale: str = ""

    def ranges(self, confidence: float = 0.9) -> dict[str, tuple[float, float]]:
        """Each parameter's equal-tailed range over the rows (``confidence`` of them inside)."""
        q = [0.5 - confidence / 2, 0.5 + confidence / 2]
        cols = np.array(self.rows, dtype=np.float64).T
        return {
            k: (float(lo), float(hi))
            for k, (lo, hi) in zip(self.params, (np.quantile(c, q) for c in cols), strict=True)
        }

    def describe(self) -> str:
        """One line: which parameters, how many rows, their 90% ranges."""
        spans = ", ".join(f"{k} {lo:.3g} to {hi:.3g}" for k, (lo, hi) in self.ranges().items())
        return f"{len(self.rows)} parameter rows, one per path (90% of rows: {spans})"

    def dists(self, dist: Distribution) -> tuple[Distribution, ...]:
        """One distribution of ``dist``'s family per row."""
        fixed = {k: v for k, v in dist.to_dict().items() if k != "family"}
        cls = type(dist)
        return tuple(cls(**{**fixed, **dict(zip(self.params, r, strict=True))}) for r in self.rows)


@dataclass(frozen=True)
class Driver:
    name: str
    base: tuple[float, ...]
    dist: Distribution
    mode: str = "add"
    persistence: float = 0.0
    rationale: str = ""
    label: str = ""  # what a reader calls it ("" : simcore.report.labels makes one)
    uncertainty: ParameterDraws | None = None  # parameters drawn once per path (two-layer)

    def row_dists(self) -> tuple[Distribution, ...]:
        """The distributions a path can draw: ``dist`` alone, or one per parameter row."""
        return (self.dist,) if self.uncertainty is None else self.uncertainty.dists(self.dist)

    def ppf(self, q: ArrayLike) -> np.ndarray | float:
        """Quantiles of the driver's marginal ``X`` (before its base): ``dist.ppf``, or with
        parameter uncertainty the equal-weight mixture of its rows (pooled from each row's
        quantiles on a grid of 1,024 midpoints, within about 1e-3 in probability)."""
        if self.uncertainty is None:
            return self.dist.ppf(q)
        grid = (np.arange(MIXTURE_GRID) + 0.5) / MIXTURE_GRID
        pooled = np.concatenate([np.asarray(d.ppf(grid)) for d in self.row_dists()])
        out = np.quantile(pooled, np.asarray(q, dtype=np.float64))
        return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class Effect:
    target: str
    size: float
    profile: tuple[float, ...] = (1.0,)
    segments: tuple[str, ...] = ()  # for growth/churn; empty = all segments
    cap: float = float("inf")  # upper bound of |value| in a year
    rationale: str = ""


@dataclass(frozen=True)
class Forced:
    """A shock made certain in one forecast year (what a stress scenario applies)."""

    year: int  # calendar year
    severity: float | None = None  # fixed severity multiplier; None: drawn as usual


@dataclass(frozen=True)
class Shock:
    name: str
    probability: float  # annual probability of at least one event (Bernoulli)
    severity: Distribution  # multiplier of every effect's size, drawn once per event
    effects: tuple[Effect, ...]
    rationale: str = ""
    enabled: bool = True
    forced: tuple[Forced, ...] = ()  # years where it hits with probability 1
    forced_only: bool = False  # True: probability 0 outside the forced years
    label: str = ""  # what a reader calls it ("" : simcore.report.labels makes one)


@dataclass(frozen=True)
class StressForce:
    """``[stress.<name>].force`` entry: make ``shock`` hit in ``year``."""

    shock: str
    year: int
    severity: float | None = None  # fixed severity multiplier; None: drawn as usual
    only: bool = False  # the shock hits only in its forced years


@dataclass(frozen=True)
class StressShift:
    """``[stress.<name>].shift`` entry: the driver's base becomes ``base * scale + add``."""

    driver: str
    add: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True)
class Stress:
    """A named stress scenario (``[stress.<name>]``): forced shocks and shifted drivers.

    It changes nothing by itself; :func:`simcore.analysis.stress.apply_stress` returns the stressed
    scenario, which keeps every random stream, so it compares path by path with the base.
    """

    name: str
    force: tuple[StressForce, ...] = ()
    shift: tuple[StressShift, ...] = ()
    rationale: str = ""
    label: str = ""  # what a reader calls it (default made from the name: simcore.model.labels)


@dataclass(frozen=True)
class Actual:
    """Reported figures for a period (``[actuals.<name>]``): a forecast year, ``months`` of it
    elapsed (12: the full year), the report's date and source, and the figures by output
    (``revenue``, ``revenue.<segment>``, ``gross_profit``, ``operating_profit``,
    ``net_profit_attributable``)."""

    name: str
    year: int
    date: str
    source: str
    values: tuple[tuple[str, float], ...]
    months: int = 12
    rationale: str = ""
    share: float | None = None  # seasonal share of a part year (simcore.model.nowcast)


@dataclass(frozen=True)
class Peer:
    """A comparable company's trading multiples (``[peers.<name>]``), with their date and
    source: the alternative centre of the multiple valuations (``multiples_centre="peers"``)."""

    name: str
    date: str
    source: str
    ps: float | None = None  # price / sales
    pe: float | None = None  # price / earnings
    ev_ebitda: float | None = None  # enterprise value / EBITDA
    rationale: str = ""


@dataclass(frozen=True)
class Forecast:
    """The sell-side report's own point forecast, per horizon year, for charts and risk tables."""

    revenue: tuple[float, ...] = ()
    net_profit_attributable: tuple[float, ...] = ()
    eps: tuple[float, ...] = ()


# (labels, matrix bytes, kind, repair, copula, df) -> (copula, warnings)
_COPULAS: dict[
    tuple[Any, ...], tuple[GaussianCopula | StudentTCopula, list[tuple[str, type[Warning]]]]
] = {}


@dataclass(frozen=True)
class Scenario:
    """A company, fully described. See the module docstring for driver semantics."""

    name: str
    ticker: str
    currency: str
    base_year: int
    horizon: int
    segments: tuple[Segment, ...]
    drivers: tuple[Driver, ...]
    correlation_labels: tuple[str, ...]
    correlation: np.ndarray
    shocks: tuple[Shock, ...]
    # deterministic inputs ([schedules.<name>] in a file; docs/model.md gives every equation).
    # The balance sheet at the end of the base year: it must balance (validated).
    opening_cash: float
    opening_fixed_assets: float  # net PP&E incl. construction in progress
    opening_debt: float  # interest-bearing borrowings
    opening_equity: float  # equity attributable to the parent
    useful_life: float  # years over which new capex is depreciated (straight line)
    remaining_life: float  # years over which the opening fixed assets are depreciated
    terminal_roic: float  # return on new capital at the end of the DCF's fade and after
    shares: float  # millions
    market_price: float
    market_date: str
    opening_receivables: float = 0.0
    opening_inventory: float = 0.0
    opening_other_current_assets: float = 0.0
    opening_other_noncurrent_assets: float = 0.0
    opening_payables: float = 0.0
    opening_other_current_liabilities: float = 0.0
    opening_other_noncurrent_liabilities: float = 0.0
    opening_minority_equity: float = 0.0
    # per forecast year (extended by the last value)
    other_income: tuple[float, ...] = (0.0,)  # other income + asset disposal gain
    non_operating: tuple[float, ...] = (0.0,)  # non-operating income (net)
    minority_share: tuple[float, ...] = (0.0,)  # minority interest / net profit
    fixed_selling: float = 0.0  # fixed part of each operating-cost line in the base year
    fixed_admin: float = 0.0
    fixed_rnd: float = 0.0
    maintenance_capex: tuple[float, ...] = (0.0,)  # capex / revenue, besides growth capex
    receivables_ratio: tuple[float, ...] = (0.0,)  # / revenue
    inventory_ratio: tuple[float, ...] = (0.0,)  # / cost of revenue
    other_current_assets_ratio: tuple[float, ...] = (0.0,)  # / revenue
    payables_ratio: tuple[float, ...] = (0.0,)  # / cost of revenue
    other_current_liabilities_ratio: tuple[float, ...] = (0.0,)  # / revenue
    other_noncurrent_assets: tuple[float, ...] = ()  # year-end levels; () holds the opening
    other_noncurrent_liabilities: tuple[float, ...] = ()
    repayment: tuple[float, ...] = (0.0,)  # scheduled debt repayment
    minimum_cash: tuple[float, ...] = (0.0,)  # a shortfall below it is borrowed
    dividend_payout: tuple[float, ...] = (0.0,)  # of positive attributable net profit
    sweep: float = 0.0  # share of the cash above the minimum that repays debt
    tax_loss_carryforward: float = 0.0  # tax losses available at the start of the forecast
    history: dict = field(default_factory=dict)  # e.g. {"net_profit_attributable": {2023: -80}}
    forecast: Forecast = field(default_factory=Forecast)
    correlation_kind: str = "pearson"
    correlation_repair: str | None = None
    copula: str = "gaussian"
    copula_df: float = 0.0
    description: str = ""
    source: str = ""
    notes: dict = field(default_factory=dict)  # rationale of schedules etc.
    stresses: tuple[Stress, ...] = ()  # named stress scenarios (see simcore.analysis.stress)
    # valuation (simcore.model.dcf): the DCF's fade after the last simulated year, and the
    # terminal NOPAT margin it converges to (None: each path's own last-year margin is held)
    fade_years: int = 10
    terminal_margin: float | None = None
    # years the drivers' bases describe (0: every simulated year). Simulated years beyond them
    # fade the growth bases to terminal growth over ``fade_years`` (docs/model.md).
    explicit_years: int = 0
    peers: tuple[Peer, ...] = ()
    actuals: tuple[Actual, ...] = ()  # reported figures (simcore.analysis.backtest)
    # condition the run on the actuals dated on or before this ISO date ("" none; see
    # simcore.model.nowcast)
    nowcast_as_of: str = ""
    multiples_centre: str = "market"  # "market": the file's (market-implied) multiple bases;
    # "peers": the peers' median multiples (simcore.model.peers)

    # -- identity: the generated dataclass __eq__ would call bool() on the correlation array
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                if np.shape(a) != np.shape(b) or not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return True

    def __hash__(self) -> int:
        return hash(self.digest())

    # -- views ---------------------------------------------------------------------------------
    def __repr__(self) -> str:  # the generated one prints every field: 22 KB for the default
        return (
            f"Scenario({self.name!r}, ticker={self.ticker!r}, years={self.years[0]}-"
            f"{self.years[-1]}, {len(self.segments)} segments, {len(self.drivers)} drivers, "
            f"{len(self.shocks)} shocks, {len(self.stresses)} stresses, "
            f"{len(self.actuals)} actuals)"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: the company, its years and market price, then one line per segment,
        per random driver (its distribution) and per shock (its probability); every text from
        the scenario is escaped."""
        import html

        e = html.escape
        cur = e(self.currency)
        rows = [
            f"<b>{e(self.name)}</b> ({e(self.ticker)}): base year {self.base_year}, "
            f"{self.years[0]}–{self.years[-1]}; market price {self.market_price:,.2f} {cur} "
            f"on {e(self.market_date)}, {self.shares:,.2f}m shares"
            + (f"; nowcast as of {e(self.nowcast_as_of)}" if self.nowcast_as_of else ""),
        ]
        seg = ", ".join(f"{e(s.name)} {s.base_revenue:,.0f}" for s in self.segments)
        rows.append(f"segments ({cur} m, {self.base_year}): {seg}")
        random = [d for d in self.drivers if d.dist.family != "Constant"]
        cells = "".join(
            f"<tr><td>{e(d.name)}</td><td>{e(', '.join(f'{b:.4g}' for b in d.base))}</td>"
            f"<td>{e(repr(d.dist))}"
            + ("" if d.uncertainty is None else f"; {e(d.uncertainty.describe())}")
            + f"</td><td>{d.persistence:g}</td></tr>"
            for d in random
        )
        shocks = "".join(
            f"<tr><td>{e(s.name)}</td><td>{_first(s.probability):.1%} a year"
            f"{'' if s.enabled else ' (off)'}</td><td>{e(repr(s.severity))}</td>"
            f"<td>{len(s.effects)} effects</td></tr>"
            for s in self.shocks
        )
        head = "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
        return (
            "<div>"
            + "<br>".join(rows)
            + f"<details><summary>{len(random)} random drivers of {len(self.drivers)}</summary>"
            + f"<table>{head.format('driver', 'base', 'draws', 'persistence')}{cells}</table>"
            + f"</details><details><summary>{len(self.shocks)} shocks</summary>"
            + f"<table>{head.format('shock', 'probability', 'severity', '')}{shocks}</table>"
            + "</details></div>"
        )

    # -- derived ---------------------------------------------------------------------------------
    @property
    def years(self) -> tuple[int, ...]:
        return tuple(self.base_year + 1 + t for t in range(self.horizon))

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments)

    def driver(self, name: str) -> Driver:
        for d in self.drivers:
            if d.name == name:
                return d
        raise KeyError(f"scenario {self.name!r} has no driver {name!r}")

    def shock(self, name: str) -> Shock:
        for s in self.shocks:
            if s.name == name:
                return s
        names = [s.name for s in self.shocks]
        raise KeyError(f"scenario {self.name!r} has no shock {name!r}; it has {names}")

    def stress(self, name: str) -> Stress:
        for s in self.stresses:
            if s.name == name:
                return s
        names = [s.name for s in self.stresses]
        raise KeyError(f"scenario {self.name!r} has no stress scenario {name!r}; it has {names}")

    @property
    def explicit(self) -> int:
        """Years the drivers' bases describe (beyond them the growth bases fade)."""
        return self.explicit_years or self.horizon

    def with_horizon(self, horizon: int) -> Scenario:
        """A copy simulated over ``horizon`` years; the bases still describe the same years."""
        h = int(horizon)
        explicit = self.explicit if h > self.explicit else self.explicit_years
        return replace(self, horizon=h, explicit_years=explicit)

    def with_nowcast(self, as_of: str | None) -> Scenario:
        """A copy conditioned on the actuals dated on or before ``as_of`` (ISO date; ``"latest"``:
        every actual; None or ``""``: none), see :mod:`simcore.model.nowcast`."""
        if as_of == "latest":
            as_of = max((a.date for a in self.actuals), default="")
            if not as_of:
                raise ValueError(f"scenario {self.name!r} has no actuals to nowcast with")
        if as_of:  # one spelling (2026-01-01, not 20260101): dates compare as text elsewhere
            try:
                as_of = datetime.date.fromisoformat(as_of).isoformat()
            except (TypeError, ValueError):
                raise ValueError(
                    f"nowcast as of {as_of!r} is not a date; allowed an ISO date, e.g. 2025-06-09"
                ) from None
        return replace(self, nowcast_as_of=as_of or "")

    def with_shocks(self, enabled: dict[str, bool] | bool) -> Scenario:
        """A copy with shocks switched on/off (``False`` switches every shock off)."""
        if isinstance(enabled, bool):
            enabled = {s.name: enabled for s in self.shocks}
        for name in enabled:
            self.shock(name)
        shocks = tuple(replace(s, enabled=enabled.get(s.name, s.enabled)) for s in self.shocks)
        return replace(self, shocks=shocks)

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-able dict (distributions as ``{"family": ..., ...}``)."""

        def conv(x: Any) -> Any:
            if isinstance(x, Distribution):
                return x.to_dict()
            if isinstance(x, ParameterDraws):
                return conv(asdict(x))
            if isinstance(x, np.ndarray):
                return x.tolist()
            if isinstance(x, dict):
                return {str(k): conv(v) for k, v in x.items()}
            if isinstance(x, list | tuple):
                return [conv(v) for v in x]
            return x

        out: dict[str, Any] = {}
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            if hasattr(v, "__dataclass_fields__"):
                v = asdict(v) if not isinstance(v, Distribution) else v
            if isinstance(v, tuple) and v and hasattr(v[0], "__dataclass_fields__"):
                v = [{f: getattr(item, f) for f in item.__dataclass_fields__} for item in v]
                # a driver without parameter rows keeps the digest it had before they existed
                v = [{f: x for f, x in item.items() if f != "uncertainty" or x} for item in v]
            out[k] = conv(v)
        return out

    def copula_model(self, *, warn: bool = True) -> GaussianCopula | StudentTCopula | None:
        """The copula object of the correlation block (None without labels), built once per
        distinct block and kept for the process (validation, compilation and every analysis of
        a run share it). A repair's warning is issued again on each call with ``warn``."""
        if not self.correlation_labels:
            return None
        key = (
            self.correlation_labels,
            self.correlation.tobytes(),
            self.correlation_kind,
            self.correlation_repair,
            self.copula,
            float(self.copula_df),
        )
        if key not in _COPULAS:
            from distributions.copula import GaussianCopula, StudentTCopula

            labels = list(self.correlation_labels)
            cop: GaussianCopula | StudentTCopula
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if self.copula == "student_t":
                    cop = StudentTCopula(
                        labels,
                        self.correlation,
                        self.copula_df,
                        kind=self.correlation_kind,
                        repair=self.correlation_repair,
                    )
                else:
                    cop = GaussianCopula(
                        labels,
                        self.correlation,
                        kind=self.correlation_kind,
                        repair=self.correlation_repair,
                    )
            if len(_COPULAS) >= 64:  # a few blocks per process in practice; bound the memory
                _COPULAS.pop(next(iter(_COPULAS)))
            _COPULAS[key] = (cop, [(str(w.message), w.category) for w in caught])
        cop, issued = _COPULAS[key]
        if warn:
            for message, category in issued:
                warnings.warn(message, category, stacklevel=2)
        return cop

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form: the scenario hash in every manifest."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


def extend(values: ArrayLike, horizon: int) -> np.ndarray:
    """A per-year schedule as float64[horizon], extended by its last value."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size >= horizon:
        return v[:horizon].copy()
    return np.concatenate([v, np.full(horizon - v.size, v[-1])])


def driver_bases(sc: Scenario, d: Driver) -> np.ndarray:
    """A driver's base in every simulated year, float64[H].

    In the scenario's explicit years it is the given base (extended by its last value). A
    ``growth.<segment>`` or ``fixed_growth.<line>`` base then fades linearly to the
    terminal-growth base, reaching it ``fade_years`` after the last explicit year (the DCF's
    fade rule: in the long run revenue and fixed costs grow with the economy); every other
    base holds its last explicit value."""
    H, E = sc.horizon, sc.explicit
    base = extend(d.base, H)
    if H <= E or not d.name.startswith(("growth.", "fixed_growth.")):
        return base
    last = base[E - 1]
    target = extend(sc.driver("terminal_growth").base, E)[E - 1]
    steps = np.arange(1, H - E + 1, dtype=np.float64)
    share = np.minimum(steps / sc.fade_years, 1.0) if sc.fade_years > 0 else np.ones(H - E)
    base[E:] = last + (target - last) * share
    return base


def _first(values: float | tuple[float, ...]) -> float:
    """The first year's value of a scalar or per-year entry."""
    return float(values[0] if isinstance(values, tuple) else values)
