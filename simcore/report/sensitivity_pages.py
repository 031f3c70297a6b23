"""The committee pack's sensitivity pages: tornado, shock waterfalls, stress scenarios and, on
request, grouped Sobol' indices of a run's scenario."""

from __future__ import annotations

from simcore.analysis import ANALYSIS_PATHS


def pack_pages(result, *, figsize=(11.69, 8.27), n_paths: int = ANALYSIS_PATHS,
               sobol_n: int | None = None) -> list:
    """Sensitivity pages for the committee pack of ``result``: tornado of median net profit
    attributable (final year), shock waterfalls (median, probability of loss), the stress
    scenarios (if the scenario defines any) and, with ``sobol_n``, grouped Sobol' indices.

    The analyses reuse the run's seed with ``min(n_paths, result.n_paths)`` paths, so their base
    run is the first paths of ``result`` (the prefix property of addressed streams)."""
    import numpy as np

    from simcore.analysis import sensitivity as sa
    from simcore.analysis import stress as st
    from simcore.report import sensitivity_charts as ch

    sc = result.scenario
    m = result.manifest.get("seed") or {}
    seed = np.random.SeedSequence(m.get("entropy"), spawn_key=tuple(m.get("spawn_key", ())))
    n = min(n_paths, result.n_paths)
    pages = [ch.tornado_chart(sa.tornado(sc, ("median", "net_profit_attributable"), n_paths=n,
                                         seed=seed), figsize=figsize)]
    if any(s.enabled for s in sc.shocks):
        attr = st.attribution(sc, n_paths=n, seed=seed)
        pages += [ch.waterfall_chart(attr, "median", figsize=figsize),
                  ch.waterfall_chart(attr, "prob_loss", figsize=figsize)]
    if sc.stresses:
        pages.append(ch.stress_chart(st.compare_stresses(sc, n_paths=n, seed=seed),
                                     figsize=figsize))
    if sobol_n:
        so = sa.sobol_analysis(sc, sobol_n, groups="default", seed=seed)
        pages.append(ch.sobol_chart(so, figsize=figsize))
    return pages
