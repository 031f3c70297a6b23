"""Nearest correlation matrix: Higham (2002) alternating projections with Dykstra's correction.

N. J. Higham, "Computing the nearest correlation matrix - a problem from finance",
IMA J. Numer. Anal. 22 (2002) 329-343, Algorithm 3.3 with unit weights (W = I): the result
minimises the Frobenius distance ``||A - X||_F`` over correlation matrices X (symmetric,
positive semi-definite, unit diagonal). Alternating between the PSD cone and the unit-diagonal
affine set would converge to *a* point of their intersection; Dykstra's correction (the ``ds``
term) makes it converge to the *nearest* one.

Pure numpy: it runs once per run on a d x d matrix, not in the simulation kernel.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nearest_correlation"]


def _psd_projection(a: np.ndarray) -> np.ndarray:
    """Nearest symmetric PSD matrix in the Frobenius norm: clip negative eigenvalues at 0."""
    w, v = np.linalg.eigh(a)
    x = (v * np.maximum(w, 0.0)) @ v.T
    return 0.5 * (x + x.T)


def nearest_correlation(
    a: np.ndarray, *, tol: float = 1e-12, max_iter: int = 10_000, eig_floor: float = 1e-8
) -> tuple[np.ndarray, int, bool]:
    """The correlation matrix nearest to the symmetric unit-diagonal matrix ``a``.

    Returns ``(x, iterations, converged)``. Iteration stops when the relative changes of both
    iterates and their relative distance fall below ``tol`` (Higham's criterion), or after
    ``max_iter`` iterations (``converged`` is then False; ``x`` is still a valid correlation
    matrix, just not exactly the nearest one).

    The projections converge to a matrix whose smallest eigenvalue is 0 up to rounding, which
    an unpivoted Cholesky may reject. A final step lifts the eigenvalues to at least
    ``eig_floor`` and rescales to a unit diagonal, so ``x`` is positive definite (smallest
    eigenvalue about ``eig_floor``); this moves entries by about ``eig_floor`` at most.
    """
    a = np.array(a, dtype=np.float64)
    y = a.copy()
    x = a.copy()
    ds = np.zeros_like(a)
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        x_old, y_old = x, y
        r = y - ds
        x = _psd_projection(r)
        ds = x - r
        y = x.copy()
        np.fill_diagonal(y, 1.0)
        norm_y = np.linalg.norm(y)
        change = max(
            np.linalg.norm(x - x_old) / np.linalg.norm(x),
            np.linalg.norm(y - y_old) / norm_y,
            np.linalg.norm(y - x) / norm_y,
        )
        if change <= tol:
            converged = True
            break
    w, v = np.linalg.eigh(y)
    z = (v * np.maximum(w, eig_floor)) @ v.T
    s = 1.0 / np.sqrt(np.diag(z))
    z = z * s[:, None] * s[None, :]
    z = 0.5 * (z + z.T)
    np.fill_diagonal(z, 1.0)
    return np.clip(z, -1.0, 1.0), iterations, converged
