"""Numerical pieces the independent oracles of the engine tests share.

They stand outside the package on purpose: the robust and pseudo-likelihood tests
check the engines against these, never against the engines' own score code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import integrate


def richardson(f, x: np.ndarray, i: int, h: float = 1e-3):
    """d f / d x_i by Richardson-extrapolated central differences (error O(h^4))."""

    def central(step):
        e = np.zeros(len(x))
        e[i] = step
        return (f(x + e) - f(x - e)) / (2 * step)

    return (4 * central(h / 2) - central(h)) / 3


def log_trapezoid(log_integrand: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """log of the trapezoid integral over the last axis, computed from log values stably."""
    top = log_integrand.max(axis=1, keepdims=True)
    vals = integrate.trapezoid(np.exp(log_integrand - top), nodes, axis=1)
    return np.log(vals) + top[:, 0]


def cluster_sandwich(cluster_ll, x: np.ndarray, clusters) -> np.ndarray:
    """G/(G-1) H^-1 B H^-1 from per-observation (or per-cluster) log likelihoods at x.

    Scores and the Hessian by Richardson differences; B sums the scores within
    ``clusters`` (one label per element of ``cluster_ll(x)``), as Stata's sandwich does.
    """
    d = len(x)
    scores = np.column_stack([richardson(cluster_ll, x, i) for i in range(d)])

    def total_grad(z):
        return np.array([richardson(lambda v: cluster_ll(v).sum(), z, i) for i in range(d)])

    hess = np.column_stack([richardson(total_grad, x, j) for j in range(d)])
    bread = np.linalg.inv(-(hess + hess.T) / 2)
    per = pd.DataFrame(scores).groupby(np.asarray(clusters)).sum().to_numpy()
    g = per.shape[0]
    return g / (g - 1) * bread @ (per.T @ per) @ bread
