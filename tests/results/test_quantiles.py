"""Fast exact quantiles equal np.nanquantile bit for bit."""

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from simcore import default_scenario
from simcore.model.scenario import OUTPUTS
from simcore.results import quantiles as _quantiles
from simcore.results.quantiles import quantiles, quantiles_rows
from simcore.results.result import DEFAULT_Q, SimulationResult

REPO = Path(__file__).resolve().parents[2]
Q = np.array([0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0])


@pytest.mark.parametrize(
    "make",
    [
        lambda r: r.normal(size=(4, 200_001)),
        lambda r: r.lognormal(0, 3, size=(3, 100_000)),  # heavy right tail
        lambda r: np.where(r.random((3, 100_000)) < 0.6, 0.0, r.random((3, 100_000))),  # mass
        lambda r: r.integers(0, 5, size=(3, 70_001)).astype(float),  # ties
        lambda r: r.standard_cauchy(size=(2, 100_000)),
        lambda r: r.normal(size=(2, 9)),
    ],
)
def test_equals_numpy(make):
    x = make(np.random.default_rng(0))  # seed 0: any seed works, fixed for golden bytes
    x[0, ::13] = np.nan
    got = quantiles(x, Q)
    want = np.nanquantile(x, Q, axis=-1).T
    assert got.tobytes() == want.tobytes()


