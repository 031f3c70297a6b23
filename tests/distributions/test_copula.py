"""Copulas over named factors: validation, Spearman conversion, repair, factor, kernels, statistics.

Statistical tests use 1e6 seeded draws; each tolerance is stated in Monte Carlo standard
errors (k). The seeds are arbitrary unless a comment says otherwise; none was tuned.
"""

import math
import warnings

import numba
import numpy as np
import pytest
from scipy import special, stats

from distributions._special import stdtr
from distributions.copula import (
    GaussianCopula,
    StudentTCopula,
    chi2_ppf,
    correlate_row,
    pearson_to_spearman,
    semidefinite_cholesky,
    spearman_to_pearson,
    t_correlate_row,
    t_to_z,
    validate_correlation,
)

LABELS4 = ("growth", "margin", "churn", "fx")
# a plausible, positive-definite 4-factor matrix (smallest eigenvalue ~0.28)
P4 = np.array(
    [
        [1.0, 0.6, -0.3, 0.2],
        [0.6, 1.0, -0.5, 0.0],
        [-0.3, -0.5, 1.0, 0.1],
        [0.2, 0.0, 0.1, 1.0],
    ]
)
# Spearman targets with entries where the t copula's rho_s(r) departs most from the Gaussian
# formula (|r| ~ 0.65): the t case below would fail if the Gaussian formula were used
S4 = np.array(
    [
        [1.0, 0.65, -0.4, 0.2],
        [0.65, 1.0, -0.6, 0.1],
        [-0.4, -0.6, 1.0, 0.0],
        [0.2, 0.1, 0.0, 1.0],
    ]
)
N_BIG = 1_000_000


def py_func(kernel):
    """The pure-Python body of a jitted kernel (the kernel itself under NUMBA_DISABLE_JIT=1)."""
    return getattr(kernel, "py_func", kernel)


def spearman(u):
    return stats.spearmanr(u).statistic


def consistent_interval(r_ab, r_ac):
    half = math.sqrt((1 - r_ab**2) * (1 - r_ac**2))
    return max(-1.0, r_ab * r_ac - half), min(1.0, r_ab * r_ac + half)


# --- statistics on 1e6 draws --------------------------------------------------------------------
@pytest.mark.slow
def test_gaussian_pearson_of_normal_scores():
    x = GaussianCopula(LABELS4, P4).sample_z(N_BIG, seed=20240611)
    # SE of a sample Pearson r is (1 - r^2)/sqrt(n) <= 0.001; 0.005 is k = 5
    np.testing.assert_allclose(np.corrcoef(x, rowvar=False), P4, rtol=0, atol=0.005)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=0.005)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=0.005)


@pytest.mark.slow
def test_gaussian_spearman_mode():
    cop = GaussianCopula(LABELS4, S4, kind="spearman")
    u = cop.sample(N_BIG, seed=7)
    assert u.min() > 0.0 and u.max() < 1.0
    # SE of Spearman's rho at n = 1e6 is < 0.0011; 0.005 is k >= 4.5 (the brief allows 0.01)
    np.testing.assert_allclose(spearman(u), S4, rtol=0, atol=0.005)
    np.testing.assert_allclose(cop.matrix, 2 * np.sin(np.pi * S4 / 6), rtol=0, atol=1e-15)


@pytest.mark.slow
def test_student_t_spearman_mode_uses_the_t_copula_inverse():
    df = 3.0
    cop = StudentTCopula(LABELS4, S4, df, kind="spearman")
    u = cop.sample(N_BIG, seed=11)
    assert u.min() > 0.0 and u.max() < 1.0
    measured = spearman(u)
    np.testing.assert_allclose(measured, S4, rtol=0, atol=0.005)  # k >= 4.5, as above
    # the Gaussian formula 2 sin(pi rho / 6) would have missed by more than the tolerance
    naive = pearson_to_spearman(2 * np.sin(np.pi * S4 / 6), df=df)
    assert np.abs(naive - S4).max() > 0.015
    assert np.abs(naive - measured).max() > 0.01


