"""simcore: Monte Carlo risk and sensitivity simulation of a listed company's forecast.

The embedded default scenario is Paratera (839493.BJ): ``default_scenario()``.

Layers, each importing only those above it in this list: :mod:`simcore.model` (the scenario,
its limits, the equations, the kernel), :mod:`simcore.io` (scenario files, output files),
:mod:`simcore.results`, :mod:`simcore.engine` (``simulate``), :mod:`simcore.analysis`
(sensitivity, stress), :mod:`simcore.report` (charts, the pack), :mod:`simcore.cli`.
docs/architecture.md shows the data flow of one run.
"""

from simcore import _compat
from simcore._version import __version__
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
