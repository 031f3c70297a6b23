"""Plain numpy reference implementation of the company model (vectorised over paths, no numba).

It is the readable statement of the model and the oracle the numba kernel is tested against:

- :func:`evaluate` maps sampled driver values and shock draws to the income statement and the
  implied valuations. The kernel exports its own draws (``simulate(..., keep_draws=True)``)
  and :func:`evaluate` must reproduce its outputs to 1e-12 relative.
- :func:`sample` draws the same inputs as the kernel from the same addressed streams, with
  numpy and scipy only (Monte Carlo sampling); :func:`inputs` is its second half, the inputs
  from given random numbers (a peer tool's own draws, ``benchmarks.peer_monaco``).
- :func:`simulate_reference` is both, end to end; the benchmarks time it against the kernel.

Shapes: ``n`` paths, ``H`` horizon years, ``S`` segments. All money in the scenario's currency
(millions); ratios as fractions.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from distributions.streams import SeedLike, stream_key, uniforms_numpy
from simcore.model.layout import LINES, SCHED_ROWS, SEGMENT_TARGETS
from simcore.model.nowcast import Pins, pins
from simcore.model.peers import apply_peers
from simcore.model.scenario import Scenario, driver_bases, extend

if TYPE_CHECKING:
    from distributions import Distribution
    from distributions.copula import GaussianCopula, StudentTCopula

Arrays = dict[str, np.ndarray]  # name -> array over paths (and years)

GROWTH_FLOOR = -0.95  # revenue never falls more than 95% in a year


def driver_stream(name: str) -> str:
    return f"driver.{name}"


def shock_stream(name: str) -> str:
    return f"shock.{name}"


def parameter_stream(name: str) -> str:
    """The stream of a driver's parameter row (two-layer uncertainty): one uniform per path."""
    return f"parameters.{name}"


