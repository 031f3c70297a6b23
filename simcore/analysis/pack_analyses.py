"""The analyses behind the committee pack's sensitivity pages, computed by the caller.

:func:`pack_analyses` runs them for a finished run: the tornado of median net profit
attributable (final year), the attribution of the named risks (if any is enabled), the stress
scenarios (if the scenario defines any), the reverse DCF of the market price and, on request,
grouped Sobol' indices. The report only
draws what it is given (``simcore.report.write_pack(result, path, analyses=...)``).

The attribution of the named risks comes from the run's own paths
(:func:`simcore.analysis.stress.attribution_from_run`), so its levels are the run's statistics.
Every other analysis reuses the run's seed with ``min(n_paths, result.n_paths)`` paths, so its
base run is the first paths of the run (the prefix property of addressed streams); each page
says which. The tornado and the stress table are anchored on the run (:func:`anchored`): their
base is the run's own statistic, and each pinned input or stress adds the change it makes on
those first paths with common random numbers, so no page shows a second median or P(loss).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from distributions import Constant
from simcore.analysis import ANALYSIS_PATHS
from simcore.analysis import sensitivity as sa
from simcore.analysis import stress as st
from simcore.analysis.measures import StatisticSpec, statistic
from simcore.analysis.reconcile import reconciled_table
from simcore.analysis.valuation import ReverseDCF, reverse_dcf
from simcore.model.equations import dcf_fade_years

if TYPE_CHECKING:
    from simcore.results.result import SimulationResult


@dataclass(frozen=True)
class PackAnalyses:
    """What the pack's sensitivity pages show; ``None`` where the scenario has nothing to show
    (no enabled risk, no stress scenario) or Sobol' indices were not asked for."""

    tornado: pd.DataFrame
    attribution: st.Attribution | None = None
    stresses: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    n_paths: int = ANALYSIS_PATHS  # paths per run of each analysis
    reverse_dcf: tuple[ReverseDCF, ...] = ()  # fade growth, terminal margin
    reconciled: pd.DataFrame | None = None  # every sensitivity method side by side
    run_paths: int = ANALYSIS_PATHS  # paths of the run itself (the attribution reads them all)


# the fewest paths a combination of switched-off shocks may keep for the attribution to read
# the run's own paths (below it the pack runs each combination instead)
MIN_SUBSET_PATHS = 2_000


def anchored(
    table: pd.DataFrame,
    columns: dict[str, StatisticSpec],
    result: SimulationResult,
    *,
    base: float | pd.Series | None = None,
) -> pd.DataFrame:
    """``table`` (values on a prefix of ``result``'s paths) on the run's own statistics:
    ``column + (the run's statistic - its value on the prefix)`` for each ``columns`` entry
    (column -> the statistic it holds). The prefix's value is ``base`` (a number, or a row by
    column), else the table's ``base`` row. This is the common-random-numbers estimate of each
    value at the run's path count: the prefix's change, which CRN keeps precise, plus the run's
    level. A probability stays within [0, 1]; ``attrs["anchor"]`` says what was done."""
    out = table.copy()
    out.attrs = dict(table.attrs)
    n = table.attrs.get("n_paths")
    if n is None or n >= result.n_paths:
        return out  # the table already reads the run's every path
    levels = {}
    for col, spec in columns.items():
        stat = statistic(spec, result.scenario)
        run = float(stat(result))
        prefix = (
            base
            if isinstance(base, int | float)
            else (base[col] if base is not None else out.loc["base", col])
        )
        moved = out[col] + (run - float(prefix))  # type: ignore[arg-type]
        out[col] = moved.clip(0.0, 1.0) if stat.is_probability else moved
        levels[col] = run
    if isinstance(base, int | float):
        out.attrs["base"] = float(next(iter(levels.values())))
    out.attrs["anchor"] = {
        "run_paths": result.n_paths,
        "prefix_paths": int(n),
        "run_levels": levels,
        "method": "the run's statistic plus the change on the first prefix_paths paths "
        "(common random numbers)",
    }
    return out


def seed_of_run(result: SimulationResult) -> np.random.SeedSequence:
    """The seed of ``result``'s run, from its manifest, as a SeedSequence."""
    m = result.manifest.get("seed") or {}
    return np.random.SeedSequence(m.get("entropy"), spawn_key=tuple(m.get("spawn_key", ())))


def pack_analyses(
    result: SimulationResult,
    *,
    n_paths: int = ANALYSIS_PATHS,
    sobol_n: int | None = None,
    say: Callable[[str], None] | None = None,
) -> PackAnalyses:
    """Run the analyses of the pack's sensitivity pages for ``result`` (with its scenario and
    seed, ``min(n_paths, result.n_paths)`` paths per run); ``say(message)`` is told what runs
    (the tornado alone is 2 runs per random driver, the attribution 2^K for K enabled risks)."""
    say = say or (lambda _message: None)
    sc, seed = result.scenario, seed_of_run(result)
    n = min(n_paths, result.n_paths)
    n_random = sum(not isinstance(d.dist, Constant) for d in sc.drivers)
    enabled = [s for s in sc.shocks if s.enabled]
    say(f"tornado of median net profit: {2 * n_random + 1} runs of {n:,} paths")
    spec = ("median", "net_profit_attributable")
    tornado = sa.tornado(sc, spec, n_paths=n, seed=seed)
    tornado = anchored(
        tornado, {c: spec for c in ("low", "high")}, result, base=tornado.attrs["base"]
    )
    attribution: st.Attribution | None = None
    stresses: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    if enabled:  # from the run's own paths: its "all shocks" levels are the run's statistics
        say(
            f"attribution of {len(enabled)} named risks over {2 ** len(enabled)} combinations, "
            f"from the run's {result.n_paths:,} paths"
        )
        try:
            attribution = st.attribution_from_run(result)
        except ValueError:  # some combination of shocks leaves no path: a run per combination
            attribution = None
        if attribution is None or attribution.meta["paths"] < MIN_SUBSET_PATHS:
            say(
                f"  too few paths escape every named risk ({MIN_SUBSET_PATHS:,} needed): "
                f"{2 ** len(enabled)} runs of {n:,} paths instead"
            )
            attribution = st.attribution(sc, n_paths=n, seed=seed)
    if sc.stresses:
        say(f"{len(sc.stresses)} stress scenarios: {len(sc.stresses) + 1} runs of {n:,} paths")
        stresses = st.compare_stresses(sc, n_paths=n, seed=seed)
        stresses = anchored(
            stresses, dict(zip(stresses.attrs["units"], st.STRESS_STATISTICS, strict=True)), result
        )
    if sobol_n:
        say(f"grouped Sobol' indices, N = {sobol_n:,}")
        sobol = sa.sobol_analysis(sc, sobol_n, groups="default", seed=seed)
    say(f"reverse DCF of the market price: 2 solves over {n:,} paths")
    solve = ("fade_growth", "terminal_margin") if dcf_fade_years(sc) else ("terminal_margin",)
    rev = tuple(reverse_dcf(sc, s, n_paths=n, seed=seed) for s in solve)
    say(f"the methods side by side: Shapley effects ({n:,} paths per run)")
    reconciled = reconciled_table(sc, n_paths=n, seed=seed, tornado=tornado)  # the same one
    return PackAnalyses(tornado, attribution, stresses, sobol, n, rev, reconciled, result.n_paths)
