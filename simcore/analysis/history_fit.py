"""Drivers from history: each series' marginal, persistence and (across series) correlation,
fitted and written as scenario TOML to paste into a scenario (``simcore fit``).

For each series (a column of a :class:`~simcore.io.history_csv.History`):

1. the marginal: :func:`distributions.fitting.fit` over the candidate families, the best by
   the ranking (AICc by default). It is written as the driver's ``base`` and a ``dist`` around
   it: a location family (Normal, Student t, Beta, Uniform, Triangular) as ``base = mean`` plus
   a deviation (``mode = "add"``), a positive scale family (LogNormal, Gamma) as ``base = mean``
   times a mean-1 multiplier (``mode = "mul"``). Either way the driver's value has exactly the
   fitted law.
2. the persistence: the AR(1) coefficient of the normal scores ``Phi^-1(F(x))``
   (:func:`distributions.fit_series.fit_ar1`), which is what ``persistence`` means in the model.
3. across series, the Gaussian copula's matrix: the Pearson correlation of the scores'
   innovations over the years the series share, repaired to the nearest positive
   semi-definite matrix where the pairwise estimate is not one.
4. optionally (two-layer uncertainty) the fitted parameters stay uncertain: the driver's
   ``[uncertainty]`` table holds the fit's bootstrap parameter draws, one drawn per path.

Every block carries a rationale naming the data and the fit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from distributions import Distribution
from distributions.fit_series import (
    AR1Fit,
    CorrelationFit,
    fit_ar1,
    fit_correlation,
    innovations,
)
from distributions.fitting import CRITERION_NAMES, FitResult, FittedFamily, FitWarning, fit
from distributions.streams import SeedLike
from simcore.io.history_csv import History
from simcore.io.scenario_file import toml_value
from simcore.model import limits
from simcore.model.errors import fmt_key, format_key_path
from simcore.model.scenario import ParameterDraws, Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DriverFit", "HistoryFit", "fit_history", "as_driver"]

DIGITS = 6  # significant digits of the written numbers
CONFIDENCE = 0.9  # the intervals quoted in the rationales
# a location family's parameters that move with its location (add mode: shifted by -base)
_LOCATION = {
    "Normal": ("loc",),
    "StudentT": ("loc",),
    "Beta": ("low", "high"),
    "Uniform": ("low", "high"),
    "Triangular": ("low", "mode", "high"),
}
MUL_FAMILIES = ("LogNormal", "Gamma")  # written as base x a mean-1 multiplier


def _round(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def _centre(dist: Distribution) -> float:
    """What the base is: the mean, or a Student t's loc (its mean, where it has one)."""
    return float(dist.loc) if dist.family == "StudentT" else float(dist.mean())


def as_driver(dist: Distribution, base: float | None = None) -> tuple[float, str, Distribution]:
    """``(base, mode, dist')`` with ``base + dist'`` (add) or ``base * dist'`` (mul) having the
    law of ``dist``; ``base`` defaults to ``dist``'s centre (a bootstrap row reuses the fit's)."""
    family = dist.family
    # round the parameters first, so a location shifted by its own (rounded) value is 0
    values = {k: _round(v) for k, v in dist.to_dict().items() if k != "family"}
    b = _round(_centre(type(dist)(**values))) if base is None else base
    if family in MUL_FAMILIES:
        if b <= 0.0:
            raise ValueError(f"{dist!r}: a multiplicative driver needs a positive mean")
        if family == "LogNormal":
            values["mu"] = _round(values["mu"] - math.log(b))
        else:
            values["scale"] = _round(values["scale"] / b)
        mode = "mul"
    elif family in _LOCATION:
        for k in _LOCATION[family]:
            values[k] = float(f"{values[k] - b:.12g}")  # drops the subtraction's noise only
        mode = "add"
    else:
        raise ValueError(f"{family} cannot be written as a driver; allowed {_families()}")
    return b, mode, type(dist)(**values)


def _families() -> str:
    return ", ".join([*_LOCATION, *MUL_FAMILIES])


