"""Files: scenario TOML (read with line numbers, written back), the built-in scenarios, the
assumptions table, and outputs written atomically and published whole.

- :mod:`simcore.io.scenario_file`: ``load_scenario``, ``loads_scenario``, ``dumps_scenario``,
  the built-in scenarios, :class:`ScenarioError`.
- :mod:`simcore.io.assumptions`: the Markdown table of every assumption and its rationale.
- :mod:`simcore.io.files`: atomic, reproducible file writing.
- :mod:`simcore.io.publish`: an output folder published in one atomic step.

Imports only :mod:`simcore.model`.
"""

from simcore.io.scenario_file import (
    ScenarioError,
    builtin_scenario,
    default_scenario,
    dumps_scenario,
    list_scenarios,
    load_scenario,
    loads_scenario,
)

__all__ = [
    "ScenarioError",
    "builtin_scenario",
    "default_scenario",
    "dumps_scenario",
    "list_scenarios",
    "load_scenario",
    "loads_scenario",
]
