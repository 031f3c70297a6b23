"""Running a scenario: :func:`simulate` checks its arguments, compiles the scenario and fills the
result with the numba kernel, locally on a thread pool (:mod:`simcore.engine.core`) or as
blocks on a Dask cluster (:mod:`simcore.engine.dask`), with the same bytes either way.

Imports :mod:`simcore.model`, :mod:`simcore.io` and :mod:`simcore.results`.
"""

from simcore.engine.core import (
    DEFAULT_SEED,
    design_columns,
    evaluate_uniforms,
    simulate,
    versions,
)
from simcore.engine.run_options import RunOptions, result_bytes
from simcore.model.limits import MAX_HORIZON

__all__ = [
    "DEFAULT_SEED",
    "MAX_HORIZON",
    "RunOptions",
    "design_columns",
    "evaluate_uniforms",
    "result_bytes",
    "simulate",
    "versions",
]
