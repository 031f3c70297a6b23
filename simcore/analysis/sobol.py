"""Variance-based (Sobol') sensitivity with SALib's Saltelli design and estimators.

Private; the public names are re-exported by :mod:`simcore.analysis.sensitivity`.

- :func:`sobol_indices` is generic: any ``func`` of independent inputs given as
  :mod:`distributions` specs (the Ishigami test in :mod:`simcore.analysis.known_models` uses it).
- :func:`sobol_analysis` runs the company model itself: the factors are the *independent
  uniforms* the kernel reads (:func:`simcore.engine.design_columns`): a driver's H yearly
  innovations form one factor, a shock's occurrence and severity uniforms another. SALib's
  scrambled Sobol' design is fed to the kernel through :func:`simcore.engine.evaluate_uniforms`.

Estimators: Saltelli et al. (2010) first order and Jansen total order, as SALib implements them
(``SALib.analyze.sobol.analyze``, ``calc_second_order=False``), with bootstrap confidence
intervals (``n_boot`` resamples of the N base rows, normal approximation at ``conf_level``).
"""

from __future__ import annotations

import fnmatch
import numbers
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from SALib.analyze import sobol as salib_analyze
from SALib.util import compute_groups_matrix, scale_samples
from scipy.stats import qmc

from distributions import Distribution
from distributions.kernels import CODE_CONSTANT
from distributions.streams import SeedLike, handle_seed, seed_entropy
from simcore.engine.core import DEFAULT_SEED, design_columns, evaluate_uniforms
from simcore.model.equations import shock_schedule
from simcore.model.labels import PARAMETERS_PREFIX
from simcore.model.scenario import Scenario

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["sobol_indices", "sobol_analysis", "default_groups", "model_factors"]

_U_MIN = 2.0**-31  # a scrambled Sobol' point can be exactly 0; the kernel needs 0 < u < 1
INDEPENDENCE_NOTE = (
    "Sobol' indices of independent inputs. The drivers of the correlation block (the copula's "
    "labels, with its mixing draw) are one input, 'correlated drivers': single-driver indices "
    "inside it would depend on the order of the labels (the Cholesky order), so they are not "
    "offered. For the association of the correlated drivers themselves see rank_correlation "
    "(sampling-based, no variance decomposition)."
)
BLOCK_GROUP = "correlated drivers"  # the group of the copula block


# -- validation ------------------------------------------------------------------------------------
def _check_n(n: int) -> int:
    if (
        isinstance(n, bool | np.bool_)
        or not isinstance(n, numbers.Integral)
        or n < 1
        or (int(n) & (int(n) - 1))
    ):
        raise ValueError(
            f"n={n!r} must be a positive power of two (e.g. 1024 or 2**13): the "
            f"number of base samples of the Saltelli design, which evaluates the "
            f"model n * (d + 2) times for d inputs or groups"
        )
    return int(n)


def _check_conf(conf_level: float, n_boot: int) -> tuple[float, int]:
    if not isinstance(conf_level, numbers.Real) or not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level={conf_level!r} must be a number in (0, 1)")
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 2:
        raise ValueError(f"n_boot={n_boot!r} must be an integer >= 2 (bootstrap resamples)")
    return float(conf_level), int(n_boot)


def _resolve_groups(
    names: list[str], groups: dict[str, Any] | None
) -> tuple[list[str], dict[str, list[str]]]:
    """Group label of every name, and each group's members (in order of first appearance).

    ``groups`` maps a group name to names or ``fnmatch`` patterns (``"growth.*"``); a name in no
    group is a group of its own; a name in two groups, or a pattern matching nothing, raises."""
    if groups is None:
        return list(names), {n: [n] for n in names}
    if not isinstance(groups, dict) or not groups:
        raise TypeError(
            f"groups must be None or a non-empty dict of group -> names, got {groups!r}"
        )
    of: dict[str, str] = {}
    for g, patterns in groups.items():
        if isinstance(patterns, str):
            patterns = [patterns]
        for pat in patterns:
            hits = [n for n in names if fnmatch.fnmatchcase(n, pat)]
            if not hits:
                raise ValueError(
                    f"groups[{g!r}]: {pat!r} matches no input; inputs are {', '.join(names)}"
                )
            for n in hits:
                if of.get(n, g) != g:
                    raise ValueError(f"input {n!r} is in two groups, {of[n]!r} and {g!r}")
                of[n] = g
    labels = [of.get(n, n) for n in names]
    members: dict[str, list[str]] = {}
    for n, g in zip(names, labels, strict=True):
        members.setdefault(g, []).append(n)
    if set(groups) & (set(names) - set(of)):
        clash = sorted(set(groups) & (set(names) - set(of)))
        raise ValueError(f"group name(s) {clash} equal an ungrouped input's name")
    return labels, members


