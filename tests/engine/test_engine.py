"""The fused kernel against the numpy reference, reproducibility and input validation."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import make_toy

from simcore.engine import core as engine
from simcore.engine.core import simulate
from simcore.model import equations as reference
from simcore.model.scenario import OUTPUTS


def _hits(result):
    return {s.name: result.shock_hit(s.name).astype(float) for s in result.scenario.shocks}


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_kernel_matches_reference_on_the_same_draws(copula):
    sc = make_toy(copula=copula, copula_df=5.0 if copula == "student_t" else 0.0)
    r = simulate(sc, 3000, seed=11, keep_draws=True)
    ref = reference.evaluate(sc, r.draws["drivers"], _hits(r), r.draws["severity"])
    for name in OUTPUTS:
        a, b = r[name], ref[name]
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        m = ~np.isnan(b)
        # the issue asks for 1e-12 relative; the kernel uses the reference's operation order,
        # so in practice they agree bit for bit
        np.testing.assert_allclose(a[m], b[m], rtol=1e-12, atol=0, err_msg=name)
    seg = np.stack([r[f"revenue.{s}"] for s in sc.segment_names], axis=1)
    np.testing.assert_allclose(seg, ref["segment_revenue"], rtol=1e-12, atol=0)


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_kernel_draws_match_numpy_scipy_sampling(copula):
    sc = make_toy(copula=copula, copula_df=4.0 if copula == "student_t" else 0.0)
    r = simulate(sc, 2000, seed=5, keep_draws=True)
    drivers, hits, sev = reference.sample(sc, 2000, 5)
    for name, x in drivers.items():
        np.testing.assert_allclose(r.draws["drivers"][name], x, rtol=1e-9, atol=1e-12, err_msg=name)
    for name, h in hits.items():
        assert np.array_equal(h, _hits(r)[name])
        np.testing.assert_allclose(r.draws["severity"][name][h > 0], sev[name][h > 0], rtol=1e-9)


@pytest.mark.parametrize("sampling", ["mc", "antithetic", "lhs", "sobol"])
def test_persistence_one_drivers_hold_their_year_zero_draw(sampling):
    """wacc and terminal_growth have persistence 1: the kernel draws them in year 0 only and
    holds the marginal (outside the copula), or keeps drawing (inside it, where the other
    labelled drivers mix their innovations) and still holds. Both give the numpy/scipy draws
    (Monte Carlo), and the held drivers are constant over the years (their base is)."""
    labels = ("growth.a", "growth.b", "margin.a", "wacc")
    corr = np.array(
        [[1, 0.6, 0.3, 0.2], [0.6, 1, 0.2, 0.1], [0.3, 0.2, 1, 0.1], [0.2, 0.1, 0.1, 1.0]]
    )
    for sc in (make_toy(), make_toy(correlation_labels=labels, correlation=corr)):
        r = simulate(sc, 2000, seed=5, sampling=sampling, keep_draws=True)
        if sampling == "mc":
            drivers, _, _ = reference.sample(sc, 2000, 5)
            for name, x in drivers.items():
                np.testing.assert_allclose(
                    r.draws["drivers"][name], x, rtol=1e-9, atol=1e-12, err_msg=name
                )
        for name in ("wacc", "terminal_growth"):
            d = r.draws["drivers"][name]
            assert np.array_equal(d, np.repeat(d[:, :1], d.shape[1], axis=1)), name


@pytest.mark.parametrize("sampling", ["mc", "antithetic", "lhs", "sobol"])
def test_serial_and_parallel_kernels_give_identical_bytes(sampling):
    sc = make_toy()
    a = simulate(sc, 5000, seed=1, sampling=sampling)
    b = engine._simulate(sc, 5000, 1, None, sampling, serial=True)
    assert a._out.tobytes() == b._out.tobytes()
    assert a._hits.tobytes() == b._hits.tobytes()


@pytest.mark.parametrize("block", [1, 997, 10_000])
def test_block_size_does_not_change_bytes(monkeypatch, block):
    sc = make_toy()
    ref = simulate(sc, 3000, seed=3)
    monkeypatch.setattr(engine, "BLOCK", block)
    monkeypatch.setattr(engine, "SOBOL_BLOCK", block)
    got = simulate(sc, 3000, seed=3)
    assert ref._out.tobytes() == got._out.tobytes()


def test_prefix_property_and_path_offsets():
    sc = make_toy()
    big = simulate(sc, 4000, seed=9)
    small = simulate(sc, 2000, seed=9)
    tail = simulate(sc, 2000, seed=9, start=2000)
    assert big._out[:, :, :2000].tobytes() == small._out.tobytes()
    assert big._out[:, :, 2000:].tobytes() == tail._out.tobytes()


_THREADS_SCRIPT = """
import hashlib, sys
sys.path.insert(0, {tests!r})
from conftest import make_toy
from simcore.engine.core import simulate
r = simulate(make_toy(), 20000, seed=4, sampling=sys.argv[1])
print(hashlib.sha256(r._out.tobytes() + r._hits.tobytes()).hexdigest())
"""


@pytest.mark.integration  # a second Python process
@pytest.mark.parametrize("sampling", ["mc", "lhs"])
def test_thread_count_does_not_change_bytes(sampling):
    script = _THREADS_SCRIPT.format(tests=os.path.dirname(os.path.dirname(__file__)))
    digests = set()
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        out = subprocess.run(
            [sys.executable, "-c", script, sampling],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_switching_a_shock_off_leaves_every_other_input_unchanged():
    sc = make_toy()
    on = simulate(sc, 4000, seed=8, keep_draws=True)
    off = simulate(sc.with_shocks({"tech": False}), 4000, seed=8, keep_draws=True)
    for name, x in on.draws["drivers"].items():
        assert x.tobytes() == off.draws["drivers"][name].tobytes()
    assert np.array_equal(on.shock_hit("leak"), off.shock_hit("leak"))
    assert not off.shock_hit("tech").any() and on.shock_hit("tech").any()
    # paths where tech never hit are identical
    clean = ~on.shock_hit("tech").any(axis=1)
    for name in OUTPUTS:
        np.testing.assert_array_equal(on[name][clean], off[name][clean])


def test_all_shocks_off_equals_zero_probability():
    sc = make_toy()
    off = simulate(sc.with_shocks(False), 2000, seed=8)
    import dataclasses

    zero = dataclasses.replace(
        sc, shocks=tuple(dataclasses.replace(s, probability=0.0) for s in sc.shocks)
    )
    z = simulate(zero, 2000, seed=8)
    assert off._out.tobytes() == z._out.tobytes()
    assert not off.hits.any()


def test_same_seed_same_bytes_different_seed_differs():
    sc = make_toy()
    a, b, c = (simulate(sc, 1000, seed=s) for s in (0, 0, 1))
    assert a._out.tobytes() == b._out.tobytes()
    assert a._out.tobytes() != c._out.tobytes()


def test_manifest_is_enough_to_replay():
    sc = make_toy()
    r = simulate(sc, 1000, seed=None, sampling="lhs")
    m = json.loads(json.dumps(r.manifest))
    for key in ("versions", "seed", "scenario", "sampling", "n_paths", "horizon", "threads"):
        assert key in m
    assert m["scenario"]["sha256"] == sc.digest()
    seed = np.random.SeedSequence(m["seed"]["entropy"], spawn_key=tuple(m["seed"]["spawn_key"]))
    again = simulate(sc, m["n_paths"], seed=seed, sampling=m["sampling"])
    assert r._out.tobytes() == again._out.tobytes()


def test_horizon_ten_and_pe_zero_where_eps_not_positive():
    r = simulate(make_toy(), 2000, seed=1, horizon=10)
    assert r["revenue"].shape == (2000, 10)
    eps, pe = r["eps"], r["price_pe"]
    assert (eps <= 0).any() and (pe[eps <= 0] == 0.0).all() and (pe[eps > 0] > 0.0).all()
    for name in OUTPUTS:
        if name != "dcf_terminal_share":  # NaN where the enterprise value is not positive
            assert np.isfinite(r[name]).all(), name


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_paths": 0}, "n_paths=0"),
        ({"n_paths": -5}, "n_paths=-5"),
        ({"n_paths": 2.5}, "n_paths=2.5"),
        ({"n_paths": True}, "n_paths=True"),
        ({"horizon": 0}, "horizon=0"),
        ({"horizon": 31}, "horizon=31"),
        ({"sampling": "quasi"}, "sampling='quasi'"),
        ({"seed": -1}, "seed=-1"),
        ({"seed": "42"}, "seed='42'"),
        ({"seed": 1.0}, "seed=1.0"),
        ({"threads": 0}, "threads=0"),
        ({"n_paths": 3, "sampling": "antithetic"}, "even"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    args = {"scenario": make_toy(), "n_paths": 10, **kwargs}
    with pytest.raises((TypeError, ValueError), match=match):
        simulate(**args)


def test_memory_budget_checked_before_allocating():
    with pytest.raises(MemoryError, match="memory budget"):
        simulate(make_toy(), 10**9, seed=1, memory_limit=1 << 30)


def _no_work(monkeypatch):
    """Make any start of the simulation fail: the checks must all come before it."""

    def started(*args, **kwargs):
        raise AssertionError("the simulation started before the arguments were checked")

    monkeypatch.setattr(engine, "compile_scenario", started)
    monkeypatch.setattr(engine, "_run_kernel", started)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"memory_limit": "big"},
            TypeError,
            r"memory_limit='big' must be an integer >= 1; got str",
        ),
        ({"memory_limit": True}, TypeError, r"memory_limit=True must be an integer >= 1; got bool"),
        ({"memory_limit": 2.5e9}, TypeError, r"memory_limit=2500000000.0 must be an integer >= 1"),
        ({"memory_limit": 0}, ValueError, r"memory_limit=0 must be an integer >= 1"),
        (
            {"progress": 5},
            TypeError,
            r"progress=5 must be a callable, progress\(done_paths, n_paths\), or None",
        ),
        ({"progress": "bar"}, TypeError, r"progress='bar' must be a callable"),
        (
            {"seed": 1e30},
            TypeError,
            r"seed=1e\+30 must be a non-negative int, a numpy "
            r"SeedSequence, a numpy Generator or None; got float",
        ),
        ({"seed": np.float64(7.0)}, TypeError, r"seed=np.float64\(7.0\) must be a non-negative"),
        ({"seed": True}, TypeError, r"seed=True must be a non-negative int"),
        ({"seed": np.random.RandomState(1)}, TypeError, r"seed=RandomState.*; got RandomState"),
        (
            {"sampling": ["mc"]},
            TypeError,
            r"sampling=\['mc'\] must be one of \['antithetic', 'lhs', 'mc', 'sobol'\]; got list",
        ),
        ({"sampling": None}, TypeError, r"sampling=None must be one of \['antithetic'"),
        ({"sampling": "MC"}, ValueError, r"sampling='MC' must be one of \['antithetic'"),
        ({"keep_draws": 1}, TypeError, r"keep_draws=1 must be True or False"),
        ({"keep_draws": "yes"}, TypeError, r"keep_draws='yes' must be True or False"),
        ({"start": -1}, ValueError, r"start=-1 must be an integer >= 0"),
        ({"start": 2.0}, TypeError, r"start=2.0 must be an integer >= 0; got float"),
        ({"n_total": 5}, ValueError, r"n_total=5 must be an integer >= 10"),
        ({"start": 10, "n_total": 15}, ValueError, r"n_total=15 must be an integer >= 20"),
        ({"n_total": "20"}, TypeError, r"n_total='20' must be an integer >= 10; got str"),
        ({"threads": 2.0}, TypeError, r"threads=2.0 must be an integer >= 1; got float"),
        ({"threads": "4"}, TypeError, r"threads='4' must be an integer >= 1; got str"),
        ({"threads": -1}, ValueError, r"threads=-1 must be an integer >= 1"),
        ({"horizon": 3.0}, TypeError, r"horizon=3.0 must be an integer in \[1, 30\]; got float"),
        ({"backend": "spark"}, ValueError, r"backend='spark' must be one of 'local', 'dask'"),
        ({"block": 10}, ValueError, r"client= and block= are only used with backend='dask'"),
        ({"backend": "dask"}, ValueError, r"backend='dask' needs client=distributed.Client"),
        ({"scenario": "toy"}, TypeError, r"scenario must be a simcore Scenario or None, got str"),
    ],
)
def test_every_simulate_argument_is_checked_before_any_work(monkeypatch, kwargs, error, match):
    """Issue 14: the message names the argument, its value and what is allowed, and comes
    before anything is compiled or simulated (``progress=5`` used to fail after the run,
    ``memory_limit='big'`` in ``int()``, ``sampling=['mc']`` in a dict lookup)."""
    _no_work(monkeypatch)
    args = {"scenario": make_toy(), "n_paths": 10, **kwargs}
    with pytest.raises(error, match=match):
        simulate(**args)


def test_numpy_integers_are_integers_for_threads_and_memory_limit():
    import numba

    n = np.int64(numba.get_num_threads())  # the count in force: other tests keep their speed
    r = simulate(make_toy(), 10, seed=1, threads=n, memory_limit=np.int64(1 << 30))
    assert r.manifest["threads"] == int(n)


_U = np.full((4, 3, 25), 0.5)  # the toy: 20 drivers + 2 x 2 shock columns + 1, per year


@pytest.mark.parametrize(
    ("scenario", "u", "kwargs", "error", "match"),
    [
        ("toy", _U, {}, TypeError, r"scenario must be a simcore Scenario or None, got str"),
        (
            None,
            [[["a"]]],
            {},
            TypeError,
            r"u has dtype <U1; allowed a float64 array of uniforms in \(0, 1\)",
        ),
        (None, _U.astype(complex), {}, TypeError, r"u has dtype complex128; allowed a float64"),
        (None, _U > 0, {}, TypeError, r"u has dtype bool; allowed a float64"),
        (
            None,
            [[0.5], [0.5, 0.5]],
            {},
            TypeError,
            r"u must be a float array \(n_paths, horizon, n_columns\)",
        ),
        (
            None,
            _U[:, :, :-1],
            {},
            ValueError,
            r"u has shape \(4, 3, 24\); expected \('n_paths', 3, 25\) \(see design_columns\)",
        ),
        (
            None,
            np.where(np.arange(25) == 3, 0.0, _U),
            {},
            ValueError,
            r"u has 12 values outside \[2\*\*-53, 1\) \(NaN included\); allowed 2\*\*-53 <= u < 1",
        ),
        (
            None,
            np.where(np.arange(25) == 3, 2.0**-60, _U),
            {},
            ValueError,
            r"u has 12 values outside \[2\*\*-53, 1\)",
        ),
        (None, _U, {"threads": 0}, ValueError, r"threads=0 must be an integer >= 1"),
        (None, _U, {"keep_draws": "yes"}, TypeError, r"keep_draws='yes' must be True or False"),
    ],
)
def test_evaluate_uniforms_checks_its_arguments_before_any_work(
    monkeypatch, scenario, u, kwargs, error, match
):
    _no_work(monkeypatch)
    with pytest.raises(error, match=match):
        engine.evaluate_uniforms(make_toy() if scenario is None else scenario, u, **kwargs)


@pytest.mark.parametrize("sampling", ["mc", "antithetic", "lhs", "sobol"])
def test_readme_stream_promises_hold_per_sampling_method(sampling):
    """What README.md ("Distributions, dependence and random streams") says, method by method,
    asserted both ways so the text cannot drift: the first N paths of a 2N-path run are the
    N-path run with mc, antithetic and sobol, not with lhs; with ``n_total=2N`` any block
    ``start=s`` is those paths of the 2N-path run with every method; removing a factor (here a
    shock) leaves the others' draws unchanged except with sobol; switching a shock off leaves
    them unchanged with every method."""
    sc = make_toy()

    def paths(r, lo=0, hi=None):
        return r._out[:, :, lo:hi].tobytes() + r._hits[:, lo:hi].tobytes()

    big = simulate(sc, 2000, seed=9, sampling=sampling)
    small = simulate(sc, 1000, seed=9, sampling=sampling)
    assert (paths(big, 0, 1000) == paths(small)) is (sampling != "lhs")
    for s in (0, 1000):
        block = simulate(sc, 1000, seed=9, sampling=sampling, start=s, n_total=2000)
        assert paths(big, s, s + 1000) == paths(block)

    def drivers(scenario):
        r = simulate(scenario, 1000, seed=9, sampling=sampling, keep_draws=True)
        return {k: v.tobytes() for k, v in r.draws["drivers"].items()}

    base = drivers(sc)
    fewer = drivers(dataclasses.replace(sc, shocks=sc.shocks[:1]))
    assert (fewer == base) is (sampling != "sobol")
    assert drivers(sc.with_shocks({"leak": False})) == base


def _kernel_vs_reference(sc, n, seed):
    r = simulate(sc, n, seed=seed, keep_draws=True)
    drivers, hits, sev = reference.sample(sc, n, seed)
    for name, x in drivers.items():
        np.testing.assert_allclose(r.draws["drivers"][name], x, rtol=1e-9, atol=1e-12, err_msg=name)
    for name, h in hits.items():
        assert np.array_equal(h, _hits(r)[name]), name
        np.testing.assert_allclose(r.draws["severity"][name][h > 0], sev[name][h > 0], rtol=1e-9)
    ref = reference.evaluate(sc, r.draws["drivers"], _hits(r), r.draws["severity"])
    for name in OUTPUTS:
        m = ~np.isnan(ref[name])
        np.testing.assert_allclose(r[name][m], ref[name][m], rtol=1e-12, atol=0, err_msg=name)
    return r


def test_constant_driver_inside_the_copula_keeps_its_innovation():
    """Pinning a copula-labelled driver (what a tornado does) leaves every other driver's draws
    bit for bit unchanged, as in the numpy reference."""
    import dataclasses

    from distributions import Constant

    sc = make_toy()
    pinned = dataclasses.replace(
        sc,
        drivers=tuple(
            dataclasses.replace(d, dist=Constant(0.01)) if d.name == "growth.a" else d
            for d in sc.drivers
        ),
    )
    base = simulate(sc, 2000, seed=5, keep_draws=True)
    r = _kernel_vs_reference(pinned, 2000, 5)
    assert np.all(r.draws["drivers"]["growth.a"] == np.array([0.3, 0.25, 0.2]) + 0.01)
    for name, x in base.draws["drivers"].items():
        if name != "growth.a":
            assert x.tobytes() == r.draws["drivers"][name].tobytes(), name


def test_forced_shocks_match_the_reference():
    import dataclasses

    from simcore.model.scenario import Forced

    sc = make_toy()
    tech, leak = sc.shocks
    forced = dataclasses.replace(
        sc,
        shocks=(
            dataclasses.replace(tech, forced=(Forced(2025, 1.7),)),
            dataclasses.replace(leak, forced=(Forced(2026),), forced_only=True),
        ),
    )
    r = _kernel_vs_reference(forced, 3000, 12)
    assert r.shock_hit("tech")[:, 0].all()
    assert np.all(r.draws["severity"]["tech"][:, 0] == 1.7)
    leak_hits = r.shock_hit("leak")
    assert leak_hits[:, 1].all() and not leak_hits[:, [0, 2]].any()


def test_identical_tables_are_stored_once():
    """The default scenario's ten truncated normals standardise to three distinct tables
    and its PERT has one; the kernel gets each once (its lookups then fit the L2 cache) and
    every driver the right one."""
    from simcore import default_scenario
    from simcore.model.compile import compile_scenario

    sc = default_scenario()
    ki = compile_scenario(sc, np.random.SeedSequence(1))
    tabbed = [f for f, off in enumerate(ki.drv.offset) if off >= 0]
    assert len(tabbed) == 11
    n = sc.drivers[tabbed[0]].dist.kernel_args()[2].shape[0]
    assert ki.tables.shape[0] == 4 * n
    for f in tabbed:
        off = ki.drv.offset[f]
        assert np.array_equal(ki.tables[off : off + n], sc.drivers[f].dist.kernel_args()[2])
