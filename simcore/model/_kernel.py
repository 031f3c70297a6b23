"""The fused numba kernel: sample every driver and shock, then evaluate the company model.

Private. :func:`simcore.engine.simulate` validates, compiles the scenario to plain arrays
(:mod:`simcore.model.compile`), allocates the outputs and calls :func:`simulate_paths`. The kernel
does
no validation, reads no global state and never seeds anything: every uniform is addressed by
``(stream key, path, year, slot)``.

The equations are those of :mod:`simcore.model.equations` (the numpy oracle) with identical
operation
order, so both give the same bits on the same draws (tested).

Layout: paths go through in chunks of :data:`CHUNK`. Within a chunk each stage loops over the
chunk's paths for one driver, shock or output at a time (one row of a ``(rows, CHUNK)`` scratch
array). A loop then has one stream key and consecutive counters, one distribution family, one
output row: Philox, the central inverse normal, the Gaussian copula, the common marginals and the
income statement vectorise (AVX2/AVX-512), and a driver's family is dispatched once per chunk
instead of once per draw. Results do not depend on ``CHUNK``.

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

import numpy as np

from distributions.copula import chi2_ppf, t_correlate_row
from distributions.kernels import (
    CODE_LOGNORMAL,
    CODE_NORMAL,
    CODE_TABLE,
    exp,
    jit,
    ndtri_many,
    ppf_u_many,
    ppf_z_many,
    table_eval_many,
)
from distributions.sampling import sample_pairs
from distributions.streams import uniform_run
from simcore.model.dcf import fade_value
from simcore.model.equations import GROWTH_FLOOR  # a compile-time constant of the kernel
from simcore.model.layout import LINE, OUT, ROLE, SCHED, SEGMENT_TARGETS, TARGET

# rows, roles, targets and schedules by name (simcore.model.layout; numba reads these module
# globals as compile-time constants)
O_DCF, O_TVS = OUT["price_dcf"], OUT["dcf_terminal_share"]
# the stored outputs the kernel writes in place (the other lines go to a scratch row)
O_REV, O_GP, O_OP, O_PBT = (
    OUT["revenue"],
    OUT["gross_profit"],
    OUT["operating_profit"],
    OUT["profit_before_tax"],
)
O_NP, O_NPA, O_EPS, O_PS = (
    OUT["net_profit"],
    OUT["net_profit_attributable"],
    OUT["eps"],
    OUT["price_ps"],
)
O_PE, O_EVE = OUT["price_pe"], OUT["price_ev_ebitda"]
O_EBITDA, O_DA, O_CAPEX = OUT["ebitda"], OUT["depreciation"], OUT["capex"]
O_FCF, O_CASH, O_DEBT, O_ND = OUT["fcf"], OUT["cash"], OUT["debt"], OUT["net_debt"]
O_EQ, O_ROIC = OUT["equity"], OUT["roic"]
R_TAXSUR, R_SELL, R_ADMIN = (
    ROLE["ratio.taxes_surcharges"],
    ROLE["ratio.selling"],
    ROLE["ratio.admin"],
)
R_RND, R_IMP, R_CAPEX = ROLE["ratio.rnd"], ROLE["ratio.impairment"], ROLE["capex_intensity"]
R_FG_SELL, R_FG_ADMIN = ROLE["fixed_growth.selling"], ROLE["fixed_growth.admin"]
R_FG_RND, R_RATE, R_TAX = ROLE["fixed_growth.rnd"], ROLE["interest_rate"], ROLE["tax_rate"]
R_PS, R_PE, R_EVE = ROLE["multiple.ps"], ROLE["multiple.pe"], ROLE["multiple.ev_ebitda"]
R_WACC, R_TG = ROLE["wacc"], ROLE["terminal_growth"]
T_GROWTH, T_CHURN, T_GM = TARGET["growth"], TARGET["churn"], TARGET["gross_margin"]
T_SELL, T_ADMIN, T_RND = TARGET["ratio.selling"], TARGET["ratio.admin"], TARGET["ratio.rnd"]
T_LOSS, T_MULT, T_WACC = TARGET["one_off_loss"], TARGET["multiple"], TARGET["wacc"]
T_CAPEX = TARGET["capex_intensity"]
N_TARGETS = len(TARGET)
N_SEG_TARGETS = len(SEGMENT_TARGETS)  # their codes are 0 .. N_SEG_TARGETS - 1 (layout order)
S_OTHER, S_NONOP, S_MINORITY = (
    SCHED["other_income"],
    SCHED["non_operating"],
    SCHED["minority_share"],
)
S_MAINT, S_EXIST, S_DEPW = (
    SCHED["maintenance_capex"],
    SCHED["existing_depreciation"],
    SCHED["depreciation_weight"],
)
S_ONCA, S_ONCA_PREV = SCHED["other_noncurrent_assets"], SCHED["other_noncurrent_assets_prev"]
S_ONCL, S_ONCL_PREV = (
    SCHED["other_noncurrent_liabilities"],
    SCHED["other_noncurrent_liabilities_prev"],
)
S_REC, S_INV, S_OCA = (
    SCHED["receivables_ratio"],
    SCHED["inventory_ratio"],
    SCHED["other_current_assets_ratio"],
)
S_PAY, S_OCL = SCHED["payables_ratio"], SCHED["other_current_liabilities_ratio"]
S_REPAY, S_MINCASH, S_PAYOUT = SCHED["repayment"], SCHED["minimum_cash"], SCHED["dividend_payout"]
S_KEPT = SCHED["capital_kept"]
N_LINES = len(LINE)
L_REV, L_COGS, L_GP, L_TAXSUR = (
    LINE["revenue"],
    LINE["cost_of_revenue"],
    LINE["gross_profit"],
    LINE["taxes_surcharges"],
)
L_SELL, L_ADMIN, L_RND, L_FIN = (
    LINE["selling"],
    LINE["admin"],
    LINE["rnd"],
    LINE["financial_expense"],
)
L_IMP, L_OTHER, L_OP, L_NONOP = (
    LINE["impairment"],
    LINE["other_income"],
    LINE["operating_profit"],
    LINE["non_operating"],
)
L_LOSS, L_PBT, L_TAX, L_NP = (
    LINE["one_off_loss"],
    LINE["profit_before_tax"],
    LINE["income_tax"],
    LINE["net_profit"],
)
L_MIN, L_NPA, L_EPS, L_DA = (
    LINE["minority_interest"],
    LINE["net_profit_attributable"],
    LINE["eps"],
    LINE["depreciation"],
)
L_EBITDA, L_NOPAT, L_CASH, L_REC = LINE["ebitda"], LINE["nopat"], LINE["cash"], LINE["receivables"]
L_INV, L_OCA, L_PPE, L_ONCA = (
    LINE["inventory"],
    LINE["other_current_assets"],
    LINE["fixed_assets"],
    LINE["other_noncurrent_assets"],
)
L_TA, L_DEBT, L_PAY, L_OCL = (
    LINE["total_assets"],
    LINE["debt"],
    LINE["payables"],
    LINE["other_current_liabilities"],
)
L_ONCL, L_TL, L_EQP, L_EQM = (
    LINE["other_noncurrent_liabilities"],
    LINE["total_liabilities"],
    LINE["equity_parent"],
    LINE["minority_equity"],
)
L_EQ, L_DWC, L_OCF, L_CAPEX = (
    LINE["equity"],
    LINE["working_capital_change"],
    LINE["operating_cash_flow"],
    LINE["capex"],
)
L_ICF, L_INT, L_DIV, L_REPAY = (
    LINE["investing_cash_flow"],
    LINE["interest_paid"],
    LINE["dividends"],
    LINE["repayment"],
)
L_BORROW, L_FCF_FIN, L_NCF, L_FCF = (
    LINE["borrowing"],
    LINE["financing_cash_flow"],
    LINE["net_cash_flow"],
    LINE["fcf"],
)
L_IC, L_WACC, L_TG = LINE["invested_capital"], LINE["discount_rate"], LINE["terminal_growth"]
PATH_ROWS = 8  # the workspace's last arrays: one path's rows, the path on their first axis
CHUNK = 512  # paths per chunk (columns of the scratch arrays); results do not depend on it


@jit(inline="always")
def capped(x, cap):
    """``x`` with its absolute value capped at ``cap`` (sign and zeros kept)."""
    if x > 0.0:
        return min(x, cap)
    if x < 0.0:
        return -min(-x, cap)
    return x


def workspace(sc, width):
    """The kernel's scratch (:func:`simulate_block`'s ``ws``) for chunks of up to ``width``
    paths: a tuple of uninitialised arrays whose last axis is the path's column of the chunk
    (the rows of one path, last: their first axis).
    One thread's :func:`simulate_paths` holds one of width :data:`CHUNK`; the GPU backend holds
    one column per GPU thread and gives each thread its own (:func:`thread_workspace`). Plain
    Python (numpy): nothing jitted calls it."""
    F = sc.drv.code.shape[0]
    K = sc.sh_prob.shape[0]
    S = sc.base_rev.shape[0]
    H = sc.sched.shape[1]
    C = sc.corr_idx.shape[0]
    U = sc.unc_rows.shape[0]
    B = width
    return (
        # chunk state: one row per driver / shock / year, one column per path of the chunk
        np.empty((F, B)),  # u
        np.empty(B),  # u_spare
        np.empty(B),  # u_row
        np.empty((U, B), np.int64),  # prow: each path's parameter row of each uncertain driver
        np.empty((F, B)),  # eps
        np.empty((F, B)),  # z
        np.empty((F, B)),  # marg: each driver's marginal draw, before its base
        np.empty((F, B)),  # val
        np.empty((F, B)),  # own: a nowcast year's own values, before the conditioning
        np.empty((K, B)),  # u_occ
        np.empty((K, B)),  # u_sev
        np.empty((K, H, B)),  # impulse
        np.empty(B, np.uint32),  # mask
        np.empty((N_TARGETS, B)),  # eff
        np.empty((N_SEG_TARGETS, S, B)),  # eff_seg
        np.empty(B),  # v
        np.empty((C, B)),  # xc
        np.empty((S, B)),  # seg_rev
        np.empty((N_LINES, B)),  # ln: this year's statement lines
        np.empty(B),  # wacc
        np.empty(B),  # value
        np.empty(B),  # tv
        # state carried from year to year
        np.empty(B),  # rev_prev
        np.empty(B),  # carry
        np.empty((3, B)),  # fixed: fixed part of selling, admin, R&D
        np.empty(B),  # cash
        np.empty(B),  # debt
        np.empty(B),  # ppe
        np.empty(B),  # nwc
        np.empty(B),  # eqp
        np.empty(B),  # eqm
        np.empty((H, B)),  # capex_h
        # scratch of the row helpers: packed indices (ndtri_many's tails), table cells
        # (table_eval_many) and rows of intermediate values
        np.empty(B, np.int64),  # tails
        np.empty(B, np.uint64),  # cells
        np.empty((5, B)),  # work
        np.empty(B, np.int64),  # hit: the paths a shock hit, packed
        np.empty((2, B)),  # sev: their severity uniforms and severities
        # one path's uniforms (antithetic, LHS) and copula row (Student-t)
        np.empty((B, F)),  # d0
        np.empty((B, F)),  # d1
        np.empty((B, K)),  # s0
        np.empty((B, K)),  # s1
        np.empty((B, C)),  # zc_row
        np.empty((B, C)),  # xc_row
        np.empty((B, 1)),  # m0
        np.empty((B, 1)),  # m1
    )


@jit
def thread_workspace(ws, j):
    """Column ``j`` of every array of the workspace ``ws`` (views of width 1; row ``j`` of the
    one-path rows): one GPU thread's scratch, in the order of :func:`workspace`."""
    return (
        ws[0][:, j : j + 1],  # u
        ws[1][j : j + 1],  # u_spare
        ws[2][j : j + 1],  # u_row
        ws[3][:, j : j + 1],  # prow
        ws[4][:, j : j + 1],  # eps
        ws[5][:, j : j + 1],  # z
        ws[6][:, j : j + 1],  # marg
        ws[7][:, j : j + 1],  # val
        ws[8][:, j : j + 1],  # own
        ws[9][:, j : j + 1],  # u_occ
        ws[10][:, j : j + 1],  # u_sev
        ws[11][:, :, j : j + 1],  # impulse
        ws[12][j : j + 1],  # mask
        ws[13][:, j : j + 1],  # eff
        ws[14][:, :, j : j + 1],  # eff_seg
        ws[15][j : j + 1],  # v
        ws[16][:, j : j + 1],  # xc
        ws[17][:, j : j + 1],  # seg_rev
        ws[18][:, j : j + 1],  # ln
        ws[19][j : j + 1],  # wacc
        ws[20][j : j + 1],  # value
        ws[21][j : j + 1],  # tv
        ws[22][j : j + 1],  # rev_prev
        ws[23][j : j + 1],  # carry
        ws[24][:, j : j + 1],  # fixed
        ws[25][j : j + 1],  # cash
        ws[26][j : j + 1],  # debt
        ws[27][j : j + 1],  # ppe
        ws[28][j : j + 1],  # nwc
        ws[29][j : j + 1],  # eqp
        ws[30][j : j + 1],  # eqm
        ws[31][:, j : j + 1],  # capex_h
        ws[32][j : j + 1],  # tails
        ws[33][j : j + 1],  # cells
        ws[34][:, j : j + 1],  # work
        ws[35][j : j + 1],  # hit
        ws[36][:, j : j + 1],  # sev
        ws[37][j : j + 1],  # d0
        ws[38][j : j + 1],  # d1
        ws[39][j : j + 1],  # s0
        ws[40][j : j + 1],  # s1
        ws[41][j : j + 1],  # zc_row
        ws[42][j : j + 1],  # xc_row
        ws[43][j : j + 1],  # m0
        ws[44][j : j + 1],  # m1
    )


