"""Compile a :class:`~simcore.model.scenario.Scenario` into the one record the kernel reads.

:class:`CompiledScenario` is a ``typing.NamedTuple`` of arrays and numbers (numba passes it as one
argument, types it by its fields and caches the kernel compiled for it like any other
signature). Its row orders come from :mod:`simcore.model.layout`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from distributions import Distribution
from distributions.kernels import CODE_CONSTANT
from distributions.streams import SeedLike, stream_key
from simcore.model.equations import (
    dcf_fade_years,
    driver_stream,
    opening_working_capital,
    parameter_stream,
    schedules,
    shock_schedule,
    shock_stream,
)
from simcore.model.layout import FIXED_DRIVERS, LINES, OUTPUTS, SCHED_ROWS, TARGET
from simcore.model.nowcast import pins
from simcore.model.peers import apply_peers
from simcore.model.scenario import Scenario, driver_bases


class Packed(NamedTuple):
    """Distributions packed for the kernel: codes int64[k], params float64[k, 8],
    offsets int64[k]."""

    code: np.ndarray
    params: np.ndarray
    offset: np.ndarray


def pack(
    dists: list[Distribution], tables: dict[bytes, tuple[int, np.ndarray]], used: list[int]
) -> Packed:
    """Pack distributions, adding their tables to ``tables`` (bytes -> (offset, table);
    ``used[0]`` rows so far). Identical tables are stored once: the default scenario's nine
    truncated normals standardise to three tables, and the kernel's lookups then stay in the
    L2 cache (1.2 MB of tables would not)."""
    code = np.zeros(len(dists), np.int64)
    params = np.zeros((len(dists), 8))
    offset = np.full(len(dists), -1, np.int64)
    for i, d in enumerate(dists):
        c, p, tab = d.kernel_args()
        code[i], params[i] = c, p
        if tab.shape[0]:
            key = tab.tobytes()
            if key not in tables:
                tables[key] = (used[0], tab)
                used[0] += tab.shape[0]
            offset[i] = tables[key][0]
    return Packed(code, params, offset)


class CompiledScenario(NamedTuple):
    """Everything the kernel reads about a scenario and a seed (shapes: ``F`` drivers, ``H``
    years, ``K`` shocks, ``E`` shock effects, ``S`` segments, ``C`` copula labels, ``M`` table
    rows)."""

    drv_k0: np.ndarray  # uint64[F] Philox key words of each driver's stream
    drv_k1: np.ndarray
    sh_k0: np.ndarray  # uint64[K] of each shock's stream
    sh_k1: np.ndarray
    mix_key: np.ndarray  # uint64[2]: the Student-t copula's chi-square mixing stream
    drv: Packed
    drv_base: np.ndarray  # float64[F, H]
    drv_mul: np.ndarray  # int64[F] 1 if mode == "mul"
    drv_phi: np.ndarray  # float64[F]
    drv_b: np.ndarray  # float64[F] sqrt(1 - phi^2)
    drv_years: np.ndarray  # int64[F] leading years whose innovations the model reads (below)
    corr_idx: np.ndarray  # int64[C] driver index of each copula label
    corr_L: np.ndarray  # float64[C, C] lower-triangular factor
    copula_df: float  # 0 for the Gaussian copula
    roles: np.ndarray  # int64[len(FIXED_DRIVERS)] driver index of each fixed role
    growth_idx: np.ndarray  # int64[S] driver index of each segment's growth
    margin_idx: np.ndarray  # int64[S] and of its gross margin
    base_rev: np.ndarray  # float64[S]
    sh_prob: np.ndarray  # float64[K, H] probability of a hit (0 off, 1 forced by a stress)
    sh_sev: np.ndarray  # float64[K, H] forced severity, NaN where drawn
    sev: Packed
    eff_shock: np.ndarray  # int64[E]
    eff_target: np.ndarray  # int64[E]
    eff_size: np.ndarray  # float64[E]
    eff_cap: np.ndarray  # float64[E]
    eff_profile: np.ndarray  # float64[E, H]
    eff_segmask: np.ndarray  # float64[E, S]
    sched: np.ndarray  # float64[len(SCHED_ROWS), H], rows in layout.SCHED_ROWS order
    tables: np.ndarray  # float64[M, 2]: every tabulated ppf, identical tables stored once
    line_out: np.ndarray  # int64[len(LINES)] output row of each line (-1: not stored)
    shares: float  # millions
    terminal_roic: float
    fade_years: float  # (a whole number) DCF fade years after the last simulated year
    terminal_margin: float  # NOPAT / revenue at the end of the fade (NaN: each path's own held)
    tax_loss_cf: float  # tax losses carried into the first forecast year
    base_revenue: float  # total revenue of the base year
    fixed0: np.ndarray  # float64[3] base-year fixed part of selling, admin, R&D
    opening: np.ndarray  # float64[6] cash, debt, fixed assets, working capital, equity
    # (parent), minority equity at the end of the base year
    sweep: float  # share of the cash above the minimum that repays debt
    # the nowcast (simcore.model.nowcast; weight 0: none): per driver and year the weight and
    # target score of its growth state, per segment and year the reported revenue and its
    # weight, per year the reported gross profit and its weight
    now_drv: np.ndarray  # float64[2, F, H]
    now_seg: np.ndarray  # float64[2, S, H]
    now_gp: np.ndarray  # float64[2, H]
    # parameter uncertainty (two-layer; U drivers, at most R rows each): per driver its row in
    # these (-1: none), the rows and each row's kernel params, the stream of the row draw
    unc_idx: np.ndarray  # int64[F]
    unc_rows: np.ndarray  # int64[U]
    unc_p: np.ndarray  # float64[U, R, 8]
    unc_k0: np.ndarray  # uint64[U]
    unc_k1: np.ndarray


def _uncertainty(
    sc: Scenario, seed: SeedLike, drv: Packed
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(unc_idx, unc_rows, unc_p, keys uint64[U, 2])``; ``drv`` of an uncertain driver is
    switched to its family's exact code (no table: the parameters change per path)."""
    drivers = [(f, d) for f, d in enumerate(sc.drivers) if d.uncertainty is not None]
    idx = np.full(len(sc.drivers), -1, np.int64)
    R = max((len(d.uncertainty.rows) for _, d in drivers), default=0)  # type: ignore[union-attr]
    p = np.zeros((len(drivers), R, 8))
    rows = np.zeros(len(drivers), np.int64)
    for j, (f, d) in enumerate(drivers):
        idx[f] = j
        dists = d.row_dists()
        rows[j] = len(dists)
        for r, x in enumerate(dists):
            drv.code[f], p[j, r] = x.exact_kernel_args()
        drv.offset[f] = -1
    keys = [stream_key(seed, parameter_stream(d.name)) for _, d in drivers]
    return idx, rows, p, np.array(keys, np.uint64).reshape(-1, 2)


