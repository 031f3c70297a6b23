"""The convergence chart of a run with precision targets (``simulate(..., precision=...)``)."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, cast

import matplotlib as mpl
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter, NullLocator

from simcore.report import charts
from simcore.results.precision import BATCHES, T95, headline, parse_target

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simcore.results.result import SimulationResult

_MET, _NOT_MET = "#1f3d6b", "#b03a2e"


def convergence_chart(
    result: SimulationResult, *, figsize: tuple[float, float] = (11.0, 5.5)
) -> Figure:
    """One panel per target: the estimate at each step with its 95% interval (filled where the
    step met the target), against the paths so far, and the precision wanted as a band around
    the final value."""
    conv = result.convergence()
    heads = headline(result)
    rec = result.manifest["precision"]
    texts = list(rec["targets"])
    n = len(texts)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    with mpl.rc_context(charts.STYLE):
        fig, axes = charts._new_figure(figsize, nrows, ncols)
        # a third footer line: the headline numbers
        engine = cast(ConstrainedLayoutEngine, fig.get_layout_engine())
        h = figsize[1]
        top = 1.0 - 0.6 / h
        engine.set(rect=(0.0, 0.52 / h, 1.0, top - 0.52 / h))
        for ax, text in zip(axes.ravel(), texts, strict=False):
            t = parse_target(text)
            rows = conv.xs(text, level="target")
            paths = rows.index.to_numpy(dtype=float)
            v, hw, met = (rows[c].to_numpy() for c in ("value", "hw", "met"))
            final = v[-1]
            want = t.hw if t.hw is not None else T95 * (t.rse or 0.0) * abs(final)
            ax.axhspan(final - want, final + want, color="#e4ebf5", label="precision wanted")
            ax.axhline(final, color="0.4", linewidth=0.8, linestyle=":")
            for ok, colour, label in ((True, _MET, "met"), (False, _NOT_MET, "not met yet")):
                k = met == ok
                if k.any():
                    ax.errorbar(
                        paths[k],
                        v[k],
                        yerr=hw[k],
                        fmt="o",
                        color=colour,
                        markersize=4,
                        capsize=3,
                        label=f"estimate ± 95% half-width ({label})",
                    )
            ax.set_xscale("log")
            ax.set_xticks(paths, [f"{p:,.0f}" for p in paths], rotation=30, fontsize=7.5)
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xlabel("paths so far")
            wanted = f"± {t.hw:g} (95%)" if t.hw is not None else f"standard error ≤ {t.rse:.2%}"
            ax.set_title(
                textwrap.fill(f"{t.label(result.years)}; wanted {wanted}", 48),
                loc="left",
                fontsize=8.5,
            )
            if t.stat.startswith("p_"):
                ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: f"{y:.1%}"))
            else:
                charts._thousands(ax)
            ax.margins(x=0.15)
        for ax in axes.ravel()[n:]:
            ax.set_visible(False)
        seconds = rec["history"][-1]["seconds"]
        charts._frame(
            fig,
            axes,
            result,
            charts._title(result, "how the estimates converged"),
            f" · stopped at {result.n_paths:,} paths after {seconds:.1f} s: {rec['stopped']}; "
            f"95% half-width from {BATCHES} batch means; a fixed run of {result.n_paths:,} "
            "paths with this seed gives the same numbers\nheadline numbers at the end: "
            + "; ".join(
                f"{lab.split(' of ')[0]} {v:,.4g} ± {hw:,.3g}"
                for lab, v, hw in zip(heads.index, heads["value"], heads["hw"], strict=True)
            ),
        )
    return fig
