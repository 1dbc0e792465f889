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


#: central-difference weights of f'' with error O(h^6): offsets -3..3 (Fornberg 1988)
SECOND_DIFF = np.array([2.0, -27.0, 270.0, -490.0, 270.0, -27.0, 2.0]) / 180.0
HESSIAN_STEP = 7e-3  # relative step in the working scale; see _hessian


def _hessian(f, x: np.ndarray, h: float = HESSIAN_STEP) -> np.ndarray:
    """Hessian by seven-point second differences along coordinate and pair directions.

    Why this rule: the log likelihood is a sum over ~n terms, so each value carries
    rounding noise of about eps |f|, which a second difference divides by h^2.  The
    three-point rule (error O(h^2)) needed h ~ 1e-4 to keep its truncation small and
    so amplified that noise to ~1e-6 relative in the standard errors; [fw=] fits
    then differed from fits of the expanded data there (issue 15).  The seven-point
    rule has error O(h^6), small at h = 7e-3 (measured ~1e-8 relative in the
    standard errors of an unstructured random slope), where the noise is amplified
    ~3,000 times less.  Mixed partials come from the second derivative along
    e_i + e_j: H_ij = (D^2_{i+j} - H_ii - H_jj) / 2, so each of the d (d + 1) / 2
    directions costs six evaluations (the old rule: two on the diagonal, four off it).
    """
    d = len(x)
    f0 = f(x)
    steps = h * np.maximum(1.0, np.abs(x))
    offsets = np.arange(3, -4, -1)

    def second(v: np.ndarray) -> float:  # f''(0) along v, times |v|^2 (unit: steps)
        vals = [f0 if o == 0 else f(x + o * v) for o in offsets]
        return float(np.dot(SECOND_DIFF, vals))

    unit = np.diag(steps)
    diag = np.array([second(unit[i]) for i in range(d)])
    hess = np.diag(diag / steps**2)
    for i in range(d):
        for j in range(i):
            mixed = (second(unit[i] + unit[j]) - diag[i] - diag[j]) / 2
            hess[i, j] = hess[j, i] = mixed / (steps[i] * steps[j])
    return hess
