"""Dependence between named factors: Gaussian and Student-t copulas.

Uniform first: the sampler gives each factor its own addressed uniforms, a copula imposes
dependence, and each marginal applies its inverse CDF. Everything here lives in *z-space*
(standard normal scores), because the marginals' kernels take ``ppf_z(x) = ppf(Phi(x))``:

- :class:`GaussianCopula`: ``x = L z`` with ``z`` independent standard normals (one per factor,
  ``z_i = ndtri(u_i)``) and ``L`` the lower-triangular factor of the Pearson parameter ``P``.
- :class:`StudentTCopula`: one extra draw per path, ``w ~ chi2(df)`` (from its own stream),
  ``t = (L z) / sqrt(w / df)`` is multivariate t, and the copula's z-space value is
  ``x_i = ndtri(t_df.cdf(t_i))``: ``Phi(x_i)`` is exactly the copula uniform ``t_df.cdf(t_i)``,
  so the marginal ``ppf_z(x_i)`` is the marginal quantile of that uniform. The tails are
  computed on the small side (``x = -ndtri(t_df.cdf(-|t|))`` for ``t > 0``), so no precision
  is lost to ``1 - tiny``.

Correlation input (:func:`validate_correlation`): a matrix in the order of ``labels``, either
Pearson (``kind="pearson"``, the copula parameter itself) or Spearman rank correlations
(``kind="spearman"``, what spreadsheet risk tools take), converted to the Pearson parameter:

- Gaussian copula: ``r = 2 sin(pi rho_s / 6)``, exact.
- Student-t copula: there is no closed form, and the Gaussian formula is *not* a good
  approximation (it is off by up to 0.06 for df = 1, 0.02 for df = 3, 0.012 for df = 5, 0.006 for
  df = 10, as the tabulation below shows), so it is not used. Instead ``rho_s(r; df)`` is
  tabulated once per ``df`` by quadrature and inverted by monotone interpolation (see
  :func:`spearman_to_pearson`); the table is accurate to about 1e-7.

A matrix that is not positive semi-definite is an error that names the inconsistent factors
(unless the caller opts in to ``repair="nearest"``, which is recorded in ``info``). The factor
``L`` comes from a Cholesky factorisation without pivoting that tolerates semi-definite
matrices (``|r| = 1`` between two factors), in the fixed label order, summing in a fixed
order: a factor uncorrelated with all others gets a unit row and column, so adding one, at any
position, leaves every other factor's draws unchanged bit for bit (factor draws come from
streams named by label, never by position).

Kernels for the simulation loop (numba, plain arrays, no validation): :func:`correlate_row`,
:func:`t_correlate_row`, :func:`t_to_z`, :func:`chi2_ppf`.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import interpolate, special

from . import _special, streams
from ._kernel import ndtr, ndtri
from ._nearest import nearest_correlation
from ._numba import jit

if TYPE_CHECKING:
    from .streams import SeedLike

__all__ = [
    "validate_correlation",
    "spearman_to_pearson",
    "pearson_to_spearman",
    "GaussianCopula",
    "StudentTCopula",
    "correlate_row",
    "t_correlate_row",
    "t_to_z",
    "chi2_ppf",
    "semidefinite_cholesky",
    "PSD_TOL",
    "SYMMETRY_TOL",
]

KINDS = ("pearson", "spearman")
REPAIRS = (None, "nearest")
SYMMETRY_TOL = 1e-12  # |a_ij - a_ji|, |a_ii - 1| and the excess of |a_ij| over 1 allowed
PSD_TOL = 1e-10  # smallest eigenvalue allowed: >= -PSD_TOL
PIVOT_TOL = 1e-10  # a Cholesky pivot (residual variance) <= this is treated as exactly 0
FACTOR_TOL = 1e-6  # max |L L^T - P| accepted after the factorisation
_U_LO = float(np.nextafter(0.0, 1.0))  # copula uniforms are clipped into the open (0, 1)
_U_HI = float(np.nextafter(1.0, 0.0))


@jit
def chi2_ppf(df: float, u: float) -> float:
    """``chi2(df).ppf(u)`` for ``u`` in (0, 1), accurate in both tails, callable from numba.

    Lower half via the inverse regularised lower incomplete gamma, upper half via the upper one
    applied to ``1 - u`` (exact for ``u >= 0.5``).
    """
    if u <= 0.5:
        return 2.0 * _special.gammaincinv(0.5 * df, u)
    return 2.0 * _special.gammainccinv(0.5 * df, 1.0 - u)


# --- kernels -----------------------------------------------------------------------------------
@jit
def correlate_row(L: np.ndarray, z_in: np.ndarray, z_out: np.ndarray) -> None:
    """Gaussian copula on one path: ``z_out = L @ z_in``.

    ``L``: float64[d, d] lower-triangular factor; ``z_in``: float64[d] independent standard
    normals in label order; ``z_out``: float64[d] (must not alias ``z_in``). Sums run left to
    right over ``k <= i`` (no reassociation: fastmath is off), so the bytes are reproducible
    and a zero column adds nothing.
    """
    d = z_in.shape[0]
    for i in range(d):
        acc = 0.0
        for k in range(i + 1):
            acc += L[i, k] * z_in[k]
        z_out[i] = acc


@jit
def t_to_z(df: float, t: float) -> float:
    """``ndtri(t_df.cdf(t))``: a Student-t variate as a z-space (standard normal) score.

    Computed on the tail side: ``v = ndtri(t_df.cdf(-|t|))``, then ``-v`` for ``t > 0``.
    """
    v = ndtri(_special.stdtr(df, -abs(t)))
    return -v if t > 0.0 else v


@jit
def t_correlate_row(
    L: np.ndarray, df: float, z_in: np.ndarray, w: float, x_out: np.ndarray
) -> None:
    """Student-t copula on one path, in z-space.

    ``L``: float64[d, d] lower-triangular factor; ``df``: float64 degrees of freedom;
    ``z_in``: float64[d] independent standard normals in label order; ``w``: float64, the
    path's ``chi2(df)`` draw (see :func:`chi2_ppf`); ``x_out``: float64[d] (must not alias
    ``z_in``) receives ``x_i = ndtri(t_df.cdf(t_i))`` with ``t = (L z_in) / sqrt(w / df)``.
    """
    correlate_row(L, z_in, x_out)
    scale = math.sqrt(w / df)
    for i in range(x_out.shape[0]):
        x_out[i] = t_to_z(df, x_out[i] / scale)


@jit
def _correlate_rows(L: np.ndarray, z: np.ndarray, out: np.ndarray) -> None:
    """``out[r] = L @ z[r]`` for float64[n, d] ``z`` and ``out``."""
    for r in range(z.shape[0]):
        correlate_row(L, z[r], out[r])


@jit
def _t_correlate_rows(
    L: np.ndarray, df: float, z: np.ndarray, w: np.ndarray, out: np.ndarray
) -> None:
    """``t_correlate_row`` for each row of float64[n, d] ``z`` with float64[n] ``w``."""
    for r in range(z.shape[0]):
        t_correlate_row(L, df, z[r], w[r], out[r])


@jit
def _ndtri_array(u: np.ndarray, out: np.ndarray) -> None:
    for i in range(u.size):
        out[i] = ndtri(u[i])


@jit
def _ndtr_array(x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.size):
        out[i] = ndtr(x[i])


@jit
def _chi2_ppf_array(df: float, u: np.ndarray, out: np.ndarray) -> None:
    for i in range(u.size):
        out[i] = chi2_ppf(df, u[i])


@jit
def _semidefinite_cholesky(a: np.ndarray, pivot_tol: float, L: np.ndarray) -> None:
    """Lower-triangular ``L`` with ``L L^T = a`` for a PSD float64[d, d] ``a``, no pivoting.

    A pivot (residual variance) ``<= pivot_tol`` means the factor is a linear combination of
    the earlier ones: its diagonal and the rest of its column are set to exactly 0. Sums run
    left to right, so inserting a factor whose row and column of ``a`` are zero (apart from the
    unit diagonal) leaves every other entry of ``L`` bit-identical.
    """
    d = a.shape[0]
    for j in range(d):
        s = a[j, j]
        for p in range(j):
            s -= L[j, p] * L[j, p]
        ljj = math.sqrt(s) if s > pivot_tol else 0.0
        L[j, j] = ljj
        for i in range(j):
            L[i, j] = 0.0
        for i in range(j + 1, d):
            if ljj == 0.0:
                L[i, j] = 0.0
            else:
                t = a[i, j]
                for p in range(j):
                    t -= L[i, p] * L[j, p]
                L[i, j] = t / ljj


def semidefinite_cholesky(matrix: ArrayLike) -> np.ndarray:
    """The lower-triangular factor used by the copulas (see ``_semidefinite_cholesky``)."""
    a = np.ascontiguousarray(matrix, dtype=np.float64)
    L = np.zeros_like(a)
    _semidefinite_cholesky(a, PIVOT_TOL, L)
    return L


# --- Spearman <-> Pearson ------------------------------------------------------------------------
_T_TABLE_RADII = 256  # Gauss-Legendre nodes over the radial probability
_T_TABLE_ANGLES = 2048  # equispaced angles (periodic trapezoid rule)


@functools.lru_cache(maxsize=32)
def _t_spearman_table(df: float) -> tuple[np.ndarray, np.ndarray]:
    """``(r, rho_s)``: Spearman's rho of the bivariate t copula on a grid of its parameter r.

    ``rho_s = 12 E[F(X) F(Y)] - 3`` with ``F = t_df.cdf``. In polar form the bivariate t with
    correlation ``r = cos(phi)`` is ``X = R cos(theta)``, ``Y = R cos(theta - phi)``, with
    ``theta`` uniform and ``P(R^2 <= s) = 1 - (1 + s/df)^(-df/2)``; so
    ``E[F(X) F(Y)] = int_0^1 du mean_theta F(R(u) cos theta) F(R(u) cos(theta - phi))``: a
    Gauss-Legendre rule in ``u`` and, in ``theta``, a circular autocorrelation (one FFT gives
    every ``phi`` on the grid). Doubling both grids changes the table by < 1e-6 for df = 1 and
    < 2e-7 for df >= 2; for df -> inf it reproduces ``(6/pi) arcsin(r/2)`` to 2e-7.
    """
    nodes, weights = np.polynomial.legendre.leggauss(_T_TABLE_RADII)
    u = 0.5 * (nodes + 1.0)
    radius = np.sqrt(df * np.expm1(-(2.0 / df) * np.log1p(-u)))
    theta = 2.0 * np.pi * np.arange(_T_TABLE_ANGLES) / _T_TABLE_ANGLES
    f = special.stdtr(df, radius[:, None] * np.cos(theta)[None, :])
    fh = np.fft.rfft(f, axis=1)
    auto = np.fft.irfft(fh * np.conj(fh), n=_T_TABLE_ANGLES, axis=1) / _T_TABLE_ANGLES
    rho = 12.0 * ((0.5 * weights) @ auto) - 3.0
    half = _T_TABLE_ANGLES // 2
    rho = rho[: half + 1]  # phi in [0, pi]: r from 1 down to -1
    rho = 0.5 * (rho - rho[::-1])  # exact odd symmetry rho_s(-r) = -rho_s(r)
    rho[0], rho[-1] = 1.0, -1.0
    r = np.cos(theta[: half + 1])
    r[0], r[half // 2], r[-1] = 1.0, 0.0, -1.0
    r, rho = r[::-1].copy(), rho[::-1].copy()
    if not (np.all(np.diff(rho) > 0.0) and np.all(np.diff(r) > 0.0)):  # pragma: no cover
        raise RuntimeError(f"Spearman table of the t copula is not monotone for df={df}")
    return r, rho


@functools.lru_cache(maxsize=32)
def _t_spearman_maps(
    df: float,
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    r, rho = _t_spearman_table(df)
    return interpolate.PchipInterpolator(r, rho), interpolate.PchipInterpolator(rho, r)


def _check_df(df: object) -> float:
    if isinstance(df, bool | np.bool_) or not isinstance(df, numbers.Real):
        raise TypeError(f"df={df!r} must be a real number >= 1; got {type(df).__name__}")
    x = float(df)
    if not (math.isfinite(x) and x >= 1.0):
        raise ValueError(
            f"df={df!r} must be a finite real number >= 1 (for df = inf use GaussianCopula)"
        )
    return x


def spearman_to_pearson(rho_s: ArrayLike, df: float | None = None) -> np.ndarray:
    """The copula parameter r giving Spearman's rho ``rho_s`` (array-like in [-1, 1]).

    ``df=None``: Gaussian copula, ``r = 2 sin(pi rho_s / 6)`` (exact). ``df`` a number >= 1:
    Student-t copula, numerical inverse of the tabulated ``rho_s(r; df)`` (error ~1e-7).
    """
    rho_s = np.asarray(rho_s, dtype=np.float64)
    if df is None:
        out = 2.0 * np.sin(np.pi * rho_s / 6.0)
    else:
        out = _t_spearman_maps(_check_df(df))[1](rho_s)
        out = np.where(np.abs(rho_s) == 1.0, rho_s, out)  # comonotone stays exactly so
    return np.clip(out, -1.0, 1.0)


def pearson_to_spearman(r: ArrayLike, df: float | None = None) -> np.ndarray:
    """Spearman's rho of the copula with parameter ``r``: the inverse of
    :func:`spearman_to_pearson` (Gaussian: ``(6/pi) arcsin(r/2)``)."""
    r = np.asarray(r, dtype=np.float64)
    if df is None:
        out = (6.0 / np.pi) * np.arcsin(r / 2.0)
    else:
        out = _t_spearman_maps(_check_df(df))[0](r)
        out = np.where(np.abs(r) == 1.0, r, out)
    return np.clip(out, -1.0, 1.0)


# --- validation ----------------------------------------------------------------------------------
def _pair(labels: Sequence[str], i: int | np.integer[Any], j: int | np.integer[Any]) -> str:
    return f"({labels[int(i)]}, {labels[int(j)]})"


def _num(x: float) -> str:
    """A matrix entry as the user would type it (shortest repr of the Python float)."""
    return repr(float(x))


def _check_labels(labels: object, d: int | None, factors: Sequence[str] | None) -> tuple[str, ...]:
    if isinstance(labels, str) or not isinstance(labels, Sequence | np.ndarray):
        raise TypeError(f"labels={labels!r} must be a sequence of factor names (str)")
    labels = tuple(labels)
    bad = [x for x in labels if not isinstance(x, str) or not x]
    if bad:
        raise TypeError(f"labels must be non-empty strings; got {bad[0]!r} in {list(labels)}")
    seen, dups = set(), []
    for x in labels:
        if x in seen and x not in dups:
            dups.append(x)
        seen.add(x)
    if dups:
        raise ValueError(f"labels must be unique; repeated: {dups}")
    if d is not None and len(labels) != d:
        raise ValueError(
            f"labels has {len(labels)} names {list(labels)} but the correlation matrix is "
            f"{d}x{d}; give one label per row/column"
        )
    if factors is not None:
        factors = list(factors)
        missing = [f for f in factors if f not in seen]
        extra = [x for x in labels if x not in set(factors)]
        if missing or extra:
            raise ValueError(
                f"correlation labels do not match the model's factors: missing {missing} "
                f"(factors without a row/column), extra {extra} (labels that are not factors)"
            )
    return labels


def _to_input_units(p: np.ndarray, kind: str, df: float | None) -> np.ndarray:
    return p if kind == "pearson" else pearson_to_spearman(p, df)


def _consistent_interval(r_ab: float, r_ac: float) -> tuple[float, float]:
    """Where ``r_bc`` must lie for ``[[1, r_ab, r_ac], [r_ab, 1, r_bc], [r_ac, r_bc, 1]]``
    to be PSD."""
    half = math.sqrt(max(0.0, (1.0 - r_ab * r_ab) * (1.0 - r_ac * r_ac)))
    return max(-1.0, r_ab * r_ac - half), min(1.0, r_ab * r_ac + half)


def _worst_triple(p: np.ndarray) -> tuple[float, tuple[int, int, int] | None]:
    """The principal 3x3 submatrix with the most negative determinant (O(d^3), O(d^2) memory)."""
    d = p.shape[0]
    best, where = math.inf, None
    for i in range(d - 2):
        a = p[i, i + 1 :]
        c = p[i + 1 :, i + 1 :]
        det = 1.0 + 2.0 * a[:, None] * a[None, :] * c - a[:, None] ** 2 - a[None, :] ** 2 - c**2
        det[np.tril_indices(d - i - 1)] = np.inf  # keep j < k
        flat = int(np.argmin(det))
        j, k = divmod(flat, d - i - 1)
        if det[j, k] < best:
            best, where = float(det[j, k]), (i, i + 1 + j, i + 1 + k)
    return best, where


def _non_psd_message(
    p: np.ndarray,
    user: np.ndarray,
    labels: Sequence[str],
    kind: str,
    df: float | None,
    lam: float,
    vec: np.ndarray,
) -> str:
    sym = "r" if kind == "pearson" else "rho_s"
    space = (
        ""
        if kind == "pearson"
        else f" (after converting the Spearman {sym} to the copula's Pearson parameter)"
    )
    head = (
        f"correlation matrix{space} is not positive semi-definite: smallest eigenvalue "
        f"{lam:.6g} < -{PSD_TOL:g}"
    )
    tail = (
        "; fix these entries, or pass repair='nearest' to use the nearest correlation matrix "
        "(Higham 2002; the change is warned about and recorded)"
    )
    _, triple = _worst_triple(p)
    if triple is not None and np.linalg.eigvalsh(p[np.ix_(triple, triple)])[0] < -PSD_TOL:
        options = []
        for a, b, c in (
            (triple[0], triple[1], triple[2]),
            (triple[0], triple[2], triple[1]),
            (triple[1], triple[2], triple[0]),
        ):
            # entry (a, b) given the other two: (c, a) and (c, b)
            lo, hi = _consistent_interval(p[c, a], p[c, b])
            gap = max(lo - p[a, b], p[a, b] - hi, 0.0)
            lo_u, hi_u = (float(v) for v in _to_input_units(np.array([lo, hi]), kind, df))
            options.append((gap, a, b, c, lo_u, hi_u))
        gap, a, b, c, lo, hi = max(options, key=lambda o: o[0])
        names = ", ".join(labels[t] for t in triple)
        msg = (
            f"{head}. Factors ({names}) are inconsistent: given {sym}{_pair(labels, c, a)} = "
            f"{_num(user[c, a])} and {sym}{_pair(labels, c, b)} = {_num(user[c, b])}, "
            f"{sym}{_pair(labels, a, b)} = {_num(user[a, b])} must lie in [{lo:.4f}, {hi:.4f}]"
        )
        others = [
            f"{sym}{_pair(labels, oa, ob)} in [{olo:.4f}, {ohi:.4f}]"
            for _, oa, ob, _, olo, ohi in options
            if (oa, ob) != (a, b)
        ]
        return f"{msg} (or, keeping the other two, {' or '.join(others)}){tail}"
    order = np.argsort(-np.abs(vec), kind="stable")[: min(5, len(labels))]
    heavy = ", ".join(f"{labels[i]} ({vec[i]:+.3f})" for i in order)
    return (
        f"{head}, although every three factors are consistent by themselves: the "
        f"inconsistency involves four or more factors. Factors carrying the most weight in "
        f"the eigenvector of the smallest eigenvalue: {heavy}{tail}"
    )


def _validate(
    matrix: ArrayLike,
    labels: Sequence[str],
    kind: str,
    repair: str | None,
    df: float | None,
    factors: Sequence[str] | None,
    stacklevel: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} must be one of {KINDS}")
    if repair not in REPAIRS:
        raise ValueError(f"repair={repair!r} must be one of {REPAIRS}")
    if df is not None:
        df = _check_df(df)
    try:
        a = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"correlation matrix must be a 2-D array of real numbers: {exc}") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"correlation matrix must be square (d x d); got shape {a.shape}")
    d = a.shape[0]
    if d == 0:
        raise ValueError("correlation matrix must have at least one factor; got shape (0, 0)")
    labels = _check_labels(labels, d, factors)
    bad = np.argwhere(~np.isfinite(a))
    if bad.size:
        i, j = bad[0]
        raise ValueError(
            f"correlation matrix entry {_pair(labels, i, j)} = {_num(a[i, j])} must be a finite "
            f"number in [-1, 1]"
        )
    asym = np.abs(a - a.T)
    if asym.max() > SYMMETRY_TOL:
        i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
        i, j = min(i, j), max(i, j)
        raise ValueError(
            f"correlation matrix is not symmetric: entry {_pair(labels, i, j)} = {_num(a[i, j])} "
            f"but {_pair(labels, j, i)} = {_num(a[j, i])}; they must agree to within "
            f"{SYMMETRY_TOL:g}"
        )
    diag = np.abs(np.diag(a) - 1.0)
    if diag.max() > SYMMETRY_TOL:
        i = int(np.argmax(diag))
        raise ValueError(
            f"correlation matrix diagonal entry {_pair(labels, i, i)} = {_num(a[i, i])} must be 1"
        )
    out = np.abs(a) - 1.0
    if out.max() > SYMMETRY_TOL:
        i, j = np.unravel_index(int(np.argmax(out)), out.shape)
        i, j = min(i, j), max(i, j)
        raise ValueError(
            f"correlation matrix entry {_pair(labels, i, j)} = {_num(a[i, j])} is outside the "
            f"allowed range [-1, 1]"
        )
    user = np.clip(0.5 * (a + a.T), -1.0, 1.0)
    np.fill_diagonal(user, 1.0)

    if kind == "pearson":
        p = user.copy()
        conversion = None
    else:
        p = spearman_to_pearson(user, df)
        p = 0.5 * (p + p.T)
        np.fill_diagonal(p, 1.0)
        conversion = (
            "gaussian: r = 2 sin(pi rho_s / 6)"
            if df is None
            else f"student-t(df={df:g}): numerical inverse of tabulated rho_s(r)"
        )
    w, v = np.linalg.eigh(p)
    info = {"kind": kind, "labels": labels, "df": df, "conversion": conversion, "repair": repair}
    if repair == "nearest":
        info.update(max_change=0.0, entry=None, iterations=0, converged=True)
    if w[0] < -PSD_TOL:
        if repair is None:
            raise ValueError(_non_psd_message(p, user, labels, kind, df, w[0], v[:, 0]))
        p, iterations, converged = nearest_correlation(p)
        change = np.abs(_to_input_units(p, kind, df) - user)
        i, j = np.unravel_index(int(np.argmax(change)), change.shape)
        i, j = min(i, j), max(i, j)
        max_change = float(change[i, j])
        info.update(
            max_change=max_change,
            entry=(labels[i], labels[j]),
            iterations=iterations,
            converged=converged,
            min_eigenvalue_before=float(w[0]),
        )
        new = float(_to_input_units(p, kind, df)[i, j])
        note = "" if converged else " (iteration limit reached: close to, not exactly, nearest)"
        warnings.warn(
            f"correlation matrix is not positive semi-definite (smallest eigenvalue "
            f"{w[0]:.6g}); repair='nearest' replaced it by the nearest correlation matrix "
            f"(Higham 2002, {iterations} iterations{note}): max change {max_change:.6g} "
            f"({kind}) at {_pair(labels, i, j)}, from {_num(user[i, j])} to {new:.6g}",
            UserWarning,
            stacklevel=stacklevel,
        )
        w = np.linalg.eigvalsh(p)
    info["min_eigenvalue"] = float(w[0])
    return np.ascontiguousarray(p), info


def validate_correlation(
    matrix: ArrayLike,
    labels: Sequence[str],
    *,
    kind: str = "pearson",
    repair: str | None = None,
    df: float | None = None,
    factors: Sequence[str] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Check a correlation matrix and return ``(pearson_parameter float64[d, d], info)``.

    ``matrix``: d x d, in the order of ``labels`` (d unique non-empty names). Required:
    square, finite, symmetric to within 1e-12, unit diagonal (to 1e-12), entries in [-1, 1];
    if ``factors`` (the model's factor names) is given, the labels must be exactly those names
    (order free). ``kind``: ``"pearson"`` (the copula parameter) or ``"spearman"`` (converted
    for the Gaussian copula, ``df=None``, or the Student-t copula with ``df``). After
    conversion the matrix must be positive semi-definite (smallest eigenvalue >= -1e-10);
    otherwise a ValueError names the worst inconsistent triple of factors and the interval in
    which its offending entry would be consistent, in the units of ``kind``.

    ``repair="nearest"`` (opt-in) instead replaces a non-PSD matrix by the nearest correlation
    matrix (Higham 2002, applied to the Pearson parameter), warns with the largest change and
    records it: ``info`` gets ``repair="nearest"``, ``max_change`` (in the units of ``kind``),
    ``entry`` (label pair), ``iterations``, ``converged``. A PSD matrix is never changed
    (``max_change=0.0``, no warning). Errors are ``ValueError``/``TypeError`` naming the entry
    by its label pair, its value and what is allowed.
    """
    return _validate(matrix, labels, kind, repair, df, factors, stacklevel=3)


