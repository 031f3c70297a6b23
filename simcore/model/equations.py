"""Plain numpy reference implementation of the company model (vectorised over paths, no numba).

It is the readable statement of the model and the oracle the numba kernel is tested against:

- :func:`evaluate` maps sampled driver values and shock draws to the income statement and the
  implied valuations. The kernel exports its own draws (``simulate(..., keep_draws=True)``)
  and :func:`evaluate` must reproduce its outputs to 1e-12 relative.
- :func:`sample` draws the same inputs as the kernel from the same addressed streams, with
  numpy and scipy only (Monte Carlo sampling).
- :func:`simulate_reference` is both, end to end; the benchmarks time it against the kernel.

Shapes: ``n`` paths, ``H`` horizon years, ``S`` segments. All money in the scenario's currency
(millions); ratios as fractions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from distributions.streams import SeedLike, stream_key, uniforms_numpy
from simcore.model.scenario import Scenario, extend

if TYPE_CHECKING:
    from distributions import Distribution
    from distributions.copula import GaussianCopula, StudentTCopula

Arrays = dict[str, np.ndarray]  # name -> array over paths (and years)

GROWTH_FLOOR = -0.95  # revenue never falls more than 95% in a year


def driver_stream(name: str) -> str:
    return f"driver.{name}"


def shock_stream(name: str) -> str:
    return f"shock.{name}"


def shock_schedule(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per shock and year: the probability of a hit and a forced severity (NaN: drawn),
    both float64 (K, H). A switched-off shock has probability 0 in every year; a forced year
    (a stress scenario) has probability 1, and with ``forced_only`` every other year 0."""
    sc = scenario
    H = sc.horizon
    prob = np.zeros((len(sc.shocks), H))
    sev = np.full((len(sc.shocks), H), np.nan)
    for k, s in enumerate(sc.shocks):
        if not s.enabled:
            continue
        prob[k] = 0.0 if s.forced_only else s.probability
        for f in s.forced:
            t = f.year - sc.base_year - 1
            if 0 <= t < H:
                prob[k, t] = 1.0
                if f.severity is not None:
                    sev[k, t] = f.severity
    return prob, sev


def shock_effects(scenario: Scenario, hits: Arrays, severity: Arrays) -> Arrays:
    """Per-year effect of every shock target: ``{target: (n, H)}``; growth/churn ``(n, S, H)``.

    ``hits[name]`` is the number of events (n, H); ``severity[name]`` the severity draw (n, H).
    An event in year tau adds ``size * severity * profile[t - tau]`` to its target in year t;
    each effect's yearly value is capped at ``cap`` in absolute value.
    """
    n, horizon = next(iter(hits.values())).shape if hits else (0, scenario.horizon)
    segs = scenario.segment_names
    out: Arrays = {}
    for shock in scenario.shocks:
        if not shock.enabled:
            continue
        impulse = hits[shock.name] * severity[shock.name]  # (n, H)
        for eff in shock.effects:
            prof = np.zeros(horizon)
            m = min(len(eff.profile), horizon)
            prof[:m] = eff.profile[:m]
            value = np.zeros_like(impulse)
            for t in range(horizon):
                for tau in range(t + 1):
                    value[:, t] += impulse[:, tau] * (eff.size * prof[t - tau])
            value = np.sign(value) * np.minimum(np.abs(value), eff.cap)
            if eff.target in ("growth", "churn"):
                mask = np.array([(not eff.segments) or (s in eff.segments) for s in segs], float)
                acc = out.setdefault(eff.target, np.zeros((n, len(segs), horizon)))
                acc += mask[None, :, None] * value[:, None, :]
            else:
                acc = out.setdefault(eff.target, np.zeros((n, horizon)))
                acc += value
    return out