@pytest.mark.slow
def test_student_t_kendall_tau_is_elliptical_truth():
    # any elliptical copula with parameter r has Kendall's tau = (2/pi) arcsin(r), whatever df
    r = 0.6
    x = StudentTCopula(["a", "b"], [[1, r], [r, 1]], df=4).sample_z(200_000, seed=3)
    tau = stats.kendalltau(x[:, 0], x[:, 1]).statistic
    # SE of Kendall's tau at n = 2e5 is about 0.0012 here; 0.006 is k = 5
    assert abs(tau - 2 / np.pi * np.arcsin(r)) < 0.006


@pytest.mark.slow
def test_student_t_upper_tail_dependence_exceeds_gaussian():
    r, q = 0.5, 0.99
    pair = [[1, r], [r, 1]]
    ug = GaussianCopula(["a", "b"], pair).sample(N_BIG, seed=5)
    ut = StudentTCopula(["a", "b"], pair, df=4).sample(N_BIG, seed=5)
    pg = (ug[ug[:, 0] > q, 1] > q).mean()  # ~0.13
    pt = (ut[ut[:, 0] > q, 1] > q).mean()  # ~0.28 (asymptotic lambda_U = 0.25)
    # each estimate has SE <= 0.0045 (about 1e4 exceedances); 0.1 is k > 15
    assert pt > pg + 0.1
    # the marginals stay uniform: KS against U(0, 1) on the t copula's first column
    assert stats.kstest(ut[:200_000, 0], "uniform").pvalue > 1e-3


# --- validation -------------------------------------------------------------------------------
BAD = [
    (np.ones((2, 3)), ["a", "b"], "must be square.*shape \\(2, 3\\)"),
    (np.ones((2, 2, 2)), ["a", "b"], "must be square"),
    (
        [[1, 0.5, 0], [0.4, 1, 0], [0, 0, 1]],
        "abc",
        "not symmetric: entry \\(a, b\\) = 0.5 but \\(b, a\\) = 0.4",
    ),
    ([[1, 0.5], [0.5, 0.9]], ["a", "b"], "diagonal entry \\(b, b\\) = 0.9 must be 1"),
    ([[1, 1.5], [1.5, 1]], ["a", "b"], "entry \\(a, b\\) = 1.5 is outside the allowed range"),
    ([[1, -1.01], [-1.01, 1]], ["a", "b"], "\\(a, b\\) = -1.01 is outside.*\\[-1, 1\\]"),
    ([[1, np.nan], [np.nan, 1]], ["a", "b"], "entry \\(a, b\\) = nan must be a finite"),
    ([[1, np.inf], [np.inf, 1]], ["a", "b"], "entry \\(a, b\\) = inf must be a finite"),
    (np.eye(3), ["a", "b"], "labels has 2 names \\['a', 'b'\\] but the correlation matrix is 3x3"),
    (np.eye(2), ["a", "a"], "labels must be unique; repeated: \\['a'\\]"),
    (np.zeros((0, 0)), [], "at least one factor"),
]


@pytest.mark.parametrize(("matrix", "labels", "match"), BAD)
def test_invalid_matrices_name_the_entry_value_and_rule(matrix, labels, match):
    labels = list(labels)
    with pytest.raises(ValueError, match=match):
        validate_correlation(matrix, labels)
    with pytest.raises(ValueError, match=match):
        GaussianCopula(labels, matrix)


def test_labels_must_match_the_model_factors():
    with pytest.raises(ValueError, match="missing \\['fx'\\].*extra \\['rate'\\]"):
        validate_correlation(np.eye(2), ["growth", "rate"], factors=["growth", "fx"])
    p, info = validate_correlation(np.eye(2), ["b", "a"], factors=["a", "b"])  # order free
    assert info["labels"] == ("b", "a") and np.array_equal(p, np.eye(2))


