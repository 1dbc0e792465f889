"""``regress y x1 x2 [if], vce(cluster g) | vce(robust)``: OLS as Stata computes it.

Cluster-robust variance ([R] regress, Methods and formulas; [P] _robust)::

    V = c * (X'X)^-1 (sum_g X_g' e_g e_g' X_g) (X'X)^-1,   c = G/(G-1) * (N-1)/(N-K)

and ``vce(robust)`` is the same sum over single observations with c = N/(N-K) (HC1).
Tests and intervals then use t with G-1 (cluster) or N-K degrees of freedom.  R's
``sandwich::vcovCL(type = "HC1")`` gives the same matrix (tests/dofile checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, VariableError
from ..lazy_import import stats


@dataclass
class OLSResult:
    """Estimates of a linear regression with its variance estimator's bookkeeping."""

    response: str
    names: list[str]
    beta: np.ndarray
    vcov_beta: np.ndarray
    nobs: int
    df_resid: int  # degrees of freedom of t tests
    rss: float
    tss: float
    vce: str  # "ols", "robust" or "cluster"
    cluster: str | None = None
    n_clusters: int | None = None
    rows: pd.Index | None = None

    @property
    def coef(self) -> pd.Series:
        return pd.Series(self.beta, index=self.names, name="coef")

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.vcov_beta)), index=self.names)

    @property
    def vcov(self) -> pd.DataFrame:
        return pd.DataFrame(self.vcov_beta, index=self.names, columns=self.names)

    @property
    def r2(self) -> float:
        return 1.0 - self.rss / self.tss

    @property
    def root_mse(self) -> float:
        return float(np.sqrt(self.rss / (self.nobs - len(self.names))))

    def f_test(self) -> tuple[int, int, float, float]:
        """Wald F test that every slope is zero: (df1, df2, F, p)."""
        k = len(self.names) - 1
        if k == 0:
            return 0, self.df_resid, float("nan"), float("nan")
        b, v = self.beta[:-1], self.vcov_beta[:-1, :-1]
        f = float(b @ np.linalg.solve(v, b)) / k
        return k, self.df_resid, f, float(stats.f.sf(f, k, self.df_resid))

    def predict_xb(self, frame: pd.DataFrame) -> np.ndarray:
        X = np.column_stack(
            [frame[n].to_numpy(float) for n in self.names[:-1]] + [np.ones(len(frame))]
        )
        return X @ self.beta

    def __str__(self) -> str:
        from .regress_render import render_regress

        return render_regress(self)


def fit_ols(
    frame: pd.DataFrame, response: str, regressors: list[str], cluster: str | None, robust: bool
) -> OLSResult:
    """Fit OLS on the complete cases of ``frame``; ``cluster`` overrides ``robust``."""
    used = [response, *regressors] + ([cluster] if cluster else [])
    for name in used:
        if name not in frame.columns:
            raise VariableError(f"variable '{name}' not found")
    for name in [response, *regressors]:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            raise VariableError(f"regress: '{name}' is not numeric")
    sample = frame[used].dropna()
    y = sample[response].to_numpy(float)
    X = np.column_stack([sample[r].to_numpy(float) for r in regressors] + [np.ones(len(sample))])
    n, k = X.shape
    if n <= k:
        raise DataError(f"regress: {n} observations cannot identify {k} coefficients")
    xtx_inv = _inverse(X.T @ X, regressors)
    beta = xtx_inv @ (X.T @ y)
    e = y - X @ beta
    rss, tss = float(e @ e), float(((y - y.mean()) ** 2).sum())
    names = [*regressors, "_cons"]
    if cluster:
        codes, groups = pd.factorize(sample[cluster])
        g = len(groups)
        if g < 2:
            raise DataError(f"vce(cluster {cluster}) needs at least 2 clusters, found {g}")
        vcov = _sandwich(X, e, codes, g, xtx_inv) * (g / (g - 1)) * ((n - 1) / (n - k))
        return OLSResult(
            response, names, beta, vcov, n, g - 1, rss, tss, "cluster", cluster, g, sample.index
        )
    if robust:
        vcov = _sandwich(X, e, np.arange(n), n, xtx_inv) * (n / (n - k))
        return OLSResult(
            response, names, beta, vcov, n, n - k, rss, tss, "robust", rows=sample.index
        )
    vcov = xtx_inv * rss / (n - k)
    return OLSResult(response, names, beta, vcov, n, n - k, rss, tss, "ols", rows=sample.index)


def _inverse(xtx: np.ndarray, regressors: list[str]) -> np.ndarray:
    if np.linalg.matrix_rank(xtx) < xtx.shape[0]:
        raise DataError(f"regress: the regressors {', '.join(regressors)} are collinear")
    return np.linalg.inv(xtx)


def _sandwich(X, e, codes, g, bread) -> np.ndarray:
    """bread * (sum over clusters of the outer product of X_g' e_g) * bread."""
    scores = np.zeros((g, X.shape[1]))
    np.add.at(scores, codes, X * e[:, None])
    return bread @ (scores.T @ scores) @ bread
