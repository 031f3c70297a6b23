"""The company model: what a scenario is, its limits, its equations and their compiled form.

- :mod:`simcore.model.scenario`: the Scenario dataclasses (segments, drivers, shocks, stresses).
- :mod:`simcore.model.limits`: every input limit, in one place.
- :mod:`simcore.model.validate`: ``validate``, every domain rule of a scenario, checked on the
  objects (a file's reader and ``simulate`` both call it).
- :mod:`simcore.model.errors`: :class:`ScenarioError` and how its messages show keys and values.
- :mod:`simcore.model.equations`: the model in plain numpy; where net profit is computed.
- :mod:`simcore.model.compile`: a Scenario turned into the arrays the kernel reads.
- :mod:`simcore.model._kernel`: the same equations fused with sampling in one numba kernel.

The lowest layer of simcore: it imports nothing from the other subpackages.
"""