def _edge_rows(r):
    """Rows that stress the bucket selection: ranges too wide or too narrow for equal-width
    buckets, point masses, infinities, NaNs, values the strided pilot never sees."""
    n = 60_000
    x = r.normal(size=n)
    yield x.copy()
    yield r.lognormal(0, 3, n)
    yield r.lognormal(0, 5, n)  # several bucket passes
    yield 2.0 ** r.uniform(-1000, 1000, n)  # a pass hardly splits: sorted instead
    yield np.full(n, 3.25)
    yield np.where(r.random(n) < 0.3, 1.0, r.random(n))  # point mass at the top
    yield np.where(r.random(n) < 0.3, 0.5, np.round(r.random(n), 3))  # in the middle
    yield np.where(r.random(n) < 0.999, 7.0, x)
    yield np.where(r.random(n) < 0.5, 1e-300, 1e300) * r.random(n)  # 1e-300 and 1e300
    yield np.where(r.random(n) < 0.5, -1.7e308, 1.7e308) * r.random(n)  # hi - lo overflows
    yield x * 1e-310  # subnormal
    yield np.sort(x)
    yield np.sort(x)[::-1].copy()
    yield np.r_[np.sort(x[: n // 2]), np.sort(x[n // 2 :])[::-1]]  # organ pipe
    yield r.integers(0, 2, n).astype(float)  # two values
    yield np.sort(np.round(x, 1)) + 0.0  # ties (+ 0.0: no -0.0, see test_signed_zeros)
    yield np.r_[np.zeros(n - 5), x[:5]]
    yield np.where(np.arange(n) % 4096 == 0, 1e12, x)  # outliers exactly at the pilot's points
    y = x.copy()
    y[:3], y[3:5] = np.inf, -np.inf
    yield y
    yield np.where(np.arange(n) % 2 == 0, np.inf, x)
    yield np.where(np.arange(n) % 3 == 0, -np.inf, np.inf)
    yield np.where(np.arange(n) % 3 == 0, np.nan, np.inf)
    yield np.where(r.random(n) < 0.99, np.nan, x)
    yield np.full(n, np.nan)
    for m in (1, 2, 3, 4097):
        yield r.normal(size=m)
    yield np.array([np.nan, 2.0])
    yield np.full(3, np.nan)


@pytest.mark.parametrize("q", [Q, [0.0, 1.0, 0.5, 1e-9], [1 - 1e-9, 1 / 3], [0.0], [1.0]])
def test_edge_cases_equal_numpy(q):
    for i, x in enumerate(_edge_rows(np.random.default_rng(5))):  # seed 5: arbitrary, fixed
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slice
            want = np.nanquantile(x, q)
        assert quantiles(x, q).tobytes() == want.tobytes(), i


def _select_cases(r):
    """Arrays for :func:`_select`: orders and ties that defeat a naive quickselect."""
    for n in (1, 2, 3, 10, 1000):
        yield r.normal(size=n)
    x = r.normal(size=20_000)
    yield x
    yield np.sort(x)
    yield np.sort(x)[::-1].copy()
    yield np.r_[np.sort(x[:10_000]), np.sort(x[10_000:])[::-1]]  # organ pipe
    yield np.full(20_000, -2.5)
    yield r.integers(0, 2, 20_000).astype(float)
    yield r.integers(0, 7, 20_000).astype(float)
    yield np.where(r.random(20_000) < 0.6, 0.0, x)
    yield np.r_[x[:50], np.full(19_950, np.inf), -np.inf]


def test_select_finds_order_statistics():
    r = np.random.default_rng(7)  # seed 7: arbitrary, fixed
    for i, x in enumerate(_select_cases(r)):
        want = np.sort(x)
        for ranks in (
            np.arange(x.size),
            np.array([0]),
            np.array([x.size - 1]),
            np.unique(r.integers(0, x.size, 25)),
            np.unique(r.integers(0, x.size, 2)),
        ):
            v = x.copy()
            out = np.empty(ranks.size)
            _quantiles._select(v, ranks, out)
            assert out.tobytes() == want[ranks].tobytes(), i
            assert np.array_equal(np.sort(v), want), i  # a permutation of x


def _time(f, *args):
    t = time.perf_counter()
    f(*args)
    return time.perf_counter() - t


def test_large_rows_of_ties_and_sorted_runs_equal_numpy_and_stay_fast():
    """Rows of 10**6 where a quickselect with a poor pivot or a two-way split goes quadratic
    (hours): ties (point masses, two values), sorted and reversed runs. Each must take about
    as long as numpy's partition, whatever the machine's load (5x margin)."""
    r = np.random.default_rng(8)  # seed 8: arbitrary, fixed
    n = 1_000_000
    x = r.normal(size=n)
    rows = {
        "60% zeros": np.where(r.random(n) < 0.6, 0.0, x),
        "all equal": np.full(n, 1.5),
        "two values": r.integers(0, 2, n).astype(float),
        "sorted": np.sort(x),
        "reversed": np.sort(x)[::-1].copy(),
        "organ pipe": np.r_[np.sort(x[: n // 2]), np.sort(x[n // 2 :])[::-1]],
        "sorted ties": np.sort(np.round(x, 2)) + 0.0,
        "spread over octaves": 2.0 ** r.uniform(-1000, 1000, n),  # selected, not bucketed
    }
    q = np.r_[Q, np.linspace(0.0, 1.0, 101)]  # many ranks in one point mass
    quantiles(rows["sorted"], q)  # compiled
    for name, row in rows.items():
        want = np.nanquantile(row, q)
        assert quantiles(row, q).tobytes() == want.tobytes(), name
        ours = min(_time(quantiles, row, q) for _ in range(3))
        numpy = min(_time(np.nanquantile, row, q) for _ in range(3))
        assert ours < 5 * numpy + 0.05, (name, ours, numpy)


_COMPILE_SCRIPT = """
import json, sys, time
import numpy as np
from simcore.results import quantiles as m
x = np.random.default_rng(9).lognormal(0, 5, size=(2, 100_000))  # re-bucketing as well
t = time.perf_counter()
m.quantiles(x, [0.01, 0.5, 1.0])
seconds = time.perf_counter() - t
sigs = {f.__name__: [str(s) for s in f.signatures]
        for f in (m._row_quantiles, m._histogram, m._gather, m._select)}
json.dump({"seconds": seconds, "signatures": sigs}, sys.stdout)
"""


@pytest.mark.integration  # a second Python process
def test_each_function_compiles_once_on_first_run(tmp_path):
    """First-run compile time (see the module docstring): in a fresh process with an empty
    numba cache, every jitted function is compiled for one set of argument types. A constant
    passed as an argument would add a ``Literal[int]`` specialisation, 0.2-0.7 s each."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), NUMBA_DISABLE_JIT="0")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-c", _COMPILE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(proc.stdout)
    for name, sigs in result["signatures"].items():
        assert len(sigs) == 1, (name, sigs)
    print(f"first call, compiling: {result['seconds']:.1f} s")


def test_rows_of_several_arrays_in_one_call():
    r = np.random.default_rng(2)  # seed 2: arbitrary, fixed
    a = r.normal(size=(3, 50_000))
    b = r.lognormal(size=(20_000, 2))  # columns: not contiguous, copied
    rows = [a[0], b[:, 1], np.array([np.nan]), a[2], r.random(7)]
    got = quantiles_rows(rows, Q)
    assert got.shape == (5, Q.size)
    for row, g in zip(rows, got, strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            assert g.tobytes() == np.nanquantile(row, Q).tobytes()
    assert quantiles_rows([], Q).shape == (0, Q.size)


def _synthetic_result(n=30_000, horizon=2):
    """A SimulationResult over made-up arrays (no kernel): P/E NaN on a third of the paths."""
    sc = default_scenario().with_horizon(horizon)
    r = np.random.default_rng(4)  # seed 4: arbitrary, fixed
    out = r.lognormal(3, 1, size=(len(OUTPUTS), horizon, n))
    out[OUTPUTS.index("price_pe"), :, r.random(n) < 0.3] = np.nan
    out[OUTPUTS.index("price_dcf")] = np.maximum(out[OUTPUTS.index("price_dcf")] - 20, 0)
    seg = r.normal(100, 30, size=(len(sc.segment_names), horizon, n))
    hits = np.zeros((horizon, n), np.uint32)
    return SimulationResult(sc, out, seg, hits, {})


def test_quantile_table_equals_numpy_per_output_and_year():
    res = _synthetic_result()
    table = res.quantile_table()
    assert table.index.names == ["output", "year"]
    assert table.columns.name == "q" and list(table.columns) == list(DEFAULT_Q)
    assert table.shape == (len(res.names) * res.horizon, len(DEFAULT_Q))
    assert list(table.index.get_level_values("output").unique()) == res.names
    assert any(name.startswith("revenue.") for name in res.names)
    for name in res.names:
        for t, year in enumerate(res.years):
            want = np.nanquantile(res[name][:, t], DEFAULT_Q)
            assert table.loc[(name, year)].to_numpy().tobytes() == want.tobytes(), name
        assert table.loc[name].to_numpy().tobytes() == res.quantiles(name).to_numpy().tobytes()


def test_quantile_table_outputs_and_levels():
    res = _synthetic_result(n=5_000)
    one = res.quantile_table([0.5], outputs="price_pe")
    assert one.shape == (res.horizon, 1)
    want = res.quantiles("price_pe", [0.5]).to_numpy()
    assert one.loc["price_pe"].to_numpy().tobytes() == want.tobytes()
    two = res.quantile_table(q=(0.0, 1.0), outputs=["revenue.other", "eps"])
    assert list(two.index.get_level_values("output").unique()) == ["revenue.other", "eps"]
    with pytest.raises(KeyError, match="unknown output"):
        res.quantile_table(outputs=["nope"])
    with pytest.raises(ValueError, match="q="):
        res.quantile_table(q=[0.5, 1.5])


def test_all_nan_row_gives_nan_and_bad_q_raises():
    x = np.full((1, 10), np.nan)
    assert np.isnan(quantiles(x, [0.5])).all()
    with pytest.raises(ValueError, match="q="):
        quantiles(np.zeros(3), [1.5])
    assert quantiles(np.zeros((2, 5)), []).shape == (2, 0)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(1, 300),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
    ),
    st.lists(st.floats(0, 1), min_size=1, max_size=5),
)
def test_property_equals_numpy(x, q):
    assert quantiles(x, q).tobytes() == np.quantile(x, q).tobytes()


def test_row_moments_match_numpy_with_nan():
    from simcore.results.moments import row_moments

    x = np.random.default_rng(3).lognormal(0, 1, size=(3, 50_001))  # seed 3: arbitrary, fixed
    x[1, ::5] = np.nan
    x[2] = np.nan
    n, mean, m2, m4 = row_moments(x)
    assert n.tolist() == [50_001, 40_000, 0]
    for r in range(2):
        v = x[r][~np.isnan(x[r])]
        np.testing.assert_allclose(mean[r], v.mean(), rtol=1e-13)
        np.testing.assert_allclose(m2[r], ((v - v.mean()) ** 2).mean(), rtol=1e-11)
        np.testing.assert_allclose(m4[r], ((v - v.mean()) ** 4).mean(), rtol=1e-11)
    assert np.isnan(mean[2]) and np.isnan(m2[2])


def test_signed_zeros_equal_numpy_up_to_the_sign():
    """Where a row holds both -0.0 and 0.0, which of them lands at a rank depends on how the
    values were partitioned (numpy's introselect, this module's buckets and quickselect), so
    a zero quantile may differ from numpy's in its sign bit only: equal as numbers."""
    r = np.random.default_rng(6)  # seed 6: arbitrary, fixed
    for n in (50, 5_000, 100_000):
        x = np.where(r.random(n) < 0.5, -0.0, 0.0)
        y = r.normal(size=n)
        for row in (x, np.where(r.random(n) < 0.3, y, x), np.round(y, 1)):  # round: -0.0 too
            assert np.array_equal(quantiles(row, Q), np.nanquantile(row, Q))
