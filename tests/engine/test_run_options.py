"""RunOptions: one object checks every run argument, for the engine, the analyses and the CLI."""

import numpy as np
import pytest
from conftest import make_toy

from simcore.analysis import sensitivity, stress
from simcore.engine import core
from simcore.engine.run_options import RunOptions, result_bytes


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_paths": 0}, ValueError, r"n_paths=0 must be an integer >= 1"),
        ({"n_paths": 1.5}, TypeError, r"n_paths=1.5 must be an integer >= 1; got float"),
        ({"horizon": 0}, ValueError, r"horizon=0 must be an integer in \[1, "),
        ({"threads": 0}, ValueError, r"threads=0 must be an integer >= 1"),
        ({"sampling": "qmc"}, ValueError, r"sampling='qmc'"),
        ({"n_paths": 3, "sampling": "antithetic"}, ValueError, r"n_paths=3 must be even"),
        ({"seed": -1}, ValueError, r"seed"),
        ({"keep_draws": 1}, TypeError, r"keep_draws=1 must be True or False"),
        ({"start": 5, "n_total": 6, "n_paths": 2}, ValueError, r"n_total=6 must be an integer"),
    ],
)
def test_every_argument_is_checked_with_a_message_naming_it(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        RunOptions.checked(**kwargs)


def test_checked_values_are_python_ints_and_the_seed_is_kept_as_given():
    rng = np.random.default_rng(3)
    opts = RunOptions.checked(np.int64(10), rng, np.int32(2), threads=np.int16(1))
    assert (type(opts.n_paths), type(opts.horizon), type(opts.threads)) == (int, int, int)
    assert opts.seed is rng and opts.n_total == 10
    assert opts.scenario(make_toy()).horizon == 2


def test_memory_needed_is_the_stored_results_and_the_budget_is_the_limit():
    sc = make_toy()
    opts = RunOptions.checked(1000, 1, keep_draws=True, memory_limit=12345)
    need, limit = opts.memory_needed(sc)
    assert need == result_bytes(
        1000, sc.horizon, len(sc.segments), len(sc.drivers), len(sc.shocks), keep_draws=True
    )
    assert limit == 12345
    with pytest.raises(MemoryError, match="n_paths=1000 x horizon="):
        opts.check_memory(sc)


def test_a_refused_run_draws_nothing_from_a_generator():
    rng = np.random.default_rng(7)
    state = rng.bit_generator.state
    with pytest.raises(MemoryError):
        core.simulate(make_toy(), 10**6, seed=rng, memory_limit=1)
    assert rng.bit_generator.state == state  # the memory check comes before the seed
    a = core.simulate(make_toy(), 100, seed=rng)
    b = core.simulate(make_toy(), 100, seed=np.random.default_rng(7))
    assert np.array_equal(a["net_profit_attributable"], b["net_profit_attributable"])


@pytest.mark.parametrize(
    "analysis",
    [
        lambda sc, **kw: sensitivity.one_at_a_time(sc, ("median", "revenue", None), **kw),
        lambda sc, **kw: stress.attribution(sc, **kw),
        lambda sc, **kw: stress.compare_stresses(sc, [stress.Stress("s", "why")], **kw),
    ],
)
def test_analyses_check_their_run_arguments_before_any_run(analysis, monkeypatch):
    def no_run(*_a, **_k):  # pragma: no cover - reached only if the check came too late
        raise AssertionError("a simulation ran before the arguments were checked")

    monkeypatch.setattr(sensitivity, "simulate", no_run)
    monkeypatch.setattr(stress, "simulate", no_run)
    with pytest.raises(ValueError, match="n_paths=3 must be even for sampling='antithetic'"):
        analysis(make_toy(), n_paths=3, sampling="antithetic")
    with pytest.raises(ValueError, match="n_paths=0 must be an integer >= 1"):
        analysis(make_toy(), n_paths=0)
