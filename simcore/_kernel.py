"""The fused numba kernel: sample every driver and shock, then evaluate the company model.

Private. :func:`simcore.engine.simulate` validates, compiles the scenario to plain arrays
(:mod:`simcore._compile`), allocates the outputs and calls :func:`simulate_paths`. The kernel does
no validation, reads no global state and never seeds anything: every uniform is addressed by
``(stream key, path, year, slot)``.

The equations are those of :mod:`simcore.reference` (the numpy oracle), written per path with
identical operation order, so both agree to rounding (tested at 1e-12 relative).

Shapes: ``n`` paths in this call (global indices ``start .. start+n-1``), ``H`` years, ``F``
drivers, ``K`` shocks, ``E`` shock effects, ``S`` segments, ``C`` copula labels.
Shocks: ``sh_prob[k, t]`` is shock k's probability of hitting in year t (0 when switched off,
1 in a year a stress forces it) and ``sh_sev[k, t]`` a forced severity (NaN: drawn from the
shock's severity distribution).
Outputs (float64 unless said), path ``start + i`` in column ``o = first + i``:
``out[o_, t, o]`` for ``o_`` in ``scenario.OUTPUTS`` order, ``seg_out[s, t, o]``,
``hits_out[t, o]`` (uint32 bitmask of the shocks that hit). With ``keep_draws``:
``draws_out[f, t, o]`` driver values and ``sev_out[k, t, o]`` severities (0 where the shock did
not hit). The kernel is serial and ``nogil``; the engine runs blocks of paths on several threads.
"""

from __future__ import annotations

import math

import numpy as np

from distributions._kernel import (
    CODE_LOGNORMAL,
    CODE_NORMAL,
    CODE_TABLE,
    hermite,
    ndtri,
    ndtri_central,
    ppf_u,
    ppf_z,
    table_locate,
)
from distributions._numba import jit
from distributions.copula import chi2_ppf, correlate_row, t_correlate_row
from distributions.sampling import sample_pairs
from distributions.streams import counter_words, philox4x32, to_unit

# output rows (scenario.OUTPUTS order)
O_REVENUE, O_GP, O_OP, O_PBT, O_NP, O_NPA, O_EPS, O_PS, O_PE, O_DCF = range(10)
N_OUT = 10
# fixed driver roles (scenario.FIXED_DRIVERS order)
R_GM, R_TAXSUR, R_SELL, R_ADMIN, R_RND, R_IMP, R_RATE, R_TAX, R_PS, R_PE, R_WACC, R_TG = range(12)
# shock targets (scenario.SHOCK_TARGETS order)
T_GROWTH, T_CHURN, T_GM, T_SELL, T_ADMIN, T_RND, T_LOSS, T_MULT, T_WACC = range(9)
N_TARGETS = 9
# schedule rows (_compile.SCHED_ROWS order)
S_DEBT, S_DEBT_PREV, S_OTHER, S_NONOP, S_MINORITY, S_DA, S_CAPEX, S_NETDEBT = range(8)
GROWTH_FLOOR = -0.95
CHUNK = 1024  # paths per parallel work item; results do not depend on it


@jit
def _severity(code, p, tables, offset, u):
    """A shock's severity (only on a hit: one out-of-line ``ppf_u`` keeps the kernel small)."""
    return ppf_u(code, p, tables, offset, u)


