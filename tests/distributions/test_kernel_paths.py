"""Kernel internals: pure-Python twins, the JIT switched off, scipy.special bindings, table
verification, cache-ability, and the families whose agreement with scipy needs a closer look."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.special.cython_special as cython_special
from scipy import special, stats

import distributions
from distributions import _kernel, _special, _table
from distributions.testing import sane_distributions

ROOT = Path(__file__).resolve().parents[2]
SANE = sane_distributions()
IDS = [n for n, _ in SANE]
Q = np.concatenate(
    [np.logspace(-10, -1, 7), np.linspace(0.05, 0.95, 7), 1 - np.logspace(-10, -1, 7)]
)


# -- pure-Python twins (.py_func) give the jitted results -----------------------------------------
@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_py_func_twins_match_jitted(name, dist):
    code, p, table = dist.kernel_args()
    offset = 0 if table.shape[0] else -1
    z = special.ndtri(Q)
    for fn, args in (
        (_kernel.ppf_u, [(code, p, table, offset, u) for u in Q]),
        (_kernel.ppf_z, [(code, p, table, offset, t) for t in z]),
        (_kernel._ppf_uc, [(code, p, table, offset, u, 1.0 - u) for u in Q]),
    ):
        jitted = np.array([fn(*a) for a in args])
        python = np.array([fn.py_func(*a) for a in args])
        np.testing.assert_allclose(python, jitted, rtol=1e-14, atol=1e-300)


def test_py_func_twins_of_helpers():
    u = np.concatenate([Q, [0.425, 0.5, 0.575]])
    for x in u:
        assert _kernel.ndtri.py_func(x) == pytest.approx(_kernel.ndtri(x), rel=1e-15, abs=1e-300)
        assert _kernel.ndtri.py_func(x) == pytest.approx(special.ndtri(x), rel=1e-14, abs=1e-16)
        z = special.ndtri(x)
        assert _kernel.ndtr.py_func(z) == pytest.approx(special.ndtr(z), rel=1e-14)
    assert _kernel.ndtri.py_func(0.0) == -np.inf and _kernel.ndtri.py_func(1.0) == np.inf
    assert np.isnan(_kernel.ndtri.py_func(1.5))
    beta = distributions.Beta(2.0, 5.0)
    _, _, table = beta.kernel_args()
    for z in (-9.0, -8.5, -3.21, 0.0, 1.7, 8.5, 9.0):
        assert _kernel.table_eval.py_func(table, 0, z) == _kernel.table_eval(table, 0, z)
    tri = distributions.Triangular(0.0, 0.3, 1.0).kernel_args()[1]
    trunc = distributions.TruncatedNormal(0.0, 1.0, 3.0, 9.0).kernel_args()[1]
    emp = distributions.Empirical([1.0, 2.0, 4.0])
    _, pe, te = emp.kernel_args()
    pois = distributions.Poisson(4.2)
    _, pp, tp = pois.kernel_args()
    for x in Q:
        for fn, args in (
            (_kernel._triangular, (tri[2], x, 1 - x)),
            (_kernel._truncnorm, (trunc, x, 1 - x)),
            (_kernel._empirical, (te, 0, 3, x)),
            (_kernel._poisson, (pp, tp, 0, x, 1 - x)),
            (_kernel._poisson_exact, (4.2, x)),
        ):
            assert fn.py_func(*args) == pytest.approx(fn(*args), rel=1e-14), fn
    out, out_py = np.empty(Q.size), np.empty(Q.size)
    _kernel.ppf_z_many(*beta.kernel_args()[:2], table, 0, special.ndtri(Q), out)
    _kernel.ppf_z_many.py_func(*beta.kernel_args()[:2], table, 0, special.ndtri(Q), out_py)
    np.testing.assert_array_equal(out, out_py)


@pytest.mark.integration  # a second Python process
def test_kernels_run_with_the_jit_disabled():
    """The whole family table through the plain-Python kernels (and the ctypes bindings)."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    nojit = str(Path(__file__).with_name("nojit_check.py"))
    run = subprocess.run(
        [sys.executable, "-W", "error", nojit],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "DISABLE_JIT=1" in run.stdout and "all agree" in run.stdout


@pytest.mark.integration  # a second Python process
def test_kernels_are_cacheable(tmp_path):
    """scipy.special is bound by symbol name, not by address, so the kernels (and anything that
    calls them) stay cacheable: a second process loads them without compiling."""
    code = (
        "from distributions import Beta, _kernel\n"
        "Beta(0.3, 0.6).ppf(0.3); Beta(2.0, 3.0).ppf(0.3)\n"
        "s = _kernel.ppf_u_many.stats\n"
        "print(len(s.cache_hits), len(s.cache_misses))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [
        subprocess.run(
            [sys.executable, "-W", "error", "-c", code],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout.split() == ["0", "1"]  # compiled (and saved without a warning)
    assert runs[1].stdout.split() == ["1", "0"]  # loaded from the cache


# -- scipy.special bindings -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "ours", "ref", "args"),
    [
        ("betaincinv", _special.betaincinv, special.betaincinv, (0.3, 2.5, 0.01)),
        ("betainccinv", _special.betainccinv, special.betainccinv, (0.3, 2.5, 0.01)),
        ("gammaincinv", _special.gammaincinv, special.gammaincinv, (0.4, 1e-8)),
        ("gammainccinv", _special.gammainccinv, special.gammainccinv, (0.4, 1e-8)),
        ("stdtrit", _special.stdtrit, special.stdtrit, (0.3, 0.2)),
        ("pdtrik", _special.pdtrik, special.pdtrik, (0.4, 4.2)),
        ("pdtr", _special.pdtr, special.pdtr, (3.0, 4.2)),
    ],
)
def test_special_bindings_pick_the_double_variant(name, ours, ref, args):
    assert ours(*args) == ref(*args)
    exported = [
        f"{k}{name}"
        for k in ("", "__pyx_fuse_0", "__pyx_fuse_1", "__pyx_fuse_2")
        if f"{k}{name}" in cython_special.__pyx_capi__
    ]
    signatures = {_special.c_signature(e) for e in exported}
    assert "double (" + "double, " * len(args) + "int __pyx_skip_dispatch)" in signatures


# -- table construction and verification ----------------------------------------------------------
def test_table_verification_rejects_an_inaccurate_inverse():
    lower, upper, logpdf = distributions.Gamma(2.0, 1.0)._standard()
    assert _table.build_table(lower, upper, logpdf) is not None
    noisy = lambda u: lower(u) * (1.0 + 1e-7 * np.sin(1e3 * u))  # noqa: E731
    assert _table.build_table(noisy, upper, logpdf) is None
    assert _table.build_table(lambda u: np.full_like(u, np.nan), upper, logpdf) is None


@pytest.mark.parametrize(
    "dist",
    [distributions.Beta(2.0, 0.5), distributions.PERT(0.0, 1.0, 1.0), distributions.Beta(1.0, 1.0)],
)
def test_saturated_tables_stay_monotone_and_inside(dist):
    """Upper ends where x(z) reaches 1.0 in double precision: slopes are capped there."""
    assert dist.kernel_path() == "table"
    u = 1.0 - np.logspace(-16, -6, 20_000)[::-1]
    x = dist.ppf(np.sort(u))
    assert np.all(x[1:] >= x[:-1]) and x.max() <= dist.support()[1]


@pytest.mark.parametrize("dist", [distributions.Beta(0.04, 3.0), distributions.Gamma(0.04, 1.0)])
def test_exact_path_monotone_where_the_quantile_underflows(dist):
    """scipy's inverses return DBL_MIN, then 0, then tiny positives as u grows through the
    underflow region of a small shape; the kernel flushes results <= DBL_MIN to 0."""
    assert dist.kernel_path() == "exact"
    u = np.logspace(-17, -8, 100_000)
    x = dist.ppf(u)
    assert np.all(x[1:] >= x[:-1]) and x[0] == 0.0 and x[-1] > 0.0


def test_table_grid_covers_every_stream_uniform():
    u_min = 0.5 * 2.0**-52  # the smallest uniform distributions.streams can produce
    assert _kernel.TABLE_Z0 < special.ndtri(u_min) and -_kernel.TABLE_Z0 > special.ndtri(1 - u_min)


# -- families whose agreement with scipy needs a closer look --------------------------------------
@pytest.mark.parametrize("mu", [1e-3, 0.7, 4.2, 37.5, 150.0, 2.5e4, 2e6])
def test_poisson_agrees_with_scipy_exactly_including_cdf_steps(mu):
    dist = distributions.Poisson(mu)
    k = np.arange(max(0.0, mu - 8 * mu**0.5 - 5), mu + 8 * mu**0.5 + 10)
    steps = special.pdtr(k, mu)
    steps = steps[(steps > 1e-10) & (steps < 1 - 1e-10)]
    steps = steps[:: max(1, steps.size // 400)]  # pdtrik is slow for huge mu: sample the steps
    q = np.concatenate(
        [
            steps,
            np.nextafter(steps, 0),
            np.nextafter(steps, 1),
            np.random.default_rng(5).random(3_000),  # arbitrary fixed seed
            np.logspace(-10, -1, 200),
            1 - np.logspace(-10, -1, 200),
        ]
    )
    np.testing.assert_array_equal(dist.ppf(q), dist.to_scipy().ppf(q))
    assert (dist.kernel_args()[2].shape[0] == 0) == (mu > 1e6)  # no table for very large mu


def test_empirical_ppf_is_numpy_quantile_bit_for_bit():
    data = np.random.default_rng(11).standard_t(3, size=257)  # arbitrary fixed seed
    data[10:13] = data[40]  # ties
    dist = distributions.Empirical(data)
    q = np.concatenate(
        [
            np.random.default_rng(12).random(10_000),
            np.arange(257) / 256,
            [0.0, 1.0, 0.5, np.nextafter(1.0, 0.0), 5e-324],
        ]
    )
    np.testing.assert_array_equal(dist.ppf(q), np.quantile(data, q, method="linear"))
    np.testing.assert_array_equal(dist.to_scipy().ppf(q[:100]), dist.ppf(q[:100]))


def test_beta_half_shape_where_scipy_stats_ppf_misbehaves():
    """``stats.beta.ppf`` (Boost via ``_beta_ppf``) returns wrong values for a = 0.5 exactly
    and some b (scipy#21725 discusses its two wrappers); ours follow ``special.betaincinv``,
    whose values invert ``betainc``."""
    dist = distributions.Beta(0.5, 2.0)
    q = np.logspace(-10, -7, 200)
    x = dist.ppf(q)
    np.testing.assert_allclose(special.betainc(0.5, 2.0, x), q, rtol=1e-9)
    np.testing.assert_allclose(x, special.betaincinv(0.5, 2.0, q), rtol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scipy_x = stats.beta(0.5, 2.0).ppf(q)
    # documents the discrepancy (scipy 1.17): if scipy fixes it, this line is simply true
    assert np.all(np.isclose(scipy_x, x, rtol=1e-8) | (special.betainc(0.5, 2.0, scipy_x) != q))


def test_bernoulli_threshold_is_one_minus_p():
    dist = distributions.Bernoulli(0.3)
    t = 1.0 - 0.3
    assert dist.ppf(t) == 0.0 and dist.ppf(np.nextafter(t, 1.0)) == 1.0
    q = np.linspace(0.001, 0.999, 999)
    far = np.abs(q - t) > 1e-12  # scipy's Boost quantile breaks ties within ~10 ulp of 1 - p
    np.testing.assert_array_equal(dist.ppf(q)[far], dist.to_scipy().ppf(q)[far])


# -- the row forms the simulation kernel calls give the scalar forms' bytes --------------------
def test_ndtri_many_equals_ndtri_bit_for_bit():
    rng = np.random.default_rng(5)
    u = np.concatenate(
        [
            rng.random(5000),
            rng.random(200) * 1e-12,
            1 - rng.random(200) * 1e-9,
            [1e-300, 5e-324, 0.075, 0.925, 0.5, 0.0, 1.0, np.nan, -1.0, 2.0],
        ]
    )
    out = np.empty_like(u)
    _kernel.ndtri_many(u, out, np.empty(u.size, np.int64), np.empty((3, u.size)))
    want = np.array([_kernel.ndtri(x) for x in u])
    assert np.array_equal(out, want, equal_nan=True)
    np.testing.assert_allclose(out[:5400], special.ndtri(u[:5400]), rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    ("name", "dist"),
    [(n, d) for n, d in SANE if d.kernel_args()[0] == _kernel.CODE_TABLE],
    ids=[n for n, d in SANE if d.kernel_args()[0] == _kernel.CODE_TABLE],
)
def test_table_eval_many_equals_table_eval(name, dist):
    _, _, table = dist.kernel_args()
    z = np.concatenate(
        [np.random.default_rng(1).standard_normal(3000) * 3, [-9.0, -8.5, 8.5, 9.0, 0.0, -1e-300]]
    )
    out = np.empty_like(z)
    _kernel.table_eval_many(table, 0, z, out, np.empty(z.size, np.uint64), np.empty((5, z.size)))
    assert np.array_equal(out, [_kernel.table_eval(table, 0, x) for x in z])


@pytest.mark.parametrize(("name", "dist"), SANE, ids=IDS)
def test_ppf_many_equal_the_scalar_forms(name, dist):
    code, p, table = dist.kernel_args()
    offset = 0 if table.shape[0] else -1
    z = special.ndtri(Q)
    out_u, out_z = np.empty(Q.size), np.empty(Q.size)
    _kernel.ppf_u_many(code, p, table, offset, Q, out_u)
    _kernel.ppf_z_many(code, p, table, offset, z, out_z)
    assert np.array_equal(out_u, [_kernel.ppf_u(code, p, table, offset, u) for u in Q])
    assert np.array_equal(out_z, [_kernel.ppf_z(code, p, table, offset, t) for t in z])