def copula_block(scenario: Scenario) -> list[str]:
    """The factors the copula ties together: its labelled drivers and, for a Student-t copula,
    its mixing draw (empty without a correlation block)."""
    block = list(scenario.correlation_labels)
    if scenario.copula == "student_t" and block:
        block.append("copula.mixing")
    return block


def _keep_block_whole(
    scenario: Scenario, names: list[str], labels: list[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """Group labels in which the copula block is never split: unless one group already holds
    every factor of the block, those factors leave their groups and form :data:`BLOCK_GROUP` (a
    group left empty disappears). The indices are then the same for any order of the labels."""
    block = set(copula_block(scenario)) & set(names)
    if block:
        held = {lab for n, lab in zip(names, labels, strict=True) if n in block}
        if len(held) > 1:
            labels = [
                BLOCK_GROUP if n in block else lab for n, lab in zip(names, labels, strict=True)
            ]
    members: dict[str, list[str]] = {}
    for n, g in zip(names, labels, strict=True):
        members.setdefault(g, []).append(n)
    return labels, members


def entering_inputs(
    scenario: Scenario, outputs: Iterable[str], *, n: int = 32
) -> dict[tuple[str, str], np.ndarray]:
    """``{(factor, output): bool[H]}``: whether the factor enters the output in each year at
    all. The model's equations (:func:`simcore.model.equations.evaluate`) are run on ``n``
    simulated paths with no shock and with every shock hitting, then again with one driver's
    *values* moved (or one shock's hits added or removed) and the output compared bit for bit:
    a factor that changes nothing, e.g. a valuation multiple for net profit, does not enter.
    Driver values, not the innovations before the copula, are moved, so the answer does not
    depend on the order of the copula's labels."""
    from simcore.engine.core import simulate
    from simcore.model.equations import evaluate

    factors = [f for f in model_factors(scenario) if f != "copula.mixing"]
    # a driver's parameter row enters wherever the driver does
    rows_of = [f for f in factors if f.startswith(PARAMETERS_PREFIX)]
    factors = [f for f in factors if f not in rows_of]
    H = scenario.horizon
    r = simulate(scenario, n, seed=20250605, keep_draws=True)
    assert r.draws is not None
    drivers = r.draws["drivers"]
    sev = {
        s.name: np.where(r.draws["severity"][s.name] > 0, r.draws["severity"][s.name], 1.0)
        for s in scenario.shocks
    }
    none = {s.name: np.zeros((n, H)) for s in scenario.shocks}
    every = {s.name: np.ones((n, H)) for s in scenario.shocks}
    bases = [(hits, evaluate(scenario, drivers, hits, sev)) for hits in (none, every)]
    out: dict[tuple[str, str], np.ndarray] = {}
    for f in factors:
        moved = []
        if f.startswith("shock."):  # this one hitting or not, alone and with every other
            name = f.removeprefix("shock.")
            moved.append((0, evaluate(scenario, drivers, {**none, name: every[name]}, sev)))
            moved.append((1, evaluate(scenario, drivers, {**every, name: none[name]}, sev)))
        else:
            x = drivers[f]
            nudged = {**drivers, f: x + 0.01 * (np.abs(x) + 1.0)}
            moved += [(i, evaluate(scenario, nudged, h, sev)) for i, (h, _) in enumerate(bases)]
        for name_out in outputs:
            enters = np.zeros(H, dtype=bool)
            for i, m in moved:
                a, b = bases[i][1][name_out], m[name_out]
                same = (a == b) | (np.isnan(a) & np.isnan(b))
                enters |= ~same.all(axis=0)
            out[(f, name_out)] = enters
    for f in rows_of:
        for name_out in outputs:
            out[(f, name_out)] = out[(f.removeprefix(PARAMETERS_PREFIX), name_out)]
    return out


def ordered_index(tuples: Iterable[tuple[Any, ...]], names: list[str]) -> pd.MultiIndex:
    """A MultiIndex whose levels keep the order of first appearance (not sorted), so that
    ``.loc`` on it stays fast and warning-free while rows keep their natural order."""
    tuples = list(tuples)
    levels = [list(dict.fromkeys(col)) for col in zip(*tuples, strict=True)]
    codes = [
        [lev.index(v) for v in col]
        for lev, col in zip(levels, zip(*tuples, strict=True), strict=True)
    ]
    return pd.MultiIndex(levels=levels, codes=codes, names=names)


# -- the estimator ---------------------------------------------------------------------------------
def _seeds(seed: SeedLike) -> tuple[np.random.SeedSequence, np.random.Generator, int]:
    ss = handle_seed(seed)
    # children addressed like streams (SeedSequence.spawn would mutate a caller's sequence)
    a, b = (
        np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, 0x50B0, i)) for i in (0, 1)
    )
    # SALib's analyze falls back to the global np.random state for a falsy seed: never 0
    return ss, np.random.default_rng(a), int(b.generate_state(1, np.uint32)[0]) + 1


