"""Analyses built on runs: the statistics they measure (:mod:`~simcore.analysis.measures`),
sensitivity (tornado, spider, rank correlation, Sobol' indices; :mod:`~.sensitivity`,
:mod:`~.sobol`), stress, shock attribution and reverse stress (:mod:`~.stress`), and models
with known answers for the tests (:mod:`~.known_models`).

Imports :mod:`simcore.model`, :mod:`simcore.io`, :mod:`simcore.results` and
:mod:`simcore.engine`.
"""

ANALYSIS_PATHS = 20_000  # paths per run of an analysis by default (each analysis runs many)
