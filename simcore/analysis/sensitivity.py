"""Which inputs move the forecast: one-at-a-time, sampling-based and variance-based sensitivity.

- :func:`tornado` and :func:`spider`: one factor at a time. Each driver is pinned at quantiles
  of its own distribution (``Constant(dist.ppf(q))``) while every other input keeps its draws
  (same seed; streams are keyed by name, and a pinned driver inside the copula keeps its
  innovation), and a chosen statistic (:mod:`simcore.analysis.measures`) is recomputed.
- :func:`rank_correlation`: from one ordinary run with ``keep_draws=True``, no extra model
  evaluations: Spearman rank correlation of every input with every output per year, and the
  contribution to variance (squared rank correlations normalised to 1, as @RISK shows them).
- :func:`sobol_analysis` (the company model, single factors or named groups) and
  :func:`sobol_indices` (any function of independent inputs): Sobol' first-order and total
  indices with bootstrap confidence intervals, by SALib's estimators. See
  :mod:`simcore.analysis.sobol`
  for what the indices mean when inputs are correlated.

Every function returns a pandas DataFrame whose ``attrs`` carry what a chart needs to label it
(scenario, paths, seed, statistic and unit); :mod:`simcore.report.sensitivity_charts` draws them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from distributions import Constant
from distributions.streams import SeedLike, seed_entropy
from simcore.analysis.measures import StatisticSpec, statistic
from simcore.analysis.sobol import (
    INDEPENDENCE_NOTE,
    default_groups,
    entering_inputs,
    model_factors,
    ordered_index,
    sobol_analysis,
    sobol_indices,
)
from simcore.engine.core import DEFAULT_SEED, simulate
from simcore.engine.run_options import RunOptions
from simcore.model.labels import labels
from simcore.model.scenario import Scenario

if TYPE_CHECKING:
    from simcore.results.result import SimulationResult

__all__ = [
    "INDEPENDENCE_NOTE",
    "default_groups",
    "model_factors",
    "one_at_a_time",
    "pin_driver",
    "rank_correlation",
    "sobol_analysis",
    "sobol_indices",
    "spider",
    "tornado",
]

SPIDER_LEVELS = (0.10, 0.25, 0.50, 0.75, 0.90)


def _default(scenario: Scenario | None) -> Scenario:
    if scenario is None:
        from simcore.io.scenario_file import default_scenario

        return default_scenario()
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"scenario must be a simcore Scenario or None, got {type(scenario).__name__}"
        )
    return scenario


def run_seed(
    scenario: Scenario, n_paths: int, seed: SeedLike, sampling: str
) -> np.random.SeedSequence:
    """Check an analysis's run arguments once (:class:`RunOptions`, memory included) and
    resolve the seed that every run of the analysis reuses, before any run starts."""
    opts = RunOptions.checked(n_paths, seed, sampling=sampling)
    opts.check_memory(scenario)
    return opts.seed_sequence()


def run_meta(
    scenario: Scenario, n_paths: int, ss: np.random.SeedSequence, sampling: str, **extra: Any
) -> dict[str, Any]:
    """The ``attrs`` every analysis carries: scenario, ticker, currency, paths, seed."""
    return {
        "scenario": scenario.name,
        "ticker": scenario.ticker,
        "currency": scenario.currency,
        "source": scenario.source,
        "n_paths": n_paths,
        "seed": seed_entropy(ss),
        "sampling": sampling,
        **extra,
    }


def pin_driver(scenario: Scenario, name: str, q: float) -> Scenario:
    """``scenario`` with driver ``name`` held at the q-quantile of its distribution in every
    year (its dist replaced by ``Constant(ppf(q))``; with parameter uncertainty the quantile of
    the mixture over its rows); every other input keeps its draws."""
    d = scenario.driver(name)
    if not 0.0 < q < 1.0:
        raise ValueError(f"q={q!r} must be a quantile level in (0, 1)")
    pinned = Constant(float(d.ppf(q)))
    return replace(
        scenario,
        drivers=tuple(
            replace(x, dist=pinned, uncertainty=None) if x.name == name else x
            for x in scenario.drivers
        ),
    )


def _factors(scenario: Scenario, factors: str | Iterable[str] | None) -> list[str]:
    random = [d.name for d in scenario.drivers if not isinstance(d.dist, Constant)]
    if factors is None:
        return random
    names = [d.name for d in scenario.drivers]
    out: list[str] = []
    for f in [factors] if isinstance(factors, str) else factors:
        if f not in names:
            raise ValueError(
                f"factor {f!r} is not a driver of {scenario.name!r}; allowed {', '.join(names)}"
            )
        out.append(f)
    return out


def one_at_a_time(
    scenario: Scenario | None,
    stat: StatisticSpec,
    *,
    factors: str | Iterable[str] | None = None,
    levels: Iterable[float] = SPIDER_LEVELS,
    n_paths: int = 20_000,
    seed: SeedLike = DEFAULT_SEED,
    sampling: str = "mc",
) -> pd.DataFrame:
    """The statistic with each driver pinned at each quantile level, others unchanged.

    Returns a DataFrame indexed by (factor, level) with ``input`` (the pinned quantile of the
    driver's distribution: a deviation for ``mode="add"``, a multiplier for ``"mul"``) and
    ``value`` (the statistic); ``attrs["base"]`` is the statistic of the unpinned run.
    """
    sc = _default(scenario)
    st = statistic(stat, sc)
    levels = [float(q) for q in levels]
    for q in levels:
        if not 0.0 < q < 1.0:
            raise ValueError(f"levels={levels!r}: each level must be in (0, 1)")
    names = _factors(sc, factors)
    ss = run_seed(sc, n_paths, seed, sampling)  # every run below uses the same streams

    def run(s: Scenario) -> float:
        return st(simulate(s, n_paths, seed=ss, sampling=sampling))

    base = run(sc)
    rows: list[tuple[float, float]] = []  # (input, value)
    index: list[tuple[str, float]] = []  # (factor, level)
    for name in names:
        d = sc.driver(name)
        for q in levels:
            rows.append((float(d.ppf(q)), run(pin_driver(sc, name, q))))
            index.append((name, q))
    df = pd.DataFrame(
        rows, columns=["input", "value"], index=ordered_index(index, ["factor", "level"])
    )
    df.attrs.update(
        run_meta(
            sc,
            n_paths,
            ss,
            sampling,
            base=base,
            statistic=st.label(sc.years),
            unit=st.unit(sc),
            probability=st.is_probability,
            modes={n: sc.driver(n).mode for n in names},
            labels=labels(sc, names),
        )
    )
    return df


def tornado(
    scenario: Scenario | None,
    stat: StatisticSpec,
    *,
    factors: str | Iterable[str] | None = None,
    low: float = 0.10,
    high: float = 0.90,
    n_paths: int = 20_000,
    seed: SeedLike = DEFAULT_SEED,
    sampling: str = "mc",
) -> pd.DataFrame:
    """Swing of a statistic as each driver moves from its ``low`` to its ``high`` quantile.

    ``stat`` is anything :func:`simcore.analysis.measures.statistic` accepts, e.g.
    ``("median", "net_profit_attributable", 2027)``, ``("prob_loss", "net_profit")`` or a
    callable ``f(result) -> float``. Returns one row per driver, sorted by the size of the swing
    (largest first): ``low_input``/``high_input`` (the pinned quantiles), ``low``/``high`` (the
    statistic there) and ``swing = high - low``. A driver with no effect has a swing of exactly 0
    (common random numbers). ``attrs["base"]`` is the statistic of the unpinned run.
    """
    oat = one_at_a_time(
        scenario,
        stat,
        factors=factors,
        levels=(low, high),
        n_paths=n_paths,
        seed=seed,
        sampling=sampling,
    )
    lo = oat.xs(float(low), level="level")
    hi = oat.xs(float(high), level="level")
    df = pd.DataFrame(
        {
            "low_input": lo["input"],
            "high_input": hi["input"],
            "low": lo["value"],
            "high": hi["value"],
        }
    )
    df["swing"] = df["high"] - df["low"]
    order = np.argsort(-np.abs(df["swing"].to_numpy()), kind="stable")
    df = df.iloc[order]
    df.index.name = "factor"
    df.attrs.update(oat.attrs)
    df.attrs.update(low=float(low), high=float(high))
    return df


def spider(
    scenario: Scenario | None,
    stat: StatisticSpec,
    *,
    factors: str | Iterable[str] | None = None,
    levels: Iterable[float] = SPIDER_LEVELS,
    n_paths: int = 20_000,
    seed: SeedLike = DEFAULT_SEED,
    sampling: str = "mc",
) -> pd.DataFrame:
    """The statistic at 5 (or ``levels``) quantiles of each driver: rows are drivers (sorted by
    their range), columns the levels; ``attrs["inputs"]`` holds the pinned input values."""
    oat = one_at_a_time(
        scenario,
        stat,
        factors=factors,
        levels=levels,
        n_paths=n_paths,
        seed=seed,
        sampling=sampling,
    )
    wide = oat["value"].unstack("level")
    wide = wide.loc[list(dict.fromkeys(oat.index.get_level_values("factor")))]
    spread = (wide.max(axis=1) - wide.min(axis=1)).to_numpy()
    wide = wide.iloc[np.argsort(-spread, kind="stable")]
    wide.attrs.update(oat.attrs)
    wide.attrs.update(inputs={f: oat.loc[f, "input"].tolist() for f in wide.index})
    return wide


# -- sampling-based --------------------------------------------------------------------------------
def _ranks(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(x, method="average", axis=0)


def _corr_cols(rx: np.ndarray, ry: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``rx`` with ``ry`` (0 where either is constant)."""
    dx = rx - rx.mean(axis=0)
    dy = ry - ry.mean()
    sx = np.sqrt((dx * dx).sum(axis=0))
    sy = np.sqrt((dy * dy).sum())
    num = dy @ dx
    out = np.zeros(rx.shape[1])
    ok = (sx > 0) & (sy > 0)
    out[ok] = num[ok] / (sx[ok] * sy)
    return out


def rank_correlation(
    result: SimulationResult,
    outputs: str | Iterable[str] = ("net_profit_attributable",),
    *,
    inputs: str = "cumulative",
) -> pd.DataFrame:
    """Spearman rank correlation and contribution to variance of each input, per output and year.

    Needs a run with ``keep_draws=True``; no extra model evaluations. An input's value for year
    t is, with ``inputs="cumulative"`` (default), the mean of a driver's values over the years up
    to t and the sum of a shock's severities up to t (0 where it never hit), since revenue and
    profit in year t depend on every earlier year's growth and shocks; with ``"same"``, the
    value in year t alone. Paths where the output is undefined (NaN: ROIC) are left out
    (``n_used``). A constant input or output correlates 0.

    Returns a DataFrame indexed by (output, year, factor) with ``spearman``, ``contribution``
    (squared rank correlations normalised to sum to 1 over the inputs that enter the output;
    an input that does not enter it, e.g. a multiple for net profit, gets exactly 0 however it
    correlates through the copula: :func:`simcore.analysis.sobol.entering_inputs`), ``n_used``
    and ``enters``.
    """
    draws = getattr(result, "draws", None)
    if draws is None:
        raise ValueError("result has no stored draws; run simulate(..., keep_draws=True)")
    if inputs not in ("cumulative", "same"):
        raise ValueError(f"inputs={inputs!r} must be 'cumulative' or 'same'")
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    sc = result.scenario
    drivers = {
        n: x for n, x in draws["drivers"].items() if not isinstance(sc.driver(n).dist, Constant)
    }
    shocks = {f"shock.{n}": x for n, x in draws["severity"].items() if sc.shock(n).enabled}
    names = list(drivers) + list(shocks)
    enters = entering_inputs(sc, outputs)
    rows: list[tuple[int, int, tuple[float, float, int, bool]]] = []  # (output, year, values)
    index: list[tuple[str, int, str]] = []
    for t, year in enumerate(result.years):
        if inputs == "same":
            cols = [x[:, t] for x in drivers.values()] + [x[:, t] for x in shocks.values()]
        else:
            cols = [x[:, : t + 1].mean(axis=1) for x in drivers.values()] + [
                x[:, : t + 1].sum(axis=1) for x in shocks.values()
            ]
        X = np.column_stack(cols)
        rx_all = _ranks(X)
        for out in outputs:
            y = result[out][:, t]
            ok = ~np.isnan(y)
            rx = rx_all if ok.all() else _ranks(X[ok])
            r = _corr_cols(rx, _ranks(y[ok]))
            used = np.array([bool(enters.get((n_, out), np.ones(t + 1, bool))[t]) for n_ in names])
            r2 = np.where(used, r * r, 0.0)  # an input that does not enter gets nothing
            contrib = r2 / r2.sum() if r2.sum() > 0 else np.zeros_like(r2)
            for name, rho, c, e in zip(names, r, contrib, used, strict=True):
                rows.append((outputs.index(out), t, (rho, c, int(ok.sum()), bool(e))))
                index.append((out, year, name))
    order = sorted(range(len(rows)), key=lambda i: rows[i][:2])  # output-major, then year
    df = pd.DataFrame(
        [rows[i][2] for i in order],
        columns=["spearman", "contribution", "n_used", "enters"],
        index=ordered_index([index[i] for i in order], ["output", "year", "factor"]),
    )
    m = result.manifest
    df.attrs.update(
        scenario=sc.name,
        ticker=sc.ticker,
        currency=sc.currency,
        source=sc.source,
        n_paths=result.n_paths,
        seed=m.get("seed"),
        sampling=m.get("sampling"),
        inputs=inputs,
        note="Rank correlations measure monotone association, not causation: a "
        "driver correlated (through the copula) with an influential one shows "
        "a correlation of its own.",
    )
    return df
