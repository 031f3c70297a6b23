"""Addressed sampling of named factors: bytes independent of threads, blocks and neighbours."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from distributions import Normal
from distributions.copula import GaussianCopula
from distributions.sampling import METHODS, SobolDesign, draw, lhs_permute
from distributions.streams import stream_key

FACTORS = {"growth": Normal(0.2, 0.1), "margin": Normal(0.33, 0.02), "rate": Normal(0.04, 0.01)}
COP = GaussianCopula(["growth", "margin"], np.array([[1.0, 0.5], [0.5, 1.0]]))


def _digest(d):
    blob = b"".join(np.ascontiguousarray(v).tobytes() for v in d.values())
    return hashlib.sha256(blob).hexdigest()


@pytest.mark.parametrize("sampling", list(METHODS))
def test_block_sizes_give_identical_bytes(sampling):
    ref = draw(FACTORS, 20_000, 1, years=3, sampling=sampling, copula=COP, block_size=10**4)
    for block in (1, 997):
        got = draw(FACTORS, 20_000, 1, years=3, sampling=sampling, copula=COP, block_size=block)
        assert _digest(got) == _digest(ref)


_SCRIPT = """
import hashlib, sys, numpy as np
from distributions import Normal
from distributions.copula import GaussianCopula
from distributions.sampling import draw
f = {"growth": Normal(0.2, 0.1), "margin": Normal(0.33, 0.02), "rate": Normal(0.04, 0.01)}
cop = GaussianCopula(["growth", "margin"], np.array([[1.0, 0.5], [0.5, 1.0]]))
d = draw(f, 50_000, 1, years=3, sampling=sys.argv[1], copula=cop, block_size=1000)
print(hashlib.sha256(b"".join(np.ascontiguousarray(v).tobytes() for v in d.values())).hexdigest())
"""


@pytest.mark.integration  # a second Python process
@pytest.mark.parametrize("sampling", ["mc", "lhs"])
def test_thread_count_1_vs_2_identical_in_subprocesses(sampling):
    digests = set()
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}  # set before numba is imported
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT, sampling],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


@pytest.mark.parametrize("sampling", ["mc", "antithetic", "sobol"])
def test_prefix_property(sampling):
    big = draw(FACTORS, 4000, 2, years=2, sampling=sampling, copula=COP)
    small = draw(FACTORS, 2000, 2, years=2, sampling=sampling, copula=COP)
    rest = draw(FACTORS, 2000, 2, years=2, sampling=sampling, copula=COP, start=2000)
    for k in FACTORS:
        assert big[k][:2000].tobytes() == small[k].tobytes()
        assert big[k][2000:].tobytes() == rest[k].tobytes()


@pytest.mark.parametrize("sampling", ["mc", "antithetic", "lhs"])
def test_factor_isolation(sampling):
    base = draw(FACTORS, 3000, 3, years=2, sampling=sampling, copula=COP)
    added = draw(
        {**FACTORS, "aaa_new": Normal(0, 1)}, 3000, 3, years=2, sampling=sampling, copula=COP
    )
    removed = draw(
        {k: v for k, v in FACTORS.items() if k != "rate"},
        3000,
        3,
        years=2,
        sampling=sampling,
        copula=COP,
    )
    reparam = draw(
        {**FACTORS, "rate": Normal(0.05, 0.02)}, 3000, 3, years=2, sampling=sampling, copula=COP
    )
    for k in FACTORS:
        assert base[k].tobytes() == added[k].tobytes()
        if k != "rate":
            assert base[k].tobytes() == removed[k].tobytes()
            assert base[k].tobytes() == reparam[k].tobytes()
    # and an uncorrelated factor joining the copula leaves the correlated ones unchanged
    cop3 = GaussianCopula(
        ["growth", "margin", "rate"], np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    )
    joined = draw(FACTORS, 3000, 3, years=2, sampling=sampling, copula=cop3)
    for k in ("growth", "margin"):
        assert base[k].tobytes() == joined[k].tobytes()


def test_lhs_hits_every_stratum_once():
    n = 5000
    d = draw(FACTORS, n, 4, years=2, sampling="lhs")
    for k, dist in FACTORS.items():
        u = stats.norm(dist.loc, dist.scale).cdf(d[k])
        for t in range(2):
            strata = np.sort(np.floor(u[:, t] * n).astype(int))
            assert np.array_equal(strata, np.arange(n))
    key = stream_key(0, "x")
    perm = [int(lhs_permute(key[0], key[1], 0, 0, i, 1000)) for i in range(1000)]
    assert sorted(perm) == list(range(1000))


def test_antithetic_pairs_mirror():
    d = draw({"z": Normal(0, 1)}, 1000, 5, sampling="antithetic")["z"]
    np.testing.assert_allclose(d[0::2] + d[1::2], 0.0, atol=1e-12)


def test_sobol_is_more_uniform_than_mc():
    # star discrepancy proxy: KS distance of each margin, Sobol should be far below MC's
    n = 4096
    mc = draw({"z": Normal(0, 1)}, n, 6, sampling="mc")["z"][:, 0]
    sob = draw({"z": Normal(0, 1)}, n, 6, sampling="sobol")["z"][:, 0]
    assert stats.kstest(sob, "norm").statistic < stats.kstest(mc, "norm").statistic / 3
    pts = SobolDesign(3, 0).block(0, 1024)
    assert pts.min() > 0 and pts.max() < 1


def test_draw_validates_inputs():
    with pytest.raises(ValueError, match="n_paths=0"):
        draw(FACTORS, 0, 1)
    with pytest.raises(ValueError, match="sampling='bogus'"):
        draw(FACTORS, 10, 1, sampling="bogus")
    with pytest.raises(TypeError, match="dists"):
        draw({"a": 1.0}, 10, 1)
    with pytest.raises(ValueError, match="not among the factors"):
        draw({"growth": Normal(0, 1)}, 10, 1, copula=COP)
