"""Stata's robust (sandwich) covariance on cluster-level scores, shared by both engines.

``vce(robust)`` and ``vce(cluster var)`` after ``mixed`` and ``me*`` replace the
inverse observed information V = (-H)^-1 by

    V_r = G / (G - 1) * V (sum_g s_g s_g') V,

with s_g the score of cluster g's log likelihood (the sum of the scores of the
top-level groups it holds) and G the number of clusters (Stata's ``_robust``
with its small-sample factor).  Both matrices are taken in the parameters
Stata reports, fixed effects and the variance components' working scale
(log standard deviations, atanh correlations, log sigma_e), so every printed
standard error and interval is robust.

The engines hand over f: x -> (C,) log likelihoods of their independent top
-level clusters (:class:`~bayesmixed.engines.ml.cluster_loglik.ClusterLoglik`,
:mod:`bayesmixed.engines.glmm.robust`); scores and Hessian are finite
differences of it.  Four-point central differences (error O(h^4)) keep the
scores within ~1e-10 and the Hessian within ~1e-8 of their exact values at
h = 1e-3, which a two-point rule (O(h^2), ~1e-6) would not.  A parameter whose
working value is infinite (a variance estimated as zero) is held at its
estimate and gets no standard error, as Stata prints none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from ..errors import DataError, EstimationError
from .optsummary import OptSummary

ClusterFunction = Callable[[np.ndarray], np.ndarray]
STEP = 1e-3


@dataclass
class RobustVariance:
    """A sandwich covariance and what the header says about it."""

    cov: np.ndarray  # (d, d), NaN rows/columns for parameters held fixed
    n_clusters: int
    variable: str
    vce: str  # "robust" or "cluster"


def user_clusters(top: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Cluster index of each top-level group; ``cluster`` (row codes) must nest them.

    ``top`` and ``cluster`` give each row's top-level group and vce cluster;
    without ``cluster`` every top-level group is its own cluster.
    """
    n_top = int(top.max()) + 1
    if cluster is None:
        return np.arange(n_top)
    first = np.full(n_top, -1)
    first[top] = cluster
    if np.any(first[top] != cluster):
        raise DataError(
            "the cluster variable must be constant within the groups of the highest "
            "level: vce(cluster) clusters must be at or above the top level"
        )
    _, codes = np.unique(first, return_inverse=True)
    return codes


def sandwich(
    f: ClusterFunction, x: np.ndarray, clusters: np.ndarray, variable: str, vce: str
) -> RobustVariance:
    """The robust covariance of the parameters ``x`` of the cluster log likelihoods ``f``."""
    x = np.asarray(x, float)
    free = np.flatnonzero(np.isfinite(x))
    sub = _restricted(f, x, free)
    n_clusters = int(clusters.max()) + 1
    if n_clusters < 2:
        raise DataError("robust standard errors need at least two clusters")
    scores = cluster_scores(sub, x[free])
    per = np.zeros((n_clusters, len(free)))
    np.add.at(per, clusters, scores)
    hess = hessian(sub, x[free])
    try:
        bread = np.linalg.inv(-hess)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("the Hessian is singular: no robust standard errors") from exc
    meat = per.T @ per
    cov_free = n_clusters / (n_clusters - 1) * bread @ meat @ bread
    cov = np.full((len(x), len(x)), np.nan)
    cov[np.ix_(free, free)] = (cov_free + cov_free.T) / 2
    return RobustVariance(cov, n_clusters, variable, vce)


def _restricted(f: ClusterFunction, x: np.ndarray, free: np.ndarray) -> ClusterFunction:
    def g(sub: np.ndarray) -> np.ndarray:
        full = x.copy()
        full[free] = sub
        full[~np.isfinite(full)] = -40.0  # a zero variance stays ~0 (exp(-80))
        return np.asarray(f(full), float)

    return g


def _steps(x: np.ndarray) -> np.ndarray:
    return STEP * np.maximum(1.0, np.abs(x))


def cluster_scores(f: ClusterFunction, x: np.ndarray) -> np.ndarray:
    """(C, d) derivatives of each cluster's log likelihood, four-point central differences."""
    h = _steps(x)
    out = []
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = h[i]
        diff = 8 * (f(x + e) - f(x - e)) - (f(x + 2 * e) - f(x - 2 * e))
        out.append(diff / (12 * h[i]))
    return np.column_stack(out)


def hessian(f: ClusterFunction, x: np.ndarray) -> np.ndarray:
    """Hessian of sum(f): four-point central differences of the four-point gradient."""
    h = _steps(x)

    def grad(z: np.ndarray) -> np.ndarray:
        return cluster_scores(f, z).sum(axis=0)

    cols = []
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = h[i]
        diff = 8 * (grad(x + e) - grad(x - e)) - (grad(x + 2 * e) - grad(x - 2 * e))
        cols.append(diff / (12 * h[i]))
    hess = np.column_stack(cols)
    return (hess + hess.T) / 2


def maximize_sum(f: ClusterFunction, x0: np.ndarray) -> tuple[np.ndarray, float, OptSummary]:
    """Maximize sum(f) (a pseudo-likelihood): BFGS on four-point gradients, then Newton.

    Shared by the pseudo-likelihood fits of both engines; the Newton steps use
    :func:`hessian` and stop when the gradient no longer shrinks.
    """

    def negative(x: np.ndarray) -> float:
        value = float(np.sum(f(x)))
        return -value if np.isfinite(value) else np.inf

    def gradient(x: np.ndarray) -> np.ndarray:
        return -cluster_scores(f, x).sum(axis=0)

    res = minimize(negative, x0, jac=gradient, method="BFGS", options={"gtol": 1e-9})
    x = res.x
    grad = gradient(x)
    for _ in range(4):  # Newton polish: BFGS stops on rounding in the value, not at the optimum
        try:
            step = np.linalg.solve(hessian(f, x), grad)  # grad is of -log PL
        except np.linalg.LinAlgError:
            break
        new_grad = gradient(x + step) if np.all(np.isfinite(step)) else grad
        if not np.max(np.abs(new_grad)) < np.max(np.abs(grad)):
            break  # judged by the gradient: the value no longer resolves such steps
        x, grad = x + step, new_grad
    value = -negative(x)
    opt = OptSummary(
        optimizer="BFGS (scipy) on the pseudo-likelihood, Newton polish",
        theta_start=x0,
        theta_end=x,
        criterion_start=2 * negative(x0),
        criterion_end=-2 * value,
        evaluations=int(res.nfev),
        converged=bool(np.max(np.abs(grad)) < 1e-6 * max(1.0, abs(value))),
        message=str(res.message),
        seconds=0.0,
    )
    return x, value, opt