@dataclass(frozen=True)
class DriverFit:
    """One series fitted as a driver."""

    name: str
    years: np.ndarray  # the years the series has
    marginal: FitResult
    fitted: FittedFamily  # the family written: the best-ranked one the model can take
    persistence: AR1Fit | None  # None: too few consecutive years (persistence 0)
    base: float
    mode: str
    dist: Distribution
    uncertainty: ParameterDraws | None
    rationale: str
    scores: np.ndarray  # normal scores on the history's calendar (NaN where missing)
    set_aside: tuple[str, ...] = ()  # better-ranked families the model cannot take, and why

    @property
    def phi(self) -> float:
        return 0.0 if self.persistence is None else _round(self.persistence.phi)

    def block(self) -> list[str]:
        """The ``[drivers.<name>]`` TOML (and its uncertainty table)."""
        lines = [
            f"[{format_key_path(('drivers', self.name))}]",
            f"base = {toml_value(self.base)}",
            f"mode = {toml_value(self.mode)}",
            f"persistence = {toml_value(self.phi)}",
            f"dist = {toml_value(self.dist.to_dict())}",
            f"rationale = {toml_value(self.rationale)}",
        ]
        u = self.uncertainty
        if u is not None:
            lines += ["", f"[{format_key_path(('drivers', self.name, 'uncertainty'))}]"]
            for i, k in enumerate(u.params):
                lines.append(f"{fmt_key(k)} = {toml_value([r[i] for r in u.rows])}")
            lines.append(f"rationale = {toml_value(u.rationale)}")
        return lines


@dataclass(frozen=True)
class HistoryFit:
    """Every series fitted, and the correlation of their innovations (two or more series)."""

    source: str
    drivers: tuple[DriverFit, ...]
    correlation: CorrelationFit | None
    correlation_rationale: str
    notes: tuple[str, ...]  # what the fits could not tell (also in the TOML as comments)

    def to_frame(self) -> pd.DataFrame:
        """The key numbers, one row per series."""
        import pandas as pd

        rows = []
        for d in self.drivers:
            f = d.fitted
            rows.append(
                {
                    "series": d.name,
                    "years": int(d.years.size),
                    "family": f.family,
                    "parameters": ", ".join(f"{k}={v:.4g}" for k, v in f.params.items()),
                    f"{d.marginal.rank_by}_weight": float(
                        d.marginal.weights()[d.marginal.fits.index(f)]
                    ),
                    "ks_pvalue": f.ks_pvalue,
                    "persistence": d.phi,
                    "two_layer": d.uncertainty is not None,
                }
            )
        return pd.DataFrame(rows).set_index("series")

    def apply(self, scenario: Scenario, *, repair: bool = False) -> Scenario:
        """``scenario`` with the fitted drivers in place of its drivers of the same names, and
        the fitted correlations among them in its copula (its other entries kept; a driver new
        to the copula is uncorrelated with the rest). Raises ScenarioError, as a file would,
        if the result is not valid, e.g. a merged matrix that is not positive semi-definite:
        ``repair=True`` then asks for the nearest valid one (``repair = "nearest"``, warned
        about and recorded in the run's metadata)."""
        from simcore.model.validate import validate

        fitted = {d.name: d for d in self.drivers}
        names = [d.name for d in scenario.drivers]
        for n in fitted:
            if n not in names:
                raise ValueError(
                    f"{scenario.name!r} has no driver {n!r} to replace; allowed {', '.join(names)}"
                )
        drivers = tuple(
            replace(
                d,
                base=(fitted[d.name].base,),
                dist=fitted[d.name].dist,
                mode=fitted[d.name].mode,
                persistence=fitted[d.name].phi,
                rationale=fitted[d.name].rationale,
                uncertainty=fitted[d.name].uncertainty,
            )
            if d.name in fitted
            else d
            for d in scenario.drivers
        )
        out = replace(scenario, drivers=drivers)
        if self.correlation is not None:
            if scenario.correlation_labels and scenario.correlation_kind != "pearson":
                raise ValueError(
                    f"{scenario.name!r} gives Spearman correlations; the fit's are Pearson "
                    f"correlations of normal scores: allowed a scenario with kind = 'pearson'"
                )
            old = list(scenario.correlation_labels)
            labels = old + [n for n in fitted if n not in old]
            m = np.eye(len(labels))
            k = len(old)
            if k:
                m[:k, :k] = np.asarray(scenario.correlation, dtype=np.float64)
            at = [labels.index(n) for n in fitted]
            m[np.ix_(at, at)] = self.correlation.matrix
            out = replace(
                out,
                correlation_labels=tuple(labels),
                correlation=m,
                correlation_kind="pearson",
                correlation_repair="nearest" if repair else scenario.correlation_repair,
            )
        validate(out)
        return out

    def to_toml(self, header: Sequence[str] = ()) -> str:
        """The driver blocks and the ``[correlation]`` table, ready to paste."""
        lines = [f"# {h}" for h in header]
        lines += [f"# note: {n}" for n in self.notes]
        for d in self.drivers:
            lines += ["", *d.block()]
        c = self.correlation
        if c is not None:
            labels = [d.name for d in self.drivers]
            rows = ",\n".join(
                "    " + toml_value([_round(float(v)) for v in row]) for row in c.matrix
            )
            lines += [
                "",
                "[correlation]",
                f"labels = {toml_value(labels)}",
                'kind = "pearson"',
                'copula = "gaussian"',
                f"matrix = [\n{rows},\n]",
                f"rationale = {toml_value(self.correlation_rationale)}",
            ]
        return "\n".join(lines).lstrip("\n") + "\n"