@jit
def _chunk(
    c, start, n, first, n_total, method, sobol_u, drv_k0, drv_k1, sh_k0, sh_k1,
    drv_code, drv_p, drv_off, tables, drv_base, drv_mul, drv_phi, drv_b, drv_const,
    corr_idx, corr_L, t_df, mix_k, roles, growth_idx, base_rev,
    sh_prob, sh_sev, sev_code, sev_p, sev_off,
    eff_shock, eff_target, eff_size, eff_cap, eff_profile, eff_segmask,
    schedules, scalars, out, seg_out, hits_out, keep_draws, draws_out, sev_out,
):
    F = drv_code.shape[0]
    K = sh_prob.shape[0]
    S = base_rev.shape[0]
    H = schedules.shape[1]
    eps = np.empty(F)
    zprev = np.empty(F)
    val = np.empty(F)
    impulse = np.zeros((max(K, 1), H))
    seg_rev = np.empty(S)
    eff_scalar = np.zeros(N_TARGETS)
    eff_seg = np.zeros((2, S))
    nopat = np.empty(H)
    fcf = np.empty(H)
    u0 = np.empty(F)
    u1 = np.empty(F)
    u_occ = np.empty(K)
    u_sev = np.empty(K)
    C = corr_idx.shape[0]
    zc = np.empty(C)
    xc = np.empty(C)
    m0 = np.empty(1)
    m1 = np.empty(1)
    lo = c * CHUNK
    hi = min(lo + CHUNK, n)
    for i in range(lo, hi):
        path = start + i
        o = first + i  # column of this path in the output arrays
        F = drv_code.shape[0]
        K = sh_prob.shape[0]
        E = eff_shock.shape[0]
        S = base_rev.shape[0]
        H = schedules.shape[1]
        C = corr_idx.shape[0]
        shares = scalars[0]
        for s in range(S):
            seg_rev[s] = base_rev[s]
        rev_prev = scalars[4]
        carry = scalars[3]
        for t in range(H):
            # 1. independent normal scores of the drivers
            if method == 3:
                for f in range(F):
                    u0[f] = sobol_u[i, t, f]
                for k in range(K):
                    u_occ[k] = sobol_u[i, t, F + 2 * k]
                    u_sev[k] = sobol_u[i, t, F + 2 * k + 1]
            elif method == 0:
                # plain Monte Carlo: streams.uniform_pairs written out (a numba helper taking
                # arrays costs ~10 ns of reference counting per call in this loop)
                c0, c1, c2, c3 = counter_words(path, t, 0)
                for f in range(F):
                    r0, r1, _, _ = philox4x32(c0, c1, c2, c3, drv_k0[f], drv_k1[f])
                    u0[f] = to_unit(r0, r1)
                for k in range(K):
                    r0, r1, r2, r3 = philox4x32(c0, c1, c2, c3, sh_k0[k], sh_k1[k])
                    u_occ[k] = to_unit(r0, r1)
                    u_sev[k] = to_unit(r2, r3)
            else:
                sample_pairs(method, drv_k0, drv_k1, path, t, 0, n_total, u0, u1)
                sample_pairs(method, sh_k0, sh_k1, path, t, 0, n_total, u_occ, u_sev)
            for f in range(F):  # ndtri_many written out, same bytes
                eps[f] = ndtri_central(u0[f])
            for f in range(F):
                if drv_const[f]:
                    eps[f] = 0.0
                elif abs(u0[f] - 0.5) > 0.425:
                    eps[f] = ndtri(u0[f])
            # 2. copula over the labelled drivers (Student-t: one chi-square mixing draw)
            if C:
                for c in range(C):
                    zc[c] = eps[corr_idx[c]]
                if t_df > 0.0:
                    if method == 3:
                        m0[0] = sobol_u[i, t, F + 2 * K]
                    else:
                        sample_pairs(method, mix_k[0:1], mix_k[1:2], path, t, 0, n_total, m0, m1)
                    t_correlate_row(corr_L, t_df, zc, chi2_ppf(t_df, m0[0]), xc)
                else:
                    correlate_row(corr_L, zc, xc)
                for c in range(C):
                    eps[corr_idx[c]] = xc[c]
            # 3. persistence and marginals
            for f in range(F):
                if t == 0:
                    z = eps[f]
                else:
                    z = drv_phi[f] * zprev[f] + drv_b[f] * eps[f]
                zprev[f] = z
                # the common marginals inline, indexing the arrays here: a helper taking arrays
                # costs ~10 ns of reference counting per call (same arithmetic as ppf_z)
                code = drv_code[f]
                if code == CODE_NORMAL:
                    x = drv_p[f, 0] + drv_p[f, 1] * z
                elif code == CODE_TABLE:
                    k_, t_ = table_locate(z)
                    j_ = drv_off[f] + k_
                    x = min(max(drv_p[f, 0] + drv_p[f, 1] * hermite(
                        tables[j_, 0], tables[j_ + 1, 0], tables[j_, 1], tables[j_ + 1, 1], t_),
                        drv_p[f, 6]), drv_p[f, 7])
                elif code == CODE_LOGNORMAL:
                    x = math.exp(drv_p[f, 0] + drv_p[f, 1] * z)
                else:
                    x = ppf_z(code, drv_p[f], tables, drv_off[f], z)
                v = drv_base[f, t] * x if drv_mul[f] else drv_base[f, t] + x
                val[f] = v
                if keep_draws:
                    draws_out[f, t, o] = v
            # 4. shocks
            mask = np.uint32(0)
            for k in range(K):
                if u_occ[k] < sh_prob[k, t]:
                    sv = sh_sev[k, t]
                    if np.isnan(sv):  # not forced: draw the severity
                        sv = _severity(sev_code[k], sev_p[k], tables, sev_off[k], u_sev[k])
                    impulse[k, t] = sv
                    mask |= np.uint32(1) << np.uint32(k)
                else:
                    sv = 0.0
                    impulse[k, t] = 0.0
                if keep_draws:
                    sev_out[k, t, o] = sv
            hits_out[t, o] = mask
            # 5. shock effects in year t
            for j in range(N_TARGETS):
                eff_scalar[j] = 0.0
            for s in range(S):
                eff_seg[0, s] = 0.0
                eff_seg[1, s] = 0.0
            for e in range(E):
                k = eff_shock[e]
                v = 0.0
                for tau in range(t + 1):
                    v += impulse[k, tau] * (eff_size[e] * eff_profile[e, t - tau])
                if v > 0.0:
                    v = min(v, eff_cap[e])
                elif v < 0.0:
                    v = -min(-v, eff_cap[e])
                tg = eff_target[e]
                if tg == T_GROWTH or tg == T_CHURN:
                    for s in range(S):
                        eff_seg[tg, s] += eff_segmask[e, s] * v
                else:
                    eff_scalar[tg] += v
            # 6. income statement
            revenue = 0.0
            for s in range(S):
                g = max(val[growth_idx[s]] + eff_seg[0, s], GROWTH_FLOOR)
                churn = min(max(eff_seg[1, s], 0.0), 1.0)
                seg_rev[s] = seg_rev[s] * (1.0 + g) * (1.0 - churn)
                seg_out[s, t, o] = seg_rev[s]
                revenue = revenue + seg_rev[s] if s > 0 else seg_rev[s]
            gm = min(val[roles[R_GM]] + eff_scalar[T_GM], 1.0)
            gross_profit = revenue * gm
            taxes_sur = revenue * val[roles[R_TAXSUR]]
            selling = revenue * max(val[roles[R_SELL]] + eff_scalar[T_SELL], 0.0)
            admin = revenue * max(val[roles[R_ADMIN]] + eff_scalar[T_ADMIN], 0.0)
            rnd = revenue * max(val[roles[R_RND]] + eff_scalar[T_RND], 0.0)
            avg_debt = 0.5 * (schedules[S_DEBT_PREV, t] + schedules[S_DEBT, t])
            financial = val[roles[R_RATE]] * avg_debt
            impairment = revenue * val[roles[R_IMP]]
            op = (gross_profit - taxes_sur - selling - admin - rnd - financial - impairment
                  + schedules[S_OTHER, t])
            one_off = eff_scalar[T_LOSS] * rev_prev
            pbt = op + schedules[S_NONOP, t] - one_off
            tax_rate = val[roles[R_TAX]]
            if pbt > 0.0:
                used = min(carry, pbt)
                taxable = pbt - used
                carry = carry - used
            else:
                taxable = 0.0
                carry = carry - pbt
            net_profit = pbt - tax_rate * taxable
            npa = net_profit * (1.0 - schedules[S_MINORITY, t])
            eps_t = npa / shares
            derate = max(1.0 - eff_scalar[T_MULT], 0.0)
            out[O_REVENUE, t, o] = revenue
            out[O_GP, t, o] = gross_profit
            out[O_OP, t, o] = op
            out[O_PBT, t, o] = pbt
            out[O_NP, t, o] = net_profit
            out[O_NPA, t, o] = npa
            out[O_EPS, t, o] = eps_t
            out[O_PS, t, o] = val[roles[R_PS]] * derate * revenue / shares
            out[O_PE, t, o] = val[roles[R_PE]] * derate * eps_t if eps_t > 0.0 else np.nan
            ebit = op + financial
            nopat[t] = ebit - tax_rate * max(ebit, 0.0)
            fcf[t] = (nopat[t] + revenue * (schedules[S_DA, t] - schedules[S_CAPEX, t])
                      - scalars[2] * (revenue - rev_prev))
            rev_prev = revenue
        # 7. DCF as of each year end, with the final year's discount rate and terminal growth
        w = val[roles[R_WACC]] + eff_scalar[T_WACC]
        g = val[roles[R_TG]]
        value = nopat[H - 1] * (1.0 + g) * (1.0 - g / scalars[1]) / (w - g)
        out[O_DCF, H - 1, o] = max(value - schedules[S_NETDEBT, H - 1], 0.0) / shares
        for t in range(H - 2, -1, -1):
            value = (value + fcf[t + 1]) / (1.0 + w)
            out[O_DCF, t, o] = max(value - schedules[S_NETDEBT, t], 0.0) / shares


