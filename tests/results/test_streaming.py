"""The lane reductions of streamed summaries (simcore.results.streaming): a block's paths in
``LANES`` interleaved lanes, each in path order, the lanes merged pairwise in a fixed tree (the
GPU backend runs the same operations, one thread per lane). Checked against numpy's moments and
tail sums to rounding, and for the properties the engine relies on: empty parts merge away
exactly, and blocks combine in block order whatever order they arrive in."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.results import streaming
from simcore.results.streaming import InOrder, block_moments, merge_moments, tail_sums


def _numpy_moments(x):
    v = x[~np.isnan(x)]
    d = v - v.mean()
    return np.array([v.size, v.mean(), (d**2).sum(), (d**3).sum(), (d**4).sum()])


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 3000),
    seed=st.integers(0, 2**32 - 1),
    nan_every=st.sampled_from([0, 2, 7, 1000]),
    scale=st.sampled_from([1e-3, 1.0, 1e6]),
)
def test_block_moments_are_the_moments(n, seed, nan_every, scale):
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0.0, 1.0, n) * scale - scale  # skewed, either sign
    if nan_every:
        x[::nan_every] = np.nan
    got = block_moments([x])[0]
    if np.isnan(x).all():
        assert got.tolist() == [0.0] * 5  # nothing defined: an empty part
        return
    want = _numpy_moments(x)
    assert got[0] == want[0]  # the count is exact
    spread = np.sqrt(want[2] / want[0]) + scale * 1e-300
    assert abs(got[1] - want[1]) <= 1e-12 * (abs(want[1]) + spread)
    for k in (2, 3, 4):  # central sums, relative to their natural scale
        size = want[0] * spread**k
        assert abs(got[k] - want[k]) <= 1e-10 * size + 1e-300


def test_merging_an_empty_part_changes_nothing():
    x = np.random.default_rng(1).normal(size=(3, 1000))
    m = block_moments(list(x))
    empty = np.zeros_like(m)
    assert merge_moments(m, empty).tobytes() == m.tobytes()
    assert merge_moments(empty, m).tobytes() == m.tobytes()


def test_merged_halves_are_the_whole_to_rounding():
    x = np.random.default_rng(2).standard_t(5, size=20_000)
    whole = block_moments([x])[0]
    halves = merge_moments(block_moments([x[:7_000]]), block_moments([x[7_000:]]))[0]
    assert halves[0] == whole[0]
    np.testing.assert_allclose(halves[1:], whole[1:], rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("lanes", [1, 2, 5, 512])
def test_any_lane_count_folds_every_lane(monkeypatch, lanes):
    """The tree reaches every lane for any count (the GPU's thread block uses lanes // 2
    threads): the count is exact and the moments those of the data."""
    monkeypatch.setattr(streaming, "LANES", lanes)
    x = np.random.default_rng(3).normal(3.0, 2.0, 1234)
    got = block_moments([x])[0]
    want = _numpy_moments(x)
    assert got[0] == 1234
    np.testing.assert_allclose(got[1:], want[1:], rtol=1e-11)


def test_tail_sums_are_the_sums_at_or_below_each_cut():
    x = np.random.default_rng(4).normal(size=5000)
    x[::9] = np.nan
    cuts = np.array([-1.5, 0.0, np.inf, -np.inf])
    got = tail_sums(x, cuts)
    for j, cut in enumerate(cuts):
        tail = x[x <= cut]
        assert got[j, 0] == tail.size
        np.testing.assert_allclose(
            got[j, 1:], [tail.sum(), (tail**2).sum()], rtol=1e-12, atol=1e-12
        )


def test_blocks_combine_in_block_order_whatever_order_they_arrive_in():
    rng = np.random.default_rng(5)
    parts = [
        block_moments(list(rng.normal(size=(2, n)) * 10.0**k))
        for k, n in enumerate((9, 3000, 1, 400))
    ]
    start = np.zeros((2, 5))
    in_order = InOrder(start, merge_moments)
    for i, p in enumerate(parts):
        in_order.add(i, p)
    shuffled = InOrder(start, merge_moments)
    for i in (2, 0, 3, 1):
        shuffled.add(i, parts[i])
    assert shuffled.total.tobytes() == in_order.total.tobytes()
    # sums where the order shows: 1e16 + 1 + 1 is 1e16 left to right, 1e16 + 2 right to left
    values = [np.array([1e16]), np.array([1.0]), np.array([1.0])]
    sums = InOrder(np.zeros(1), np.add)
    for i in (2, 1, 0):  # the last block first
        sums.add(i, values[i])
    assert sums.total.tolist() == [1e16]  # ((0 + 1e16) + 1) + 1, in block order
    assert (values[2] + values[1] + values[0]).tolist() == [1e16 + 2]  # arrival order differs


def _streamed_median(blocks, order_of_arrival):
    """The exact median of the concatenated ``blocks`` through OrderStatistics, with every
    pass's block parts added in ``order_of_arrival``."""
    from simcore.results.streaming import OrderStatistics, pilot_brackets, quantile_ranks

    whole = np.concatenate(blocks)
    n, levels = whole.size, np.array([0.5])
    order = OrderStatistics(1, max_values=1000)
    plan = pilot_brackets([blocks[0]], lambda m: levels)
    order.start(plan)
    for i in order_of_arrival:
        order.add(OrderStatistics.part([blocks[i]], plan))
    prev, nxt, _gamma = quantile_ranks(n, levels)
    ranks = sorted({int(prev[0]), int(nxt[0])})
    order.seek(0, n, ranks)
    order.pass1_done()
    while (plan := order.plan()) is not None:
        for i in order_of_arrival:
            order.add(OrderStatistics.part([blocks[i]], plan))
        order.end_pass()
    return [order.found[0][r] for r in ranks]


def test_a_collected_zero_does_not_take_its_sign_from_the_order_of_arrival():
    """-0.0 and +0.0 share one key, so a collected bucket can hold both; the value found is
    +0.0 whichever block arrived first (the GPU collects in atomic order, Dask in completion
    order)."""
    tiny = 5e-324  # the keys next to zero's: the median's sub-bucket holds several keys
    blocks = [
        np.array([-0.0] * 6 + [1.0] * 4 + [tiny] * 2),
        np.array([0.0] * 6 + [-1.0] * 4 + [-tiny] * 2),
    ]
    a = _streamed_median(blocks, [0, 1])
    b = _streamed_median(blocks, [1, 0])
    assert np.array(a).tobytes() == np.array(b).tobytes() == np.zeros(2).tobytes()
