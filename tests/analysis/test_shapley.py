"""Shapley effects under dependence: closed forms and order-freedom on the model."""

import dataclasses
import itertools

import numpy as np
import pytest
from conftest import make_toy
from scipy import special

from simcore.analysis.known_models import ishigami, ishigami_indices
from simcore.analysis.shapley import model_shapley, shapley_effects

# a linear model of correlated Gaussian inputs: the cost c(J) = E[Var(Y | X_not_J)] is known
SIGMA = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, -0.2], [0.3, -0.2, 1.0]])
BETA = np.array([1.0, 2.0, 0.5])


def _exact_linear():
    def cost(J):
        J = list(J)
        rest = [i for i in range(3) if i not in J]
        if not J:
            return 0.0
        if not rest:
            return BETA @ SIGMA @ BETA
        A = SIGMA[np.ix_(J, rest)] @ np.linalg.inv(SIGMA[np.ix_(rest, rest)])
        cov = SIGMA[np.ix_(J, J)] - A @ SIGMA[np.ix_(rest, J)]
        return BETA[J] @ cov @ BETA[J]

    sh = np.zeros(3)
    for order in itertools.permutations(range(3)):
        for j in range(3):
            sh[order[j]] += cost(order[: j + 1]) - cost(order[:j])
    return sh / 6 / (BETA @ SIGMA @ BETA)


def test_linear_gaussian_model_matches_the_closed_form():
    exact = _exact_linear()
    assert exact.sum() == pytest.approx(1.0)
    got = shapley_effects(lambda Z: Z[:, :, 0] @ BETA, SIGMA, n_perm=6000, seed=11)
    err = np.abs(got["shapley"].to_numpy() - exact)
    assert (err <= 4 * got["shapley_se"].to_numpy()).all(), (got, exact)
    assert got["shapley"].sum() == pytest.approx(1.0, abs=1e-12)  # efficient by construction
    assert got.attrs["evaluations"] == 20_000 + 6000 * 2 * 3


def test_ishigami_with_independent_inputs():
    """Sh = (V1 + V13 / 2, V2, V13 / 2) / V for independent inputs."""
    ind = ishigami_indices()
    s1, st = ind["S1"].to_numpy(), ind["ST"].to_numpy()
    exact = np.array([s1[0] + (st[0] - s1[0]) / 2, s1[1], st[2] / 2])

    def f(Z):
        return ishigami(-np.pi + 2 * np.pi * special.ndtr(Z[:, :, 0]))

    got = shapley_effects(f, np.eye(3), n_perm=20_000, n_var=100_000, seed=3)
    err = np.abs(got["shapley"].to_numpy() - exact)
    assert (err <= 4 * got["shapley_se"].to_numpy()).all(), (got, exact)


def test_model_shapley_is_order_free_and_run_by_the_kernel():
    sc = make_toy()
    order = [2, 0, 1]
    labels = tuple(sc.correlation_labels[i] for i in order)
    other = dataclasses.replace(
        sc,
        correlation_labels=labels,
        correlation=np.asarray(sc.correlation)[np.ix_(order, order)],
    )
    a = model_shapley(sc, n_perm=600, n_var=5000, seed=1)
    b = model_shapley(other, n_perm=600, n_var=5000, seed=2)
    assert set(a.index) == set(b.index)
    b = b.loc[a.index]
    gap = (a["shapley"] - b["shapley"]).abs()
    tol = 4 * np.hypot(a["shapley_se"], b["shapley_se"])
    assert (gap <= tol).all(), gap[gap > tol]
    year = a.loc[("net_profit_attributable", 2027)]
    assert year["shapley"].sum() == pytest.approx(1.0, abs=1e-9)
    assert {"growth.a", "margin.a", "shock.tech"} <= set(year.index)  # single drivers, in a block
    assert year["shapley"].idxmax() in ("growth.a", "margin.a", "shock.tech")