def _scores(dist: Distribution, x: np.ndarray) -> np.ndarray:
    """Normal scores ``Phi^-1(F(x))`` (NaN stays NaN), ``F`` kept 1e-15 from 0 and 1."""
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    cdf = np.asarray(dist.cdf(x[ok]), dtype=np.float64)
    out[ok] = special.ndtri(np.clip(cdf, 1e-15, 1.0 - 1e-15))
    return out


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _marginal_words(
    name: str, years: np.ndarray, src: str, r: FitResult, f: FittedFamily, set_aside: list[str]
) -> str:
    span = f"{years[0]}-{years[-1]}" if years.size > 1 else str(years[0])
    parts = [
        f"{f.family} fitted by maximum likelihood to {r.n} yearly values of {name} ({span}, {src})"
    ]
    params = []
    for k, v in f.params.items():
        if f.family == "Beta" and k in ("low", "high"):
            continue  # fixed at 0 and 1, not fitted
        if f.n_boot:
            lo, hi = f.interval(k, CONFIDENCE)
            params.append(f"{k} {_fmt(v)} [{_fmt(lo)}, {_fmt(hi)}]")
        else:
            params.append(f"{k} {_fmt(v)}")
    ci = f"; {CONFIDENCE:.0%} bootstrap intervals" if f.n_boot else ""
    parts.append(", ".join(params) + ci)
    crit = CRITERION_NAMES[r.rank_by]
    place = r.fits.index(f)
    if len(r.fits) > 1:
        nth = "first" if place == 0 else f"number {place + 1}"
        weight = r.weights()[place]
        rank = f"ranked {nth} of {len(r.fits)} by {crit} (weight {weight:.2f}"
    else:
        rank = "the only family fitted ("
        rank += "; ".join(f"{k} {v}" for k, v in r.skipped.items()) or "none other asked for"
    if f.ks_pvalue is not None:
        rank += f"; KS p {f.ks_pvalue:.2f}, Anderson-Darling p {f.ad_pvalue:.2f}"
    parts.append(rank + ")")
    parts += set_aside
    if r.note and place == 0:
        parts.append(r.note)
    return "; ".join(parts)


def _reach(name: str, base: float, mode: str, dists: Sequence[Distribution], phi: float) -> str:
    """Why the model cannot take this driver ('' if it can): its values at the most extreme
    independent draws, persistence included, beyond what the model allows for its role."""
    role = name.split(".")[0]
    low, high = limits.role_range(role)
    z = limits.Z_EDGE * limits.ar_gain(phi)
    exact = len(dists) > 1  # rows: drawn per path by the exact inverse, as the kernel does
    for d in dists:
        lo, hi = limits.driver_range((base,), mode, *limits.ppf_z_range(d, z, exact))
        if not (low <= lo and hi <= high):
            return (
                f"can reach {lo:.3g} to {hi:.3g} at the most extreme draws, beyond the "
                f"[{low:g}, {high:g}] the model allows for {role}"
            )
    return ""


def fit_history(
    history: History,
    series: Iterable[str] | None = None,
    *,
    families: Iterable[str] | None = None,
    rank_by: str = "aicc",
    n_boot: int = 200,
    seed: SeedLike = 0,
    uncertain: Iterable[str] = (),
) -> HistoryFit:
    """Fit each named series of ``history`` (default: all) as a driver, and their correlation.

    ``uncertain`` names the series whose fitted parameters stay uncertain in the run (two-layer:
    their ``[uncertainty]`` tables hold the bootstrap's parameter draws; needs ``n_boot >= 2``).
    """
    names = list(history.values) if series is None else list(series)
    for n in names:
        if n not in history.values:
            raise ValueError(
                f"{history.source}: no series {n!r}; allowed {', '.join(history.values)}"
            )
    if not names:
        raise ValueError(f"{history.source}: no series to fit")
    unc = set(uncertain)
    for n in unc - set(names):
        raise ValueError(f"uncertain: {n!r} is not a fitted series; allowed {', '.join(names)}")
    if unc and n_boot < 2:
        raise ValueError(f"n_boot={n_boot} leaves no parameter draws for {sorted(unc)}")
    families = None if families is None else tuple(families)
    notes: list[str] = []
    fits: list[DriverFit] = []
    for name in names:
        years, x = history.observed(name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FitWarning)
            try:
                r = fit(x, families, rank_by=rank_by, n_boot=n_boot, seed=seed)
            except ValueError as exc:
                raise ValueError(f"{history.source}: series {name!r}: {exc}") from None
        notes += [f"{name}: {w.message}" for w in caught if issubclass(w.category, FitWarning)]
        fits.append(_driver(name, history, years, r, name in unc, n_boot, seed))
        notes += [f"{name}: {why}" for why in fits[-1].set_aside]
    corr, corr_words = None, ""
    if len(fits) > 1:
        corr, corr_words = _correlation(history, fits)
    return HistoryFit(history.source, tuple(fits), corr, corr_words, tuple(notes))


