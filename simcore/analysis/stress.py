"""Stress tests: shock attribution, named stress scenarios and reverse stress.

Every comparison here runs the model with the *same* seed, and streams are keyed by name, so
the runs differ only by what was changed (common random numbers): switching a shock off leaves
every other draw of every path unchanged, and a forced shock or a shifted driver moves exactly
its own inputs.

- :func:`attribution`: what each shock does to the median, P5, probability of loss and expected
  shortfall of net profit attributable, per year: the change when it is switched off
  (``switch_off``), and an exact, order-free decomposition of "all shocks" minus "no shocks"
  into per-shock contributions (Shapley values over the 2^K on/off combinations).
- :func:`apply_stress` and :func:`compare_stresses`: named stress scenarios (``[stress.<name>]``
  in the scenario file; forced shocks and shifted drivers) side by side with the base.
- :func:`reverse_stress`: the smallest shock severity, driver shift or shock probability that
  makes a target fail, by root finding (``scipy.optimize.brentq``) on common random numbers.
"""

from __future__ import annotations

import itertools
import math
import operator
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from scipy import optimize

from distributions.streams import SeedLike
from simcore.analysis.measures import PathSubset, Statistic, StatisticSpec, statistic
from simcore.analysis.sensitivity import _default, run_meta, run_seed
from simcore.engine.core import DEFAULT_SEED, simulate
from simcore.model.labels import labels
from simcore.model.scenario import Forced, Scenario, Stress, StressForce, StressShift

if TYPE_CHECKING:
    from distributed import Client

    from simcore.results.result import SimulationResult

__all__ = [
    "ATTRIBUTION_METRICS",
    "Attribution",
    "Lever",
    "ReverseStress",
    "STRESS_STATISTICS",
    "apply_stress",
    "attribution",
    "attribution_from_run",
    "compare_stresses",
    "reverse_stress",
]

ATTRIBUTION_METRICS = ("median", "p5", "prob_loss", "es5")
STRESS_STATISTICS = (
    ("median", "net_profit_attributable"),
    ("p5", "net_profit_attributable"),
    ("prob_loss", "net_profit_attributable"),
    ("median", "price_ps"),
    ("prob_above_market", "price_ps"),
)
MAX_SHAPLEY_SHOCKS = 10  # 2^10 runs


# -- stress scenarios ------------------------------------------------------------------------------
def apply_stress(scenario: Scenario, stress: str | Stress) -> Scenario:
    """The stressed scenario: forced shocks (probability 1 in their year, fixed or drawn
    severity) and shifted driver bases (``base * scale + add``). Nothing else changes, so a run
    with the same seed compares path by path with the base run."""
    st = scenario.stress(stress) if isinstance(stress, str) else stress
    if not isinstance(st, Stress):
        raise TypeError(f"stress must be a name or a simcore.model.scenario.Stress, got {stress!r}")
    years = scenario.years
    shocks = {s.name: s for s in scenario.shocks}
    for f in st.force:
        if f.shock not in shocks:
            raise ValueError(
                f"stress {st.name!r} forces unknown shock {f.shock!r}; allowed {', '.join(shocks)}"
            )
        if f.year not in years:
            raise ValueError(
                f"stress {st.name!r} forces {f.shock!r} in {f.year}, outside the "
                f"simulated years {years[0]}..{years[-1]}"
            )
        s = shocks[f.shock]
        if not s.enabled:
            raise ValueError(
                f"stress {st.name!r} forces {f.shock!r}, which is switched off in "
                f"this scenario; switch it on first"
            )
        forced = {x.year: x for x in s.forced}
        forced[f.year] = Forced(f.year, f.severity)
        shocks[f.shock] = replace(
            s, forced=tuple(forced[y] for y in sorted(forced)), forced_only=s.forced_only or f.only
        )
    drivers = {d.name: d for d in scenario.drivers}
    for sh in st.shift:
        if sh.driver not in drivers:
            raise ValueError(
                f"stress {st.name!r} shifts unknown driver {sh.driver!r}; allowed "
                f"{', '.join(drivers)}"
            )
        d = drivers[sh.driver]
        drivers[sh.driver] = replace(d, base=tuple(b * sh.scale + sh.add for b in d.base))
    return replace(scenario, shocks=tuple(shocks.values()), drivers=tuple(drivers.values()))


