"""Finding the fixed-effect columns Stata would omit for collinearity.

Stata keeps the constant and, scanning the columns in order, drops each column
that is (numerically) a linear combination of the columns kept before it, so
the *later* of two collinear variables is the one reported as omitted.  The
scan here does the same on the cross-product matrix, which costs one
``X.T @ X`` (fast even for a million rows) instead of a QR of X.

Two details protect the precision of that cross-product:

* with a constant, the other columns are centred first, which projects the
  constant out exactly; a column whose centred norm is at the rounding level
  of its raw norm (``CONSTANT_TOL``, 1e-12) is constant, hence collinear with
  ``_cons``.  Rounding leaves an exactly constant column a ratio of ~1e-16;
  a covariate far from zero keeps its variation at a ratio of spread / offset:
  3e-8 for a unit-scale x shifted by 3e7 (timestamps), which the earlier
  threshold of 1e-7 dropped as "collinear" (issue 19).  At 1e-12 the centred
  values still hold four significant digits, as the data do;
* columns are scaled to unit norm, so the pivot of column j in the sequential
  Cholesky is sin^2 of its angle to the span of the kept columns.  It is judged
  zero below ``tol`` (1e-9, an angle of about 3e-5 radians): far above the
  rounding noise of exactly collinear columns (~1e-15) and far below any
  column that carries information a likelihood could use.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

CONSTANT_TOL = 1e-12
PIVOT_TOL = 1e-9


def collinear_columns(X: np.ndarray, constant: bool, tol: float = PIVOT_TOL) -> list[int]:
    """Indices of the columns of ``X`` to omit, in increasing order.

    Parameters
    ----------
    X : (n, p) design; when ``constant`` is true its last column is ``_cons``,
        which is never omitted (Stata gives the constant priority).
    constant : whether the last column is the constant.
    tol : pivot tolerance on the unit-scaled, centred cross-product.
    """
    body = X[:, :-1] if constant else X
    if body.shape[1] == 0:
        return []
    raw = np.sqrt(np.einsum("ij,ij->j", body, body))
    if constant:
        body = body - body.mean(axis=0)
        norms = np.sqrt(np.einsum("ij,ij->j", body, body))
        dead = (raw == 0) | (norms <= CONSTANT_TOL * raw)
    else:
        norms = raw
        dead = raw == 0
    live = np.flatnonzero(~dead)
    gram = body[:, live].T @ body[:, live]
    scale = norms[live]
    gram = gram / np.outer(scale, scale)
    omitted = set(np.flatnonzero(dead).tolist())
    omitted.update(int(live[j]) for j in _sequential_pivots(gram, tol))
    return sorted(omitted)


def _sequential_pivots(gram: np.ndarray, tol: float) -> list[int]:
    """Columns whose Cholesky pivot, given the columns kept before them, is ~0."""
    m = gram.shape[0]
    chol = np.zeros((m, m))
    kept: list[int] = []
    dropped: list[int] = []
    for j in range(m):
        k = len(kept)
        row = solve_triangular(chol[:k, :k], gram[kept, j], lower=True) if k else np.zeros(0)
        pivot = gram[j, j] - row @ row
        if pivot <= tol * gram[j, j]:
            dropped.append(j)
            continue
        chol[k, :k] = row
        chol[k, k] = np.sqrt(pivot)
        kept.append(j)
    return dropped