def _design(
    var_groups: list[str], n: int, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, Any]]:
    """SALib problem over uniforms and its Saltelli design (rows n * (G + 2)), inside (0, 1)."""
    d = len(var_groups)
    G = len(dict.fromkeys(var_groups))
    if G < 2:
        raise ValueError(f"Sobol' indices need at least 2 inputs or groups; got {G}")
    problem = {
        "num_vars": d,
        "names": [f"v{i}" for i in range(d)],
        "bounds": [[0.0, 1.0]] * d,
        "groups": list(var_groups),
    }
    if len(set(var_groups)) == d:
        problem.pop("groups")  # SALib treats one-variable groups as no groups anyway
    X = saltelli(problem, n, rng)
    np.clip(X, _U_MIN, 1.0 - _U_MIN, out=X)
    return X, problem


def saltelli(problem: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """``SALib.sample.sobol.sample(problem, n, calc_second_order=False, scramble=True,
    seed=rng)``: the same numbers (the same scrambled Sobol' base, crossed the same way), with
    the crossing done by numpy instead of SALib's loop over every row and column in Python
    (0.68 s of the pack's 4.4 s of analyses). Rows per base point: A, then A with each group's
    columns taken from B, then B."""
    D = problem["num_vars"]
    base = qmc.Sobol(d=2 * D, scramble=True, seed=rng).random(n)
    groups = problem.get("groups")
    if groups:
        member, _names = compute_groups_matrix(groups)  # (D, G), groups in first-seen order
        cross = member.T.astype(bool)
    else:
        cross = np.eye(D, dtype=bool)
    A, B = base[:, :D], base[:, D:]
    X = np.empty((n, cross.shape[0] + 2, D))
    X[:, 0] = A
    X[:, 1:-1] = np.where(cross[None], B[:, None, :], A[:, None, :])
    X[:, -1] = B
    return scale_samples(X.reshape(-1, D), problem)


def _analyze(
    problem: dict[str, Any], Y: np.ndarray, n_boot: int, conf_level: float, seed: int
) -> np.ndarray:
    """(G, 4) S1, S1_conf, ST, ST_conf of one output; exactly 0 for a constant output."""
    G = len(dict.fromkeys(problem.get("groups", problem["names"])))
    if np.ptp(Y) == 0.0:  # no variance to apportion: SALib would divide 0 by 0
        return np.zeros((G, 4))
    S = salib_analyze.analyze(
        problem, Y, calc_second_order=False, num_resamples=n_boot, conf_level=conf_level, seed=seed
    )
    return np.column_stack([S["S1"], S["S1_conf"], S["ST"], S["ST_conf"]])


def _check_outputs(Y: ArrayLike, rows: int) -> np.ndarray:
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != rows:
        raise ValueError(
            f"func returned shape {np.shape(Y)}; expected ({rows},) or ({rows}, k) "
            f"(one row per row of its input)"
        )
    nan = int(np.isnan(Y).sum())
    if nan:
        raise ValueError(
            f"func returned {nan} NaN value(s) among {Y.size} outputs; Sobol' "
            f"indices need a finite output on every sample"
        )
    inf = int(np.isinf(Y).sum())
    if inf:
        raise ValueError(
            f"func returned {inf} infinite value(s) among {Y.size} outputs; "
            f"Sobol' indices need a finite output on every sample"
        )
    return Y


def sobol_indices(
    func: Callable[[np.ndarray], ArrayLike],
    inputs: dict[str, Distribution],
    n: int,
    seed: SeedLike = DEFAULT_SEED,
    groups: dict[str, Any] | None = None,
    conf_level: float = 0.95,
    n_boot: int = 100,
    output_names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of ``func`` over independent ``inputs``.

    Parameters
    ----------
    func : callable
        Maps an (m, d) float array (columns in ``inputs`` order) to (m,) or (m, k) outputs.
    inputs : dict
        Input name -> :class:`distributions.Distribution` (independent marginals).
    n : int
        Base samples, a positive power of two; ``func`` is evaluated on n * (G + 2) rows, G the
        number of inputs (or groups).
    seed : int, SeedSequence, Generator or None
        Scrambles the Sobol' design and drives the bootstrap.
    groups : dict or None
        Group name -> input names (or ``fnmatch`` patterns); inputs in no group stand alone.
    conf_level, n_boot
        Bootstrap confidence level and number of resamples.
    output_names : sequence of str, optional
        Names of the k outputs (default ``y0 .. y{k-1}``).

    Returns
    -------
    DataFrame with columns S1, S1_conf, ST, ST_conf (``*_conf``: half-width of the interval)
    indexed by input or group; with k > 1 outputs the index is (output, input). A constant
    output gives exactly zero indices; NaN or infinite outputs raise ValueError with the count.
    """
    n = _check_n(n)
    conf_level, n_boot = _check_conf(conf_level, n_boot)
    if not isinstance(inputs, dict) or not inputs:
        raise TypeError("inputs must be a non-empty dict of name -> distributions spec")
    for name, dist in inputs.items():
        if not isinstance(dist, Distribution):
            raise TypeError(
                f"inputs[{name!r}] = {dist!r} is not a distributions spec "
                f"(e.g. distributions.Uniform(-3.14, 3.14))"
            )
    names = list(inputs)
    labels, _members = _resolve_groups(names, groups)
    _ss, rng, boot_seed = _seeds(seed)
    U, problem = _design(labels, n, rng)
    X = np.column_stack([inputs[k].ppf(U[:, i]) for i, k in enumerate(names)])
    Y = _check_outputs(func(X), U.shape[0])
    out_names = (
        [f"y{j}" for j in range(Y.shape[1])]
        if output_names is None
        else [str(s) for s in output_names]
    )
    if len(out_names) != Y.shape[1]:
        raise ValueError(f"output_names has {len(out_names)} names for {Y.shape[1]} outputs")
    index = list(dict.fromkeys(labels))
    frames = [
        pd.DataFrame(
            _analyze(problem, Y[:, j], n_boot, conf_level, boot_seed),
            index=pd.Index(index, name="input"),
            columns=["S1", "S1_conf", "ST", "ST_conf"],
        )
        for j in range(Y.shape[1])
    ]
    df = frames[0] if len(frames) == 1 else pd.concat(frames, keys=out_names, names=["output"])
    df.attrs.update(
        n=n,
        n_evaluations=U.shape[0],
        conf_level=conf_level,
        n_boot=n_boot,
        method="Saltelli 2010 S1, Jansen ST (SALib), scrambled Sobol' design",
    )
    return df


# -- the company model -----------------------------------------------------------------------------
def model_factors(scenario: Scenario) -> list[str]:
    """The model's random factors, in design-column order: drivers by name, ``shock.<name>``,
    ``copula.mixing`` for a Student-t copula and ``parameters.<driver>`` for a driver whose
    parameters each path draws (an input of its own: the row is independent of the years'
    draws). Constant drivers outside the copula, shocks
    that cannot hit and an unused mixing draw are left out (their uniforms change nothing)."""
    labels = set(scenario.correlation_labels)
    out = [
        d.name
        for d in scenario.drivers
        if d.dist.kernel_args()[0] != CODE_CONSTANT or d.name in labels
    ]
    prob, fixed = shock_schedule(scenario)
    for k, s in enumerate(scenario.shocks):
        random_hit = ((prob[k] > 0.0) & (prob[k] < 1.0)).any()
        random_sev = ((prob[k] > 0.0) & np.isnan(fixed[k])).any()
        if random_hit or random_sev:
            out.append(f"shock.{s.name}")
    if scenario.copula == "student_t" and labels:
        out.append("copula.mixing")
    out += [PARAMETERS_PREFIX + d.name for d in scenario.drivers if d.uncertainty is not None]
    return out


def default_groups(scenario: Scenario) -> dict[str, list[str]]:
    """Named groups: first ``correlated drivers`` (the copula block, never split: see
    :data:`INDEPENDENCE_NOTE`), then, from driver-name prefixes among the other factors,
    ``<segment> growth`` per segment, ``margins and costs`` (segment margins, cost ratios and
    the growth of fixed costs), ``capital`` (capex intensity), ``financing and tax``,
    ``valuation`` (multiples, WACC, terminal growth) and ``<shock> shock`` per shock."""
    block = copula_block(scenario)
    factors = [f for f in model_factors(scenario) if f not in block]
    spec: dict[str, list[str]] = {f"{s} growth": [f"growth.{s}"] for s in scenario.segment_names}
    spec.update(
        {
            "margins and costs": ["margin.*", "ratio.*", "fixed_growth.*"],
            "capital": ["capex_intensity"],
            "financing and tax": ["interest_rate", "tax_rate"],
            "valuation": ["multiple.*", "wacc", "terminal_growth"],
        }
    )
    spec.update({f"{s.name} shock": [f"shock.{s.name}"] for s in scenario.shocks})
    spec["parameter uncertainty"] = [PARAMETERS_PREFIX + "*"]
    out: dict[str, list[str]] = {}
    present = [f for f in model_factors(scenario) if f in block]
    if present:
        out[BLOCK_GROUP] = present
    for g, pats in spec.items():
        hit = [f for f in factors if any(fnmatch.fnmatchcase(f, p) for p in pats)]
        if hit:
            out[g] = hit
    return out


def sobol_analysis(
    scenario: Scenario | None = None,
    n: int = 2**13,
    *,
    outputs: str | Iterable[str] = ("net_profit_attributable",),
    groups: Literal["default"] | dict[str, Any] | None = None,
    seed: SeedLike = DEFAULT_SEED,
    conf_level: float = 0.95,
    n_boot: int = 100,
    client: Client | None = None,
    precision: float | None = None,
    max_n: int = 2**16,
) -> pd.DataFrame:
    """Sobol' indices of the company model's outputs, per year, for single factors or groups.

    Parameters
    ----------
    scenario : Scenario or None (the default scenario)
    n : int
        Base samples (a power of two); the kernel runs n * (G + 2) paths.
    outputs : sequence of str
        Outputs (``result`` names); each is analysed in every simulated year. An output that is
        undefined (NaN) on some path (``roic``, ``dcf_terminal_share``) raises, naming the count.
    groups : None, "default" or dict
        None: one factor per driver and shock (:func:`model_factors`). ``"default"``:
        :func:`default_groups`. A dict: group -> factor names or patterns (others stand alone).
    seed, conf_level, n_boot
        As :func:`sobol_indices`.
    client : distributed.Client or None
        Evaluate the design's rows in blocks on this Dask cluster
        (:func:`simcore.engine.dask.evaluate_design`); the indices are identical.
    precision : float or None
        Double ``n`` (up to ``max_n``) until every S1 and ST half-width (``conf_level``) is at
        most this (:mod:`simcore.analysis.converge`); the table is the fixed analysis at the
        final ``n``, with ``attrs["precision"]``.

    Returns
    -------
    DataFrame indexed by (output, year, factor) with S1, S1_conf, ST, ST_conf and ``members``
    (the factors of a group); ``attrs`` hold the note on dependence (:data:`INDEPENDENCE_NOTE`),
    the scenario, n, the number of model evaluations and the seed.
    """
    if scenario is None:
        from simcore.io.scenario_file import default_scenario

        scenario = default_scenario()
    n = _check_n(n)
    conf_level, n_boot = _check_conf(conf_level, n_boot)
    if precision is not None:
        from simcore.analysis.converge import check_precision, until_precise

        max_n = _check_n(max_n)
        check_precision(precision, n, max_n, "n")
        sc = scenario

        def run(m: int) -> pd.DataFrame:
            return sobol_analysis(
                sc,
                m,
                outputs=outputs,
                groups=groups,
                seed=seed,
                conf_level=conf_level,
                n_boot=n_boot,
                client=client,
            )

        def widest(t: pd.DataFrame) -> float:
            return float(t[["S1_conf", "ST_conf"]].to_numpy().max())

        return until_precise(run, widest, precision, n, max_n, "n")
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    factors = model_factors(scenario)
    if groups == "default":
        groups = default_groups(scenario)
    labels, members = _resolve_groups(factors, groups)
    labels, members = _keep_block_whole(scenario, factors, labels)
    group_of = dict(zip(factors, labels, strict=True))
    cols = design_columns(scenario)
    H = scenario.horizon
    width = len(cols) // H

    def factor(kind: str, name: str) -> str:
        if kind == "driver":
            return name
        if kind == "driver.parameters":
            return PARAMETERS_PREFIX + name
        return "copula.mixing" if kind == "copula.mixing" else f"shock.{name}"

    active = [
        i
        for i, (kind, name, t) in enumerate(cols)
        if factor(kind, name) in group_of and (kind != "driver.parameters" or t == 0)
    ]
    var_groups = [group_of[factor(*cols[i][:2])] for i in active]
    ss, rng, boot_seed = _seeds(seed)
    X, problem = _design(var_groups, n, rng)
    u = np.full((X.shape[0], H * width), 0.5)
    u[:, active] = X
    del X
    if client is None:
        result = evaluate_uniforms(scenario, u.reshape(-1, H, width))
    else:
        from simcore.engine.dask import evaluate_design

        result = evaluate_design(client, scenario, u.reshape(-1, H, width))
    del u
    index = list(dict.fromkeys(var_groups))
    rows: list[tuple[Any, ...]] = []
    for out in outputs:
        Y = result[out]
        nan = int(np.isnan(Y).sum())
        if nan:
            raise ValueError(
                f"output {out!r} is undefined (NaN) on {nan} of {Y.size} path-years "
                f"(ROIC and the DCF's terminal share can be); choose an output defined on every "
                "path, e.g. "
                f"'eps' or 'price_ps'"
            )
        for t, year in enumerate(result.years):
            S = _analyze(problem, np.ascontiguousarray(Y[:, t]), n_boot, conf_level, boot_seed)
            for g, s in zip(index, S, strict=True):
                rows.append((out, year, g, *s, ", ".join(members[g])))
    df = pd.DataFrame(
        [r[3:] for r in rows],
        columns=["S1", "S1_conf", "ST", "ST_conf", "members"],
        index=ordered_index([r[:3] for r in rows], ["output", "year", "factor"]),
    )
    df.attrs.update(
        scenario=scenario.name,
        ticker=scenario.ticker,
        currency=scenario.currency,
        source=scenario.source,
        n=n,
        n_evaluations=result.n_paths,
        seed=seed_entropy(ss),
        conf_level=conf_level,
        n_boot=n_boot,
        grouping="single factors" if groups is None else "groups",
        note=INDEPENDENCE_NOTE,
        method="Saltelli 2010 S1, Jansen ST (SALib), scrambled Sobol' design on the kernel",
    )
    return df