def _driver(
    name: str,
    history: History,
    years: np.ndarray,
    r: FitResult,
    uncertain: bool,
    n_boot: int,
    seed: SeedLike,
) -> DriverFit:
    set_aside: list[str] = []
    for f in r.fits:  # the best-ranked family the model can take
        base, mode, dist = as_driver(f.dist)
        draws = _draws(f, base) if uncertain else None
        z = _scores(f.dist, history.values[name])
        try:
            phi = fit_ar1(z, n_boot=0).phi
        except ValueError:
            phi = 0.0
        rows = [dist] if draws is None else [dist, *draws.dists(dist)]
        why = _reach(name, base, mode, rows, phi)
        if not why or f is r.fits[-1]:
            break
        set_aside.append(f"{f.family}, ranked above it, set aside: it {why}")
    if why:
        set_aside.append(f"it {why}, and so does every other family fitted: the loader refuses it")
    words = [_marginal_words(name, years, history.source, r, f, set_aside)]
    shape = f"{base:g} + {dist!r}" if mode == "add" else f"{base:g} x {dist!r}"
    words.append(f"written as {shape}")
    ar: AR1Fit | None = None
    try:
        ar = fit_ar1(z, n_boot=n_boot, seed=seed)
    except ValueError:
        words.append("persistence 0: fewer than 3 pairs of consecutive years")
    if ar is not None:
        text = f"persistence: AR(1) of the normal scores {ar.estimate:.2f}"
        if ar.boot.size:
            lo, hi = ar.interval(CONFIDENCE)
            text += f" [{lo:.2f}, {hi:.2f}]"
        text += f" from {ar.n_pairs} pairs of consecutive years"
        if ar.estimate < 0.0:
            text += " (negative: the model holds persistence in [0, 1], so 0)"
        words.append(text)
    return DriverFit(
        name=name,
        years=years,
        marginal=r,
        fitted=f,
        persistence=ar,
        base=base,
        mode=mode,
        dist=dist,
        uncertainty=draws,
        rationale="; ".join(words),
        scores=z,
        set_aside=tuple(set_aside),
    )


def _draws(best: FittedFamily, base: float) -> ParameterDraws:
    """The fit's parameter draws as the driver's rows (each row written around the fit's own
    base, so a row's law is the bootstrap distribution's)."""
    rows, names = [], None
    for d in best.draw_dists():
        _, _, row = as_driver(d, base)
        values = {k: v for k, v in row.to_dict().items() if k != "family"}
        if names is None:
            names = [k for k in values if float(np.ptp(best.boot.get(k, np.zeros(1)))) > 0.0]
        rows.append(tuple(values[k] for k in names))
    assert names is not None
    text = (
        f"two-layer: the {len(rows)} parametric-bootstrap draws of "
        f"{', '.join(names)} of the {best.family} fit (reflected through the fit, so their "
        f"quantiles are its {CONFIDENCE:.0%} basic-bootstrap intervals); each path draws one "
        f"row and keeps it in every year"
    )
    return ParameterDraws(tuple(names), tuple(rows), text)


def _correlation(history: History, fits: list[DriverFit]) -> tuple[CorrelationFit, str]:
    eps = np.column_stack([innovations(d.scores, min(d.phi, 0.999)) for d in fits])
    c = fit_correlation(eps)
    upper = np.triu_indices(len(fits), 1)
    common = int(c.n_common[upper].min())
    se = float(np.median(c.se[upper]))
    words = (
        f"Pearson correlation of the innovations of the normal scores (the Gaussian copula's "
        f"parameter) over the years each pair shares in {history.source}, at least {common}; "
        f"each entry is uncertain by about +-{se:.2f} (one standard error)"
    )
    if c.repaired:
        words += (
            f"; the pairwise estimate was not positive semi-definite and is replaced by the "
            f"nearest correlation matrix (largest change {c.max_change:.3f})"
        )
    few = c.n_common < 3
    if few.any():
        words += "; pairs with fewer than 3 years in common are set to 0"
    return c, words