def evaluate(scenario: Scenario, drivers: Arrays, hits: Arrays, severity: Arrays) -> Arrays:
    """The model on given draws. ``drivers[name]`` is (n, H) of driver *values* (base applied)."""
    sc = scenario
    H = sc.horizon
    segs = sc.segment_names
    n = next(iter(drivers.values())).shape[0]
    eff = shock_effects(sc, hits, severity)
    zero = np.zeros((n, H))
    zero_s = np.zeros((n, len(segs), H))

    def e(name: str) -> np.ndarray:
        return eff.get(name, zero)

    debt = extend(sc.debt, H)
    debt_prev = np.concatenate([[sc.debt_base], debt[:-1]])
    other_income = extend(sc.other_income, H)
    non_operating = extend(sc.non_operating, H)
    minority_share = extend(sc.minority_share, H)
    da_ratio = extend(sc.da_ratio, H)
    capex_ratio = extend(sc.capex_ratio, H)
    net_debt = extend(sc.net_debt, H)

    # revenue by segment
    growth = np.stack([drivers[f"growth.{s}"] for s in segs], axis=1) + eff.get("growth", zero_s)
    growth = np.maximum(growth, GROWTH_FLOOR)
    churn = np.clip(eff.get("churn", zero_s), 0.0, 1.0)
    seg_rev = np.empty((n, len(segs), H))
    prev = np.array([s.base_revenue for s in sc.segments], dtype=np.float64)[None, :]
    for t in range(H):
        prev = prev * (1.0 + growth[:, :, t]) * (1.0 - churn[:, :, t])
        seg_rev[:, :, t] = prev
    revenue = seg_rev.sum(axis=1)
    revenue_prev = np.concatenate(
        [np.full((n, 1), sum(s.base_revenue for s in sc.segments)), revenue[:, :-1]], axis=1
    )

    # costs, operating profit and profit before tax
    gross_margin = np.minimum(drivers["gross_margin"] + e("gross_margin"), 1.0)
    gross_profit = revenue * gross_margin
    taxes_surcharges = revenue * drivers["ratio.taxes_surcharges"]
    selling = revenue * np.maximum(drivers["ratio.selling"] + e("ratio.selling"), 0.0)
    admin = revenue * np.maximum(drivers["ratio.admin"] + e("ratio.admin"), 0.0)
    rnd = revenue * np.maximum(drivers["ratio.rnd"] + e("ratio.rnd"), 0.0)
    financial = drivers["interest_rate"] * (0.5 * (debt_prev + debt))[None, :]
    impairment = revenue * drivers["ratio.impairment"]
    operating_profit = (
        gross_profit
        - taxes_surcharges
        - selling
        - admin
        - rnd
        - financial
        - impairment
        + other_income[None, :]
    )
    one_off = e("one_off_loss") * revenue_prev
    pbt = operating_profit + non_operating[None, :] - one_off

    # income tax with losses carried forward, net profit, EPS
    tax = np.empty((n, H))
    carry = np.full(n, float(sc.tax_loss_carryforward))
    for t in range(H):
        p = pbt[:, t]
        used = np.where(p > 0.0, np.minimum(carry, p), 0.0)
        taxable = np.where(p > 0.0, p - used, 0.0)
        carry = np.where(p > 0.0, carry - used, carry - p)
        tax[:, t] = drivers["tax_rate"][:, t] * taxable
    net_profit = pbt - tax
    npa = net_profit * (1.0 - minority_share[None, :])
    eps = npa / sc.shares

    # valuation: multiples
    derate = np.maximum(1.0 - e("multiple"), 0.0)
    price_ps = drivers["multiple.ps"] * derate * revenue / sc.shares
    with np.errstate(invalid="ignore"):
        price_pe = np.where(eps > 0.0, drivers["multiple.pe"] * derate * eps, np.nan)

    # valuation: DCF: each year's NOPAT and free cash flow
    ebit = operating_profit + financial
    nopat = ebit - drivers["tax_rate"] * np.maximum(ebit, 0.0)
    fcf = (
        nopat + revenue * (da_ratio - capex_ratio)[None, :] - sc.wc_ratio * (revenue - revenue_prev)
    )
    # valuation: DCF as of each year end, with the final year's discount rate and growth
    w = drivers["wacc"][:, -1] + e("wacc")[:, -1]
    g = drivers["terminal_growth"][:, -1]
    value = nopat[:, -1] * (1.0 + g) * (1.0 - g / sc.terminal_roic) / (w - g)
    ev = np.empty((n, H))
    ev[:, H - 1] = value
    for t in range(H - 2, -1, -1):
        value = (value + fcf[:, t + 1]) / (1.0 + w)
        ev[:, t] = value
    price_dcf = np.maximum(ev - net_debt[None, :], 0.0) / sc.shares

    return {
        "segment_revenue": seg_rev,
        "revenue": revenue,
        "gross_profit": gross_profit,
        "operating_profit": operating_profit,
        "profit_before_tax": pbt,
        "net_profit": net_profit,
        "net_profit_attributable": npa,
        "eps": eps,
        "price_ps": price_ps,
        "price_pe": price_pe,
        "price_dcf": price_dcf,
    }