def test_model_shapley_refuses_what_it_cannot_do():
    sc = make_toy(copula="student_t", copula_df=5.0)
    with pytest.raises(ValueError, match="Student-t copula"):
        model_shapley(sc, n_perm=10)
    with pytest.raises(ValueError, match="n_inner=1"):
        shapley_effects(lambda Z: Z[:, 0, 0], np.eye(2), n_inner=1)
    with pytest.raises(ValueError, match="not positive semi-definite"):
        shapley_effects(lambda Z: Z[:, 0, 0], np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_reconciled_table_puts_every_method_side_by_side():
    import matplotlib

    matplotlib.use("Agg")
    from simcore.analysis.reconcile import SENSITIVITY_METHODS, reconciled_table
    from simcore.report.valuation_charts import reconciled_chart

    sc = make_toy()
    t = reconciled_table(sc, n_paths=2000, sobol_n=2**7, shapley_perm=200)
    assert set(SENSITIVITY_METHODS) == {
        "tornado",
        "rank correlation",
        "Sobol' total (group)",
        "Shapley",
        "tail shift",
    }
    for m in SENSITIVITY_METHODS:
        assert m in t.columns and f"rank: {m}" in t.columns
    assert t["Shapley"].sum() == pytest.approx(1.0, abs=1e-9)
    assert (np.diff(t["Shapley"].to_numpy()) <= 0).all()  # sorted by the Shapley effect
    # inside the copula block the Sobol' value is the block's, named as such
    assert t.loc["growth.a", "Sobol' group"] == "correlated drivers"
    assert t.loc["growth.a", "Sobol' total (group)"] == t.loc["margin.a", "Sobol' total (group)"]
    # a multiple does not enter net profit: no rank-correlation share, no tornado swing
    assert t.loc["multiple.ps", "rank correlation"] == 0.0 and t.loc["multiple.ps", "tornado"] == 0
    assert np.isnan(t.loc["shock.tech", "tornado"])  # the tornado moves drivers only
    fig = reconciled_chart(t)
    assert "by five methods" in fig.get_suptitle()
    assert any("Shapley: share of the variance" in x.get_text() for x in fig.texts)


def test_a_larger_dependent_group_matches_the_closed_form():
    """Six correlated inputs with one independent one: every conditional draw of the group
    comes from the factor of its order (exact Shapley values by the subset formula)."""
    from math import factorial

    rng = np.random.default_rng(7)  # a fixed, arbitrary correlation and model
    a = rng.normal(size=(6, 9))
    cov = a @ a.T
    d = np.sqrt(np.diag(cov))
    sigma = np.eye(7)
    sigma[:6, :6] = cov / np.outer(d, d)
    beta = rng.normal(size=7)

    def cost(J):
        J = list(J)
        rest = [i for i in range(7) if i not in J]
        if not J:
            return 0.0
        cond = sigma[np.ix_(J, J)]
        if rest:
            A = sigma[np.ix_(J, rest)] @ np.linalg.inv(sigma[np.ix_(rest, rest)])
            cond = cond - A @ sigma[np.ix_(rest, J)]
        return beta[J] @ cond @ beta[J]

    exact = np.zeros(7)
    for i in range(7):
        others = [k for k in range(7) if k != i]
        for r in range(7):
            w = factorial(r) * factorial(6 - r) / factorial(7)
            for J in itertools.combinations(others, r):
                exact[i] += w * (cost(sorted((*J, i))) - cost(J))
    exact /= beta @ sigma @ beta
    got = shapley_effects(lambda Z: Z[:, :, 0] @ beta, sigma, n_perm=4000, seed=5)
    err = np.abs(got["shapley"].to_numpy() - exact)
    assert (err <= 4 * got["shapley_se"].to_numpy()).all(), (got, exact)


def test_each_step_draws_the_conditional_distribution_given_the_outer_draw():
    """A linear model cannot see the conditional mean (its inner variance ignores it), so the
    draws are checked directly: at every step the inputs after it keep the order's outer draw,
    and the inputs in J are N(A x_rest, cov_J|rest) around it."""
    from simcore.analysis.shapley import _steps

    rng = np.random.default_rng(3)  # fixed, arbitrary
    a = rng.normal(size=(4, 6))
    cov = a @ a.T
    d = np.sqrt(np.diag(cov))
    corr = np.eye(5)
    corr[:4, :4] = cov / np.outer(d, d)  # a group of four and one independent input
    perms = np.array([rng.permutation(5) for _ in range(5)])
    full = np.linalg.cholesky(corr)
    n = 4000
    rows = _steps(corr, full, perms, n, 1, rng)[..., 0]  # (perm, step, inner, input)
    for p, order in enumerate(perms):
        outer = rows[p, -1, 0, order[-1]]
        for j in range(4):
            J, rest = np.sort(order[: j + 1]), np.sort(order[j + 1 :])
            x = rows[p, j]
            assert (x[:, rest] == x[0, rest]).all()  # the outer draw, the same in every step
            assert x[0, order[-1]] == outer
            A = corr[np.ix_(J, rest)] @ np.linalg.inv(corr[np.ix_(rest, rest)])
            want = corr[np.ix_(J, J)] - A @ corr[np.ix_(rest, J)]
            resid = x[:, J] - A @ x[0, rest]
            se = np.sqrt(np.diag(want) / n)
            assert (np.abs(resid.mean(axis=0)) <= 4 * se + 1e-12).all(), (p, j)
            got = np.cov(resid.T).reshape(len(J), len(J))
            assert np.abs(got - want).max() <= 0.1, (p, j, got, want)