@pytest.mark.parametrize("labels", ["ab", [1, 2], ["a", ""]])
def test_labels_must_be_a_sequence_of_names(labels):
    with pytest.raises(TypeError, match="labels"):
        validate_correlation(np.eye(2), labels)


def test_non_numeric_matrix_is_a_type_error():
    with pytest.raises(TypeError, match="2-D array of real numbers"):
        validate_correlation([["1", "x"], ["x", "1"]], ["a", "b"])


def test_bad_kind_repair_and_df():
    with pytest.raises(ValueError, match="kind='kendall' must be one of \\('pearson', 'spea"):
        validate_correlation(np.eye(2), ["a", "b"], kind="kendall")
    with pytest.raises(ValueError, match="repair='higham' must be one of \\(None, 'nearest'\\)"):
        validate_correlation(np.eye(2), ["a", "b"], repair="higham")
    with pytest.raises(ValueError, match="repair=True must be one of"):
        GaussianCopula(["a", "b"], np.eye(2), repair=True)
    for df in (0.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="df=.* must be a finite real number >= 1"):
            StudentTCopula(["a", "b"], np.eye(2), df)
    with pytest.raises(TypeError, match="df=True"):
        StudentTCopula(["a", "b"], np.eye(2), True)
    with pytest.raises(ValueError, match="mixing_stream='a' must differ"):
        StudentTCopula(["a", "b"], np.eye(2), 4, mixing_stream="a")


# four factors: (growth, margin, churn) is inconsistent, fx is harmless
BAD_TRIPLE = np.array(
    [
        [1.0, 0.9, 0.9, 0.1],
        [0.9, 1.0, 0.2, 0.1],
        [0.9, 0.2, 1.0, 0.1],
        [0.1, 0.1, 0.1, 1.0],
    ]
)


def test_non_psd_names_worst_triple_and_consistent_interval():
    lo, hi = consistent_interval(0.9, 0.9)  # [0.62, 1]
    with pytest.raises(ValueError) as exc:
        validate_correlation(BAD_TRIPLE, LABELS4)
    msg = str(exc.value)
    assert "not positive semi-definite" in msg
    assert "(growth, margin, churn)" in msg
    assert "r(growth, margin) = 0.9 and r(growth, churn) = 0.9" in msg
    assert f"r(margin, churn) = 0.2 must lie in [{lo:.4f}, {hi:.4f}]" in msg
    assert "[0.6200, 1.0000]" in msg
    # the alternatives: either of the other two entries, given the remaining ones
    alo, ahi = consistent_interval(0.9, 0.2)
    assert f"r(growth, margin) in [{alo:.4f}, {ahi:.4f}]" in msg
    assert "fx" not in msg
    assert "repair='nearest'" in msg


def test_non_psd_spearman_interval_is_in_spearman_units():
    r = 2 * np.sin(np.pi * BAD_TRIPLE / 6)
    lo, hi = consistent_interval(r[0, 1], r[0, 2])
    lo_s, hi_s = (6 / np.pi * np.arcsin(v / 2) for v in (lo, hi))
    with pytest.raises(ValueError) as exc:
        GaussianCopula(LABELS4, BAD_TRIPLE, kind="spearman")
    msg = str(exc.value)
    assert "after converting the Spearman" in msg
    assert f"rho_s(margin, churn) = 0.2 must lie in [{lo_s:.4f}, {hi_s:.4f}]" in msg


def test_non_psd_of_higher_order_names_eigenvector_factors():
    m = np.full((4, 4), -0.4)  # every 3x3 block is PD (eigenvalues 0.2+), the 4x4 is not
    np.fill_diagonal(m, 1.0)
    with pytest.raises(ValueError, match="every three factors are consistent") as exc:
        validate_correlation(m, list("wxyz"))
    msg = str(exc.value)
    assert "smallest eigenvalue -0.2 " in msg
    assert all(f"{c} (-0.500)" in msg or f"{c} (+0.500)" in msg for c in "wxyz")


