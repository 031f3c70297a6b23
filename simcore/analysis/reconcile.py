"""One table that puts the sensitivity methods side by side, so a reader sees why they differ.

:func:`reconciled_table` ranks every input of one output and year by each method, with the
value behind each rank, and :data:`SENSITIVITY_METHODS` says in one line what each method
measures. They
answer different questions, so their rankings differ for reasons the meanings give: the
tornado moves one input at a time with the others at their medians (no interactions, no
dependence); the rank correlations measure association (a driver correlated with another
shares its credit); Sobol' indices decompose variance over independent inputs, so the copula's
drivers are one group; Shapley effects share variance fairly among dependent inputs; the tail
shift looks only at the worst paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simcore.analysis import sensitivity as sa
from simcore.analysis.shapley import model_shapley
from simcore.analysis.sobol import sobol_analysis
from simcore.analysis.tail import tail_shift
from simcore.engine.core import DEFAULT_SEED, simulate
from simcore.model.labels import labels

if TYPE_CHECKING:
    from distributions.streams import SeedLike
    from simcore.model.scenario import Scenario

__all__ = ["SENSITIVITY_METHODS", "reconciled_table"]

SENSITIVITY_METHODS = {
    "tornado": "swing of the median when the input alone moves from its P10 to its P90, the "
    "others at their medians: one at a time, no interactions, no dependence",
    "rank correlation": "share of the squared rank correlations of the inputs that enter the "
    "output: association from one run; correlated inputs share their credit",
    "Sobol' total (group)": "share of the variance the input's group explains with its "
    "interactions, over independent inputs: the copula's drivers are one group",
    "Shapley": "share of the variance, split fairly among dependent inputs over every order; "
    "adds up to 100%",
    "tail shift": "how far the input sits from its median in the worst 5% of paths (z of its "
    "mean percentile there; negative: low values)",
}


def _year(df: pd.DataFrame, output: str, year: int) -> pd.DataFrame:
    """The rows of one (output, year) of a table indexed by (output, year, factor)."""
    out = df.xs((output, year), level=("output", "year"))
    assert isinstance(out, pd.DataFrame)
    return out


def _rank(x: pd.Series) -> pd.Series:
    return x.abs().rank(ascending=False, method="min")


def reconciled_table(
    scenario: Scenario,
    output: str = "net_profit_attributable",
    *,
    year: int | None = None,
    n_paths: int = 20_000,
    sobol_n: int = 2**11,
    shapley_perm: int = 1000,
    seed: SeedLike = DEFAULT_SEED,
    tornado: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every random input of ``output`` in ``year`` (default the last) ranked by each method of
    :data:`SENSITIVITY_METHODS`, value and rank side by side, sorted by the Shapley effect;
    ``attrs``
    hold the meanings and the settings. ``tornado``: the tornado of the median of ``output`` in
    ``year`` with these paths and seed, when the caller has it (49 runs fewer for the default)."""
    sc = scenario
    yr = sc.years[-1] if year is None else year
    if yr not in sc.years:
        raise ValueError(f"year={year!r} is not simulated; allowed one of {list(sc.years)}")
    if tornado is None:
        tornado = sa.tornado(sc, ("median", output, yr), n_paths=n_paths, seed=seed)
    tor = tornado["swing"]
    run = simulate(sc, n_paths, seed=seed, keep_draws=True)
    rc = _year(sa.rank_correlation(run, [output]), output, yr)["contribution"]
    tail = tail_shift(run, output, year=yr, level=0.05)["z"]
    sob = _year(
        sobol_analysis(sc, sobol_n, outputs=[output], groups="default", seed=seed, n_boot=20),
        output,
        yr,
    )
    group_st: dict[str, float] = {}
    group_of: dict[str, str] = {}
    for g, row in sob.iterrows():
        for member in str(row["members"]).split(", "):
            group_st[member] = float(row["ST"])
            group_of[member] = str(g)
    entropy = seed.entropy if isinstance(seed, np.random.SeedSequence) else seed
    shapley_seed = int(entropy) % 2**32 if isinstance(entropy, int | np.integer) else 0
    sh = _year(model_shapley(sc, [output], n_perm=shapley_perm, seed=shapley_seed), output, yr)
    factors = list(sh.index)
    df = pd.DataFrame(index=pd.Index(factors, name="factor"))
    df["Shapley"] = sh["shapley"]
    df["Shapley_se"] = sh["shapley_se"]
    df["Sobol' total (group)"] = [group_st.get(f, np.nan) for f in factors]
    df["Sobol' group"] = [group_of.get(f, "") for f in factors]
    df["rank correlation"] = rc.reindex(factors)
    df["tornado"] = tor.reindex(factors)
    df["tail shift"] = tail.reindex(factors)
    for m in ("Shapley", "Sobol' total (group)", "rank correlation", "tornado", "tail shift"):
        df[f"rank: {m}"] = _rank(df[m])
    df = df.sort_values("Shapley", ascending=False)
    df.attrs.update(
        methods=SENSITIVITY_METHODS,
        output=output,
        year=yr,
        n_paths=n_paths,
        sobol_n=sobol_n,
        shapley_perm=shapley_perm,
        scenario=sc.name,
        labels=labels(sc, [str(f) for f in df.index]),
    )
    return df