@jit
def simulate_paths(
    start, n, first, n_total, method, sobol_u, drv_k0, drv_k1, sh_k0, sh_k1,
    drv_code, drv_p, drv_off, tables, drv_base, drv_mul, drv_phi, drv_b, drv_const,
    corr_idx, corr_L, t_df, mix_k, roles, growth_idx, base_rev,
    sh_prob, sh_sev, sev_code, sev_p, sev_off,
    eff_shock, eff_target, eff_size, eff_cap, eff_profile, eff_segmask,
    schedules, scalars, out, seg_out, hits_out, keep_draws, draws_out, sev_out,
):
    """Simulate paths ``start .. start+n-1`` into columns ``first ..`` of the output buffers,
    one chunk of :data:`CHUNK` paths after another. Serial and ``nogil``: the engine runs
    blocks of paths on several threads (``distributions._numba.parallel_map``)."""
    for c in range((n + CHUNK - 1) // CHUNK):
        _chunk(
            c, start, n, first, n_total, method, sobol_u, drv_k0, drv_k1, sh_k0, sh_k1,
            drv_code, drv_p, drv_off, tables, drv_base, drv_mul, drv_phi, drv_b, drv_const,
            corr_idx, corr_L, t_df, mix_k, roles, growth_idx, base_rev,
            sh_prob, sh_sev, sev_code, sev_p, sev_off,
            eff_shock, eff_target, eff_size, eff_cap, eff_profile, eff_segmask,
            schedules, scalars, out, seg_out, hits_out, keep_draws, draws_out, sev_out,
        )


simulate_paths_serial = simulate_paths  # the one-thread path (tests, pure-Python baseline)