def test_repair_nearest_warns_records_and_matches_higham():
    # Higham (2002), section 4: the nearest correlation matrix to this one has
    # off-diagonals 0.7607, 0.1573, 0.7607 (also the example of Higham's nearcorr)
    a = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    expected = "max change 0.23931 \\(pearson\\) at \\(x, y\\), from 1.0 to 0.76069"
    with pytest.warns(UserWarning, match=expected) as rec:
        p, info = validate_correlation(a, ["x", "y", "z"], repair="nearest")
    assert rec[0].filename == __file__  # stacklevel points at the caller
    np.testing.assert_allclose(p[[0, 0, 1], [1, 2, 2]], [0.7607, 0.1573, 0.7607], atol=1e-4)
    assert info["repair"] == "nearest" and info["entry"] == ("x", "y")
    assert info["max_change"] == pytest.approx(1 - p[0, 1], abs=1e-15)
    assert info["max_change"] == pytest.approx(np.abs(p - a).max(), abs=1e-15)
    assert info["iterations"] > 0 and info["converged"]
    assert np.linalg.eigvalsh(p)[0] > 0 and np.array_equal(np.diag(p), np.ones(3))


def test_repair_through_the_copula_warns_at_the_caller_and_is_in_info():
    with pytest.warns(UserWarning, match="repair='nearest' replaced it") as rec:
        cop = StudentTCopula(LABELS4, BAD_TRIPLE, 4, kind="spearman", repair="nearest")
    assert rec[0].filename == __file__
    assert cop.info["repair"] == "nearest" and cop.info["entry"][0] == "growth"
    assert str(cop.info["max_change"])[:6] in str(rec[0].message)
    assert np.allclose(cop.factor @ cop.factor.T, cop.matrix, atol=1e-12, rtol=0)


def test_repair_leaves_a_valid_matrix_alone_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, info = validate_correlation(P4, LABELS4, repair="nearest")
    assert np.array_equal(p, P4)
    assert info["max_change"] == 0.0 and info["entry"] is None