def _ppf_numpy(dist: Distribution, u: ArrayLike) -> Any:
    """Marginal ppf with scipy only (the reference never calls numba)."""
    return dist.to_scipy().ppf(u)


def sample(
    scenario: Scenario, n_paths: int, seed: SeedLike, start: int = 0
) -> tuple[Arrays, Arrays, Arrays]:
    """Monte Carlo draws of every driver and shock, numpy only: ``(drivers, hits, severity)``."""
    sc = scenario
    H = sc.horizon
    paths = np.arange(start, start + n_paths, dtype=np.uint64)
    # uniforms and independent normal scores
    eps: Arrays = {}
    for d in sc.drivers:
        key = stream_key(seed, driver_stream(d.name))
        eps[d.name] = np.stack(
            [special.ndtri(uniforms_numpy(key, paths, t, 0)) for t in range(H)], 1
        )
    # copula over the labelled drivers
    labels = list(sc.correlation_labels)
    if labels:
        from distributions.copula import GaussianCopula, StudentTCopula

        cop: GaussianCopula | StudentTCopula
        if sc.copula == "student_t":
            cop = StudentTCopula(
                labels,
                sc.correlation,
                sc.copula_df,
                kind=sc.correlation_kind,
                repair=sc.correlation_repair,
            )
        else:
            cop = GaussianCopula(
                labels, sc.correlation, kind=sc.correlation_kind, repair=sc.correlation_repair
            )
        Z = np.stack([eps[k] for k in labels], axis=-1)  # (n, H, d)
        X = Z @ cop.factor.T
        if isinstance(cop, StudentTCopula):  # sc.copula == "student_t"
            key = stream_key(seed, cop.mixing_stream)
            u = np.stack([uniforms_numpy(key, paths, t, 0) for t in range(H)], 1)
            w = stats.chi2(sc.copula_df).ppf(u)
            X = special.ndtri(stats.t(sc.copula_df).cdf(X / np.sqrt(w / sc.copula_df)[..., None]))
        for i, k in enumerate(labels):
            eps[k] = X[..., i]
    # persistence and marginals: the driver values
    drivers: Arrays = {}
    for d in sc.drivers:
        z = np.empty((n_paths, H))
        a, b = d.persistence, np.sqrt(1.0 - d.persistence**2)
        prev = np.zeros(n_paths)
        for t in range(H):
            prev = eps[d.name][:, t] if t == 0 else a * prev + b * eps[d.name][:, t]
            z[:, t] = prev
        x = _ppf_numpy(d.dist, special.ndtr(z))
        base = extend(d.base, H)[None, :]
        drivers[d.name] = base + x if d.mode == "add" else base * x
    # shocks: hits and severities
    hits: Arrays = {}
    severity: Arrays = {}
    prob, fixed = shock_schedule(sc)
    for j, s in enumerate(sc.shocks):
        key = stream_key(seed, shock_stream(s.name))
        u_occ = np.stack([uniforms_numpy(key, paths, t, 0) for t in range(H)], 1)
        u_sev = np.stack([uniforms_numpy(key, paths, t, 1) for t in range(H)], 1)
        hits[s.name] = (u_occ < prob[j][None, :]).astype(np.float64)
        drawn = _ppf_numpy(s.severity, u_sev)
        severity[s.name] = np.where(np.isnan(fixed[j])[None, :], drawn, fixed[j][None, :])
    return drivers, hits, severity


def simulate_reference(scenario: Scenario, n_paths: int, seed: SeedLike) -> Arrays:
    """Sample and evaluate with numpy only."""
    return evaluate(scenario, *sample(scenario, n_paths, seed))
