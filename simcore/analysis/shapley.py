"""Shapley effects: variance shares that stay valid when inputs are dependent.

The Shapley effect of input i (Owen 2014; Song, Nelson and Staum 2016) is its average
contribution to the cost ``c(J) = E[Var(Y | X_not_J)]`` over every order of the inputs:

    Sh_i = mean over orders pi of  c(P_i(pi) + {i}) - c(P_i(pi))

where ``P_i(pi)`` are the inputs before i. The effects add up to Var(Y) whatever the dependence,
are never negative, and do not depend on any order of the inputs; for independent inputs
``S1_i <= Sh_i <= ST_i``. Estimated by Song et al.'s random-permutation algorithm with one outer
and ``n_inner`` inner samples per step (their recommended allocation) and conditional sampling
from the inputs' Gaussian dependence. No kept library offers it for dependent inputs (SALib's
Shapley effects assume independence), hence this module.

- :func:`shapley_effects` works on any function of inputs given as standard normal scores
  ``Z`` of shape (n, d, C) with correlation ``corr`` (d x d) between inputs, the same for each
  of the C components and independent across components.
- :func:`model_shapley` runs it on the company model through the kernel: an input is a driver
  (its H yearly normal scores, correlated through the scenario's Gaussian copula as the kernel
  correlates them) or a shock (its occurrence and severity uniforms), evaluated by
  :func:`simcore.engine.evaluate_uniforms`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from distributions.streams import U_MIN
from simcore.analysis.sobol import model_factors
from simcore.engine.core import design_columns, evaluate_uniforms
from simcore.model.labels import PARAMETERS_PREFIX

if TYPE_CHECKING:
    from simcore.model.scenario import Scenario

__all__ = ["model_shapley", "shapley_effects"]

_ROWS = 8192  # rows of inputs evaluated at a time (the rows do not depend on each other)


def _blocks(corr: np.ndarray) -> list[np.ndarray]:
    """The groups of inputs that depend on each other (connected through nonzero correlations):
    conditioning on inputs outside a group changes nothing inside it."""
    d = corr.shape[0]
    group = np.arange(d)
    for i, j in zip(*np.nonzero(corr), strict=True):
        gi, gj = group[i], group[j]
        if gi != gj:
            group[group == gj] = gi
    return [np.flatnonzero(group == g) for g in np.unique(group)]


def _steps(
    corr: np.ndarray,
    full: np.ndarray,
    perms: np.ndarray,
    n_inner: int,
    C: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Every order's steps at once, (n_perm, d - 1, n_inner, d, C): step j of order p keeps the
    outer draw of the inputs after position j and draws the first j + 1 (the set J) from their
    distribution given the rest. An independent input of J is a fresh standard normal. A group
    of dependent inputs, taken in the order p draws them, is ``X = U eps`` with U the upper
    triangular factor of its correlation (``U U' = corr``): its last members depend on the
    last ``eps`` alone, so given the outer draw of the members not yet drawn, the first k are
    ``U[:k, :k] eta + U[:k, k:] eps[k:]`` with fresh ``eta``. One factor per order serves
    every step of that order."""
    n_perm, d = perms.shape
    outer = np.einsum("ij,pjc->pic", full, rng.standard_normal((n_perm, d, C)))
    noise = rng.standard_normal((n_perm, d - 1, n_inner, d, C))
    pos = np.argsort(perms, axis=1)  # pos[p, i]: where input i comes in order p
    in_J = pos[:, None, :] <= np.arange(d - 1)[None, :, None]  # (n_perm, d - 1, d)
    rows = noise  # the draws of J; the inputs after position j keep the outer draw
    np.copyto(rows, outer[:, None, None], where=~in_J[:, :, None, :, None])
    every = np.arange(n_perm)[:, None]
    for B in _blocks(corr):
        m = B.size
        if m == 1:
            continue  # independent: a fresh standard normal in J, the outer draw outside
        order = B[np.argsort(pos[:, B], axis=1)]  # (n_perm, m): the group as p draws it
        S = corr[order[:, :, None], order[:, None, :]] + 1e-12 * np.eye(m)
        U = np.linalg.cholesky(S[:, ::-1, ::-1])[:, ::-1, ::-1]  # upper: S = U U'
        eps = np.linalg.solve(U, outer[every, order])  # (n_perm, m, C)
        drawn = in_J[:, :, B].sum(axis=2)  # (n_perm, d - 1): members in J at each step
        for k in range(1, m + 1):
            p, j = np.nonzero(drawn == k)
            if p.size == 0:
                continue
            mean = np.einsum("gab,gbc->gac", U[p, :k, k:], eps[p, k:])  # (g, k, C)
            at = (p[:, None], j[:, None], slice(None), order[p, :k], slice(None))
            z = np.einsum("gab,gbnc->ganc", U[p, :k, :k], rows[at])  # (g, k, n_inner, C)
            rows[at] = mean[:, :, None] + z
    return rows


