"""distributions.fitting: maximum likelihood, ranking, goodness of fit, bootstrap.

Three tiers: the MLE against closed forms and scipy.stats; the ranking and the tie warning on
known cases; the bootstrap intervals' coverage of the true parameters (slow tier).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from distributions import FAMILIES, Gamma, LogNormal, Normal, StudentT
from distributions.fitting import (
    CRITERIA,
    DEFAULT_FAMILIES,
    FIT_FAMILIES,
    FitWarning,
    fit,
)

# literal seeds, not chosen to pass the tests
RNG_SEED = 20261203


def _quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        return fit(*args, **kwargs)


def test_normal_and_lognormal_mle_are_the_closed_forms():
    x = np.random.default_rng(RNG_SEED).lognormal(0.3, 0.4, 25)
    r = _quiet_fit(x, ["Normal", "LogNormal"], n_boot=0)
    n = r["Normal"].dist
    assert n.loc == pytest.approx(x.mean(), rel=1e-14)
    assert n.scale == pytest.approx(x.std(ddof=0), rel=1e-14)
    ln = r["LogNormal"].dist
    assert ln.mu == pytest.approx(np.log(x).mean(), rel=1e-14)
    assert ln.sigma == pytest.approx(np.log(x).std(ddof=0), rel=1e-14)


@pytest.mark.parametrize(
    ("family", "scipy_fit", "data"),
    [
        ("Gamma", lambda x: stats.gamma.fit(x, floc=0), lambda g: g.gamma(3.0, 2.0, 40)),
        ("Beta", lambda x: stats.beta.fit(x, floc=0, fscale=1), lambda g: g.beta(2.0, 5.0, 40)),
        ("StudentT", lambda x: stats.t.fit(x), lambda g: g.standard_t(4.0, 60) * 2.0 + 1.0),
    ],
)
def test_mle_is_at_least_as_likely_as_scipys_fit(family, scipy_fit, data):
    """The fit's log-likelihood is scipy's maximum (or better: the Student t's df is bounded
    and searched from two starts)."""
    x = data(np.random.default_rng(RNG_SEED))
    f = _quiet_fit(x, [family], n_boot=0)[family]
    params = scipy_fit(x)
    ll_scipy = float(
        np.sum(
            getattr(stats, {"Gamma": "gamma", "Beta": "beta"}.get(family, "t")).logpdf(x, *params)
        )
    )
    assert f.loglik >= ll_scipy - 1e-6
    assert f.loglik == pytest.approx(float(np.sum(f.dist.to_scipy().logpdf(x))), rel=1e-12)


def test_criteria_follow_their_formulas():
    x = np.random.default_rng(RNG_SEED).normal(0.1, 0.05, 12)
    f = _quiet_fit(x, ["StudentT"], n_boot=0).best
    k, n, ll = 3, 12, f.loglik
    assert f.aic == pytest.approx(2 * k - 2 * ll)
    assert f.aicc == pytest.approx(2 * k - 2 * ll + 2 * k * (k + 1) / (n - k - 1))
    assert f.bic == pytest.approx(k * math.log(n) - 2 * ll)
    assert {f.criterion(c) for c in CRITERIA} == {f.aic, f.aicc, f.bic}


def test_ks_and_anderson_darling_statistics_match_scipy_and_the_textbook_form():
    x = np.random.default_rng(RNG_SEED).normal(1.0, 2.0, 30)
    f = _quiet_fit(x, ["Normal"], n_boot=0).best
    assert f.ks == pytest.approx(stats.kstest(x, f.dist.cdf).statistic, rel=1e-12)
    u = np.sort(f.dist.cdf(x))
    i = np.arange(1, 31)
    a2 = -30 - np.sum((2 * i - 1) * np.log(u) + (2 * 30 + 1 - 2 * i) * np.log1p(-u)) / 30
    assert f.ad == pytest.approx(a2, rel=1e-10)


@pytest.mark.parametrize(
    ("truth", "n"),
    [(LogNormal(0.0, 0.6), 300), (Normal(3.0, 1.0), 300), (Gamma(shape=1.5, scale=2.0), 300)],
)
def test_the_ranking_finds_the_family_on_plenty_of_data(truth, n):
    x = truth.rvs(n, seed=7, stream="ranking")
    r = _quiet_fit(x, n_boot=0)
    assert r.best.family == truth.family, r.to_frame()


def test_few_points_warn_that_families_cannot_be_told_apart():
    x = Normal(1.0, 0.2).rvs(6, seed=3, stream="short")  # positive: every default applies
    with pytest.warns(FitWarning, match="cannot tell"):
        r = fit(x, n_boot=0)
    assert r.tie and "choose the family on judgement" in r.note
    assert r.to_frame().attrs["note"] == r.note


def test_families_that_cannot_hold_the_data_are_skipped_with_the_reason():
    x = np.array([-0.1, 0.05, 0.2, 0.12, 0.3, -0.02])
    r = _quiet_fit(x, n_boot=0)
    assert [f.family for f in r.fits] == ["Normal", "StudentT"] or {f.family for f in r.fits} == {
        "Normal",
        "StudentT",
    }
    assert "positive" in r.skipped["LogNormal"]
    assert "positive" in r.skipped["Gamma"]
    with pytest.raises(KeyError, match="needs positive data"):
        r["Gamma"]
    # a 3-parameter family on 4 points: skipped, not fitted to noise
    r4 = _quiet_fit(x[:4], ["Normal", "StudentT"], n_boot=0)
    assert "at least 5 points" in r4.skipped["StudentT"]
    with pytest.raises(ValueError, match="no family can be fitted"):
        fit(x, ["LogNormal"])


def test_beta_uniform_and_triangular_are_on_request():
    assert "Beta" not in DEFAULT_FAMILIES and "Uniform" not in DEFAULT_FAMILIES
    x = np.random.default_rng(RNG_SEED).beta(2.0, 5.0, 30)
    r = _quiet_fit(x, ["Beta", "Uniform", "Triangular"], n_boot=20)
    assert {f.family for f in r.fits} == {"Beta", "Uniform", "Triangular"}
    u = r["Uniform"].dist
    assert (u.low, u.high) == (x.min(), x.max())


@pytest.mark.parametrize(
    ("data", "match", "exc"),
    [
        ([1.0, 2.0, float("nan"), 3.0, 4.0], r"data\[2\] = nan", ValueError),
        ([1.0, 2.0, 3.0], "at least 4", ValueError),
        ([2.0] * 6, "constant", ValueError),
        ([[1.0, 2.0], [3.0, 4.0]], "1-d", ValueError),
        ("1,2,3", "sequence of real numbers", TypeError),
        (["a", "b", "c", "d"], "real numbers", TypeError),
    ],
)
def test_bad_data_is_refused_naming_the_problem(data, match, exc):
    with pytest.raises(exc, match=match):
        fit(data)


def test_bad_options_are_refused_naming_the_allowed_values():
    x = [1.0, 1.2, 0.9, 1.4, 1.1]
    with pytest.raises(ValueError, match="did you mean 'Normal'"):
        fit(x, ["Normall"])
    with pytest.raises(ValueError, match="rank_by='aik' must be one of"):
        fit(x, rank_by="aik")
    with pytest.raises(ValueError, match="n_boot=-1"):
        fit(x, n_boot=-1)


def test_the_bootstrap_repeats_for_a_seed_and_moves_with_it():
    x = Gamma(shape=3.0, scale=1.0).rvs(15, seed=1, stream="data")
    a = _quiet_fit(x, ["Gamma"], n_boot=50, seed=11).best
    b = _quiet_fit(x, ["Gamma"], n_boot=50, seed=11).best
    c = _quiet_fit(x, ["Gamma"], n_boot=50, seed=12).best
    assert a.boot["shape"].tobytes() == b.boot["shape"].tobytes()
    assert a.ks_pvalue == b.ks_pvalue
    assert not np.array_equal(a.boot["shape"], c.boot["shape"])
    assert a.n_boot == 50 and a.n_failed == 0


def test_draws_reflect_the_bootstrap_through_the_fit():
    x = Normal(0.0, 1.0).rvs(20, seed=2, stream="data")
    f = _quiet_fit(x, ["Normal"], n_boot=100, seed=4).best
    d = f.draws
    np.testing.assert_allclose(d["loc"], 2 * f.dist.loc - f.boot["loc"])
    np.testing.assert_allclose(d["scale"], f.dist.scale**2 / f.boot["scale"])
    lo, hi = f.interval("scale", 0.9)
    assert lo < f.dist.scale < hi
    assert (lo, hi) == tuple(np.quantile(d["scale"], [0.05, 0.95]))
    assert f.se("loc") == pytest.approx(np.std(f.boot["loc"], ddof=1))
    dists = f.draw_dists()
    assert len(dists) == 100 and all(isinstance(x, Normal) for x in dists)
    with pytest.raises(ValueError, match="unknown parameter 'sd'"):
        f.interval("sd")
    with pytest.raises(ValueError, match="no bootstrap"):
        _quiet_fit(x, ["Normal"], n_boot=0).best.interval("loc")


def test_table_and_html_show_every_family_best_first():
    x = LogNormal(0.0, 0.3).rvs(40, seed=5, stream="data")
    r = _quiet_fit(x, n_boot=10)
    frame = r.to_frame()
    assert list(frame.index) == [f.family for f in r.fits]
    assert frame["delta_aicc"].iloc[0] == 0.0 and (frame["delta_aicc"].diff().dropna() >= 0).all()
    assert frame["weight"].sum() == pytest.approx(1.0)
    assert {"aic", "aicc", "bic", "ks_pvalue", "ad_pvalue"} <= set(frame.columns)
    html = r._repr_html_()
    assert "ranked by AICc" in html and "<table" in html
    assert "FitResult(n=40" in repr(r)


def test_every_fit_family_is_a_distribution_family():
    assert set(FIT_FAMILIES) <= set(FAMILIES)
    assert StudentT.family in FIT_FAMILIES


@pytest.mark.slow
def test_bootstrap_p_values_are_calibrated_under_the_null():
    """Data from the fitted family: the bootstrap KS p-value is uniform, so P(p < 0.1) is 0.1
    (within 3.3 binomial standard errors of 120 datasets)."""
    small = 0
    m = 120
    for i in range(m):
        x = Normal(0.0, 1.0).rvs(20, seed=100 + i, stream="null")
        small += _quiet_fit(x, ["Normal"], n_boot=99, seed=i).best.ks_pvalue < 0.1
    assert abs(small / m - 0.1) <= 3.3 * math.sqrt(0.09 / m)


COVERAGE_CASES = {
    "Normal": {"loc": 0.2, "scale": 0.1},
    "LogNormal": {"mu": 0.0, "sigma": 0.4},
    "Gamma": {"shape": 3.0, "scale": 2.0},
    "Beta": {"a": 2.0, "b": 5.0},
}


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(COVERAGE_CASES))
def test_bootstrap_intervals_cover_the_true_parameters_at_the_stated_rate(family):
    """The stated rate: 90% basic-bootstrap intervals from 30 points cover each true
    parameter in 90% of datasets; tested within 3.3 binomial standard errors of 100
    datasets (0.80 .. 1.0). Measured with 200 datasets and 200 replicates: 0.885-0.90."""
    truth = COVERAGE_CASES[family]
    dist = FAMILIES[family](**truth)
    m = 100
    hits = dict.fromkeys(truth, 0)
    for i in range(m):
        x = dist.rvs(30, seed=1000 + i, stream="coverage")
        f = _quiet_fit(x, [family], n_boot=100, seed=i).best
        for k, v in truth.items():
            lo, hi = f.interval(k, 0.9)
            hits[k] += lo <= v <= hi
    for k, h in hits.items():
        assert abs(h / m - 0.9) <= 3.3 * math.sqrt(0.09 / m), (k, h / m)


@pytest.mark.slow
def test_student_t_intervals_cover_at_the_stated_rate_given_enough_points():
    """The stated rate for a Student t: its 90% intervals cover at 200 points (measured with
    40 datasets: df 0.95, loc 0.80, scale 0.95), tested within 3.3 binomial standard errors of
    25 datasets. On 30 points the df and the scale, which trade off against each other, are
    covered far less often (measured: 0.57 and 0.63): docs/model.md says so."""
    truth = {"df": 4.0, "loc": 0.0, "scale": 1.0}
    dist = StudentT(**truth)
    m = 25
    hits = dict.fromkeys(truth, 0)
    for i in range(m):
        x = dist.rvs(200, seed=2000 + i, stream="coverage")
        f = _quiet_fit(x, ["StudentT"], n_boot=40, seed=i).best
        for k, v in truth.items():
            lo, hi = f.interval(k, 0.9)
            hits[k] += lo <= v <= hi
    for k, h in hits.items():
        assert abs(h / m - 0.9) <= 3.3 * math.sqrt(0.09 / m), (k, h / m)


@pytest.mark.parametrize("seed", [3, 5, 8])
def test_triangular_mle_is_the_maximum_of_a_fine_grid(seed):
    """The mode profiled out exactly (an end or a data point), the ends searched: at least as
    likely as the best of a 100 x 100 grid of ends (scipy's triang.fit falls short by up to 8
    log-likelihood units on such samples)."""
    from distributions import Triangular
    from distributions.fitting import _triangular_profile

    x = Triangular(0.0, 0.3, 1.0).rvs(10, seed=seed, stream="triangular")
    f = _quiet_fit(x, ["Triangular"], n_boot=0).best
    xs = np.sort(x)
    grid = max(
        _triangular_profile(a, b, xs)[0]
        for a in np.linspace(xs[0] - 0.6, xs[0], 100)
        for b in np.linspace(xs[-1], xs[-1] + 0.6, 100)
    )
    assert f.loglik >= grid - 1e-6
    assert f.loglik == pytest.approx(float(np.sum(f.dist.to_scipy().logpdf(x))), rel=1e-10)