def _stat_columns(
    statistics: dict[str, StatisticSpec] | Iterable[StatisticSpec], sc: Scenario
) -> dict[str, Statistic]:
    if isinstance(statistics, dict):
        return {str(k): statistic(v, sc) for k, v in statistics.items()}
    out: dict[str, Statistic] = {}
    for spec in statistics:
        st = statistic(spec, sc)
        out[st.label(sc.years)] = st
    return out


def compare_stresses(
    scenario: Scenario | None = None,
    stresses: Iterable[str | Stress] | None = None,
    *,
    statistics: dict[str, StatisticSpec] | Iterable[StatisticSpec] = STRESS_STATISTICS,
    n_paths: int = 20_000,
    seed: SeedLike = DEFAULT_SEED,
    sampling: str = "mc",
    client: Client | None = None,
) -> pd.DataFrame:
    """The base run and each stress scenario side by side.

    ``stresses``: names or :class:`~simcore.model.scenario.Stress` objects (default: every stress
    the
    scenario defines). ``statistics``: specs for :func:`simcore.analysis.measures.statistic` (a
    list,
    columns named by their labels, or a dict column -> spec); a spec without a year means the
    final year. Returns one row per scenario (``base`` first) with a column per statistic and
    the stress's ``rationale``; ``attrs["units"]`` maps columns to units. With ``client`` (a
    ``distributed.Client``) the runs go to that Dask cluster in one batch
    (:func:`simcore.engine.dask.map_scenarios`); the table is identical.
    """
    sc = _default(scenario)
    chosen = (
        list(sc.stresses)
        if stresses is None
        else [sc.stress(s) if isinstance(s, str) else s for s in stresses]
    )
    if not chosen:
        raise ValueError(
            f"scenario {sc.name!r} defines no stress scenarios; add [stress.<name>] "
            f"tables to its file or pass stresses=[Stress(...)]"
        )
    cols = _stat_columns(statistics, sc)
    ss = run_seed(sc, n_paths, seed, sampling)
    runs = [("base", sc, "the scenario as it stands")] + [
        (st.name, apply_stress(sc, st), st.rationale) for st in chosen
    ]
    results: Iterable[SimulationResult]
    if client is None:
        results = (simulate(s, n_paths, seed=ss, sampling=sampling) for _n, s, _r in runs)
    else:
        from simcore.engine.dask import map_scenarios

        results = map_scenarios(client, [s for _n, s, _r in runs], n_paths, ss, sampling=sampling)
    rows: list[list[float]] = []
    names: list[str] = []
    why: list[str] = []
    for (name, _s, rationale), r in zip(runs, results, strict=True):
        rows.append([st(r) for st in cols.values()])
        names.append(name)
        why.append(rationale)
    df = pd.DataFrame(rows, columns=list(cols), index=pd.Index(names, name="stress"))
    df["rationale"] = why
    df.attrs.update(
        run_meta(
            sc,
            n_paths,
            ss,
            sampling,
            units={k: st.unit(sc) for k, st in cols.items()},
            probability={k: st.is_probability for k, st in cols.items()},
            market_price=sc.market_price,
            labels=labels(sc, names),
        )
    )
    return df


