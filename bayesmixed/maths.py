"""Small numerical helpers shared across stages: one copy each, NumPy/SciPy only.

A leaf module: it imports nothing from :mod:`bayesmixed`, so any stage may use it
(see the import rule in the package docstring).  Each helper used to exist two or
three times (the Bayesian engine and Bayesian prediction, the ML and GLMM coefficient
tables, the header's Wald test and Stata's ``test``); copies drift, one does not.
"""

from __future__ import annotations

import numpy as np

from .lazy_import import stats


def sqrt_psd(cov: np.ndarray) -> np.ndarray:
    """Batched square roots L with L L' = cov of positive semi-definite matrices.

    Cholesky where it succeeds (the usual case, and the cheaper one); at a singular
    boundary estimate (a variance or correlation at its limit) Cholesky fails, and the
    eigen-decomposition with negative rounding clipped to zero gives a root instead.
    ``cov`` is (..., k, k); the result has the same shape.
    """
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(cov)
        return v * np.sqrt(np.clip(w, 0, None))[..., None, :]


def critical_value(level: float) -> float:
    """The two-sided normal quantile of a ``level`` percent interval (1.96 at 95).

    ``level`` is a percentage, as in Stata's ``level()`` option.
    """
    return float(stats.norm.ppf(0.5 + level / 200.0))


def wald_statistic(diff: np.ndarray, middle: np.ndarray) -> tuple[float, int, float]:
    """Wald's ``diff' middle^+ diff`` on rank(middle) degrees of freedom: (chi2, df, p).

    ``middle`` is the covariance of ``diff`` (``R V R'``).  A singular covariance
    uses the pseudo-inverse and its rank as the degrees of freedom, as Stata's
    ``test`` does for collinear constraints; with rank 0 the p-value is NaN and the
    caller decides what that means.
    """
    diff, middle = np.asarray(diff, float), np.asarray(middle, float)
    rank = int(np.linalg.matrix_rank(middle))
    chi2 = float(diff @ np.linalg.pinv(middle) @ diff)
    p = float(stats.chi2.sf(chi2, rank)) if rank else float("nan")
    return chi2, rank, p