# --- singular matrices, factor and label-order properties -----------------------------------
@pytest.mark.parametrize("order", ["abc", "acb", "cab", "bca"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_perfectly_correlated_factors_come_out_identical(order, sign):
    order = list(order)
    corr = {("a", "b"): sign, ("a", "c"): 0.3, ("b", "c"): 0.3 * sign}
    m = np.eye(3)
    for i, li in enumerate(order):
        for j, lj in enumerate(order):
            if i != j:
                m[i, j] = corr.get((li, lj), corr.get((lj, li)))
    cop = GaussianCopula(order, m)
    assert cop.info["factor_error"] < 1e-12
    x = cop.sample_z(20_000, seed=0)
    ia, ib = order.index("a"), order.index("b")
    np.testing.assert_allclose(x[:, ib], sign * x[:, ia], rtol=0, atol=1e-12)
    if order.index("a") == 0:  # a pivot row that is a copy of an earlier one is exact
        assert np.array_equal(x[:, ib], sign * x[:, ia])
    ut = StudentTCopula(order, m, 5).sample(20_000, seed=0)
    np.testing.assert_allclose(ut[:, ib], ut[:, ia] if sign > 0 else 1 - ut[:, ia], atol=1e-12)


@pytest.mark.parametrize("position", [0, 1, 2, 3])
@pytest.mark.parametrize("copula", ["gaussian", "t"])
def test_adding_an_uncorrelated_factor_leaves_other_draws_bit_identical(position, copula):
    base_labels = ["growth", "margin", "churn"]
    base = P4[:3, :3]
    labels = base_labels[:position] + ["new"] + base_labels[position:]
    idx = [labels.index(lab) for lab in base_labels]
    big = np.eye(4)
    big[np.ix_(idx, idx)] = base

    def make(lab, m):
        return GaussianCopula(lab, m) if copula == "gaussian" else StudentTCopula(lab, m, 4)

    c3, c4 = make(base_labels, base), make(labels, big)
    assert np.array_equal(c4.factor[np.ix_(idx, idx)], c3.factor)
    seed = 2024
    x3, x4 = c3.sample_z(50_000, seed), c4.sample_z(50_000, seed)
    assert np.array_equal(x4[:, idx], x3)
    assert np.array_equal(c4.sample(1000, seed)[:, idx], c3.sample(1000, seed))


def test_factor_is_lower_triangular_and_matches_numpy_cholesky():
    cop = GaussianCopula(LABELS4, P4)
    assert np.array_equal(cop.factor, np.tril(cop.factor))
    np.testing.assert_allclose(cop.factor, np.linalg.cholesky(P4), rtol=0, atol=1e-15)
    L = semidefinite_cholesky(np.ones((3, 3)))  # rank one
    assert np.array_equal(L, np.array([[1.0, 0, 0], [1.0, 0, 0], [1.0, 0, 0]]))


def test_copulas_are_frozen():
    cop = GaussianCopula(LABELS4, P4)
    with pytest.raises(AttributeError, match="immutable"):
        cop.matrix = np.eye(4)
    with pytest.raises(ValueError, match="read-only"):
        cop.factor[0, 0] = 2.0
    assert cop.labels == LABELS4 and cop.info["copula"] == "gaussian"
    assert repr(cop).startswith("GaussianCopula(labels=['growth'")


def test_sample_is_addressed_by_path():
    cop = StudentTCopula(LABELS4, P4, 4)
    full = cop.sample(2000, seed=0)  # seed 0 is a seed like any other
    assert np.array_equal(cop.sample(1000, seed=0), full[:1000])
    assert np.array_equal(cop.sample(1000, seed=0, start=1000), full[1000:])
    assert not np.array_equal(cop.sample(1000, seed=1), full[:1000])
    with pytest.raises(ValueError, match="n_paths=-1 must be a non-negative integer"):
        cop.sample(-1, seed=0)


def test_facade_rejects_bad_inputs():
    g = GaussianCopula(LABELS4, P4)
    with pytest.raises(ValueError, match="shape \\(\\.\\.\\., 4\\)"):
        g.correlate(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        g.correlate(np.full((2, 4), np.nan))
    t = StudentTCopula(LABELS4, P4, 4)
    with pytest.raises(ValueError, match="w must have shape \\(5,\\)"):
        t.correlate(np.zeros((5, 4)), np.ones(4))
    with pytest.raises(ValueError, match="w must be finite and > 0"):
        t.correlate(np.zeros((2, 4)), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="open interval"):
        t.chi2([0.0, 0.5])


# --- kernels ------------------------------------------------------------------------------------
def correlate_reference(L, z):
    """numpy twin of correlate_row: the same products summed in the same order (k = 0..i)."""
    out = np.zeros_like(z)
    for k in range(L.shape[0]):
        out[..., k:] = out[..., k:] + L[k:, k] * z[..., k : k + 1]
    return out


@numba.njit
def user_correlate(L, z):
    out = np.empty_like(z)
    for r in range(z.shape[0]):
        correlate_row(L, z[r], out[r])
    return out


@numba.njit
def user_t_correlate(L, df, z, w):
    out = np.empty_like(z)
    for r in range(z.shape[0]):
        t_correlate_row(L, df, z[r], w[r], out[r])
    return out


def test_correlate_kernel_equals_numpy_reference_everywhere():
    cop = GaussianCopula(LABELS4, P4)
    z = np.random.default_rng(1).standard_normal((5000, 4))  # reference data only
    ref = correlate_reference(cop.factor, z)
    assert np.array_equal(cop.correlate(z), ref)
    assert np.array_equal(user_correlate(cop.factor, z), ref)  # from inside user njit code
    out = np.empty(4)
    for r in range(50):  # with the JIT off, for coverage
        py_func(correlate_row)(cop.factor, z[r], out)
        assert np.array_equal(out, ref[r])
    np.testing.assert_allclose(ref, z @ cop.factor.T, rtol=0, atol=1e-14)
    # (..., d) shapes
    assert np.array_equal(cop.correlate(z.reshape(50, 100, 4)), ref.reshape(50, 100, 4))


def test_t_kernel_equals_scipy_reference():
    df = 4.0
    cop = StudentTCopula(LABELS4, P4, df)
    rng = np.random.default_rng(2)  # reference data only
    z = rng.standard_normal((4000, 4))
    w = rng.chisquare(df, 4000)
    w[:3] = [1e-12, 1e-6, 80.0]  # extreme mixing draws: very heavy and very light rows
    t = (z @ cop.factor.T) / np.sqrt(w / df)[:, None]
    ref = -np.sign(t) * special.ndtri(special.stdtr(df, -np.abs(t)))
    got = cop.correlate(z, w)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-14)
    assert np.array_equal(user_t_correlate(cop.factor, df, z, w), got)
    out = np.empty(4)
    for r in range(20):
        py_func(t_correlate_row)(cop.factor, df, z[r], w[r], out)
        assert np.array_equal(out, got[r])
    # Phi(x) is the t copula's uniform
    np.testing.assert_allclose(stats.norm.cdf(got[3:]), stats.t.cdf(t[3:], df), rtol=1e-12)


def test_special_function_bindings():
    for df in (1.0, 2.5, 4.0, 30.0):
        for t in (-1e8, -40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0):
            assert stdtr(df, t) == special.stdtr(df, t)
        for u in (1e-300, 1e-16, 1e-3, 0.3, 0.5):
            assert chi2_ppf(df, u) == pytest.approx(stats.chi2.ppf(u, df), rel=1e-12)
        for u in (0.7, 0.999, 1 - 2**-52):
            assert chi2_ppf(df, u) == pytest.approx(stats.chi2.isf(1 - u, df), rel=1e-12)
    assert t_to_z(4.0, 0.0) == 0.0
    for t in (0.1, 2.0, 50.0, 1e6):
        assert t_to_z(4.0, -t) == -t_to_z(4.0, t) and math.isfinite(t_to_z(4.0, t))


# --- Spearman <-> Pearson ------------------------------------------------------------------
def test_gaussian_spearman_map_is_exact():
    s = np.linspace(-1, 1, 41)
    np.testing.assert_allclose(spearman_to_pearson(s), 2 * np.sin(np.pi * s / 6), rtol=0, atol=0)
    np.testing.assert_allclose(pearson_to_spearman(spearman_to_pearson(s)), s, atol=1e-15)


def test_t_spearman_table():
    s = np.linspace(-1, 1, 81)
    for df in (1.0, 3.0, 10.0):
        r = spearman_to_pearson(s, df=df)
        np.testing.assert_allclose(pearson_to_spearman(r, df=df), s, rtol=0, atol=1e-9)
        assert np.all(np.diff(r) > 0)
        assert spearman_to_pearson([-1.0, 0.0, 1.0], df=df).tolist() == [-1.0, 0.0, 1.0]
    # df -> inf recovers the Gaussian formula (quadrature error ~2e-7)
    big = pearson_to_spearman(np.linspace(-1, 1, 101), df=1e8)
    np.testing.assert_allclose(big, 6 / np.pi * np.arcsin(np.linspace(-1, 1, 101) / 2), atol=1e-6)
    # heavier tails, lower rank correlation for the same r (df = 3, r = 0.5: 0.4643)
    assert pearson_to_spearman(0.5, df=3) == pytest.approx(0.4643, abs=1e-3)