def compile_scenario(sc: Scenario, seed: SeedLike) -> CompiledScenario:
    """The kernel's record of ``sc`` with the stream keys of ``seed`` (a SeedSequence); its
    multiples centred on the peers where the scenario says so (:mod:`simcore.model.peers`)."""
    sc = apply_peers(sc)
    H = sc.horizon
    names = [d.name for d in sc.drivers]
    index = {n: i for i, n in enumerate(names)}
    tables: dict[bytes, tuple[int, np.ndarray]] = {}
    used = [0]
    drv = pack([d.dist for d in sc.drivers], tables, used)
    unc_idx, unc_rows, unc_p, uk = _uncertainty(sc, seed, drv)
    sev = pack([s.severity for s in sc.shocks], tables, used)
    dk = np.array([stream_key(seed, driver_stream(n)) for n in names], np.uint64).reshape(-1, 2)
    sk = np.array([stream_key(seed, shock_stream(s.name)) for s in sc.shocks], np.uint64).reshape(
        -1, 2
    )
    phi = np.array([d.persistence for d in sc.drivers], np.float64)

    labels = list(sc.correlation_labels)
    cop = sc.copula_model()
    # a writeable copy either way: a read-only array is another numba type (a second compile)
    L = np.array(cop.factor, np.float64, order="C") if cop is not None else np.zeros((0, 0))
    mixing = getattr(cop, "mixing_stream", None)

    segs = sc.segment_names
    effects = [(k, e) for k, s in enumerate(sc.shocks) for e in s.effects]
    E = len(effects)
    profile = np.zeros((E, H))
    segmask = np.zeros((E, len(segs)))
    for i, (_, e) in enumerate(effects):
        m = min(len(e.profile), H)
        profile[i, :m] = e.profile[:m]
        segmask[i] = [(not e.segments) or (s in e.segments) for s in segs]
    rows = schedules(sc)
    sched = np.stack([rows[r] for r in SCHED_ROWS])
    base_rev = np.array([s.base_revenue for s in sc.segments], np.float64)
    sh_prob, sh_sev = shock_schedule(sc)
    # Innovations the model reads, per driver: none for a Constant, one (year 0) for persistence
    # 1 (z_t = z_0: the kernel holds the year-0 marginal), every year otherwise. A driver inside
    # the copula draws every year all the same: the other labelled drivers' scores mix its
    # innovations (and a pinned driver, as in a tornado, keeps their draws unchanged).
    in_copula = np.isin(names, labels)
    years = np.where(drv.code == CODE_CONSTANT, 0, np.where(phi == 1.0, 1, H))
    years = np.where(in_copula, H, years)
    now = pins(sc)[0]
    return CompiledScenario(
        drv_k0=np.ascontiguousarray(dk[:, 0]),
        drv_k1=np.ascontiguousarray(dk[:, 1]),
        sh_k0=np.ascontiguousarray(sk[:, 0]),
        sh_k1=np.ascontiguousarray(sk[:, 1]),
        mix_key=stream_key(seed, mixing) if mixing else np.zeros(2, np.uint64),
        drv=drv,
        drv_base=np.stack([driver_bases(sc, d) for d in sc.drivers]),
        drv_mul=np.array([d.mode == "mul" for d in sc.drivers], np.int64),
        drv_phi=phi,
        drv_b=np.sqrt(1.0 - phi**2),
        drv_years=years.astype(np.int64),
        corr_idx=np.array([index[k] for k in labels], np.int64),
        corr_L=L,
        copula_df=float(sc.copula_df) if sc.copula == "student_t" else 0.0,
        roles=np.array([index[r] for r in FIXED_DRIVERS], np.int64),
        growth_idx=np.array([index[f"growth.{s}"] for s in segs], np.int64),
        margin_idx=np.array([index[f"margin.{s}"] for s in segs], np.int64),
        base_rev=base_rev,
        sh_prob=sh_prob,
        sh_sev=sh_sev,
        sev=sev,
        eff_shock=np.array([k for k, _ in effects], np.int64),
        eff_target=np.array([TARGET[e.target] for _, e in effects], np.int64),
        eff_size=np.array([e.size for _, e in effects], np.float64),
        eff_cap=np.array([e.cap for _, e in effects], np.float64),
        eff_profile=profile,
        eff_segmask=segmask,
        sched=sched,
        tables=np.concatenate([t for _, t in tables.values()]) if tables else np.zeros((1, 2)),
        line_out=np.array([OUTPUTS.index(x) if x in OUTPUTS else -1 for x in LINES], np.int64),
        shares=float(sc.shares),
        terminal_roic=float(sc.terminal_roic),
        fade_years=float(dcf_fade_years(sc)),
        terminal_margin=np.nan if sc.terminal_margin is None else float(sc.terminal_margin),
        tax_loss_cf=float(sc.tax_loss_carryforward),
        base_revenue=float(base_rev.sum()),
        fixed0=np.array([sc.fixed_selling, sc.fixed_admin, sc.fixed_rnd], np.float64),
        opening=np.array(
            [
                sc.opening_cash,
                sc.opening_debt,
                sc.opening_fixed_assets,
                opening_working_capital(sc),
                sc.opening_equity,
                sc.opening_minority_equity,
            ],
            np.float64,
        ),
        sweep=float(sc.sweep),
        now_drv=now.drv,
        now_seg=now.seg,
        now_gp=now.gp,
        unc_idx=unc_idx,
        unc_rows=unc_rows,
        unc_p=unc_p,
        unc_k0=np.ascontiguousarray(uk[:, 0]),
        unc_k1=np.ascontiguousarray(uk[:, 1]),
    )


