"""Standard errors of covariance parameters from the observed information.

Stata reports variance components with standard errors and confidence
intervals computed on a transformed ("working") scale: log standard
deviations, transformed correlations and log sigma_e.  We differentiate the
beta-profiled log likelihood twice in that scale; its inverse negative
Hessian is the covariance-parameter block of the full inverse information.
Parameters on the boundary (a variance of exactly zero) have no finite
working value; they are held fixed and get NaN rows, as Stata prints no
standard error for them.
"""

from __future__ import annotations

import numpy as np

from ...spec.covariance import CovStructure
from .deviance import ProfiledDeviance


class WorkingMap:
    """working vector (design order, then log sigma_e) <-> theta (evaluation order)."""

    def __init__(self, structures: list[CovStructure], order: list[int]) -> None:
        self.structures = structures  # design order
        self.order = order  # evaluation position -> design index
        self.sizes = [s.n_theta for s in structures]

    def split(self, w: np.ndarray) -> list[np.ndarray]:
        return np.split(np.asarray(w, float), np.cumsum(self.sizes)[:-1])

    def to_theta(self, w: np.ndarray) -> tuple[np.ndarray, float]:
        sigma2 = float(np.exp(2 * w[-1]))
        parts = self.split(w[:-1])
        thetas = []
        for s, part in zip(self.structures, parts):
            rel = s.cov_from_working(part) / sigma2
            thetas.append(s.theta_from_working(s.working_from_cov(rel)))
        return np.concatenate([thetas[i] for i in self.order]), sigma2

    def from_cov(self, covs: list[np.ndarray], sigma2: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            parts = [s.working_from_cov(c) for s, c in zip(self.structures, covs)]
        return np.concatenate(parts + [np.array([0.5 * np.log(sigma2)])])


def working_covariance(
    dev: ProfiledDeviance, wmap: WorkingMap, w_hat: np.ndarray
) -> np.ndarray | None:
    """Inverse negative Hessian of the log likelihood in the working scale."""
    free = np.flatnonzero(np.isfinite(w_hat))
    if free.size == 0:
        return None

    def loglik(sub: np.ndarray) -> float:
        w = w_hat.copy()
        w[free] = sub
        w = np.where(np.isfinite(w), w, -40.0)  # a boundary variance stays ~0
        theta, sigma2 = wmap.to_theta(w)
        return dev.loglik_at(theta, sigma2)

    try:
        hess = _hessian(loglik, w_hat[free])
        info = -hess
        cov_free = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov_free)) or np.any(np.diag(cov_free) <= 0):
        return None
    out = np.full((len(w_hat), len(w_hat)), np.nan)
    out[np.ix_(free, free)] = (cov_free + cov_free.T) / 2
    return out


def _hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian (4 evaluations per off-diagonal entry)."""
    d = len(x)
    f0 = f(x)
    hess = np.empty((d, d))
    steps = h * np.maximum(1.0, np.abs(x))
    for i in range(d):
        ei = np.zeros(d)
        ei[i] = steps[i]
        hess[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(d)
            ej[j] = steps[j]
            val = f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            hess[i, j] = hess[j, i] = val / (4 * steps[i] * steps[j])
    return hess