@jit
def simulate_block(start, n, first, n_total, method, sobol_u, sc, bufs, keep_draws, ws):
    """Simulate paths ``start .. start+n-1`` of the compiled scenario ``sc``
    (:class:`~simcore.model.compile.CompiledScenario`) into columns ``first ..`` of ``bufs``
    (:class:`~simcore.model.compile.Buffers`), one chunk after another of as many paths as the
    workspace ``ws`` (:func:`workspace`) is wide.
    ``method`` is the sampling code (``distributions.sampling.METHODS``), ``sobol_u`` the design
    rows of these paths for Sobol' sampling and designs (else empty), ``n_total`` the run's path
    count for Latin hypercube sampling (else 0). Serial and ``nogil``: the engine runs blocks of
    paths on several threads (``distributions.kernels.parallel_map``)."""
    drv_k0, drv_k1, sh_k0, sh_k1, mix_k = sc.drv_k0, sc.drv_k1, sc.sh_k0, sc.sh_k1, sc.mix_key
    drv_code, drv_p, drv_off = sc.drv.code, sc.drv.params, sc.drv.offset
    sev_code, sev_p, sev_off = sc.sev.code, sc.sev.params, sc.sev.offset
    tables, drv_base, drv_mul, drv_phi, drv_b = (
        sc.tables,
        sc.drv_base,
        sc.drv_mul,
        sc.drv_phi,
        sc.drv_b,
    )
    drv_years, corr_idx, corr_L, t_df = sc.drv_years, sc.corr_idx, sc.corr_L, sc.copula_df
    roles, growth_idx, margin_idx, base_rev = sc.roles, sc.growth_idx, sc.margin_idx, sc.base_rev
    sh_prob, sh_sev = sc.sh_prob, sc.sh_sev
    eff_shock, eff_target, eff_size, eff_cap = sc.eff_shock, sc.eff_target, sc.eff_size, sc.eff_cap
    eff_profile, eff_segmask, schedules = sc.eff_profile, sc.eff_segmask, sc.sched
    out, seg_out, hits_out, draws_out, sev_out, stmt_out = bufs
    line_out = sc.line_out
    now_drv, now_seg, now_gp = sc.now_drv, sc.now_seg, sc.now_gp
    unc_idx, unc_rows, unc_p, unc_k0, unc_k1 = (
        sc.unc_idx,
        sc.unc_rows,
        sc.unc_p,
        sc.unc_k0,
        sc.unc_k1,
    )
    keep_statements = stmt_out.shape[2] > 0
    F = drv_code.shape[0]
    K = sh_prob.shape[0]
    E = eff_shock.shape[0]
    S = base_rev.shape[0]
    H = schedules.shape[1]
    C = corr_idx.shape[0]
    U = unc_rows.shape[0]
    (
        u,
        u_spare,
        u_row,
        prow,
        eps,
        z,
        marg,
        val,
        own,
        u_occ,
        u_sev,
        impulse,
        mask,
        eff,
        eff_seg,
        v,
        xc,
        seg_rev,
        ln,
        wacc,
        value,
        tv,
        rev_prev,
        carry,
        fixed,
        cash,
        debt,
        ppe,
        nwc,
        eqp,
        eqm,
        capex_h,
        tails,
        cells,
        work,
        hit,
        sev,
        d0_,
        d1_,
        s0_,
        s1_,
        zc_row_,
        xc_row_,
        m0_,
        m1_,
    ) = ws
    # one path's rows (row 0 of theirs: contiguous, as the helpers they go to are compiled for)
    d0 = d0_[0]
    d1 = d1_[0]
    s0 = s0_[0]
    s1 = s1_[0]
    zc_row = zc_row_[0]
    xc_row = xc_row_[0]
    m0 = m0_[0]
    m1 = m1_[0]
    B = tails.shape[0]  # the workspace's width: the most paths in a chunk
    shares = sc.shares
    sweep = sc.sweep
    r_taxsur, r_sell, r_admin, r_rnd = roles[R_TAXSUR], roles[R_SELL], roles[R_ADMIN], roles[R_RND]
    r_imp, r_capex, r_rate, r_tax = roles[R_IMP], roles[R_CAPEX], roles[R_RATE], roles[R_TAX]
    r_fg_sell, r_fg_admin, r_fg_rnd = roles[R_FG_SELL], roles[R_FG_ADMIN], roles[R_FG_RND]
    r_ps, r_pe, r_eve = roles[R_PS], roles[R_PE], roles[R_EVE]
    r_wacc, r_tg = roles[R_WACC], roles[R_TG]
    for lo in range(0, n, B):
        m = min(B, n - lo)
        p0 = start + lo  # global index of the chunk's first path
        o0 = first + lo  # its column in the output arrays
        for s in range(S):
            for i in range(m):
                seg_rev[s, i] = base_rev[s]
        for i in range(m):
            rev_prev[i] = sc.base_revenue
            carry[i] = sc.tax_loss_cf
            for k in range(3):
                fixed[k, i] = sc.fixed0[k]
            cash[i] = sc.opening[0]
            debt[i] = sc.opening[1]
            ppe[i] = sc.opening[2]
            nwc[i] = sc.opening[3]
            eqp[i] = sc.opening[4]
            eqm[i] = sc.opening[5]
        # 0. parameter rows (two-layer uncertainty): one uniform per path, held every year,
        # sampled like every other input (plain, antithetic, Latin hypercube, a design column)
        for j in range(U):
            if method == 0:
                uniform_run(unc_k0[j], unc_k1[j], p0, 0, 0, u_row[:m], u_spare[:m])
            elif method == 3:  # a design (Sobol' sampling, SALib, Shapley): its column
                for i in range(m):
                    u_row[i] = sobol_u[lo + i, 0, F + 2 * K + 1 + j]
            else:
                for i in range(m):
                    sample_pairs(
                        method, unc_k0[j : j + 1], unc_k1[j : j + 1], p0 + i, 0, 0, n_total, m0, m1
                    )
                    u_row[i] = m0[0]
            n_rows = unc_rows[j]
            for i in range(m):
                prow[j, i] = min(int(u_row[i] * n_rows), n_rows - 1)
        for t in range(H):
            # 1. uniforms of every driver and shock (drivers: in the years the model reads)
            if method == 0:
                for f in range(F):
                    if t < drv_years[f]:
                        uniform_run(drv_k0[f], drv_k1[f], p0, t, 0, u[f, :m], u_spare[:m])
                for k in range(K):
                    uniform_run(sh_k0[k], sh_k1[k], p0, t, 0, u_occ[k, :m], u_sev[k, :m])
            elif method == 3:
                for i in range(m):
                    for f in range(F):
                        u[f, i] = sobol_u[lo + i, t, f]
                    for k in range(K):
                        u_occ[k, i] = sobol_u[lo + i, t, F + 2 * k]
                        u_sev[k, i] = sobol_u[lo + i, t, F + 2 * k + 1]
            else:
                for i in range(m):
                    sample_pairs(method, drv_k0, drv_k1, p0 + i, t, 0, n_total, d0, d1)
                    sample_pairs(method, sh_k0, sh_k1, p0 + i, t, 0, n_total, s0, s1)
                    for f in range(F):
                        u[f, i] = d0[f]
                    for k in range(K):
                        u_occ[k, i] = s0[k]
                        u_sev[k, i] = s1[k]
            # 2. independent normal scores of the drivers (0 where the model reads none)
            for f in range(F):
                if t < drv_years[f]:
                    ndtri_many(u[f, :m], eps[f, :m], tails, work)
                else:
                    for i in range(m):
                        eps[f, i] = 0.0
            # 3. copula over the labelled drivers: eps[labels] = L @ eps[labels], sums in the
            # order of copula.correlate_row (Student-t: per path, one chi-square mixing draw)
            if C and t_df > 0.0:
                for i in range(m):
                    for c in range(C):
                        zc_row[c] = eps[corr_idx[c], i]
                    if method == 3:
                        m0[0] = sobol_u[lo + i, t, F + 2 * K]
                    else:
                        sample_pairs(method, mix_k[0:1], mix_k[1:2], p0 + i, t, 0, n_total, m0, m1)
                    t_correlate_row(corr_L, t_df, zc_row, chi2_ppf(t_df, m0[0]), xc_row)
                    for c in range(C):
                        eps[corr_idx[c], i] = xc_row[c]
            elif C:
                for c in range(C):
                    for i in range(m):
                        xc[c, i] = 0.0
                    for k in range(c + 1):
                        w = corr_L[c, k]
                        src = corr_idx[k]
                        for i in range(m):
                            xc[c, i] += w * eps[src, i]
                for c in range(C):
                    dst = corr_idx[c]
                    for i in range(m):
                        eps[dst, i] = xc[c, i]
            # 4. persistence and marginals: z_t = phi z_{t-1} + sqrt(1 - phi^2) eps_t, then
            # x = ppf(Phi(z)); the common families inline (same arithmetic as ppf_z). With
            # phi = 1, z_t = z_{t-1} (+ 0 * eps_t) and last year's marginal is held.
            # A nowcast conditions the state, z_t = w z* + (1 - w) z_t, keeping the path's own
            # value of the year for the rest of it (simcore.model.nowcast).
            for f in range(F):
                wn = now_drv[0, f, t]
                held = t > 0 and drv_phi[f] == 1.0 and wn == 0.0
                if t == 0:
                    for i in range(m):
                        z[f, i] = eps[f, i]
                elif not held:
                    phi = drv_phi[f]
                    b = drv_b[f]
                    for i in range(m):
                        z[f, i] = phi * z[f, i] + b * eps[f, i]
                if wn != 0.0:  # the path's own value first: the rest of the year grows by it
                    ppf_z_many(drv_code[f], drv_p[f], tables, drv_off[f], z[f, :m], own[f, :m])
                    base = drv_base[f, t]
                    for i in range(m):
                        own[f, i] = base * own[f, i] if drv_mul[f] else base + own[f, i]
                    zs = wn * now_drv[1, f, t]
                    wr = 1.0 - wn
                    for i in range(m):
                        z[f, i] = zs + wr * z[f, i]
                if not held:
                    code = drv_code[f]
                    a0 = drv_p[f, 0]
                    a1 = drv_p[f, 1]
                    mg = marg[f, :m]
                    ju = unc_idx[f]
                    if ju >= 0 and code == CODE_NORMAL:  # each path's own parameters
                        for i in range(m):
                            r = prow[ju, i]
                            mg[i] = unc_p[ju, r, 0] + unc_p[ju, r, 1] * z[f, i]
                    elif ju >= 0:  # the exact code (drv_off is -1: no table), through the
                        # call the other families take: no second copy of them compiled
                        for i in range(m):
                            row = unc_p[ju, prow[ju, i]]
                            ppf_z_many(
                                code, row, tables, drv_off[f], z[f, i : i + 1], mg[i : i + 1]
                            )
                    elif code == CODE_NORMAL:
                        for i in range(m):
                            mg[i] = a0 + a1 * z[f, i]
                    elif code == CODE_TABLE:
                        low = drv_p[f, 6]
                        high = drv_p[f, 7]
                        table_eval_many(tables, drv_off[f], z[f, :m], mg, cells, work)
                        for i in range(m):
                            mg[i] = min(max(a0 + a1 * mg[i], low), high)
                    elif code == CODE_LOGNORMAL:
                        for i in range(m):
                            mg[i] = exp(a0 + a1 * z[f, i])
                    else:  # the other families (out of line: they are not common here)
                        ppf_z_many(code, drv_p[f], tables, drv_off[f], z[f, :m], mg)
                base = drv_base[f, t]
                if drv_mul[f]:
                    for i in range(m):
                        val[f, i] = base * marg[f, i]
                else:
                    for i in range(m):
                        val[f, i] = base + marg[f, i]
                if keep_draws:
                    for i in range(m):
                        draws_out[f, t, o0 + i] = val[f, i]
            # 5. shocks: a hit when the occurrence uniform is below the year's probability;
            # the severities of the hits (a quarter of path-years) packed and drawn together
            for i in range(m):
                mask[i] = 0
            for k in range(K):
                prob = sh_prob[k, t]
                forced = sh_sev[k, t]
                bit = np.uint32(1) << np.uint32(k)
                imp = impulse[k, t, :m]
                for i in range(m):
                    imp[i] = forced if u_occ[k, i] < prob else 0.0
                for i in range(m):
                    mask[i] |= bit if u_occ[k, i] < prob else np.uint32(0)
                if np.isnan(forced):  # not forced: draw the severity of each hit
                    nh = 0
                    for i in range(m):
                        hit[nh] = i
                        nh += u_occ[k, i] < prob
                    for j in range(nh):
                        sev[0, j] = u_sev[k, hit[j]]
                    if sev_code[k] == CODE_LOGNORMAL:  # the common family, vectorised
                        ndtri_many(sev[0, :nh], sev[1, :nh], tails, work)
                        a0 = sev_p[k, 0]
                        a1 = sev_p[k, 1]
                        for j in range(nh):
                            sev[1, j] = exp(a0 + a1 * sev[1, j])
                    else:
                        ppf_u_many(
                            sev_code[k], sev_p[k], tables, sev_off[k], sev[0, :nh], sev[1, :nh]
                        )
                    for j in range(nh):
                        imp[hit[j]] = sev[1, j]
                if keep_draws:
                    row = sev_out[k, t, o0 : o0 + m]
                    for i in range(m):
                        row[i] = imp[i]
            row_h = hits_out[t, o0 : o0 + m]
            for i in range(m):
                row_h[i] = mask[i]
            # 6. shock effects in year t: sum over event years tau of size * severity *
            # profile[t - tau], capped in absolute value. Terms with weight 0 add +-0 to sums
            # that are never -0 (finite impulses), so they, an effect with none this year and a
            # segment outside an effect's mask are skipped; v starts at its first term (0 + x
            # and x differ only in the sign of a zero, which those sums absorb too).
            eff[:, :m] = 0.0
            eff_seg[:, :, :m] = 0.0
            for e in range(E):
                k = eff_shock[e]
                terms = 0
                for tau in range(t + 1):
                    w = eff_size[e] * eff_profile[e, t - tau]
                    if w == 0.0:
                        continue
                    if terms == 0:
                        for i in range(m):
                            v[i] = impulse[k, tau, i] * w
                    else:
                        for i in range(m):
                            v[i] += impulse[k, tau, i] * w
                    terms += 1
                if terms == 0:
                    continue
                cap = eff_cap[e]
                tg = eff_target[e]
                if tg < N_SEG_TARGETS:
                    for i in range(m):
                        v[i] = capped(v[i], cap)
                    for s in range(S):
                        w = eff_segmask[e, s]
                        if w != 0.0:
                            for i in range(m):
                                eff_seg[tg, s, i] += w * v[i]
                else:
                    for i in range(m):
                        eff[tg, i] += capped(v[i], cap)
            # 7. the statements, one row per loop where the model allows: LLVM vectorises a
            # loop only when it can check every pair of the arrays it touches for overlap.
            # Revenue by segment and the gross profit before D&A:
            rev = out[O_REV, t, o0 : o0 + m]
            gp = out[O_GP, t, o0 : o0 + m]
            for s in range(S):
                gi = growth_idx[s]
                mi = margin_idx[s]
                wn = now_seg[1, s, t]
                if wn == 0.0:
                    for i in range(m):
                        g = max(val[gi, i] + eff_seg[T_GROWTH, s, i], GROWTH_FLOOR)
                        churn = min(max(eff_seg[T_CHURN, s, i], 0.0), 1.0)
                        seg_rev[s, i] = seg_rev[s, i] * (1.0 + g) * (1.0 - churn)
                else:  # the reported part, and the rest of the year at the path's own growth
                    a = now_seg[0, s, t]
                    wr = 1.0 - wn
                    gv = own if now_drv[0, gi, t] != 0.0 else val
                    for i in range(m):
                        g = max(gv[gi, i] + eff_seg[T_GROWTH, s, i], GROWTH_FLOOR)
                        churn = min(max(eff_seg[T_CHURN, s, i], 0.0), 1.0)
                        seg_rev[s, i] = a + wr * (seg_rev[s, i] * (1.0 + g) * (1.0 - churn))
                row = seg_out[s, t, o0 : o0 + m]
                for i in range(m):
                    row[i] = seg_rev[s, i]
                if s == 0:
                    for i in range(m):
                        rev[i] = seg_rev[0, i]
                        gp[i] = seg_rev[0, i] * min(val[mi, i] + eff_seg[T_GM, 0, i], 1.0)
                else:
                    for i in range(m):
                        rev[i] = rev[i] + seg_rev[s, i]
                        gp[i] = gp[i] + seg_rev[s, i] * min(val[mi, i] + eff_seg[T_GM, s, i], 1.0)
            # capital: capex from capacity growth plus maintenance; straight-line D&A of the
            # opening assets and of every year's capex
            # (beyond the explicit years capex replaces the D&A of the assets in place, the
            # fade's rule: capex - D&A is the growth capex less its own first-year D&A)
            maint = schedules[S_MAINT, t]
            kept = schedules[S_KEPT, t] != 0.0
            da = out[O_DA, t, o0 : o0 + m]
            for i in range(m):
                da[i] = schedules[S_EXIST, t]
            for year in range(t):  # every earlier capex vintage
                w = schedules[S_DEPW, t - year]
                if w != 0.0:
                    for i in range(m):
                        da[i] += capex_h[year, i] * w
            w0 = schedules[S_DEPW, 0]
            capex = out[O_CAPEX, t, o0 : o0 + m]
            for i in range(m):
                inten = max(val[r_capex, i] + eff[T_CAPEX, i], 0.0)
                grow = inten * max(rev[i] - rev_prev[i], 0.0)
                capex[i] = grow + da[i] if kept else grow + maint * rev[i]
                capex_h[t, i] = capex[i]
            if w0 != 0.0:  # this year's vintage, last
                for i in range(m):
                    da[i] += capex[i] * w0
            cogs = ln[L_COGS, :m]
            for i in range(m):
                gp[i] = gp[i] - da[i]
            wn = now_gp[1, t]
            if wn != 0.0:  # the reported gross profit, and the rest of the year as simulated
                a = now_gp[0, t]
                wr = 1.0 - wn
                for i in range(m):
                    gp[i] = a + wr * gp[i]
            for i in range(m):
                cogs[i] = rev[i] - gp[i]
            # operating costs: a fixed part growing by its driver plus a ratio of revenue
            sell = ln[L_SELL, :m]
            admin = ln[L_ADMIN, :m]
            rnd = ln[L_RND, :m]
            for i in range(m):
                fixed[0, i] = fixed[0, i] * (1.0 + val[r_fg_sell, i])
                sell[i] = fixed[0, i] + rev[i] * max(val[r_sell, i] + eff[T_SELL, i], 0.0)
            for i in range(m):
                fixed[1, i] = fixed[1, i] * (1.0 + val[r_fg_admin, i])
                admin[i] = fixed[1, i] + rev[i] * max(val[r_admin, i] + eff[T_ADMIN, i], 0.0)
            for i in range(m):
                fixed[2, i] = fixed[2, i] * (1.0 + val[r_fg_rnd, i])
                rnd[i] = fixed[2, i] + rev[i] * max(val[r_rnd, i] + eff[T_RND, i], 0.0)
            taxsur = ln[L_TAXSUR, :m]
            imp = ln[L_IMP, :m]
            fin = ln[L_FIN, :m]
            for i in range(m):
                taxsur[i] = rev[i] * val[r_taxsur, i]
                imp[i] = rev[i] * val[r_imp, i]
                fin[i] = val[r_rate, i] * debt[i]  # interest on the opening debt
            other = schedules[S_OTHER, t]
            nonop = schedules[S_NONOP, t]
            keep = 1.0 - schedules[S_MINORITY, t]
            op = out[O_OP, t, o0 : o0 + m]
            for i in range(m):
                op[i] = gp[i] - taxsur[i] - sell[i] - admin[i] - rnd[i] - fin[i] - imp[i] + other
            loss = ln[L_LOSS, :m]
            pbt_ = out[O_PBT, t, o0 : o0 + m]
            for i in range(m):  # + non-operating - one-off loss (a share of last year's revenue)
                loss[i] = eff[T_LOSS, i] * rev_prev[i]
                pbt_[i] = op[i] + nonop - loss[i]
            tax_ = ln[L_TAX, :m]
            np_ = out[O_NP, t, o0 : o0 + m]
            for i in range(m):  # tax on profit after the loss carry-forward
                pbt = pbt_[i]
                c_ = carry[i]
                used = min(c_, pbt) if pbt > 0.0 else 0.0
                taxable = pbt - used if pbt > 0.0 else 0.0
                carry[i] = c_ - used if pbt > 0.0 else c_ - pbt
                tax_[i] = val[r_tax, i] * taxable
                np_[i] = pbt - tax_[i]
            npa = out[O_NPA, t, o0 : o0 + m]
            eps_row = out[O_EPS, t, o0 : o0 + m]
            for i in range(m):
                npa[i] = np_[i] * keep
                eps_row[i] = npa[i] / shares
            ebitda = out[O_EBITDA, t, o0 : o0 + m]
            nop = ln[L_NOPAT, :m]
            for i in range(m):
                ebit = op[i] + fin[i]
                ebitda[i] = ebit + da[i]
                nop[i] = ebit - val[r_tax, i] * max(ebit, 0.0)
            # working capital: ratios of revenue and of the cost of revenue
            rec = ln[L_REC, :m]
            inv = ln[L_INV, :m]
            oca = ln[L_OCA, :m]
            pay = ln[L_PAY, :m]
            ocl = ln[L_OCL, :m]
            dwc = ln[L_DWC, :m]
            r_rec, r_inv, r_oca = schedules[S_REC, t], schedules[S_INV, t], schedules[S_OCA, t]
            r_pay, r_ocl = schedules[S_PAY, t], schedules[S_OCL, t]
            for i in range(m):
                rec[i] = r_rec * rev[i]
                inv[i] = r_inv * cogs[i]
                oca[i] = r_oca * rev[i]
                pay[i] = r_pay * cogs[i]
                ocl[i] = r_ocl * rev[i]
            for i in range(m):
                new = rec[i] + inv[i] + oca[i] - pay[i] - ocl[i]
                dwc[i] = -(new - nwc[i])
                nwc[i] = new
            # cash flow and financing: scheduled repayment, then the gap below the minimum cash
            # is borrowed and a share (sweep) of the cash above it repays debt
            onca, oncl = schedules[S_ONCA, t], schedules[S_ONCL, t]
            d_onca = onca - schedules[S_ONCA_PREV, t]
            d_oncl = oncl - schedules[S_ONCL_PREV, t]
            payout = schedules[S_PAYOUT, t]
            repay_t = schedules[S_REPAY, t]
            min_cash = schedules[S_MINCASH, t]
            ocf = ln[L_OCF, :m]
            icf = ln[L_ICF, :m]
            for i in range(m):
                ocf[i] = np_[i] + da[i] + fin[i] - (-dwc[i]) + d_oncl
                icf[i] = -capex[i] - d_onca
            roic = out[O_ROIC, t, o0 : o0 + m]
            for i in range(m):  # on the opening invested capital, before cash and debt move
                invested = eqp[i] + eqm[i] + debt[i] - cash[i]
                ratio = nop[i] / invested
                roic[i] = ratio if invested > 0.0 else np.nan
            div = ln[L_DIV, :m]
            repaid = ln[L_REPAY, :m]
            borrowed = ln[L_BORROW, :m]
            extra = ln[L_FCF_FIN, :m]  # the sweep's extra repayment, until the row is filled
            for i in range(m):
                div[i] = payout * max(npa[i], 0.0)
                repaid[i] = min(repay_t, debt[i])
            for i in range(m):
                pre = cash[i] + ocf[i] + icf[i] - fin[i] - div[i] - repaid[i]
                borrowed[i] = max(min_cash - pre, 0.0)
                extra[i] = min(sweep * max(pre - min_cash, 0.0), debt[i] - repaid[i])
                ln[L_NCF, i] = pre  # the cash before financing, until the row is filled
            ncf = ln[L_NCF, :m]
            for i in range(m):
                cash_new = ncf[i] + borrowed[i] - extra[i]
                ncf[i] = cash_new - cash[i]
                cash[i] = cash_new
                debt[i] = debt[i] - repaid[i] + borrowed[i] - extra[i]
            for i in range(m):
                eqp[i] = eqp[i] + npa[i] - div[i]
                eqm[i] = eqm[i] + (np_[i] - npa[i])
                ppe[i] = ppe[i] + capex[i] - da[i]
            cash_o = out[O_CASH, t, o0 : o0 + m]  # (loops, not slice copies: a copy between
            debt_o = out[O_DEBT, t, o0 : o0 + m]  # arrays needs numba's runtime, which a GPU lacks)
            for i in range(m):
                cash_o[i] = cash[i]
                debt_o[i] = debt[i]
            eq = out[O_EQ, t, o0 : o0 + m]
            nd = out[O_ND, t, o0 : o0 + m]
            for i in range(m):
                eq[i] = eqp[i] + eqm[i]
                nd[i] = debt[i] - cash[i]
            f_ = out[O_FCF, t, o0 : o0 + m]  # read back by the DCF (section 8)
            for i in range(m):
                f_[i] = nop[i] + da[i] - capex[i] - (-dwc[i]) + d_oncl - d_onca
            # valuation: multiples (P/E and EV/EBITDA give no value, 0, where the earnings or
            # the EBITDA are not positive; the price never goes below 0)
            ps = out[O_PS, t, o0 : o0 + m]
            pe = out[O_PE, t, o0 : o0 + m]
            eve = out[O_EVE, t, o0 : o0 + m]
            for i in range(m):
                derate = max(1.0 - eff[T_MULT, i], 0.0)
                ps[i] = val[r_ps, i] * derate * rev[i] / shares
                e_ = eps_row[i]
                pe[i] = val[r_pe, i] * derate * e_ if e_ > 0.0 else 0.0
                b_ = ebitda[i]
                ev_ = val[r_eve, i] * derate * b_ - nd[i]
                eve[i] = max(ev_, 0.0) / shares if b_ > 0.0 else 0.0
            for i in range(m):
                rev_prev[i] = rev[i]
            # every line on request: the lines only the full statements show, then the copy
            # (the stored outputs were written in place, the others are this year's rows of ln)
            if keep_statements:
                mino = ln[L_MIN, :m]
                fin_cf = ln[L_FCF_FIN, :m]
                ta = ln[L_TA, :m]
                tl = ln[L_TL, :m]
                for i in range(m):
                    mino[i] = np_[i] - npa[i]
                for i in range(m):
                    x = extra[i]  # the sweep's repayment, held in this row until now
                    fin_cf[i] = -fin[i] - div[i] - repaid[i] + borrowed[i] - x
                    repaid[i] = repaid[i] + x
                for i in range(m):
                    ta[i] = cash[i] + rec[i] + inv[i] + oca[i] + ppe[i] + onca
                    tl[i] = debt[i] + pay[i] + ocl[i] + oncl
                ln[L_OTHER, :m] = other
                ln[L_NONOP, :m] = nonop
                ln[L_ONCA, :m] = onca
                ln[L_ONCL, :m] = oncl
                for i in range(m):
                    ln[L_INT, i] = fin[i]
                    ln[L_PPE, i] = ppe[i]
                    ln[L_EQP, i] = eqp[i]
                    ln[L_EQM, i] = eqm[i]
                ic = ln[L_IC, :m]
                dr = ln[L_WACC, :m]
                tgr = ln[L_TG, :m]
                for i in range(m):
                    ic[i] = eq[i] + nd[i]
                    dr[i] = val[r_wacc, i] + eff[T_WACC, i]
                    tgr[i] = val[r_tg, i]
                for line in range(N_LINES):
                    row = stmt_out[line, t, o0 : o0 + m]
                    j = line_out[line]
                    if j >= 0:
                        src_o = out[j, t, o0 : o0 + m]
                        for i in range(m):
                            row[i] = src_o[i]
                    else:
                        src_l = ln[line, :m]
                        for i in range(m):
                            row[i] = src_l[i]
        # 8. the staged DCF as of each year end (simcore.model.dcf): the fade and the terminal
        # value after the last year, then the free cash flows discounted back at the final
        # year's discount rate, less each path's own net debt at each date
        nop = ln[L_NOPAT, :m]  # the last year's (the rows of ln hold the last year)
        rev = out[O_REV, H - 1, o0 : o0 + m]
        before = out[O_REV, H - 2 if H > 1 else 0, o0 : o0 + m]
        eq = out[O_EQ, H - 1, o0 : o0 + m]
        nd = out[O_ND, H - 1, o0 : o0 + m]
        for i in range(m):
            wacc[i] = val[r_wacc, i] + eff[T_WACC, i]
            r_ = rev[i]
            r0 = before[i] if H > 1 else sc.base_revenue
            gr0 = r_ / r0 - 1.0 if r0 > 0.0 else 0.0
            mg0 = nop[i] / r_ if r_ > 0.0 else 0.0
            kc0 = max((eq[i] + nd[i]) / r_, 0.0) if r_ > 0.0 else 0.0
            value[i], tv[i] = fade_value(
                r_,
                gr0,
                mg0,
                kc0,
                wacc[i],
                val[r_tg, i],
                int(sc.fade_years),
                sc.terminal_margin,
                sc.terminal_roic,
                np.nan,
            )
        for t in range(H - 1, -1, -1):
            if t < H - 1:
                f_ = out[O_FCF, t + 1, o0 : o0 + m]
                for i in range(m):
                    value[i] = (value[i] + f_[i]) / (1.0 + wacc[i])
                    tv[i] = tv[i] / (1.0 + wacc[i])
            nd = out[O_ND, t, o0 : o0 + m]
            row = out[O_DCF, t, o0 : o0 + m]
            share = out[O_TVS, t, o0 : o0 + m]
            for i in range(m):
                row[i] = max(value[i] - nd[i], 0.0) / shares
                share[i] = tv[i] / value[i] if value[i] > 0.0 else np.nan


def simulate_paths(start, n, first, n_total, method, sobol_u, sc, bufs, keep_draws):
    """:func:`simulate_block` with a workspace of its own (one thread's call). Plain Python:
    a jitted wrapper would make numba optimise the whole kernel a second time when it is
    first compiled (about 6 s of a first run's 39 s)."""
    simulate_block(
        start, n, first, n_total, method, sobol_u, sc, bufs, keep_draws, workspace(sc, CHUNK)
    )


simulate_paths_serial = simulate_paths  # the one-thread path (tests, pure-Python baseline)
