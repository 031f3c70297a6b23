"""The committee pack's sensitivity pages, drawn from analyses the caller computed
(:func:`simcore.analysis.pack_analyses.pack_analyses`): tornado, shock waterfalls, stress
scenarios and grouped Sobol' indices."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simcore.analysis.pack_analyses import PackAnalyses


def pack_pages(
    analyses: PackAnalyses, *, figsize: tuple[float, float] = (11.69, 8.27)
) -> list[Figure]:
    """Sensitivity pages of a :class:`~simcore.analysis.pack_analyses.PackAnalyses`: the
    tornado, the waterfalls of median net profit and of the probability of loss (when the
    attribution was run), the stress scenarios, the Sobol' indices and the reverse DCF (when
    given)."""
    from simcore.report import sensitivity_charts as ch

    pages = [ch.tornado_chart(analyses.tornado, figsize=figsize)]
    if analyses.attribution is not None:
        pages += [
            ch.waterfall_chart(analyses.attribution, "median", figsize=figsize),
            ch.waterfall_chart(analyses.attribution, "prob_loss", figsize=figsize),
        ]
    if analyses.stresses is not None:
        pages.append(ch.stress_chart(analyses.stresses, figsize=figsize))
    if analyses.sobol is not None:
        pages.append(ch.sobol_chart(analyses.sobol, figsize=figsize))
    if analyses.reconciled is not None:
        from simcore.report.valuation_charts import reconciled_chart

        pages.append(reconciled_chart(analyses.reconciled, figsize=figsize))
    if analyses.reverse_dcf:
        from simcore.report.valuation_charts import reverse_dcf_chart

        pages.append(reverse_dcf_chart(analyses.reverse_dcf, figsize=figsize))
    return pages
