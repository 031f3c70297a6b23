"""simcore: Monte Carlo risk and sensitivity simulation of a listed company's forecast.

The embedded default scenario is Paratera (839493.BJ): ``default_scenario()``.

Layers, each importing only those above it in this list: :mod:`simcore.model` (the scenario,
its limits, the equations, the kernel), :mod:`simcore.io` (scenario files, output files),
:mod:`simcore.results`, :mod:`simcore.engine` (``simulate``), :mod:`simcore.analysis`
(sensitivity, stress), :mod:`simcore.report` (charts, the pack), :mod:`simcore.cli`.
docs/architecture.md shows the data flow of one run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simcore import _compat
from simcore._version import __version__

# The public names load on first use (PEP 562), so ``import simcore`` does not import numba,
# scipy or pandas: a notebook or a CLI that needs only a scenario file pays for what it uses.
_LAZY = {
    "DEFAULT_SEED": "simcore.engine.core",
    "design_columns": "simcore.engine.core",
    "evaluate_uniforms": "simcore.engine.core",
    "simulate": "simcore.engine.core",
    "ScenarioError": "simcore.io.scenario_file",
    "builtin_scenario": "simcore.io.scenario_file",
    "default_scenario": "simcore.io.scenario_file",
    "dumps_scenario": "simcore.io.scenario_file",
    "list_scenarios": "simcore.io.scenario_file",
    "load_scenario": "simcore.io.scenario_file",
    "loads_scenario": "simcore.io.scenario_file",
    "Scenario": "simcore.model.scenario",
    "ResultFileError": "simcore.results.result",
    "SimulationResult": "simcore.results.result",
}

if TYPE_CHECKING:
    from simcore.engine.core import DEFAULT_SEED, design_columns, evaluate_uniforms, simulate
    from simcore.io.scenario_file import (
        ScenarioError,
        builtin_scenario,
        default_scenario,
        dumps_scenario,
        list_scenarios,
        load_scenario,
        loads_scenario,
    )
    from simcore.model.scenario import Scenario
    from simcore.results.result import ResultFileError, SimulationResult


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # once: later lookups skip this function
        return value
    raise AttributeError(f"module 'simcore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


_compat.install()  # the pre-0.2 module names, deprecated (simcore._compat)

__all__ = [
    "__version__",
    "DEFAULT_SEED",
    "ResultFileError",
    "SimulationResult",
    "design_columns",
    "evaluate_uniforms",
    "simulate",
    "Scenario",
    "ScenarioError",
    "builtin_scenario",
    "default_scenario",
    "dumps_scenario",
    "list_scenarios",
    "load_scenario",
    "loads_scenario",
]
