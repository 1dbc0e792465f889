"""Numerical pieces the independent oracles of the engine tests share.

They stand outside the package on purpose: the robust and pseudo-likelihood tests
check the engines against these, never against the engines' own score code.
"""

from __future__ import annotations

import numpy as np
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