class Buffers(NamedTuple):
    """The kernel's outputs for ``N`` paths (``N`` is 0 for the draws unless they are kept)."""

    out: np.ndarray  # float64[len(OUTPUTS), H, N], rows in layout.OUTPUTS order
    seg_out: np.ndarray  # float64[S, H, N] segment revenue
    hits_out: np.ndarray  # uint32[H, N] bitmask of the shocks that hit
    draws_out: np.ndarray  # float64[F, H, N] driver values (keep_draws)
    sev_out: np.ndarray  # float64[K, H, N] severities, 0 where no hit (keep_draws)
    stmt_out: np.ndarray  # float64[len(LINES), H, N] every statement line (statements)


def allocate(
    rec: CompiledScenario, n_paths: int, keep_draws: bool, statements: bool = False
) -> Buffers:
    """Uninitialised buffers for ``n_paths`` paths of ``rec`` (the kernel writes every cell).
    The draws and the full statements are kept only on request (``N`` is 0 otherwise)."""
    F, H = rec.drv_base.shape
    nd = n_paths if keep_draws else 0
    return Buffers(
        np.empty((len(OUTPUTS), H, n_paths)),
        np.empty((rec.base_rev.size, H, n_paths)),
        np.empty((H, n_paths), np.uint32),
        np.empty((F, H, nd)),
        np.empty((rec.sh_prob.shape[0], H, nd)),
        np.empty((len(LINES), H, n_paths if statements else 0)),
    )
