"""Deprecated aliases of the modules that moved into subpackages (kept for one release):
``import simcore.charts`` still works and gives :mod:`simcore.report.charts`, with a
:class:`DeprecationWarning` naming the new place. Nothing in simcore imports the old names."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

MOVED = {
    "simcore.scenario": "simcore.model.scenario",
    "simcore.limits": "simcore.model.limits",
    "simcore.reference": "simcore.model.equations",
    "simcore._compile": "simcore.model.compile",
    "simcore._kernel": "simcore.model._kernel",
    "simcore.scenario_io": "simcore.io.scenario_file",
    "simcore.scenario_doc": "simcore.io.assumptions",
    "simcore._files": "simcore.io.files",
    "simcore._publish": "simcore.io.publish",
    "simcore._result_file": "simcore.results.file",
    "simcore._quantiles": "simcore.results.quantiles",
    "simcore._moments": "simcore.results.moments",
    "simcore._streaming": "simcore.results.streaming",
    "simcore.distributed": "simcore.engine.dask",
    "simcore.measures": "simcore.analysis.measures",
    "simcore.sensitivity": "simcore.analysis.sensitivity",
    "simcore._sobol": "simcore.analysis.sobol",
    "simcore.stress": "simcore.analysis.stress",
    "simcore.known_models": "simcore.analysis.known_models",
    "simcore.charts": "simcore.report.charts",
    "simcore.sensitivity_charts": "simcore.report.sensitivity_charts",
    "simcore.sensitivity_report": "simcore.cli.analyses",
    "simcore._signals": "simcore.cli.signals",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{spec.name} is now {self.target}; the old name will be removed in the next release",
            DeprecationWarning,
            stacklevel=4,
        )
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        pass  # already executed under its new name


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name in MOVED:
            return importlib.util.spec_from_loader(name, _AliasLoader(MOVED[name]))
        return None


def install() -> None:
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