# --- copulas -----------------------------------------------------------------------------------
def _readonly(a: ArrayLike) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.flags.writeable = False
    return a


class _Copula:
    """Shared frozen state: ``labels``, ``matrix`` (Pearson parameter), ``factor``, ``info``."""

    __slots__ = ("labels", "matrix", "factor", "info")
    labels: tuple[str, ...]
    matrix: np.ndarray
    factor: np.ndarray
    info: dict[str, Any]

    def _setup(
        self,
        labels: Sequence[str],
        matrix: ArrayLike,
        kind: str,
        repair: str | None,
        df: float | None,
        factors: Sequence[str] | None,
    ) -> None:
        p, info = _validate(matrix, labels, kind, repair, df, factors, stacklevel=4)
        L = semidefinite_cholesky(p)
        err = float(np.max(np.abs(L @ L.T - p)))
        if err > FACTOR_TOL:  # pragma: no cover (PSD to 1e-10 keeps it near 1e-5 at worst)
            raise ValueError(
                f"correlation matrix could not be factorised: max |L L^T - P| = {err:.3g}"
            )
        info["factor_error"] = err
        object.__setattr__(self, "labels", info["labels"])
        object.__setattr__(self, "matrix", _readonly(p))
        object.__setattr__(self, "factor", _readonly(L))
        object.__setattr__(self, "info", info)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one instead")

    @property
    def d(self) -> int:
        return len(self.labels)

    def _check_z(self, z: ArrayLike) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        if z.ndim < 1 or z.shape[-1] != self.d:
            raise ValueError(
                f"z must have shape (..., {self.d}) (one column per label {list(self.labels)}); "
                f"got {z.shape}"
            )
        if not np.isfinite(z).all():
            raise ValueError("z must be finite standard normal draws; it contains NaN or inf")
        return z

    def _normals(
        self, ss: np.random.SeedSequence, name: str, start: int, n_paths: int, year: int, slot: int
    ) -> np.ndarray:
        u = streams.uniforms(ss, name, start, n_paths, year, slot)
        z = np.empty_like(u)
        _ndtri_array(u, z)
        return z

    def _independent(
        self, n_paths: int, seed: SeedLike, start: int, year: int, slot: int
    ) -> tuple[np.random.SeedSequence, np.ndarray]:
        if isinstance(n_paths, bool) or not isinstance(n_paths, numbers.Integral) or n_paths < 0:
            raise ValueError(f"n_paths={n_paths!r} must be a non-negative integer")
        ss = streams.handle_seed(seed)
        z = np.empty((int(n_paths), self.d))
        for i, label in enumerate(self.labels):
            z[:, i] = self._normals(ss, label, start, n_paths, year, slot)
        return ss, z

    def sample_z(
        self, n_paths: int, seed: SeedLike, *, start: int = 0, year: int = 0, slot: int = 0
    ) -> np.ndarray:
        """z-space values float64[n_paths, d] (each copula's own)."""
        raise NotImplementedError

    def sample(
        self, n_paths: int, seed: SeedLike, *, start: int = 0, year: int = 0, slot: int = 0
    ) -> np.ndarray:
        """Correlated uniforms, float64[n_paths, d] in the open (0, 1), columns in label order.

        Column ``i`` is ``Phi(x_i)`` where ``x`` is :meth:`sample_z`; paths ``start ..
        start + n_paths - 1``, addressed streams named by label.
        """
        x = self.sample_z(n_paths, seed, start=start, year=year, slot=slot)
        u = np.empty_like(x)
        _ndtr_array(x.ravel(), u.ravel())
        return np.clip(u, _U_LO, _U_HI, out=u)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(labels={list(self.labels)}, kind={self.info['kind']!r})"


