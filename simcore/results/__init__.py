"""A run's stored paths and what is read off them: :class:`SimulationResult` (quantiles,
summary, risk metrics, save and checked load), exact fast quantiles, moments, and the streaming
merges of summary-only runs.

Imports :mod:`simcore.model` and :mod:`simcore.io`.
"""

from simcore.results.file import ResultFileError
from simcore.results.result import DEFAULT_Q, PRICE_OUTPUTS, SimulationResult

__all__ = ["DEFAULT_Q", "PRICE_OUTPUTS", "ResultFileError", "SimulationResult"]
