"""The kernel's one argument record: the layout it derives from and numba's cache of it."""

import dataclasses
import json
import os
import subprocess
import sys
import typing

import numpy as np
import pytest

from simcore import default_scenario, simulate
from simcore.model import _kernel, layout
from simcore.model.compile import Buffers, CompiledScenario, Packed, allocate, compile_scenario


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record._fields}


def test_the_record_holds_only_arrays_and_numbers():
    rec = compile_scenario(default_scenario(), np.random.SeedSequence(1))
    assert isinstance(rec, CompiledScenario) and isinstance(rec.drv, Packed)
    for name, value in _fields(rec).items():
        if isinstance(value, Packed):
            assert all(isinstance(v, np.ndarray) for v in value), name
        else:
            assert isinstance(value, np.ndarray | float), (name, type(value))
    hints = typing.get_type_hints(CompiledScenario)
    assert set(hints) == set(CompiledScenario._fields)  # every field is declared and typed


def test_kernel_indices_come_from_the_layout():
    for names, index in (
        (layout.OUTPUTS, layout.OUT),
        (layout.FIXED_DRIVERS, layout.ROLE),
        (tuple(layout.SHOCK_TARGETS), layout.TARGET),
        (layout.SCHED_ROWS, layout.SCHED),
        (layout.LINES, layout.LINE),
    ):
        assert list(index) == list(names) and list(index.values()) == list(range(len(names)))
    assert _kernel.O_DCF == layout.OUTPUTS.index("price_dcf")
    assert (_kernel.L_REV, _kernel.L_NPA, _kernel.L_EQ) == (
        layout.LINES.index("revenue"),
        layout.LINES.index("net_profit_attributable"),
        layout.LINES.index("equity"),
    )
    assert _kernel.R_WACC == layout.FIXED_DRIVERS.index("wacc")
    assert _kernel.T_MULT == list(layout.SHOCK_TARGETS).index("multiple")
    assert _kernel.S_REPAY == layout.SCHED_ROWS.index("repayment")
    assert _kernel.N_TARGETS == len(layout.SHOCK_TARGETS)
    # the segment targets come first: the kernel indexes its segment effects by target code
    assert list(layout.SHOCK_TARGETS)[: len(layout.SEGMENT_TARGETS)] == list(layout.SEGMENT_TARGETS)
    # every output but the DCF is a statement line, and the kernel copies the right one
    rec = compile_scenario(default_scenario(), np.random.SeedSequence(1))
    assert set(layout.OUTPUTS) - set(layout.LINES) == {"price_dcf", "dcf_terminal_share"}
    for line, j in zip(layout.LINES, rec.line_out, strict=True):
        assert j == (layout.OUTPUTS.index(line) if line in layout.OUTPUTS else -1)


def test_schedule_rows_follow_the_layout():
    sc = default_scenario()
    rec = compile_scenario(sc, np.random.SeedSequence(1))
    H = sc.horizon
    assert rec.sched.shape == (len(layout.SCHED_ROWS), H)
    for row in ("repayment", "receivables_ratio", "other_current_assets_ratio", "minority_share"):
        values = list(getattr(sc, row))[:H]
        values += [values[-1]] * (H - len(values))  # a schedule holds its last value
        np.testing.assert_array_equal(rec.sched[layout.SCHED[row]], values, err_msg=row)
    onca = layout.SCHED["other_noncurrent_assets"]
    assert rec.sched[layout.SCHED["other_noncurrent_assets_prev"], 0] == (
        sc.opening_other_noncurrent_assets
    )
    np.testing.assert_array_equal(
        rec.sched[layout.SCHED["other_noncurrent_assets_prev"], 1:], rec.sched[onca, :-1]
    )
    # straight-line D&A: the opening assets and each capex depreciate exactly their cost
    long = compile_scenario(sc.with_horizon(30), np.random.SeedSequence(1))
    assert long.sched[layout.SCHED["existing_depreciation"]].sum() == pytest.approx(
        sc.opening_fixed_assets, rel=1e-12
    )
    assert long.sched[layout.SCHED["depreciation_weight"]].sum() == pytest.approx(1.0, rel=1e-12)


def test_buffers_have_the_documented_shapes():
    sc = default_scenario()
    rec = compile_scenario(sc, np.random.SeedSequence(1))
    H, F, K, S = sc.horizon, len(sc.drivers), len(sc.shocks), len(sc.segments)
    b = allocate(rec, 7, keep_draws=False)
    assert isinstance(b, Buffers)
    assert [a.shape for a in b] == [
        (len(layout.OUTPUTS), H, 7),
        (S, H, 7),
        (H, 7),
        (F, H, 0),
        (K, H, 0),
        (len(layout.LINES), H, 0),
    ]
    assert b.hits_out.dtype == np.uint32
    b = allocate(rec, 7, keep_draws=True)
    assert b.draws_out.shape == (F, H, 7) and b.sev_out.shape == (K, H, 7)
    b = allocate(rec, 7, keep_draws=False, statements=True)
    assert b.stmt_out.shape == (len(layout.LINES), H, 7)


def test_one_compiled_signature_serves_every_sampling_method_and_scenario():
    """Every sampling method, kept draws, and scenarios with and without a copula (Gaussian,
    Student-t), Empirical or tabulated drivers, share the kernel's one compiled signature: no
    field of the record changes type (a read-only array would be another type)."""
    from conftest import make_toy

    sc = default_scenario()
    for sampling in ("mc", "antithetic", "lhs", "sobol"):
        simulate(sc, 1024, seed=3, sampling=sampling)
    simulate(sc, 1024, seed=3, keep_draws=True)
    t = dataclasses.replace(sc, copula="student_t", copula_df=5.0)
    for other in (make_toy(), make_toy(horizon=1), t):
        simulate(other, 1024, seed=3)
    if hasattr(_kernel.simulate_block, "signatures"):  # not under NUMBA_DISABLE_JIT
        assert len(_kernel.simulate_block.signatures) == 1


_CHILD = """
import json
from simcore import simulate
from simcore.model import _kernel
simulate(n_paths=2048, seed=5)
st = _kernel.simulate_block.stats
print(json.dumps({"hits": sum(st.cache_hits.values()), "misses": sum(st.cache_misses.values())}))
"""


@pytest.mark.integration  # a second Python process
def test_a_second_process_loads_the_kernel_from_numbas_cache():
    """The record type pickles into numba's cache index by name, so a new process finds the
    compiled kernel instead of compiling it again."""
    if not hasattr(_kernel.simulate_block, "stats"):  # NUMBA_DISABLE_JIT
        return
    simulate(n_paths=2048, seed=5)  # compiled (or loaded) here, and saved to the cache
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    assert stats == {"hits": 1, "misses": 0}, stats