# -- shock attribution -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Attribution:
    """Per metric and year: the levels with no shocks and with all shocks, each shock's exact
    Shapley contribution (they add up to ``all - none``), and the change when one shock is
    switched off from the all-on run (``switch_off``: all-on minus this-one-off)."""

    levels: pd.DataFrame  # index (metric, year); columns "no shocks", "all shocks"
    shapley: pd.DataFrame  # index (metric, year); one column per shock
    switch_off: pd.DataFrame  # index (metric, year); one column per shock
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shocks(self) -> list[str]:
        return list(self.shapley.columns)

    def to_frame(self) -> pd.DataFrame:
        """Tidy: metric, year, component, kind (level / shapley / switch_off), value."""
        parts = []
        for kind, df in (
            ("level", self.levels),
            ("shapley", self.shapley),
            ("switch_off", self.switch_off),
        ):
            # single-level columns: stack() gives a Series (pandas' stubs allow a frame too)
            long = cast(pd.Series, df.stack()).rename("value").reset_index()
            long.columns = ["metric", "year", "component", "value"]
            long.insert(3, "kind", kind)
            parts.append(long)
        return pd.concat(parts, ignore_index=True)


def attribution(
    scenario: Scenario | None = None,
    *,
    metrics: Iterable[str] = ATTRIBUTION_METRICS,
    output: str = "net_profit_attributable",
    n_paths: int = 20_000,
    seed: SeedLike = DEFAULT_SEED,
    sampling: str = "mc",
) -> Attribution:
    """Attribute the shocks' effect on ``output`` to each enabled shock, per year.

    ``metrics``: stat names of :mod:`simcore.analysis.measures` (default median, P5, probability of
    loss
    and ES5, the mean of the worst 5%). Runs all 2^K on/off combinations of the K enabled
    shocks (K <= 10) with the same seed; the combination with every shock off is bit for bit
    the shock-free run.
    """
    sc = _default(scenario)
    names, stats, common = _attributed(sc, metrics, output)
    ss = run_seed(sc, n_paths, seed, sampling)
    K = len(names)
    value: dict[frozenset[str], np.ndarray] = {}  # the shocks on -> array of the stats
    for on in itertools.product((False, True), repeat=K):
        subset = frozenset(n for n, flag in zip(names, on, strict=True) if flag)
        r = simulate(
            sc.with_shocks({n: n in subset for n in names}), n_paths, seed=ss, sampling=sampling
        )
        value[subset] = np.array([st(r) for st in stats.values()])
    meta = run_meta(sc, n_paths, ss, sampling, runs=len(value), **common)
    return _shapley(names, value, list(stats), meta)


def _attributed(
    sc: Scenario, metrics: Iterable[str], output: str
) -> tuple[list[str], dict[tuple[str, int], Statistic], dict[str, Any]]:
    """The enabled shocks (checked), the statistics per (metric, year) and the metadata both
    attributions carry (output, units, labels of the metrics and of the shocks)."""
    names = [s.name for s in sc.shocks if s.enabled]
    if not names:
        raise ValueError(f"scenario {sc.name!r} has no enabled shock to attribute")
    if len(names) > MAX_SHAPLEY_SHOCKS:
        raise ValueError(
            f"{len(names)} enabled shocks give 2^{len(names)} on/off combinations; at most "
            f"{MAX_SHAPLEY_SHOCKS} are supported (switch some off)"
        )
    metrics = list(metrics)
    stats = {(m, y): statistic((m, output, y), sc) for m in metrics for y in sc.years}
    last = sc.years[-1]
    common = {
        "output": output,
        "units": {m: stats[(m, last)].unit(sc) for m in metrics},
        "labels": {m: stats[(m, last)].label(sc.years).rsplit(",", 1)[0] for m in metrics},
        "shock_labels": labels(sc, names),
    }
    return names, stats, common


