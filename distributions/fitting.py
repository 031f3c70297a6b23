"""Fit a distribution to data: maximum likelihood through scipy.stats, ranked by information
criteria, checked for goodness of fit, with a parametric bootstrap of the parameters.

    res = fit(data)                        # every default family that can hold the data
    res.best.dist                          # e.g. Normal(loc=0.21, scale=0.09)
    res.to_frame()                         # one row per family, best first
    res.best.interval("scale", 0.9)        # the parameter's 90% bootstrap interval

Short histories (company data are 5-10 yearly points) are handled in the open:

- the ranking is by AICc (AIC with the small-sample correction ``2k(k+1)/(n-k-1)``; it tends to
  AIC as n grows) unless ``rank_by`` says otherwise; AIC and BIC are shown beside it. Plain AIC
  on 8 points favours a family for its extra parameters.
- a :class:`FitWarning` says when the data cannot tell the best families apart (the runner-up
  within 2 of the best, Burnham and Anderson 2002, section 2.6) or when AICc and BIC choose
  different families.
- the KS and Anderson-Darling p-values come from the same parametric bootstrap, each replicate
  refitted before it is tested (as Lilliefors' test does): the textbook p-values assume known
  parameters and are far too kind once the parameters were fitted to the same points.

Bootstrap samples are drawn uniform first from the addressed streams of :mod:`.streams`
(stream ``fit/<family>``), so a seed gives the same replicates on every machine.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from ._base import Distribution
from .beta import Beta
from .gamma import Gamma
from .lognormal import LogNormal
from .normal import Normal
from .student_t import StudentT
from .uniform import Triangular, Uniform

if TYPE_CHECKING:
    import pandas as pd

    from .streams import SeedLike

__all__ = [
    "fit",
    "FitResult",
    "FittedFamily",
    "FitWarning",
    "FIT_FAMILIES",
    "DEFAULT_FAMILIES",
    "CRITERIA",
    "CRITERION_NAMES",
]

CRITERIA = ("aicc", "aic", "bic")
CRITERION_NAMES = {"aicc": "AICc", "aic": "AIC", "bic": "BIC"}  # as printed
TIE_DELTA = 2.0  # a runner-up within 2 of the best has "substantial support" (Burnham-Anderson)
DF_BOUNDS = (0.5, 500.0)  # Student t degrees of freedom searched; at 500 it is a Normal
MAX_FAILED_SHARE = 0.1  # warn when more bootstrap refits than this fail


class FitWarning(UserWarning):
    """The data cannot support what the fit would otherwise suggest (a tie, failed refits)."""


@dataclass(frozen=True)
class _Fitter:
    """How one family is fitted: free parameters, what data it can hold, its MLE."""

    family: str
    n_params: int
    mle: Callable[[np.ndarray], Distribution]
    holds: Callable[[np.ndarray], str | None]  # None, or why the data cannot be this family
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # the MLE's search


def _anywhere(x: np.ndarray) -> str | None:
    return None


def _positive(x: np.ndarray) -> str | None:
    return None if x.min() > 0.0 else f"needs positive data (the smallest is {x.min():g})"


def _unit_interval(x: np.ndarray) -> str | None:
    if x.min() > 0.0 and x.max() < 1.0:
        return None
    return f"is fitted on (0, 1) and the data run from {x.min():g} to {x.max():g}"


def _normal(x: np.ndarray) -> Distribution:
    return Normal(loc=float(x.mean()), scale=float(x.std()))


def _lognormal(x: np.ndarray) -> Distribution:
    lx = np.log(x)
    return LogNormal(mu=float(lx.mean()), sigma=float(lx.std()))


def _gamma(x: np.ndarray) -> Distribution:
    from scipy import stats

    a, _, scale = stats.gamma.fit(x, floc=0.0)
    return Gamma(shape=float(a), scale=float(scale))


def _beta(x: np.ndarray) -> Distribution:
    from scipy import stats

    a, b, _, _ = stats.beta.fit(x, floc=0.0, fscale=1.0)
    return Beta(a=float(a), b=float(b))


def _t_nll(theta: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of a Student t at ``(log df, loc, log scale)``, and its
    gradient (analytic: L-BFGS-B then needs a quarter of the evaluations)."""
    nu, loc, s = math.exp(theta[0]), theta[1], math.exp(theta[2])
    r = (x - loc) / s
    r2 = r * r / nu
    w = 1.0 + r2
    lw = np.log1p(r2)
    const = special.gammaln(0.5 * (nu + 1.0)) - special.gammaln(0.5 * nu)
    ll = x.size * (const - 0.5 * math.log(nu * math.pi) - math.log(s)) - 0.5 * (nu + 1.0) * lw.sum()
    d_nu = x.size * 0.5 * (
        special.digamma(0.5 * (nu + 1.0)) - special.digamma(0.5 * nu) - 1.0 / nu
    ) + float(np.sum(-0.5 * lw + 0.5 * (nu + 1.0) * r2 / (nu * w)))
    d_loc = float(np.sum((nu + 1.0) * r / (nu * s * w)))
    d_logs = float(np.sum(-1.0 + (nu + 1.0) * r2 / w))
    return -float(ll), -np.array([d_nu * nu, d_loc, d_logs])