def parameter_rows(n_rows: int, u: np.ndarray) -> np.ndarray:
    """The parameter row each path draws from its uniform: ``min(floor(u * n), n - 1)``."""
    return np.minimum((u * n_rows).astype(np.int64), n_rows - 1)


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
    """Per-year effect of every shock target: ``{target: (n, H)}``; the segment targets
    (``SEGMENT_TARGETS``) ``(n, S, H)``.

    ``hits[name]`` is the number of events (n, H); ``severity[name]`` the severity draw (n, H).
    An event in year tau adds ``size * severity * profile[t - tau]`` to its target in year t;
    each effect's yearly value is capped at ``cap`` in absolute value (its sign kept).
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
            if eff.target in SEGMENT_TARGETS:
                mask = np.array([(not eff.segments) or (s in eff.segments) for s in segs], float)
                acc = out.setdefault(eff.target, np.zeros((n, len(segs), horizon)))
                acc += mask[None, :, None] * value[:, None, :]
            else:
                acc = out.setdefault(eff.target, np.zeros((n, horizon)))
                acc += value
    return out


def schedules(sc: Scenario) -> dict[str, np.ndarray]:
    """The deterministic per-year inputs of the model, float64[H] each (layout.SCHED_ROWS).

    Depreciation is straight line: the opening fixed assets over ``remaining_life`` years from
    the first forecast year; each year's capex over ``useful_life`` years with half a year in the
    year it is spent. ``depreciation_weight[a]`` is the share of a capex depreciated at age a
    (it sums to 1 over the asset's life, so no vintage is depreciated below zero).
    ``capital_kept`` is 1 in the simulated years beyond the explicit ones: there capex replaces
    the year's D&A (the fade's rule) instead of following the maintenance-capex ratio."""
    H = sc.horizon
    t = np.arange(H, dtype=np.float64)
    done = np.minimum((t + 1.0) / sc.remaining_life, 1.0)
    existing = sc.opening_fixed_assets * np.diff(np.concatenate([[0.0], done]))
    spent = np.minimum((t + 0.5) / sc.useful_life, 1.0)
    weight = np.diff(np.concatenate([[0.0], spent]))
    onca = extend(sc.other_noncurrent_assets or (sc.opening_other_noncurrent_assets,), H)
    oncl = extend(sc.other_noncurrent_liabilities or (sc.opening_other_noncurrent_liabilities,), H)
    rows = {
        "capital_kept": (t >= sc.explicit).astype(np.float64),
        "existing_depreciation": existing,
        "depreciation_weight": weight,
        "other_noncurrent_assets": onca,
        "other_noncurrent_assets_prev": np.concatenate(
            [[sc.opening_other_noncurrent_assets], onca[:-1]]
        ),
        "other_noncurrent_liabilities": oncl,
        "other_noncurrent_liabilities_prev": np.concatenate(
            [[sc.opening_other_noncurrent_liabilities], oncl[:-1]]
        ),
    }
    return {r: rows[r] if r in rows else extend(getattr(sc, r), H) for r in SCHED_ROWS}


def own_growth(sc: Scenario, segment: str, values: np.ndarray, now: Pins) -> np.ndarray:
    """A segment's growth (n, H) with each nowcast year's conditioned value replaced by the
    path's own, recovered from it: with ``z = w z* + (1 - w) z_own`` in the driver's normal
    score, ``z_own = (z - w z*) / (1 - w)`` (a full year, ``w = 1``, has no rest of the year:
    0, which the remainder's weight 1 - w = 0 multiplies)."""
    f = [d.name for d in sc.drivers].index(f"growth.{segment}")
    w_all = now.drv[0, f]
    if not w_all.any():
        return values
    d = sc.drivers[f]
    dist = d.dist.to_scipy()
    base = driver_bases(sc, d)
    out = np.array(values, dtype=np.float64)
    for t in np.flatnonzero(w_all):
        w, z_star = w_all[t], now.drv[1, f, t]
        if w == 1.0:
            out[:, t] = 0.0
            continue
        x = out[:, t] - base[t] if d.mode == "add" else out[:, t] / base[t]
        z = np.where(x <= dist.median(), special.ndtri(dist.cdf(x)), -special.ndtri(dist.sf(x)))
        z_own = (z - w * z_star) / (1.0 - w)
        x_own = np.where(z_own <= 0, dist.ppf(special.ndtr(z_own)), dist.isf(special.ndtr(-z_own)))
        out[:, t] = base[t] + x_own if d.mode == "add" else base[t] * x_own
    return out


def dcf_fade_years(sc: Scenario) -> int:
    """Fade years left for the DCF after the last simulated year: the fade lasts
    ``fade_years`` from the last *explicit* year, and simulated years beyond the explicit ones
    (whose growth bases already fade) use that much of it up."""
    return max(int(sc.fade_years) - max(sc.horizon - sc.explicit, 0), 0)


def opening_working_capital(sc: Scenario) -> float:
    """Net operating working capital at the end of the base year."""
    return (
        sc.opening_receivables
        + sc.opening_inventory
        + sc.opening_other_current_assets
        - sc.opening_payables
        - sc.opening_other_current_liabilities
    )


def evaluate(scenario: Scenario, drivers: Arrays, hits: Arrays, severity: Arrays) -> Arrays:
    """The model on given draws: every statement line (``layout.LINES``) and ``price_dcf``,
    (n, H) each, and ``segment_revenue`` (n, S, H). ``drivers[name]`` is (n, H) of driver
    *values* (base applied)."""
    sc = scenario
    H = sc.horizon
    segs = sc.segment_names
    S = len(segs)
    n = next(iter(drivers.values())).shape[0]
    eff = shock_effects(sc, hits, severity)
    zero = np.zeros((n, H))
    zero_s = np.zeros((n, S, H))
    sched = schedules(sc)

    def e(name: str) -> np.ndarray:
        return eff.get(name, zero)

    def d(name: str, t: int) -> np.ndarray:
        return drivers[name][:, t]

    lines = {name: np.empty((n, H)) for name in LINES}
    seg_rev = np.empty((n, S, H))
    now = pins(sc)[0]
    own = {s: own_growth(sc, s, drivers[f"growth.{s}"], now) for s in segs}
    growth = np.stack([own[s] for s in segs], axis=1) + eff.get("growth", zero_s)
    growth = np.maximum(growth, GROWTH_FLOOR)
    churn = np.clip(eff.get("churn", zero_s), 0.0, 1.0)
    margin = np.minimum(
        np.stack([drivers[f"margin.{s}"] for s in segs], axis=1) + eff.get("gross_margin", zero_s),
        1.0,
    )

    # state carried from year to year, per path
    rev = np.array([s.base_revenue for s in sc.segments], dtype=np.float64)[None, :]
    rev_prev = np.full(n, sum(s.base_revenue for s in sc.segments))
    fixed = {k: np.full(n, float(getattr(sc, f"fixed_{k}"))) for k in ("selling", "admin", "rnd")}
    carry = np.full(n, float(sc.tax_loss_carryforward))
    cash = np.full(n, float(sc.opening_cash))
    debt = np.full(n, float(sc.opening_debt))
    ppe = np.full(n, float(sc.opening_fixed_assets))
    nwc = np.full(n, opening_working_capital(sc))
    eq_parent = np.full(n, float(sc.opening_equity))
    eq_minority = np.full(n, float(sc.opening_minority_equity))
    capex_hist = np.zeros((n, H))

    for t in range(H):
        L: Arrays = {}  # this year's lines
        # revenue by segment, gross profit (D&A in the cost of revenue); in a nowcast year the
        # reported part plus the rest of the year at the path's own growth
        rev = rev * (1.0 + growth[:, :, t]) * (1.0 - churn[:, :, t])
        w = now.seg[1, :, t]
        rev = np.where(w != 0.0, now.seg[0, :, t] + (1.0 - w) * rev, rev)
        seg_rev[:, :, t] = rev
        revenue = rev.sum(axis=1)
        cash_gp = (rev * margin[:, :, t]).sum(axis=1)
        # capital: capex from capacity growth plus maintenance (beyond the explicit years: the
        # D&A it replaces); straight-line D&A
        intensity = np.maximum(d("capex_intensity", t) + e("capex_intensity")[:, t], 0.0)
        da = np.full(n, sched["existing_depreciation"][t])
        for year in range(t):  # every earlier capex vintage, oldest first
            da = da + capex_hist[:, year] * sched["depreciation_weight"][t - year]
        w0 = sched["depreciation_weight"][0]
        growth_capex = intensity * np.maximum(revenue - rev_prev, 0.0)
        if sched["capital_kept"][t]:  # beyond the explicit years: replace the assets' D&A
            capex = growth_capex + da
        else:
            capex = growth_capex + sched["maintenance_capex"][t] * revenue
        capex_hist[:, t] = capex
        da = da + capex * w0  # this year's vintage, last
        gp = cash_gp - da
        if now.gp[1, t]:
            gp = now.gp[0, t] + (1.0 - now.gp[1, t]) * gp
        # operating costs: a fixed part growing by its driver and a variable ratio of revenue
        cost = {}
        for k in ("selling", "admin", "rnd"):
            fixed[k] = fixed[k] * (1.0 + d(f"fixed_growth.{k}", t))
            ratio = np.maximum(d(f"ratio.{k}", t) + e(f"ratio.{k}")[:, t], 0.0)
            cost[k] = fixed[k] + revenue * ratio
        financial = d("interest_rate", t) * debt  # on the opening balance
        L.update(
            revenue=revenue,
            cost_of_revenue=revenue - gp,
            gross_profit=gp,
            taxes_surcharges=revenue * d("ratio.taxes_surcharges", t),
            selling=cost["selling"],
            admin=cost["admin"],
            rnd=cost["rnd"],
            financial_expense=financial,
            impairment=revenue * d("ratio.impairment", t),
            other_income=np.full(n, sched["other_income"][t]),
        )
        L["operating_profit"] = (
            gp
            - L["taxes_surcharges"]
            - L["selling"]
            - L["admin"]
            - L["rnd"]
            - financial
            - L["impairment"]
            + L["other_income"]
        )
        L["non_operating"] = np.full(n, sched["non_operating"][t])
        L["one_off_loss"] = e("one_off_loss")[:, t] * rev_prev
        pbt = L["operating_profit"] + L["non_operating"] - L["one_off_loss"]
        # income tax with losses carried forward (they never expire)
        used = np.where(pbt > 0.0, np.minimum(carry, pbt), 0.0)
        taxable = np.where(pbt > 0.0, pbt - used, 0.0)
        carry = np.where(pbt > 0.0, carry - used, carry - pbt)
        tax = d("tax_rate", t) * taxable
        net = pbt - tax
        npa = net * (1.0 - sched["minority_share"][t])
        ebit = L["operating_profit"] + financial
        L.update(
            profit_before_tax=pbt,
            income_tax=tax,
            net_profit=net,
            minority_interest=net - npa,
            net_profit_attributable=npa,
            eps=npa / sc.shares,
            depreciation=da,
            ebitda=ebit + da,
            nopat=ebit - d("tax_rate", t) * np.maximum(ebit, 0.0),
        )
        # working capital: ratios of revenue and of the cost of revenue
        cogs = L["cost_of_revenue"]
        rec = sched["receivables_ratio"][t] * revenue
        inv = sched["inventory_ratio"][t] * cogs
        oca = sched["other_current_assets_ratio"][t] * revenue
        pay = sched["payables_ratio"][t] * cogs
        ocl = sched["other_current_liabilities_ratio"][t] * revenue
        nwc_new = rec + inv + oca - pay - ocl
        dnwc = nwc_new - nwc
        d_oncl = (
            sched["other_noncurrent_liabilities"][t] - sched["other_noncurrent_liabilities_prev"][t]
        )
        d_onca = sched["other_noncurrent_assets"][t] - sched["other_noncurrent_assets_prev"][t]
        ocf = net + da + financial - dnwc + d_oncl  # interest paid is a financing flow
        icf = -capex - d_onca
        # financing: scheduled repayment, then the gap below the minimum cash is borrowed and a
        # share (sweep) of the cash above it repays debt
        dividends = sched["dividend_payout"][t] * np.maximum(npa, 0.0)
        repay = np.minimum(sched["repayment"][t], debt)
        pre = cash + ocf + icf - financial - dividends - repay
        min_cash = sched["minimum_cash"][t]
        borrow = np.maximum(min_cash - pre, 0.0)
        extra = np.minimum(sc.sweep * np.maximum(pre - min_cash, 0.0), debt - repay)
        fin_cf = -financial - dividends - repay + borrow - extra
        invested = eq_parent + eq_minority + debt - cash  # opening invested capital
        cash_new = pre + borrow - extra
        debt = debt - repay + borrow - extra
        eq_parent = eq_parent + npa - dividends
        eq_minority = eq_minority + (net - npa)
        ppe = ppe + capex - da
        L.update(
            cash=cash_new,
            receivables=rec,
            inventory=inv,
            other_current_assets=oca,
            fixed_assets=ppe,
            other_noncurrent_assets=np.full(n, sched["other_noncurrent_assets"][t]),
            debt=debt,
            payables=pay,
            other_current_liabilities=ocl,
            other_noncurrent_liabilities=np.full(n, sched["other_noncurrent_liabilities"][t]),
            equity_parent=eq_parent,
            minority_equity=eq_minority,
            equity=eq_parent + eq_minority,
            working_capital_change=-dnwc,
            operating_cash_flow=ocf,
            capex=capex,
            investing_cash_flow=icf,
            interest_paid=financial,
            dividends=dividends,
            repayment=repay + extra,
            borrowing=borrow,
            financing_cash_flow=fin_cf,
            net_cash_flow=cash_new - cash,
            fcf=L["nopat"] + da - capex - dnwc + d_oncl - d_onca,
            net_debt=debt - cash_new,
        )
        L["total_assets"] = cash_new + rec + inv + oca + ppe + L["other_noncurrent_assets"]
        L["total_liabilities"] = debt + pay + ocl + L["other_noncurrent_liabilities"]
        with np.errstate(divide="ignore", invalid="ignore"):
            L["roic"] = np.where(invested > 0.0, L["nopat"] / invested, np.nan)
        L["invested_capital"] = L["equity"] + L["net_debt"]  # closing
        L["discount_rate"] = d("wacc", t) + e("wacc")[:, t]
        L["terminal_growth"] = d("terminal_growth", t)
        # valuation: multiples (P/E and EV/EBITDA give 0 where earnings / EBITDA <= 0)
        derate = np.maximum(1.0 - e("multiple")[:, t], 0.0)
        L["price_ps"] = d("multiple.ps", t) * derate * revenue / sc.shares
        L["price_pe"] = np.where(L["eps"] > 0.0, d("multiple.pe", t) * derate * L["eps"], 0.0)
        ev_multiple = d("multiple.ev_ebitda", t) * derate * L["ebitda"] - L["net_debt"]
        L["price_ev_ebitda"] = np.where(
            L["ebitda"] > 0.0, np.maximum(ev_multiple, 0.0) / sc.shares, 0.0
        )
        for name in LINES:
            lines[name][:, t] = L[name]
        cash, nwc, rev_prev = cash_new, nwc_new, revenue

    # valuation: the staged DCF (simcore.model.dcf) as of each year end, at the final year's
    # discount rate, less each path's own net debt at that date
    w = lines["discount_rate"][:, -1]
    ev, tv = fade_values(sc, lines, w)
    ev_t = np.empty((n, H))
    tv_t = np.empty((n, H))
    ev_t[:, H - 1], tv_t[:, H - 1] = ev, tv
    for t in range(H - 2, -1, -1):
        ev = (ev + lines["fcf"][:, t + 1]) / (1.0 + w)
        tv = tv / (1.0 + w)
        ev_t[:, t], tv_t[:, t] = ev, tv
    price_dcf = np.maximum(ev_t - lines["net_debt"], 0.0) / sc.shares
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(ev_t > 0.0, tv_t / ev_t, np.nan)
    return {
        "segment_revenue": seg_rev,
        **lines,
        "price_dcf": price_dcf,
        "dcf_terminal_share": share,
    }


def fade_values(
    sc: Scenario,
    lines: Arrays,
    w: np.ndarray,
    *,
    fade_growth: np.ndarray | float | None = None,
    terminal_margin: np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(enterprise value, PV of the terminal value) at the end of the last year, per path: the
    fade of :mod:`simcore.model.dcf` over ``lines`` (n, H) at discount rates ``w``.
    ``fade_growth`` replaces the linear growth fade by a constant; ``terminal_margin``
    replaces the scenario's."""
    state, _ = dcf_inputs(sc, lines)
    rev, g0, m0, k0, g_t = (state[:, i] for i in (0, 1, 2, 3, 5))
    m_t = terminal_margin if terminal_margin is not None else sc.terminal_margin
    mt = m0 if m_t is None else np.broadcast_to(np.asarray(m_t, np.float64), m0.shape)
    kt = mt * (1.0 + g_t) / sc.terminal_roic
    F = dcf_fade_years(sc)
    disc = np.ones_like(rev)
    pv = np.zeros_like(rev)
    r = rev
    for j in range(1, F + 1):
        a = j / F
        g = g0 + (g_t - g0) * a if fade_growth is None else fade_growth
        r_new = r * (1.0 + g)
        disc = disc / (1.0 + w)
        pv = pv + ((m0 + (mt - m0) * a) * r_new - (k0 + (kt - k0) * a) * (r_new - r)) * disc
        r = r_new
    tv = mt * r * (1.0 + g_t) * (1.0 - g_t / sc.terminal_roic) / (w - g_t) * disc
    return pv + tv, tv


def dcf_inputs(sc: Scenario, lines: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """The DCF's per-path inputs from statement lines ``{line: (n, H)}``: ``state`` float64
    [n, 7] = (revenue, growth, NOPAT margin, capital per revenue (at least 0), WACC, terminal
    growth) in the last year and the first year's net debt, and ``fcf`` float64[n, H]: what
    :func:`simcore.model.dcf.solve_paths` reads and the kernel computes in its section 8."""
    rev = lines["revenue"]
    last = rev[:, -1]
    if sc.horizon > 1:
        before = rev[:, -2]
    else:
        before = np.full(last.shape, float(sum(s.base_revenue for s in sc.segments)))
    safe = np.where(last > 0.0, last, 1.0)
    state = np.empty((last.shape[0], 7))
    state[:, 0] = last
    state[:, 1] = np.where(before > 0.0, last / np.where(before > 0.0, before, 1.0) - 1.0, 0.0)
    state[:, 2] = np.where(last > 0.0, lines["nopat"][:, -1] / safe, 0.0)
    ic = lines["invested_capital"][:, -1]
    state[:, 3] = np.where(last > 0.0, np.maximum(ic / safe, 0.0), 0.0)
    state[:, 4] = lines["discount_rate"][:, -1]
    state[:, 5] = lines["terminal_growth"][:, -1]
    state[:, 6] = lines["net_debt"][:, 0]
    return state, np.ascontiguousarray(lines["fcf"], dtype=np.float64)


@functools.lru_cache(maxsize=256)
def _frozen(dist: Distribution) -> Any:
    return dist.to_scipy()  # freezing a scipy distribution costs 0.5 ms: once per distribution


def _ppf_numpy(dist: Distribution, u: ArrayLike) -> Any:
    """Marginal ppf with scipy only (the reference never calls numba)."""
    return _frozen(dist).ppf(u)


def sample(
    scenario: Scenario, n_paths: int, seed: SeedLike, start: int = 0
) -> tuple[Arrays, Arrays, Arrays]:
    """Monte Carlo draws of every driver and shock, numpy only: ``(drivers, hits, severity)``."""
    sc = apply_peers(scenario)
    H = sc.horizon
    paths = np.arange(start, start + n_paths, dtype=np.uint64)

    def u(stream: str, slot: int) -> np.ndarray:
        key = stream_key(seed, stream)
        return np.stack([uniforms_numpy(key, paths, t, slot) for t in range(H)], 1)

    eps = {d.name: special.ndtri(u(driver_stream(d.name), 0)) for d in sc.drivers}
    u_mix = None
    if sc.correlation_labels and sc.copula == "student_t":
        u_mix = u(copula(sc).mixing_stream, 0)  # type: ignore[union-attr]
    u_occ = {s.name: u(shock_stream(s.name), 0) for s in sc.shocks}
    u_sev = {s.name: u(shock_stream(s.name), 1) for s in sc.shocks}
    u_param = {
        d.name: uniforms_numpy(stream_key(seed, parameter_stream(d.name)), paths, 0, 0)
        for d in sc.drivers
        if d.uncertainty is not None
    }
    return inputs(sc, eps, u_occ, u_sev, u_mix, u_param=u_param)


def copula(sc: Scenario) -> GaussianCopula | StudentTCopula | None:
    """The copula over ``sc``'s labelled drivers (``None`` without any)."""
    from distributions.copula import GaussianCopula, StudentTCopula

    labels = list(sc.correlation_labels)
    if not labels:
        return None
    if sc.copula == "student_t":
        return StudentTCopula(
            labels,
            sc.correlation,
            sc.copula_df,
            kind=sc.correlation_kind,
            repair=sc.correlation_repair,
        )
    return GaussianCopula(
        labels, sc.correlation, kind=sc.correlation_kind, repair=sc.correlation_repair
    )


def inputs(
    sc: Scenario,
    eps: Arrays,
    u_occ: Arrays,
    u_sev: Arrays,
    u_mix: np.ndarray | None = None,
    cop: GaussianCopula | StudentTCopula | None = None,
    u_param: Arrays | None = None,
) -> tuple[Arrays, Arrays, Arrays]:
    """The model's inputs ``(drivers, hits, severity)`` from its random numbers, each (n, H):
    ``eps[driver]`` independent standard normal scores, ``u_occ[shock]`` and ``u_sev[shock]``
    the uniforms of occurrence and severity, ``u_mix`` the Student-t copula's mixing uniforms,
    ``u_param[driver]`` (n,) the uniform that picks the parameter row of a driver with
    parameter uncertainty (:func:`parameter_rows`).
    ``sc`` has its peers applied (:func:`simcore.model.peers.apply_peers`); ``cop`` is
    :func:`copula` of ``sc`` when the caller has it."""
    H = sc.horizon
    n_paths = next(iter(eps.values())).shape[0]
    eps = dict(eps)
    # copula over the labelled drivers
    labels = list(sc.correlation_labels)
    if labels:
        cop = cop or copula(sc)
        Z = np.stack([eps[k] for k in labels], axis=-1)  # (n, H, d)
        X = Z @ cop.factor.T  # type: ignore[union-attr]
        if sc.copula == "student_t":
            from scipy import stats  # on first use: importing it costs 0.3 s

            w = stats.chi2(sc.copula_df).ppf(u_mix)
            X = special.ndtri(stats.t(sc.copula_df).cdf(X / np.sqrt(w / sc.copula_df)[..., None]))
        for i, k in enumerate(labels):
            eps[k] = X[..., i]
    # persistence and marginals: the driver values
    # (a nowcast conditions the state: z_t = w z* + (1 - w) z_t, simcore.model.nowcast)
    now = pins(sc)[0].drv
    drivers: Arrays = {}
    for f, d in enumerate(sc.drivers):
        z = np.empty((n_paths, H))
        a, b = d.persistence, np.sqrt(1.0 - d.persistence**2)
        prev = np.zeros(n_paths)
        for t in range(H):
            prev = eps[d.name][:, t] if t == 0 else a * prev + b * eps[d.name][:, t]
            if now[0, f, t]:
                prev = now[0, f, t] * now[1, f, t] + (1.0 - now[0, f, t]) * prev
            z[:, t] = prev
        if d.uncertainty is None:
            x = _ppf_numpy(d.dist, special.ndtr(z))
        else:
            if u_param is None or d.name not in u_param:
                raise ValueError(f"driver {d.name!r} draws its parameters: give u_param")
            dists = d.row_dists()
            row = parameter_rows(len(dists), u_param[d.name])
            x = np.empty_like(z)
            for r in np.unique(row):
                x[row == r] = _ppf_numpy(dists[r], special.ndtr(z[row == r]))
        base = driver_bases(sc, d)[None, :]
        drivers[d.name] = base + x if d.mode == "add" else base * x
    # shocks: hits and severities
    hits: Arrays = {}
    severity: Arrays = {}
    prob, fixed = shock_schedule(sc)
    for j, s in enumerate(sc.shocks):
        hits[s.name] = (u_occ[s.name] < prob[j][None, :]).astype(np.float64)
        drawn = _ppf_numpy(s.severity, u_sev[s.name])
        severity[s.name] = np.where(np.isnan(fixed[j])[None, :], drawn, fixed[j][None, :])
    return drivers, hits, severity


def simulate_reference(scenario: Scenario, n_paths: int, seed: SeedLike) -> Arrays:
    """Sample and evaluate with numpy only."""
    return evaluate(scenario, *sample(scenario, n_paths, seed))