class GaussianCopula(_Copula):
    """Gaussian copula over named factors (frozen).

    ``GaussianCopula(labels, matrix, kind="pearson", repair=None, factors=None)``; see
    :func:`validate_correlation` for the checks, the Spearman conversion and the repair.
    Attributes: ``labels`` (tuple), ``matrix`` (the Pearson parameter P used, read-only),
    ``factor`` (lower-triangular L, L L^T = P, read-only), ``info`` (metadata for the run
    manifest). Kernel contract: :func:`correlate_row` with ``kernel_args() == (factor,)``.
    """

    __slots__ = ()

    def __init__(
        self,
        labels: Sequence[str],
        matrix: ArrayLike,
        kind: str = "pearson",
        repair: str | None = None,
        factors: Sequence[str] | None = None,
    ) -> None:
        self._setup(labels, matrix, kind, repair, None, factors)
        self.info["copula"] = "gaussian"

    def kernel_args(self) -> tuple[np.ndarray]:
        return (self.factor,)

    def correlate(self, z: ArrayLike) -> np.ndarray:
        """Independent standard normals ``z`` (..., d) -> correlated ones ``L z`` (..., d)."""
        z = self._check_z(z)
        flat = np.ascontiguousarray(z.reshape(-1, self.d))
        out = np.empty_like(flat)
        _correlate_rows(self.factor, flat, out)
        return out.reshape(z.shape)

    def sample_z(
        self, n_paths: int, seed: SeedLike, *, start: int = 0, year: int = 0, slot: int = 0
    ) -> np.ndarray:
        """Correlated standard normals float64[n_paths, d]: ``L z`` with
        ``z[:, i] = ndtri(streams.uniforms(seed, labels[i], start, n_paths, year, slot))``."""
        _, z = self._independent(n_paths, seed, start, year, slot)
        return self.correlate(z)