def attribution_from_run(
    result: SimulationResult,
    *,
    metrics: Iterable[str] = ATTRIBUTION_METRICS,
    output: str = "net_profit_attributable",
) -> Attribution:
    """:func:`attribution` from one run's own paths, with no other run.

    The world with the shocks of a set S switched off is, in distribution, the run's paths on
    which none of S hit (up to the year measured; every year for the DCF price, which reads
    later years): on such a path every input is what it would be with S off (a shock's draws
    disturb no other input), and whether S hits is independent of everything else. So each of
    the 2^K on/off combinations is a statistic over a subset of the same paths, the "all shocks"
    level is the run's own statistic, and every page that shows it agrees. ``meta["paths"]``
    gives the fewest paths any combination used (the "no shocks" one)."""
    sc = result.scenario
    names, stats, common = _attributed(sc, metrics, output)
    bit = {s.name: 1 << k for k, s in enumerate(sc.shocks)}
    hit_by = np.bitwise_or.accumulate(result.hits, axis=1)  # (n, H): the shocks hit so far
    if output in ("price_dcf", "dcf_terminal_share"):  # the value reads every later year
        hit_by = np.repeat(hit_by[:, -1:], result.horizon, axis=1)
    years = list(result.years)
    K = len(names)
    value: dict[frozenset[str], np.ndarray] = {}
    fewest = result.n_paths
    for on in itertools.product((False, True), repeat=K):
        subset = frozenset(n for n, flag in zip(names, on, strict=True) if flag)
        off = sum(bit[n] for n in names if n not in subset)
        views: dict[int, PathSubset] = {}
        row = []
        for (_m, y), st in stats.items():
            t = years.index(y)
            if t not in views:
                keep = (hit_by[:, t] & off) == 0
                fewest = min(fewest, int(keep.sum()))
                if not keep.any():
                    raise ValueError(
                        f"attribution from the run: no path of {result.n_paths:,} escapes "
                        f"{', '.join(sorted(set(names) - subset))} by {y}; use more paths or "
                        "attribution() with a run per combination"
                    )
                views[t] = PathSubset(result, keep, output, t)
            row.append(st(views[t]))
        value[subset] = np.array(row)
    seed = result.manifest.get("seed") or {}
    meta = {
        "scenario": sc.name,
        "ticker": sc.ticker,
        "currency": sc.currency,
        "source": sc.source,
        "n_paths": result.n_paths,
        "seed": seed.get("entropy") if isinstance(seed, dict) else seed,
        "sampling": result.manifest.get("sampling", "mc"),
        "runs": 1,
        "paths": fewest,
        "method": "the run's own paths",
        **common,
    }
    return _shapley(names, value, list(stats), meta)


def _shapley(
    names: list[str],
    value: dict[frozenset[str], np.ndarray],
    keys: list[tuple[str, int]],
    meta: dict[str, Any],
) -> Attribution:
    """The :class:`Attribution` of the statistics ``value[shocks on]`` (one per ``keys``,
    (metric, year)) over every on/off combination of the shocks ``names``."""
    K = len(names)
    full: frozenset[str] = frozenset(names)
    none: frozenset[str] = frozenset()
    shap = np.zeros((len(keys), K))
    for k, n in enumerate(names):
        others = [m for m in names if m != n]
        for size in range(K):
            w = math.factorial(size) * math.factorial(K - size - 1) / math.factorial(K)
            for combo in itertools.combinations(others, size):
                s = frozenset(combo)
                shap[:, k] += w * (value[s | {n}] - value[s])
    index = pd.MultiIndex.from_tuples(keys, names=["metric", "year"])
    switch = np.column_stack([value[full] - value[full - {n}] for n in names])
    levels = pd.DataFrame({"no shocks": value[none], "all shocks": value[full]}, index=index)
    return Attribution(
        levels,
        pd.DataFrame(shap, index=index, columns=names),
        pd.DataFrame(switch, index=index, columns=names),
        meta,
    )


