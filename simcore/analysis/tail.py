"""What drives the tail: each input's shift in the worst paths, and the named events' shares of
expected shortfall and VaR.

- :func:`tail_shift` (one run with ``keep_draws=True``, no extra model evaluations): for each
  input, where it sits in its own distribution on the paths whose output is in its worst
  ``level`` (its mean percentile there; 0.5 = no shift), the standardised shift of its mean,
  and a two-sample Kolmogorov-Smirnov test of tail against the other paths (scipy.stats). An
  input that does not enter the output (:func:`simcore.analysis.sobol.entering_inputs`) is
  flagged: its shift, if any, comes from its correlation with inputs that do.
- :func:`tail_allocation`: the shortfall of the output below the report's forecast in the tail
  (ES, and VaR), split into the part the paths have without any event and one part per enabled
  event. The events' per-path parts are their Shapley values over the 2^K on/off combinations
  run with common random numbers, so on every path they add up exactly to the output with every
  event minus the output with none; averaged over the tail paths (the Euler allocation of ES)
  the parts add up exactly to ES. VaR's parts are the same averages over the paths nearest the
  VaR quantile (a window of ``window`` of the paths), so they add up to that window's mean
  shortfall, which estimates VaR. Every part has its standard error.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from distributions import Constant
from simcore.analysis.sensitivity import run_seed
from simcore.analysis.sobol import entering_inputs
from simcore.engine.core import DEFAULT_SEED, simulate

if TYPE_CHECKING:
    from distributions.streams import SeedLike
    from simcore.model.scenario import Scenario
    from simcore.results.result import SimulationResult

__all__ = ["tail_allocation", "tail_contributions", "tail_shift"]

MAX_EVENTS = 10  # 2^K runs


def _year_index(years: tuple[int, ...] | list[int], year: int | None) -> int:
    if year is None:
        return len(years) - 1
    if year not in years:
        raise ValueError(f"year={year!r} is not simulated; allowed one of {list(years)}")
    return list(years).index(year)


def _forecast(sc: Scenario, output: str, t: int) -> float:
    """The report's forecast the shortfall is measured from: net profit attributable's in year
    t (its last value beyond), else 0 (the shortfall is then a loss)."""
    fc = list(sc.forecast.net_profit_attributable)
    if output != "net_profit_attributable" or not fc:
        return 0.0
    return float(fc[min(t, len(fc) - 1)])


def _check_level(level: float) -> float:
    if not (isinstance(level, float | int) and 0.0 < level < 0.5):
        raise ValueError(f"level={level!r}; allowed a tail share in (0, 0.5), e.g. 0.05")
    return float(level)


def tail_shift(
    result: SimulationResult,
    output: str = "net_profit_attributable",
    *,
    year: int | None = None,
    level: float = 0.05,
) -> pd.DataFrame:
    """Each input's shift on the paths where ``output`` (in ``year``, default the last) is in
    its lowest ``level`` share, sorted by the size of the shift.

    An input's value is, as in :func:`~simcore.analysis.sensitivity.rank_correlation`, the mean
    of a driver over the years up to ``year`` and the summed severity of a shock (0 where it
    never hit). Columns: ``tail_percentile`` (the input's mean percentile in the tail; 0.5 = as
    everywhere), ``z`` (its difference from 0.5 over its standard error sqrt(1/12/n_tail)),
    ``std_shift`` (the difference of means in standard deviations), ``ks`` and ``p_value``
    (two-sample KS test, tail against the rest), ``enters`` and, for events, ``p_hit_tail`` and
    ``p_hit`` (the probability that it hit by ``year``, in the tail and overall)."""
    draws = getattr(result, "draws", None)
    if draws is None:
        raise ValueError("result has no stored draws; run simulate(..., keep_draws=True)")
    level = _check_level(level)
    sc = result.scenario
    t = _year_index(result.years, year)
    y = result[output][:, t]
    ok = ~np.isnan(y)
    n = int(ok.sum())
    k = max(int(math.floor(level * n)), 1)
    if k >= n:
        raise ValueError(f"{n} paths are too few for a {level:.0%} tail")
    order = np.argsort(y[ok], kind="stable")
    tail = np.zeros(n, dtype=bool)
    tail[order[:k]] = True
    inputs: dict[str, np.ndarray] = {}
    for name, x in draws["drivers"].items():
        if not isinstance(sc.driver(name).dist, Constant):
            inputs[name] = x[:, : t + 1].mean(axis=1)[ok]
    for name, x in draws["severity"].items():
        if sc.shock(name).enabled:
            inputs[f"shock.{name}"] = x[:, : t + 1].sum(axis=1)[ok]
    enters = entering_inputs(sc, [output])
    rows = []
    for name, x in inputs.items():
        pct = (stats.rankdata(x, method="average") - 0.5) / n
        mean_pct = float(pct[tail].mean())
        z = (mean_pct - 0.5) / math.sqrt(1.0 / 12.0 / k)
        sd = float(x.std())
        shift = float((x[tail].mean() - x.mean()) / sd) if sd > 0 else 0.0
        ks = stats.ks_2samp(x[tail], x[~tail])
        row = {
            "factor": name,
            "tail_percentile": mean_pct,
            "z": z,
            "std_shift": shift,
            "ks": float(ks.statistic),
            "p_value": float(ks.pvalue),
            "enters": bool(enters.get((name, output), np.ones(t + 1, bool))[t]),
            "p_hit_tail": np.nan,
            "p_hit": np.nan,
        }
        if name.startswith("shock."):
            row["p_hit_tail"] = float(np.mean(x[tail] > 0))
            row["p_hit"] = float(np.mean(x > 0))
        rows.append(row)
    df = pd.DataFrame(rows).set_index("factor")
    df = df.reindex(df["z"].abs().sort_values(ascending=False).index)
    df.attrs.update(
        output=output, year=result.years[t], level=level, n_tail=k, n_paths=n, scenario=sc.name
    )
    return df


def tail_allocation(
    scenario: Scenario,
    output: str = "net_profit_attributable",
    *,
    year: int | None = None,
    level: float = 0.05,
    n_paths: int = 20_000,
    seed: SeedLike = DEFAULT_SEED,
    window: float = 0.01,
) -> pd.DataFrame:
    """ES and VaR of ``output`` below the report's forecast in ``year`` (default the last) at
    tail share ``level``, split into the part without events and one part per enabled event
    (see the module docstring). Rows: ``without events`` and ``event: <name>``, then ``total``;
    columns ``ES``, ``ES_se``, ``VaR``, ``VaR_se``. ``attrs`` hold ES and VaR computed directly
    (``ES`` equals the rows' sum to rounding)."""
    level = _check_level(level)
    if not 0.0 < window < 0.5:
        raise ValueError(f"window={window!r}; allowed a share of paths in (0, 0.5)")
    sc = scenario
    t = _year_index(sc.years, year)
    fc = _forecast(sc, output, t)
    names = [s.name for s in sc.shocks if s.enabled]
    if len(names) > MAX_EVENTS:
        raise ValueError(
            f"{len(names)} enabled events need 2^{len(names)} runs; allowed at most {MAX_EVENTS}"
        )
    K = len(names)
    ss = run_seed(sc, n_paths, seed, "mc")
    value: dict[frozenset[str], np.ndarray] = {}
    for on in itertools.product((False, True), repeat=K):
        subset = frozenset(n for n, flag in zip(names, on, strict=True) if flag)
        r = simulate(sc.with_shocks({n: n in subset for n in names}), n_paths, seed=ss)
        value[subset] = r[output][:, t].copy()
    full = value[frozenset(names)]
    none = value[frozenset()]
    parts = {"without events": fc - none}
    for name in names:
        others = [m for m in names if m != name]
        phi = np.zeros(n_paths)
        for size in range(K):
            w = math.factorial(size) * math.factorial(K - size - 1) / math.factorial(K)
            for s in itertools.combinations(others, size):
                base = frozenset(s)
                phi += w * (value[base | {name}] - value[base])
        parts[f"event: {name}"] = -phi  # a shortfall: a lower output is a positive part
    order = np.argsort(full, kind="stable")
    k = max(int(math.floor(level * n_paths)), 1)
    tail = order[:k]
    half = max(int(round(window * n_paths / 2)), 1)
    centre = k - 1
    near = order[max(centre - half, 0) : centre + half + 1]
    rows = []
    for label, x in parts.items():
        rows.append(
            {
                "component": label,
                "ES": float(x[tail].mean()),
                "ES_se": float(x[tail].std(ddof=1) / math.sqrt(k)) if k > 1 else np.nan,
                "VaR": float(x[near].mean()),
                "VaR_se": float(x[near].std(ddof=1) / math.sqrt(near.size)),
            }
        )
    df = pd.DataFrame(rows).set_index("component")
    df.loc["total"] = [df["ES"].sum(), np.nan, df["VaR"].sum(), np.nan]
    q = float(np.sort(full)[k - 1])
    df.attrs.update(
        output=output,
        year=sc.years[t],
        level=level,
        forecast=fc,
        ES=float(fc - full[tail].mean()),
        VaR=float(fc - q),
        n_paths=n_paths,
        n_tail=k,
        window_paths=int(near.size),
        runs=2**K,
        scenario=sc.name,
    )
    return df


def tail_contributions(
    scenario: Scenario,
    output: str = "net_profit_attributable",
    *,
    year: int | None = None,
    level: float = 0.05,
    n_paths: int = 20_000,
    n_orders: int = 8,
    window: float = 0.01,
    seed: int = 0,
) -> pd.DataFrame:
    """ES and VaR of ``output`` below the report's forecast, split over *every* input: each
    driver and each event.

    A path's output is split into the central value (every driver's score at 0, its median,
    and no event) plus one part per input: the input's Shapley value on that path, moving the
    inputs from the central values to the path's own in ``n_orders`` random orders (each order
    adds up exactly, so the parts always add up to the path's output less the central value).
    Driver values are moved through their correlated scores (the copula's own), so moving one
    driver moves no other. ES's parts are the parts' means over the tail (the Euler allocation
    of ES) and add up exactly to ES; VaR's, their means over the paths nearest the VaR quantile.
    The paths are ``n_paths`` draws of the inputs' joint distribution (Gaussian copula)
    evaluated by the kernel. Rows: ``central value`` then every input, then ``total``; columns
    ``ES``, ``ES_se``, ``VaR``, ``VaR_se`` (the standard errors include the orders' noise)."""
    from simcore.analysis.shapley import model_inputs
    from simcore.engine.core import evaluate_uniforms

    level = _check_level(level)
    if not (isinstance(n_orders, int) and n_orders >= 1):
        raise ValueError(f"n_orders={n_orders!r}; allowed an integer >= 1")
    sc = scenario
    t = _year_index(sc.years, year)
    fc = _forecast(sc, output, t)
    factors, corr, to_uniforms = model_inputs(sc)
    d, H = len(factors), sc.horizon
    C = 2 * H
    rng = np.random.default_rng(seed)
    full = np.linalg.cholesky(corr + 1e-12 * np.eye(d))

    def y_of(Z: np.ndarray) -> np.ndarray:
        return evaluate_uniforms(sc, to_uniforms(Z))[output][:, t]

    Z = np.einsum("ij,njc->nic", full, rng.standard_normal((n_paths, d, C)))
    y = y_of(Z)
    centre = np.zeros((1, d, C))
    shock = [i for i, f in enumerate(factors) if f.startswith("shock.")]
    centre[0, shock, :H] = 8.0  # occurrence uniform ~1: no event
    y0 = float(y_of(centre)[0])
    order = np.argsort(y, kind="stable")
    k = max(int(math.floor(level * n_paths)), 1)
    half = max(int(round(window * n_paths / 2)), 1)
    tail = order[:k]
    near = order[max(k - 1 - half, 0) : k + half]
    picked = np.unique(np.concatenate([tail, near]))
    phi = np.zeros((picked.size, d))
    chunk = max(1, 40_000 // (n_orders * (d + 1)))
    for lo in range(0, picked.size, chunk):
        ids = picked[lo : lo + chunk]
        m = ids.size
        orders = np.array([[rng.permutation(d) for _ in range(n_orders)] for _ in range(m)])
        # rows: for each path and order, the inputs of the first j positions at the path's own
        rows = np.broadcast_to(centre, (m, n_orders, d + 1, d, C)).copy()
        on = np.zeros((m, n_orders, d + 1, d), dtype=bool)
        pos = np.empty_like(orders)
        np.put_along_axis(pos, orders, np.arange(d)[None, None, :], axis=2)
        on[:] = pos[:, :, None, :] < np.arange(d + 1)[None, None, :, None]
        own = np.broadcast_to(Z[ids][:, None, None], rows.shape)
        rows[on] = own[on]
        yy = y_of(rows.reshape(-1, d, C)).reshape(m, n_orders, d + 1)
        steps = np.diff(yy, axis=2)  # (m, orders, d): the step that switched input orders[j]
        contrib = np.zeros((m, n_orders, d))
        np.put_along_axis(contrib, orders, steps, axis=2)
        phi[lo : lo + m] = contrib.mean(axis=1)
    where = {p: i for i, p in enumerate(picked)}
    ti = np.array([where[p] for p in tail])
    ni = np.array([where[p] for p in near])
    rows_out = [
        {
            "component": "central value",
            "ES": fc - y0,
            "ES_se": 0.0,
            "VaR": fc - y0,
            "VaR_se": 0.0,
        }
    ]
    for i, f in enumerate(factors):
        part = -phi[:, i]  # a shortfall: a lower output is a positive part
        rows_out.append(
            {
                "component": f,
                "ES": float(part[ti].mean()),
                "ES_se": float(part[ti].std(ddof=1) / math.sqrt(ti.size))
                if ti.size > 1
                else np.nan,
                "VaR": float(part[ni].mean()),
                "VaR_se": float(part[ni].std(ddof=1) / math.sqrt(ni.size)),
            }
        )
    df = pd.DataFrame(rows_out).set_index("component")
    df.loc["total"] = [df["ES"].sum(), np.nan, df["VaR"].sum(), np.nan]
    df.attrs.update(
        output=output,
        year=sc.years[t],
        level=level,
        forecast=fc,
        ES=float(fc - y[tail].mean()),
        VaR=float(fc - np.sort(y)[k - 1]),
        n_paths=n_paths,
        n_orders=n_orders,
        n_tail=k,
        scenario=sc.name,
        evaluations=n_paths + 1 + picked.size * n_orders * (d + 1),
    )
    return df