class StudentTCopula(_Copula):
    """Student-t copula over named factors (frozen), output in z-space.

    ``StudentTCopula(labels, matrix, df, kind="pearson", repair=None, factors=None,
    mixing_stream="copula.t.mixing")``. ``df``: real >= 1. The per-path chi-square draw
    ``w = chi2_ppf(df, u)`` takes its uniform ``u`` from the stream ``mixing_stream`` (which
    must not be a label). Contract of :meth:`correlate` and :func:`t_correlate_row`:
    ``t = (L z) / sqrt(w / df)``, returned as ``x = ndtri(t_df.cdf(t))``, so ``Phi(x)`` is the
    copula's uniform and a marginal's ``ppf_z(x)`` its quantile. ``info["df"]`` holds ``df``.
    """

    __slots__ = ("df", "mixing_stream")
    df: float
    mixing_stream: str

    def __init__(
        self,
        labels: Sequence[str],
        matrix: ArrayLike,
        df: float,
        kind: str = "pearson",
        repair: str | None = None,
        factors: Sequence[str] | None = None,
        mixing_stream: str = "copula.t.mixing",
    ) -> None:
        df = _check_df(df)
        self._setup(labels, matrix, kind, repair, df, factors)
        if not isinstance(mixing_stream, str) or not mixing_stream:
            raise TypeError(f"mixing_stream={mixing_stream!r} must be a non-empty str")
        if mixing_stream in self.labels:
            raise ValueError(
                f"mixing_stream={mixing_stream!r} must differ from every label {list(self.labels)}"
            )
        object.__setattr__(self, "df", df)
        object.__setattr__(self, "mixing_stream", mixing_stream)
        self.info.update(copula="student-t", mixing_stream=mixing_stream)

    def kernel_args(self) -> tuple[np.ndarray, float]:
        return (self.factor, self.df)

    def chi2(self, u: ArrayLike) -> np.ndarray:
        """``chi2(df).ppf(u)`` for uniforms ``u`` in (0, 1) (the per-path mixing draw)."""
        u = np.asarray(u, dtype=np.float64)
        if not ((u > 0.0) & (u < 1.0)).all():
            raise ValueError("u must lie in the open interval (0, 1)")
        flat = np.ascontiguousarray(u.ravel())
        out = np.empty_like(flat)
        _chi2_ppf_array(self.df, flat, out)
        return out.reshape(u.shape)

    def correlate(self, z: ArrayLike, w: ArrayLike) -> np.ndarray:
        """Independent standard normals ``z`` (..., d) and chi-square draws ``w`` (...) ->
        z-space values ``x = ndtri(t_df.cdf((L z) / sqrt(w / df)))`` (..., d)."""
        z = self._check_z(z)
        w = np.asarray(w, dtype=np.float64)
        if w.shape != z.shape[:-1]:
            raise ValueError(
                f"w must have shape {z.shape[:-1]} (one draw per row of z); got {w.shape}"
            )
        if not (np.isfinite(w) & (w > 0.0)).all():
            raise ValueError("w must be finite and > 0 (chi-square draws)")
        flat = np.ascontiguousarray(z.reshape(-1, self.d))
        out = np.empty_like(flat)
        _t_correlate_rows(self.factor, self.df, flat, np.ascontiguousarray(w.ravel()), out)
        return out.reshape(z.shape)

    def sample_z(
        self, n_paths: int, seed: SeedLike, *, start: int = 0, year: int = 0, slot: int = 0
    ) -> np.ndarray:
        """z-space values float64[n_paths, d]: :meth:`correlate` of the labels' normals and
        ``w = chi2_ppf(df, streams.uniforms(seed, mixing_stream, start, n_paths, year, slot))``."""
        ss, z = self._independent(n_paths, seed, start, year, slot)
        w = self.chi2(streams.uniforms(ss, self.mixing_stream, start, n_paths, year, slot))
        return self.correlate(z, w)