# -- reverse stress --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lever:
    """A one-parameter family of stressed scenarios: ``apply(scenario, x)``.

    Build one with :meth:`severity`, :meth:`shift` or :meth:`probability`, or directly from a
    callable. ``at`` is the value that leaves the scenario unchanged (the start of the search).
    """

    name: str
    apply: Callable[[Scenario, float], Scenario]
    at: float
    unit: str = ""

    @classmethod
    def severity(cls, shock: str, year: int | None = None) -> Lever:
        """With ``year``: the shock is forced in that year with severity multiplier x. Without:
        every effect of the shock is scaled by x in every year (probability unchanged)."""
        if year is not None:

            def apply(sc: Scenario, x: float) -> Scenario:
                return apply_stress(sc, Stress("reverse", force=(StressForce(shock, year, x),)))

            return cls(f"severity of {shock} forced in {year}", apply, 0.0, "severity multiplier")

        def scale(sc: Scenario, x: float) -> Scenario:
            s = sc.shock(shock)
            effects = tuple(replace(e, size=e.size * x) for e in s.effects)
            return replace(
                sc,
                shocks=tuple(
                    replace(t, effects=effects) if t.name == shock else t for t in sc.shocks
                ),
            )

        return cls(f"size of every {shock} effect", scale, 1.0, "x effect size")

    @classmethod
    def shift(cls, driver: str | tuple[str, ...], how: str = "add") -> Lever:
        """The driver's base moved by x (``how="add"``) or multiplied by x (``"scale"``);
        several drivers move together (``("margin.a", "margin.b")``: every segment's margin)."""
        if how not in ("add", "scale"):
            raise ValueError(f"how={how!r} must be 'add' or 'scale'")
        names = (driver,) if isinstance(driver, str) else tuple(driver)

        def apply(sc: Scenario, x: float) -> Scenario:
            shift = tuple(
                StressShift(d, add=x) if how == "add" else StressShift(d, scale=x) for d in names
            )
            return apply_stress(sc, Stress("reverse", shift=shift))

        what = ", ".join(names)
        if how == "add":
            return cls(f"{what} base shift (added)", apply, 0.0, "added to the base")
        return cls(f"{what} base multiplier", apply, 1.0, "x base")

    @classmethod
    def probability(cls, shock: str) -> Lever:
        """The shock's annual probability set to x."""

        def apply(sc: Scenario, x: float) -> Scenario:
            return replace(
                sc,
                shocks=tuple(
                    replace(s, probability=x) if s.name == shock else s for s in sc.shocks
                ),
            )

        return cls(f"annual probability of {shock}", apply, 0.0, "probability")


_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class ReverseStress:
    """The outcome of :func:`reverse_stress`: ``threshold`` is the smallest lever value found
    (within ``xtol``) at which the target fails; ``value`` is the statistic there."""

    lever: str
    target: str
    threshold: float
    value: float
    bracket: tuple[float, float]  # final: (last value that passes, threshold)
    initial_bracket: tuple[float, float]
    iterations: int
    evaluations: int
    converged: bool
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        row = {
            k: getattr(self, k)
            for k in (
                "lever",
                "target",
                "threshold",
                "value",
                "iterations",
                "evaluations",
                "converged",
            )
        }
        row["bracket_low"], row["bracket_high"] = self.bracket
        return pd.DataFrame([row])


