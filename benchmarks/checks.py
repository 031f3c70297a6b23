"""Validators run before anything is timed: each benchmarked variant against the numpy baseline.

- Simulation runs: the last ``CHECK_PATHS`` paths of the timed configuration are recomputed as a
  block of their own with ``keep_draws=True`` (draws are addressed, so a block equals the same
  paths of the full run, for every sampling method) and must equal the full run bit for bit; the
  numpy reference (:func:`simcore.model.equations.evaluate`) on that block's draws must reproduce
  its
  outputs to 1e-12 relative (the tests' tolerance).
- Quantiles: identical to ``np.nanquantile`` (linear method).
- The numpy reference and the pure-Python loop sample for themselves and are compared with the
  kernel on the same paths.
"""

from __future__ import annotations

import numpy as np

from simcore.engine.core import simulate
from simcore.model import equations as reference
from simcore.model.scenario import OUTPUTS

from .harness import CHECK_PATHS, output_names


def _hits(result) -> dict:
    return {s.name: result.shock_hit(s.name).astype(np.float64) for s in result.scenario.shocks}


def assert_matches_reference(result) -> None:
    """``result`` (run with ``keep_draws=True``) against the numpy model on its own draws."""
    if result.draws is None:
        raise ValueError("assert_matches_reference needs a result simulated with keep_draws=True")
    sc = result.scenario
    ref = reference.evaluate(sc, result.draws["drivers"], _hits(result), result.draws["severity"])
    for name in OUTPUTS:
        a, b = result[name], ref[name]
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            raise AssertionError(f"{name}: NaN pattern differs from the numpy reference")
        m = ~np.isnan(b)
        np.testing.assert_allclose(a[m], b[m], rtol=1e-12, atol=0, err_msg=name)
    seg = np.stack([result[f"revenue.{s}"] for s in sc.segment_names], axis=1)
    np.testing.assert_allclose(seg, ref["segment_revenue"], rtol=1e-12, atol=0)


def check_simulation(result, *, seed, sampling: str = "mc", check_paths: int = CHECK_PATHS) -> None:
    """The tail of a timed run equals a ``keep_draws`` block of the same paths, which matches the
    numpy reference on its draws."""
    n = result.n_paths
    m = min(check_paths, n)
    if sampling == "antithetic":
        m -= m % 2
    start = n - m
    sc = result.scenario
    tail = simulate(sc, m, seed=seed, sampling=sampling, start=start, keep_draws=True)
    for name in output_names(sc):
        np.testing.assert_array_equal(result[name][start:], tail[name], err_msg=name)
    np.testing.assert_array_equal(result.hits[start:], tail.hits)
    assert_matches_reference(tail)


def check_quantiles(ours, x2d, q) -> None:
    """``ours`` (rows x levels) equals ``np.nanquantile`` of the rows of ``x2d``, bit for bit."""
    want = np.nanquantile(x2d, q, axis=-1).T
    np.testing.assert_array_equal(ours, want)


def assert_close_to_kernel(outputs: dict, kernel_result, *, rtol: float) -> None:
    """Outputs of an independent implementation (dict name -> (m, H)) against the first m paths of
    a kernel run. NaN patterns must agree; values to ``rtol`` (absolute floor ``rtol`` times the
    output's largest magnitude, for values that cancel to near zero)."""
    for name in OUTPUTS:
        a = np.asarray(outputs[name])
        b = kernel_result[name][: a.shape[0]]
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            raise AssertionError(f"{name}: NaN pattern differs from the kernel")
        m = ~np.isnan(b)
        scale = float(np.max(np.abs(b[m]))) if m.any() else 0.0
        np.testing.assert_allclose(a[m], b[m], rtol=rtol, atol=rtol * scale, err_msg=name)


def drawn_values(fig) -> np.ndarray:
    """Every x and y value of every line drawn in ``fig`` (medians are drawn as lines)."""
    vals = []
    for ax in fig.axes:
        for line in ax.get_lines():
            for data in (line.get_xdata(), line.get_ydata()):
                arr = np.asarray(data, dtype=object).ravel()
                vals.append(np.array([float(v) for v in arr], dtype=np.float64))
    return np.concatenate(vals) if vals else np.empty(0)


def check_chart_medians(fig, medians: np.ndarray) -> None:
    """Each value of ``medians`` (numpy's median of a charted output) is drawn in ``fig``."""
    drawn = drawn_values(fig)
    for v in np.ravel(medians):
        if not np.isclose(drawn, v, rtol=1e-12, atol=0).any():
            raise AssertionError(f"the numpy median {v!r} is not among the chart's drawn lines")