def _student_t(x: np.ndarray) -> Distribution:
    """Maximum likelihood with the degrees of freedom bounded to :data:`DF_BOUNDS` (on few
    points the unbounded maximum is often df -> inf, the Normal)."""
    scale0 = float(np.median(np.abs(x - np.median(x)))) * 1.4826 or float(x.std())
    bounds = [(math.log(DF_BOUNDS[0]), math.log(DF_BOUNDS[1])), (None, None), (None, None)]
    best = None
    for df0 in (4.0, 30.0):  # two starts: the likelihood in df can have a shoulder
        start = np.array([math.log(df0), float(np.median(x)), math.log(scale0)])
        res = optimize.minimize(
            _t_nll, start, args=(x,), method="L-BFGS-B", jac=True, bounds=bounds
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    df, loc, log_s = best.x
    return StudentT(df=float(math.exp(df)), loc=float(loc), scale=float(math.exp(log_s)))


def _uniform(x: np.ndarray) -> Distribution:
    return Uniform(low=float(x.min()), high=float(x.max()))


def _triangular_profile(low: float, high: float, xs: np.ndarray) -> tuple[float, float]:
    """``(log-likelihood, mode)`` of a Triangular on ``[low, high]`` maximised over its mode,
    which is an end or a data point (Oliver 1972); ``xs`` sorted, inside ``[low, high]``."""
    modes = np.concatenate([[low], xs, [high]])[:, None]
    x = xs[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.log(2.0 * (x - low)) - np.log((high - low) * (modes - low))
        right = np.log(2.0 * (high - x)) - np.log((high - low) * (high - modes))
    ll = np.where(x <= modes, left, right)
    ll = np.where(np.isnan(ll), -np.inf, ll).sum(axis=1)
    i = int(np.argmax(ll))
    return float(ll[i]), float(modes[i, 0])


def _triangular(x: np.ndarray) -> Distribution:
    """Maximum likelihood: the mode profiled out exactly, the ends by Nelder-Mead on the log
    of their distances beyond the data, from several starts (scipy's ``triang.fit`` stops at
    poor local optima, often with the mode at the sample maximum)."""
    xs = np.sort(x)
    lo, hi = float(xs[0]), float(xs[-1])
    r = hi - lo

    def nll(t: np.ndarray) -> float:
        ll, _ = _triangular_profile(lo - r * math.exp(t[0]), hi + r * math.exp(t[1]), xs)
        return -ll if math.isfinite(ll) else 1e300

    best = None
    for start in ((-4.0, -4.0), (-1.0, -1.0), (-4.0, -1.0), (-1.0, -4.0)):
        res = optimize.minimize(
            nll, np.array(start), method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-10}
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    low, high = lo - r * math.exp(best.x[0]), hi + r * math.exp(best.x[1])
    _, mode = _triangular_profile(low, high, xs)
    return Triangular(low=low, mode=min(max(mode, low), high), high=high)


FIT_FAMILIES: dict[str, _Fitter] = {
    f.family: f
    for f in (
        _Fitter("Normal", 2, _normal, _anywhere),
        _Fitter("StudentT", 3, _student_t, _anywhere, {"df": DF_BOUNDS}),
        _Fitter("LogNormal", 2, _lognormal, _positive),
        _Fitter("Gamma", 2, _gamma, _positive),
        _Fitter("Beta", 2, _beta, _unit_interval),
        _Fitter("Uniform", 2, _uniform, _anywhere),
        _Fitter("Triangular", 3, _triangular, _anywhere),
    )
}
# On request only: Uniform and Triangular, whose maximum-likelihood support is the sample's
# range (on few points that flatters them against every unbounded family), and Beta, fitted on
# (0, 1), for a quantity bounded by 0 and 1 by nature (a margin, a share), not by chance
DEFAULT_FAMILIES = ("Normal", "StudentT", "LogNormal", "Gamma")


def _loglik(dist: Distribution, x: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        return float(np.sum(dist.to_scipy().logpdf(x)))


def _ks_ad(dist: Distribution, xs: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov distance and Anderson-Darling ``A^2`` of the sorted sample ``xs``
    against ``dist``."""
    n = xs.size
    f = np.asarray(dist.cdf(xs), dtype=np.float64)
    i = np.arange(1, n + 1)
    ks = float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))
    fc = np.clip(f, 1e-300, 1.0 - 1e-16)
    ad = float(-n - np.mean((2 * i - 1) * (np.log(fc) + np.log1p(-fc[::-1]))))
    return ks, ad


@dataclass(frozen=True)
class FittedFamily:
    """One family fitted to the data: the distribution, its criteria and its bootstrap.

    ``boot`` maps each parameter to its ``n_boot`` bootstrap estimates (failed refits
    dropped: ``n_failed``); :attr:`draws` reflects them through the fitted value (what the
    parameter can be, given the data: see :meth:`interval`); ``ks_pvalue``/``ad_pvalue`` are
    bootstrap p-values (None without a bootstrap).
    """

    family: str
    dist: Distribution
    n: int
    n_params: int
    loglik: float
    ks: float
    ad: float
    boot: Mapping[str, np.ndarray] = field(repr=False)
    ks_pvalue: float | None
    ad_pvalue: float | None
    n_failed: int = 0

    @property
    def params(self) -> dict[str, float]:
        """The fitted parameters, by name (as in the scenario file)."""
        return {k: v for k, v in self.dist.to_dict().items() if k != "family"}

    @property
    def aic(self) -> float:
        return 2.0 * self.n_params - 2.0 * self.loglik

    @property
    def aicc(self) -> float:
        k, n = self.n_params, self.n
        return self.aic + 2.0 * k * (k + 1) / (n - k - 1)

    @property
    def bic(self) -> float:
        return self.n_params * math.log(self.n) - 2.0 * self.loglik

    def criterion(self, name: str) -> float:
        return float(getattr(self, _check_criterion(name)))

    @property
    def n_boot(self) -> int:
        return min((v.size for v in self.boot.values()), default=0)

    @property
    def draws(self) -> dict[str, np.ndarray]:
        """Each parameter's bootstrap estimates reflected through the fitted value ``t``:
        ``2 t - t*`` for a real parameter and ``t^2 / t*`` (reflection in logs) for a positive
        one, kept inside the range the fit searches (a Student t's df). Where ``t* / t`` or
        ``t* - t`` is pivotal (a Normal's scale or location, a LogNormal's sigma) their
        quantiles are exact confidence limits; they also undo the bootstrap's bias (an MLE
        scale is low on few points, and its replicates lower still).
        """
        out = {}
        for p in type(self.dist).params or ():
            if p.name not in self.boot:
                continue
            t, b = float(getattr(self.dist, p.name)), self.boot[p.name]
            if p.low == 0.0 and not p.low_closed and t > 0.0:
                with np.errstate(divide="ignore"):
                    out[p.name] = t * t / b
            else:
                out[p.name] = 2.0 * t - b
            if p.name in FIT_FAMILIES[self.family].bounds:  # no further than the fit could go
                out[p.name] = np.clip(out[p.name], *FIT_FAMILIES[self.family].bounds[p.name])
        return out

    def _checked(self, param: str, confidence: float = 0.9) -> None:
        if param not in self.params:
            raise ValueError(
                f"{self.family}: unknown parameter {param!r}, allowed {list(self.params)}"
            )
        if not self.n_boot:
            raise ValueError(f"{self.family}: no bootstrap (fit with n_boot > 0)")
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence={confidence!r} must be in (0, 1)")

    def interval(self, param: str, confidence: float = 0.9) -> tuple[float, float]:
        """Equal-tailed basic-bootstrap interval of one parameter: the quantiles of
        :attr:`draws` (in logs for a positive parameter)."""
        self._checked(param, confidence)
        lo, hi = np.quantile(self.draws[param], [0.5 - confidence / 2, 0.5 + confidence / 2])
        return float(lo), float(hi)

    def se(self, param: str) -> float:
        """Bootstrap standard error of one parameter."""
        self._checked(param)
        return float(np.std(self.boot[param], ddof=1))

    def draw_dists(self) -> list[Distribution]:
        """The parameter draws (:attr:`draws`, row by row) as distributions of the family:
        the fitted parameters' uncertainty, for a driver drawn once per path from it. Rows
        that are not a valid member of the family (a Triangular's mode past its end) are
        left out."""
        draws = self.draws
        fixed = {k: v for k, v in self.params.items() if k not in draws}
        cls = type(self.dist)
        out = []
        for i in range(self.n_boot):
            try:
                out.append(cls(**fixed, **{k: float(v[i]) for k, v in draws.items()}))
            except ValueError:
                continue
        return out


@dataclass(frozen=True)
class FitResult:
    """Every family fitted, best first by ``rank_by``; ``skipped`` says why a family was not."""

    data: np.ndarray = field(repr=False)
    rank_by: str
    fits: tuple[FittedFamily, ...]
    skipped: Mapping[str, str]
    note: str  # empty, or what the warning said

    @property
    def n(self) -> int:
        return int(self.data.size)

    @property
    def best(self) -> FittedFamily:
        return self.fits[0]

    @property
    def tie(self) -> bool:
        """The data cannot tell the best family from the runner-up."""
        return bool(self.note)

    def __getitem__(self, family: str) -> FittedFamily:
        for f in self.fits:
            if f.family == family:
                return f
        why = self.skipped.get(family, "it was not asked for")
        raise KeyError(f"{family!r} was not fitted: {why}")

    def weights(self) -> np.ndarray:
        """Akaike-type weights ``exp(-delta / 2)`` normalised, in the order of :attr:`fits`."""
        c = np.array([f.criterion(self.rank_by) for f in self.fits])
        w = np.exp(-0.5 * (c - c.min()))
        return w / w.sum()

    def to_frame(self) -> pd.DataFrame:
        """One row per fitted family, best first: parameters, criteria, weights, fit tests."""
        import pandas as pd

        weights = self.weights()
        best = self.best.criterion(self.rank_by)
        rows = []
        for f, w in zip(self.fits, weights, strict=True):
            rows.append(
                {
                    "family": f.family,
                    "parameters": ", ".join(f"{k}={v:.4g}" for k, v in f.params.items()),
                    "k": f.n_params,
                    "loglik": f.loglik,
                    "aicc": f.aicc,
                    "aic": f.aic,
                    "bic": f.bic,
                    f"delta_{self.rank_by}": f.criterion(self.rank_by) - best,
                    "weight": w,
                    "ks": f.ks,
                    "ks_pvalue": f.ks_pvalue,
                    "ad": f.ad,
                    "ad_pvalue": f.ad_pvalue,
                }
            )
        frame = pd.DataFrame(rows).set_index("family")
        frame.attrs["n"] = self.n
        frame.attrs["rank_by"] = self.rank_by
        frame.attrs["note"] = self.note
        return frame

    def _repr_html_(self) -> str:
        head = f"<p>{self.n} points, ranked by {CRITERION_NAMES[self.rank_by]}"
        head += f". {self.note}</p>" if self.note else "</p>"
        return head + self.to_frame().to_html(float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        order = ", ".join(f.family for f in self.fits)
        return f"FitResult(n={self.n}, best={self.best.dist!r}, ranked by {self.rank_by}: {order})"


def _check_criterion(name: object) -> str:
    if name not in CRITERIA:
        raise ValueError(f"rank_by={name!r} must be one of {list(CRITERIA)}")
    return str(name)


def check_data(data: ArrayLike, what: str = "data") -> np.ndarray:
    """``data`` as a finite 1-d float64 array of at least 4 values, not all equal."""
    if isinstance(data, str | bytes):
        raise TypeError(f"fit: {what}={data!r} must be a 1-d sequence of real numbers")
    arr = np.asarray(data)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"fit: {what} must be real numbers; got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"fit: {what} must be 1-d; got shape {arr.shape}")
    x = arr.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(
            f"fit: {what}[{bad[0]}] = {float(x[bad[0]])!r}; every value must be finite "
            f"(drop missing years before fitting)"
        )
    if x.size < 4:
        raise ValueError(f"fit: {what} holds {x.size} value(s); at least 4 are needed")
    if x.min() == x.max():
        raise ValueError(f"fit: {what} are all {x[0]!r}; a constant has no distribution to fit")
    return x


def _check_families(families: str | Iterable[str] | None) -> tuple[str, ...]:
    if families is None:
        return DEFAULT_FAMILIES
    names = (families,) if isinstance(families, str) else tuple(families)
    if not names:
        raise ValueError(f"families is empty; allowed {list(FIT_FAMILIES)}")
    for name in names:
        if name not in FIT_FAMILIES:
            hint = difflib.get_close_matches(str(name), list(FIT_FAMILIES), n=1)
            tip = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ValueError(
                f"families: {name!r} cannot be fitted, allowed {list(FIT_FAMILIES)}{tip}"
            )
    return tuple(dict.fromkeys(names))


def _quiet(fn: Callable[[np.ndarray], Distribution], x: np.ndarray) -> Distribution:
    """``fn(x)`` with scipy's optimiser warnings silenced (a refit either works or raises)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(x)


def _fit_one(fitter: _Fitter, x: np.ndarray, n_boot: int, seed: SeedLike) -> FittedFamily:
    xs = np.sort(x)
    dist = _quiet(fitter.mle, x)
    loglik = _loglik(dist, x)
    ks, ad = _ks_ad(dist, xs)
    names = [k for k in dist.to_dict() if k != "family"]
    boot: dict[str, list[float]] = {k: [] for k in names}
    ks_b, ad_b = [], []
    failed = 0
    if n_boot:
        samples = dist.rvs((n_boot, x.size), seed=seed, stream=f"fit/{fitter.family}")
        for row in samples:
            try:
                refit = _quiet(fitter.mle, row)
            except (ValueError, RuntimeError, FloatingPointError, np.linalg.LinAlgError):
                failed += 1
                continue
            for k in names:
                boot[k].append(getattr(refit, k))
            ks_r, ad_r = _ks_ad(refit, np.sort(row))
            ks_b.append(ks_r)
            ad_b.append(ad_r)
    ok = len(ks_b)
    return FittedFamily(
        family=fitter.family,
        dist=dist,
        n=x.size,
        n_params=fitter.n_params,
        loglik=loglik,
        ks=ks,
        ad=ad,
        boot={k: np.asarray(v) for k, v in boot.items()},
        ks_pvalue=(1 + sum(k >= ks for k in ks_b)) / (ok + 1) if ok else None,
        ad_pvalue=(1 + sum(a >= ad for a in ad_b)) / (ok + 1) if ok else None,
        n_failed=failed,
    )


def fit(
    data: ArrayLike,
    families: str | Iterable[str] | None = None,
    *,
    rank_by: str = "aicc",
    n_boot: int = 200,
    seed: SeedLike = 0,
) -> FitResult:
    """Fit each family by maximum likelihood and rank them.

    Parameters
    ----------
    data:
        1-d finite values, at least 4 (a family with k parameters needs at least k + 2).
    families:
        names from :data:`FIT_FAMILIES` (default :data:`DEFAULT_FAMILIES`); those that cannot
        hold the data (a LogNormal on negative values) are skipped and listed in ``skipped``.
    rank_by:
        ``"aicc"`` (default), ``"aic"`` or ``"bic"``; all three are reported.
    n_boot:
        parametric bootstrap replicates per family (0: none; no intervals, no p-values).
    seed:
        the bootstrap's seed (``int | SeedSequence | Generator | None``).

    Warns :class:`FitWarning` when the ranking cannot tell the best two families apart.
    """
    x = check_data(data)
    rank_by = _check_criterion(rank_by)
    names = _check_families(families)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ValueError(f"n_boot={n_boot!r} must be a non-negative integer")
    fits, skipped = [], {}
    for name in names:
        fitter = FIT_FAMILIES[name]
        why = fitter.holds(x)
        if why is None and x.size < fitter.n_params + 2:
            why = (
                f"has {fitter.n_params} parameters and needs at least {fitter.n_params + 2} points"
            )
        if why is not None:
            skipped[name] = why
            continue
        try:
            fits.append(_fit_one(fitter, x, int(n_boot), seed))
        except (ValueError, RuntimeError, FloatingPointError) as exc:
            skipped[name] = f"did not converge ({exc})"
    if not fits:
        reasons = "; ".join(f"{k} {v}" for k, v in skipped.items())
        raise ValueError(f"fit: no family can be fitted to these {x.size} points: {reasons}")
    fits.sort(key=lambda f: f.criterion(rank_by))
    note = _tie_note(fits, rank_by, x.size)
    if note:
        warnings.warn(note, FitWarning, stacklevel=2)
    for f in fits:
        if f.n_failed > MAX_FAILED_SHARE * n_boot:
            warnings.warn(
                f"{f.family}: {f.n_failed} of {n_boot} bootstrap refits failed; its intervals "
                f"and p-values rest on the {n_boot - f.n_failed} that worked",
                FitWarning,
                stacklevel=2,
            )
    return FitResult(data=x, rank_by=rank_by, fits=tuple(fits), skipped=skipped, note=note)


def _tie_note(fits: list[FittedFamily], rank_by: str, n: int) -> str:
    """What the ranking cannot tell, in words (empty when the best family is clear)."""
    if len(fits) < 2:
        return ""
    parts = []
    delta = fits[1].criterion(rank_by) - fits[0].criterion(rank_by)
    if delta < TIE_DELTA:
        parts.append(
            f"{n} points cannot tell {fits[0].family} from {fits[1].family} "
            f"({CRITERION_NAMES[rank_by]} differs by {delta:.2f} < {TIE_DELTA:g})"
        )
    by_bic = min(fits, key=lambda f: f.bic)
    if rank_by != "bic" and by_bic.family != fits[0].family:
        parts.append(f"BIC prefers {by_bic.family} to {fits[0].family}")
    if not parts:
        return ""
    return "; ".join(parts) + ": choose the family on judgement, or give more data"