def reverse_stress(
    scenario: Scenario | None,
    stat: StatisticSpec,
    op: str,
    threshold: float | str,
    lever: Lever,
    bracket: tuple[float, float],
    *,
    n_paths: int = 20_000,
    seed: SeedLike = DEFAULT_SEED,
    sampling: str = "mc",
    xtol: float = 1e-3,
    maxiter: int = 100,
) -> ReverseStress:
    """The smallest move of ``lever`` from ``bracket[0]`` towards ``bracket[1]`` at which the
    target ``stat op threshold`` holds (the target "fails": e.g. P(loss) >= 50%).

    ``stat`` is a :func:`simcore.analysis.measures.statistic` spec, ``op`` one of ``>=``, ``>``,
    ``<=``,
    ``<``, ``threshold`` a number, ``"market_price"`` or ``"forecast"`` (the report's forecast
    of the statistic's output in its year). The condition must not hold at ``bracket[0]`` and
    must hold at ``bracket[1]`` (else ValueError with both values); in between it is assumed
    monotone. Root finding is ``scipy.optimize.brentq`` on ``stat - threshold``; every run uses
    the same seed, so the statistic is a deterministic function of the lever.
    """
    sc = _default(scenario)
    st = statistic(stat, sc)
    if op not in _OPS:
        raise ValueError(f"op={op!r} must be one of {', '.join(_OPS)}")
    thr = _threshold(threshold, st, sc)
    x0, x1 = (float(b) for b in bracket)
    if not (math.isfinite(x0) and math.isfinite(x1)) or x0 == x1:
        raise ValueError(f"bracket={bracket!r} must be two different finite numbers")
    ss = run_seed(sc, n_paths, seed, sampling)
    seen: dict[float, float] = {}

    def value(x: float) -> float:
        if x not in seen:
            seen[x] = st(simulate(lever.apply(sc, x), n_paths, seed=ss, sampling=sampling))
        return seen[x]

    def holds(x: float) -> bool:
        return bool(_OPS[op](value(x), thr))

    sign = 1.0 if op in (">=", ">") else -1.0
    target = f"{st.label(sc.years)} {op} {thr:g}"
    if holds(x0):
        raise ValueError(
            f"the target {target} already holds at the bracket's start "
            f"{lever.name} = {x0:g} (value {value(x0):.6g}); start from a value "
            f"where it does not"
        )
    if not holds(x1):
        raise ValueError(
            f"no root in the bracket: the target {target} does not hold at "
            f"either end ({lever.name} = {x0:g}: {value(x0):.6g}; {x1:g}: "
            f"{value(x1):.6g}); widen the bracket or choose another lever"
        )

    def g(x: float) -> float:  # > 0 where the target holds (ties broken by holds() below)
        d = sign * (value(x) - thr)
        return d if d != 0.0 else (1.0 if holds(x) else -1.0) * 1e-300

    lo, hi = sorted((x0, x1))
    root, info = optimize.brentq(
        g, lo, hi, xtol=xtol, maxiter=maxiter, full_output=True, disp=False
    )
    for x in (root - xtol, root, root + xtol):  # the side of the root where the target holds
        if min(x0, x1) <= x <= max(x0, x1):
            value(x)
    up = x1 > x0
    hold = sorted((x for x in seen if holds(x)), reverse=not up)
    fail = sorted((x for x in seen if not holds(x)), reverse=up)
    x_star, x_pass = hold[0], fail[0]
    if (x_star < x_pass) if up else (x_star > x_pass):
        warnings.warn(
            f"the target is not monotone in {lever.name}: it holds at {x_star:g} but "
            f"not at {x_pass:g}; the threshold may not be the smallest",
            stacklevel=2,
        )
    return ReverseStress(
        lever=lever.name,
        target=target,
        threshold=x_star,
        value=value(x_star),
        bracket=(x_pass, x_star),
        initial_bracket=(x0, x1),
        iterations=int(info.iterations),
        evaluations=len(seen),
        converged=bool(info.converged) and abs(x_star - x_pass) <= 4 * xtol,
        meta=run_meta(
            sc,
            n_paths,
            ss,
            sampling,
            unit=st.unit(sc),
            lever_unit=lever.unit,
            statistic=st.label(sc.years),
            op=op,
            threshold_value=thr,
            curve=sorted(seen.items()),
        ),
    )


def _threshold(threshold: object, st: Statistic, sc: Scenario) -> float:
    if threshold == "market_price":
        return float(sc.market_price)
    if threshold == "forecast":
        t = sc.years.index(st.year) if st.year is not None else sc.horizon - 1
        return st._forecast(sc, t)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
    ):
        raise ValueError(
            f"threshold={threshold!r} must be a finite number, 'market_price' or 'forecast'"
        )
    return float(threshold)