def shapley_effects(
    func: Callable[[np.ndarray], np.ndarray],
    corr: np.ndarray,
    *,
    components: int = 1,
    n_perm: int = 2000,
    n_inner: int = 3,
    n_var: int = 20_000,
    seed: int = 0,
    names: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Shapley effects of ``func``'s outputs, normalised by their variance.

    ``func(Z) -> Y``: ``Z`` float64 (n, d, components) of standard normal scores, ``Y`` (n,) or
    (n, k). ``corr``: the inputs' correlation (d x d, positive semi-definite). ``n_perm``
    random orders, each with ``d - 1`` steps of ``n_inner`` conditional samples, plus ``n_var``
    independent samples for Var(Y): ``func`` sees ``n_var + n_perm (d - 1) n_inner`` rows in
    two calls. Returns a DataFrame indexed by (output, input) with ``shapley``, ``shapley_se``
    (the standard error over the orders), ``shapley_conf`` (the 95% half-width) and
    ``attrs['variance']``."""
    corr = np.asarray(corr, dtype=np.float64)
    d = corr.shape[0]
    if corr.shape != (d, d) or d < 1 or not np.allclose(corr, corr.T):
        raise ValueError(f"corr has shape {corr.shape}; allowed a symmetric d x d matrix")
    if np.linalg.eigvalsh(corr).min() < -1e-9:
        raise ValueError("corr is not positive semi-definite")
    for label, v in (("n_perm", n_perm), ("n_inner", n_inner), ("n_var", n_var)):
        if not isinstance(v, int) or v < (2 if label != "n_perm" else 1):
            raise ValueError(f"{label}={v!r}; allowed an integer >= 2 (n_perm >= 1)")
    names = [f"x{i}" for i in range(d)] if names is None else list(names)
    rng = np.random.default_rng(seed)
    C = components
    full = np.linalg.cholesky(corr + 1e-12 * np.eye(d))
    # Var(Y) from independent samples of the joint distribution
    zv = np.einsum("ij,njc->nic", full, rng.standard_normal((n_var, d, C)))
    yv = np.asarray(func(zv), dtype=np.float64).reshape(n_var, -1)
    var = yv.var(axis=0, ddof=1)
    # every order's steps: one outer draw, then n_inner draws of X_J given the rest
    perms = np.array([rng.permutation(d) for _ in range(n_perm)])
    rows = _steps(corr, full, perms, n_inner, C, rng) if d > 1 else None
    k = yv.shape[1]
    shap = np.zeros((n_perm, d, k))
    if rows is not None:
        y = np.asarray(func(rows.reshape(-1, d, C)), dtype=np.float64).reshape(
            n_perm, d - 1, n_inner, k
        )
        cost = y.var(axis=2, ddof=1)  # (n_perm, d - 1, k): E[Var(Y | X_rest)] estimates
    for p, order in enumerate(perms):
        prev = np.zeros(k)
        for j in range(d):
            c = cost[p, j] if j < d - 1 else var
            shap[p, order[j]] = c - prev
            prev = c
    with np.errstate(invalid="ignore", divide="ignore"):
        est = shap.mean(axis=0) / var
        se = shap.std(axis=0, ddof=1) / math.sqrt(n_perm) / var if n_perm > 1 else est * np.nan
    out = pd.DataFrame(
        {
            "shapley": est.T.ravel(),
            "shapley_se": se.T.ravel(),
            "shapley_conf": 1.959963984540054 * se.T.ravel(),  # 95% half-width
        },
        index=pd.MultiIndex.from_product([range(k), names], names=["output", "input"]),
    )
    out.attrs.update(
        variance=var,
        n_perm=n_perm,
        n_inner=n_inner,
        n_var=n_var,
        evaluations=n_var + n_perm * max(d - 1, 0) * n_inner,
    )
    return out


def model_inputs(
    scenario: Scenario,
) -> tuple[list[str], np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The company model's inputs as normal scores: ``(factors, corr, to_uniforms)``.

    An input is a driver (its H yearly normal scores, correlated through the scenario's
    Gaussian copula as the kernel correlates them: ``corr`` is L L' on the block) or a shock
    (occurrence scores in components 0..H-1, severity scores in H..2H-1). ``to_uniforms(Z)``
    maps scores (n, d, 2H) to the kernel's uniforms (n, H, width) for
    :func:`simcore.engine.evaluate_uniforms`: a driver's correlated score is its value's
    score, so setting it moves that driver alone."""
    if scenario.copula == "student_t":
        raise ValueError(
            "the model's Shapley and tail analyses need the Gaussian copula's conditional "
            "distributions; the scenario uses a Student-t copula (allowed: copula = 'gaussian')"
        )
    factors = model_factors(scenario)
    H = scenario.horizon
    cols = design_columns(scenario)
    width = len(cols) // H
    flat = [(kind, name) for kind, name, _t in cols[:width]]
    labels = list(scenario.correlation_labels)
    d = len(factors)
    corr = np.eye(d)
    cop = scenario.copula_model(warn=False)
    Lc = np.asarray(cop.factor) if cop is not None else np.zeros((0, 0))
    if labels:
        # the kernel's correlated scores: L @ eps per year; their correlation is L L'
        R = Lc @ Lc.T
        idx = [factors.index(lab) for lab in labels if lab in factors]
        sub = [labels.index(factors[i]) for i in idx]
        corr[np.ix_(idx, idx)] = R[np.ix_(sub, sub)]
    drv_col = {name: j for j, (kind, name) in enumerate(flat) if kind == "driver"}
    occ_col = {name: j for j, (kind, name) in enumerate(flat) if kind == "shock.occurrence"}
    sev_col = {name: j for j, (kind, name) in enumerate(flat) if kind == "shock.severity"}
    par_col = {name: j for j, (kind, name) in enumerate(flat) if kind == "driver.parameters"}
    label_pos = [factors.index(lab) for lab in labels]
    # which score goes to which column of the uniforms (only the components an input uses)
    drivers = [i for i, f in enumerate(factors) if f in drv_col and not f.startswith("shock.")]
    shocks = [i for i, f in enumerate(factors) if f.startswith("shock.")]
    params = [i for i, f in enumerate(factors) if f.startswith(PARAMETERS_PREFIX)]
    drv_to = [drv_col[factors[i]] for i in drivers]
    occ_to = [occ_col[factors[i].removeprefix("shock.")] for i in shocks]
    sev_to = [sev_col[factors[i].removeprefix("shock.")] for i in shocks]
    par_to = [par_col[factors[i].removeprefix(PARAMETERS_PREFIX)] for i in params]
    innovated = [(drivers.index(i), k) for k, i in enumerate(label_pos) if i in drivers]

    def to_uniforms(Z: np.ndarray) -> np.ndarray:
        n = Z.shape[0]
        scores = np.zeros((n, H, width))  # an unused column's score 0 is the uniform 0.5
        x = Z[:, drivers, :H]  # (n, drivers, H)
        if innovated:  # correlated scores -> the independent innovations the kernel correlates
            lab = Z[:, label_pos, :H].transpose(1, 0, 2).reshape(len(labels), -1)
            eps = np.linalg.solve(Lc, lab).reshape(len(labels), n, H)
            at, k = (list(c) for c in zip(*innovated, strict=True))
            x[:, at] = eps[k].transpose(1, 0, 2)
        scores[:, :, drv_to] = x.transpose(0, 2, 1)
        scores[:, :, occ_to] = Z[:, shocks, :H].transpose(0, 2, 1)
        scores[:, :, sev_to] = Z[:, shocks, H : 2 * H].transpose(0, 2, 1)
        scores[:, 0, par_to] = Z[:, params, 0]  # the row's uniform, read in year 0
        u = special.ndtr(scores, out=scores)
        return np.clip(u, U_MIN, 1.0 - 2.0**-53, out=u)

    return factors, corr, to_uniforms


def model_shapley(
    scenario: Scenario,
    outputs: str | Iterable[str] = ("net_profit_attributable",),
    *,
    n_perm: int = 2000,
    n_inner: int = 3,
    n_var: int = 20_000,
    seed: int = 0,
    precision: float | None = None,
    max_perm: int = 64_000,
) -> pd.DataFrame:
    """Shapley effects of the company model's inputs (every random driver and shock) for
    ``outputs`` in every year, under the scenario's Gaussian copula; the model is evaluated by
    the kernel. Indexed by (output, year, factor) with ``shapley``, ``shapley_se`` and
    ``shapley_conf``. ``precision``: double ``n_perm`` (up to ``max_perm``) until every 95%
    half-width is at most this (:mod:`simcore.analysis.converge`); the table is the fixed
    analysis at the final ``n_perm``."""
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    if precision is not None:
        from simcore.analysis.converge import check_precision, until_precise

        check_precision(precision, n_perm, max_perm, "n_perm")

        def run(m: int) -> pd.DataFrame:
            return model_shapley(
                scenario, outputs, n_perm=m, n_inner=n_inner, n_var=n_var, seed=seed
            )

        def widest(t: pd.DataFrame) -> float:
            return float(t["shapley_conf"].max())

        return until_precise(run, widest, precision, n_perm, max_perm, "n_perm")
    factors, corr, to_uniforms = model_inputs(scenario)
    H = scenario.horizon

    def func(Z: np.ndarray) -> np.ndarray:
        out = np.empty((Z.shape[0], len(outputs) * H))  # (n, len(outputs) * H)
        for i in range(0, Z.shape[0], _ROWS):  # a few thousand rows at a time: memory reused
            r = evaluate_uniforms(scenario, to_uniforms(Z[i : i + _ROWS]))
            out[i : i + _ROWS] = np.concatenate([r[o] for o in outputs], axis=1)
        return out

    df = shapley_effects(
        func,
        corr,
        components=2 * H,
        n_perm=n_perm,
        n_inner=n_inner,
        n_var=n_var,
        seed=seed,
        names=factors,
    )
    years = scenario.years
    keys = [(o, y) for o in outputs for y in years]
    df.index = pd.MultiIndex.from_tuples(
        [(*keys[k], f) for k, f in df.index], names=["output", "year", "factor"]
    )
    df.attrs["scenario"] = scenario.name
    return df
