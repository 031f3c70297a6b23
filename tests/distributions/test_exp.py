"""distributions._exp.exp: within one ulp of exact, the special values of math.exp, and the same
bits from its pure-Python form."""

import math
import struct
import subprocess
import sys

import mpmath
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distributions._exp import exp


@numba.njit(cache=False)
def _exp_many(x, out):
    for i in range(x.size):  # a loop LLVM vectorises: the kernels' use
        out[i] = exp(x[i])


@numba.njit(cache=False)
def _exp_one(x):
    return exp(x)


def _ulps_from_exact(x: float, y: float) -> float:
    with mpmath.workprec(200):
        exact = mpmath.exp(mpmath.mpf(x))
        return float(abs(mpmath.mpf(y) - exact) / mpmath.mpf(math.ulp(float(exact))))


def _grid():
    rng = np.random.default_rng(2025)
    return np.concatenate(
        [
            rng.uniform(-0.5, 0.5, 4000),
            rng.normal(0.0, 3.0, 4000),
            rng.uniform(-745.2, 709.8, 4000),
            np.linspace(-745.2, -708.0, 500),  # gradual underflow
            np.array([0.5 * math.log(2.0) * j for j in range(-8, 9)]),  # reduction boundaries
            # the worst found by a search of ~5e8 inputs (0.990 and 0.985 ulp: r near -ln(2)/2)
            np.array([-105.70332930557872, -527.1370042539503]),
        ]
    )


def test_within_one_ulp_of_exact():
    x = _grid()
    y = np.empty_like(x)
    _exp_many(x, y)
    ulps = [
        _ulps_from_exact(float(a), float(b)) for a, b in zip(x, y, strict=True) if float(b) != 0.0
    ]
    assert max(ulps) <= 1.0


def test_agrees_with_libm_to_one_ulp_and_mostly_exactly():
    x = np.random.default_rng(7).normal(0.0, 2.0, 200_000)
    y = np.empty_like(x)
    _exp_many(x, y)
    ref = np.array([math.exp(v) for v in x])
    diff = np.abs(y.view(np.int64) - ref.view(np.int64))
    assert diff.max() <= 1
    assert (diff == 0).mean() > 0.8


@pytest.mark.parametrize(
    "x, want",
    [
        (0.0, 1.0),
        (-0.0, 1.0),
        (math.inf, math.inf),
        (-math.inf, 0.0),
        (709.78, math.exp(709.78)),
        (709.79, math.inf),
        (1e300, math.inf),
        (-745.13, 5e-324),
        (-745.14, 0.0),
        (-1e300, 0.0),
        (-708.5, math.exp(-708.5)),
    ],
)
def test_special_values(x, want):
    assert _exp_one(x) == want
    v = np.array([x] * 17)  # the vectorised loop as well as its remainder
    out = np.empty_like(v)
    _exp_many(v, out)
    assert np.all(out == want)


def test_nan_stays_nan():
    assert math.isnan(_exp_one(math.nan))
    out = np.empty(9)
    _exp_many(np.full(9, np.nan), out)
    assert np.isnan(out).all()


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-800.0, max_value=800.0))
def test_scalar_and_loop_give_the_same_bits(x):
    out = np.empty(1)
    _exp_many(np.array([x]), out)
    assert struct.pack("<d", out[0]) == struct.pack("<d", _exp_one(x))


@pytest.mark.integration  # a second Python process
def test_pure_python_form_gives_the_same_bits():
    """With NUMBA_DISABLE_JIT=1 (the nojit check, coverage) exp runs as Python, bit for bit."""
    x = _grid()[::40]
    y = np.empty_like(x)
    _exp_many(x, y)
    code = (
        "import sys, numpy as np; from distributions._exp import exp; "
        "x = np.frombuffer(sys.stdin.buffer.read()); "
        "sys.stdout.buffer.write(np.array([exp(float(v)) for v in x]).tobytes())"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        input=x.tobytes(),
        capture_output=True,
        env={**__import__("os").environ, "NUMBA_DISABLE_JIT": "1"},
        check=True,
    )
    assert np.frombuffer(res.stdout).tobytes() == y.tobytes()
