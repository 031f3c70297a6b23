"""simcore: Monte Carlo risk and sensitivity simulation of a listed company's forecast.

The embedded default scenario is Paratera (839493.BJ): ``default_scenario()``.
"""

from .engine import DEFAULT_SEED, design_columns, evaluate_uniforms, simulate
from .results import ResultFileError, SimulationResult
from .scenario import Scenario
from .scenario_io import (
    ScenarioError,
    builtin_scenario,
    default_scenario,
    dumps_scenario,
    list_scenarios,
    load_scenario,
    loads_scenario,
)

__all__ = [
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
