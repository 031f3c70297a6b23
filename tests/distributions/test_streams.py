"""Philox4x32-10 known answers (Random123 kat_vectors) and addressed-stream properties."""

import numpy as np
import pytest

from distributions.streams import (
    handle_seed,
    philox4x32,
    philox4x32_numpy,
    stream_key,
    uniforms,
    uniforms_numpy,
)

U = np.uint64
# Random123 kat_vectors, philox4x32 10 rounds: (counter, key, expected)
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_philox_known_answers(ctr, key, expected):
    got = philox4x32(*(U(c) for c in ctr), *(U(k) for k in key))
    assert tuple(int(x) for x in got) == expected
    got_np = philox4x32_numpy(*ctr, *key)
    assert tuple(int(x) for x in got_np) == expected


def test_numba_and_numpy_streams_agree():
    key = stream_key(7, "growth.ai_cloud")
    paths = np.arange(1000, 3000)
    for slot in range(4):
        a = uniforms(7, "growth.ai_cloud", 1000, 2000, year=2, slot=slot)
        b = uniforms_numpy(key, paths, 2, slot)
        assert np.array_equal(a, b)


def test_uniforms_are_open_unit_interval_and_prefix_stable():
    u = uniforms(0, "x", 0, 100_000)
    assert u.min() > 0.0 and u.max() < 1.0
    assert np.array_equal(uniforms(0, "x", 0, 50_000), u[:50_000])
    assert np.array_equal(uniforms(0, "x", 50_000, 50_000), u[50_000:])


def test_streams_keyed_by_name_not_position():
    assert not np.array_equal(uniforms(0, "a", 0, 10), uniforms(0, "b", 0, 10))
    assert np.array_equal(uniforms(0, "a", 0, 10), uniforms(0, "a", 0, 10))
    assert not np.array_equal(uniforms(0, "a", 0, 10), uniforms(1, "a", 0, 10))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "5", np.float64(3.0)])
def test_bad_seeds_rejected(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        handle_seed(bad)


def test_seed_zero_is_a_seed_and_none_is_recorded():
    assert handle_seed(0).entropy == 0
    ss = handle_seed(None)
    assert isinstance(ss.entropy, int)
    assert np.array_equal(uniforms(ss, "x", 0, 5), uniforms(ss.entropy, "x", 0, 5))


def test_uniform_run_is_the_addressed_stream():
    """The kernel's row form (one key, consecutive paths, both slots of a pair) gives the bytes
    of the addressed scalar form, also across the 2**32 boundary of the path's low word."""
    from distributions.streams import uniform_pairs, uniform_run

    key = stream_key(11, "driver.wacc")
    for start in (0, 2**32 - 300):
        for year, pair in ((0, 0), (7, 3)):
            out0, out1 = np.empty(600), np.empty(600)
            uniform_run(key[0], key[1], start, year, pair, out0, out1)
            paths = np.arange(start, start + 600, dtype=np.uint64)
            assert np.array_equal(out0, uniforms_numpy(key, paths, year, 2 * pair))
            assert np.array_equal(out1, uniforms_numpy(key, paths, year, 2 * pair + 1))
            a, b = np.empty(1), np.empty(1)
            uniform_pairs(key[:1], key[1:], start + 599, year, pair, a, b)
            assert (a[0], b[0]) == (out0[599], out1[599])
