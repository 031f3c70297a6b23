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

    subset = _which(analyses)
    pages = [_said(ch.tornado_chart(analyses.tornado, figsize=figsize), _on_run(analyses, subset))]
    if analyses.attribution is not None:
        whole = f"all {analyses.run_paths:,} paths of the run, as every headline number"
        pages += [
            _said(ch.waterfall_chart(analyses.attribution, "median", figsize=figsize), whole),
            _said(ch.waterfall_chart(analyses.attribution, "prob_loss", figsize=figsize), whole),
        ]
    if analyses.stresses is not None:
        chart = ch.stress_chart(analyses.stresses, figsize=figsize)
        pages.append(_said(chart, _on_run(analyses, subset)))
    if analyses.sobol is not None:
        pages.append(_said(ch.sobol_chart(analyses.sobol, figsize=figsize), subset))
    if analyses.reconciled is not None:
        from simcore.report.valuation_charts import reconciled_chart

        pages.append(_said(reconciled_chart(analyses.reconciled, figsize=figsize), subset))
    if analyses.reverse_dcf:
        from simcore.report.valuation_charts import reverse_dcf_chart

        pages.append(_said(reverse_dcf_chart(analyses.reverse_dcf, figsize=figsize), subset))
    return pages


def _which(analyses: PackAnalyses) -> str:
    """Where a page's numbers come from, in one short line."""
    if analyses.n_paths >= analyses.run_paths:
        return f"all {analyses.run_paths:,} paths of the run"
    return (
        f"the first {analyses.n_paths:,} of the run's {analyses.run_paths:,} paths, re-run per "
        "change (common random numbers)"
    )


def _on_run(analyses: PackAnalyses, subset: str) -> str:
    """The line of a page anchored on the run (``pack_analyses.anchored``)."""
    if analyses.n_paths >= analyses.run_paths:
        return subset
    return (
        f"base: all {analyses.run_paths:,} paths of the run; each change: its first "
        f"{analyses.n_paths:,} paths, re-run (common random numbers)"
    )


def _said(fig: Figure, text: str) -> Figure:
    """``fig`` marked with where its numbers come from (the pack prints it beside the page
    number: :data:`SOURCE_NOTE`)."""
    setattr(fig, SOURCE_NOTE, text)
    return fig


SOURCE_NOTE = "simcore_source"  # a page's attribute: where its numbers come from
