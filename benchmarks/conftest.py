"""pytest-benchmark wiring for ``python -m pytest benchmarks`` (not collected by the default run:
``testpaths = ["tests"]``).

Every benchmark warms the JIT up and validates the variant against the numpy baseline before
``benchmark.pedantic`` times it (``ROUNDS`` rounds, no warm-up rounds: the warm-up is explicit).
:func:`benchmarks.harness.record` files each benchmark under a group, with its size in
``extra_info``; at the end a table of nanoseconds per path-year (median round) is printed for the
simulation benchmarks.
"""

from __future__ import annotations

import numba
import pytest

from .harness import LARGE, ROUNDS, ROWS, TINY, all_threads


def pytest_report_header(config):
    return (
        f"simcore benchmarks: tiny={TINY} large={LARGE} rounds={ROUNDS} "
        f"numba threads={all_threads()}"
    )


@pytest.fixture(autouse=True)
def _restore_threads():
    """``simulate(threads=...)`` sets numba's global thread count; put it back after each test."""
    n = numba.get_num_threads()
    yield
    numba.set_num_threads(n)


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's tables
def pytest_terminal_summary(terminalreporter):
    if not ROWS:
        return
    tr = terminalreporter
    tr.section("simcore: nanoseconds per path-year (median round)")
    width = max(len(name) for _, name, _, _ in ROWS)
    for group, name, py, med in ROWS:
        tr.write_line(
            f"{name:<{width}}  {med:9.4f} s  {med / py * 1e9:9.1f} ns/path-year"
            f"  {py / med / 1e6:8.2f} M path-years/s   [{group}]"
        )
