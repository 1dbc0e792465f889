"""The plain GLM (no random effects): starting values and the LR-test baseline.

Stata's ``melogit`` reports "LR test vs. logistic model"; the comparison
model is the same family and link without random effects, fitted by
iteratively reweighted least squares (Fisher scoring), with the dispersion
(negative binomial alpha, gamma phi, gaussian sigma^2) then maximized with
beta jointly by a quasi-Newton method.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .guard import overflow_error
from .response import Response
from .warn import SeparationWarning


@dataclass
class GLMFit:
    beta: np.ndarray
    log_phi: float
    loglik: float
    se: np.ndarray


def _irls(resp: Response, log_phi: float, beta: np.ndarray, max_it: int = 100) -> np.ndarray:
    X = resp.X

    def loglik(b):
        return float(np.sum(resp.loglik(X @ b + resp.offset, log_phi)))

    value = loglik(beta)
    if not np.isfinite(value):
        raise overflow_error(resp, "at the starting values of the model without random effects")
    for _ in range(max_it):
        s, w = resp.score_weights(X @ beta + resp.offset, log_phi)
        if not (np.all(np.isfinite(s)) and np.all(np.isfinite(w))):
            raise overflow_error(resp, "in the fit of the model without random effects")
        step = np.linalg.lstsq(X.T @ (X * w[:, None]), X.T @ s, rcond=None)[0]
        t = 1.0
        while t > 1e-8:
            new = loglik(beta + t * step)
            if np.isfinite(new) and new >= value - 1e-12 * abs(value):
                break
            t *= 0.5
        beta, old, value = beta + t * step, value, new
        if abs(value - old) < 1e-12 * (abs(value) + 1) and np.max(np.abs(t * step)) < 1e-9:
            break
    return beta


def _start(resp: Response) -> np.ndarray:
    """beta with only the constant at the link of the mean response (glm's start)."""
    beta = np.zeros(resp.p)
    const = np.flatnonzero(np.all(resp.X == 1.0, axis=0))
    if const.size:
        n = 1.0 if resp.trials is None else resp.trials
        mean = np.clip(np.sum(resp.y) / np.sum(n * np.ones_like(resp.y)), 1e-3, None)
        if resp.family.name in ("bernoulli", "binomial"):
            mean = min(mean, 1 - 1e-3)
        beta[const[0]] = resp.family.link.link(np.array(mean)) - np.mean(resp.offset)
    return beta


def fit_glm(resp: Response) -> GLMFit:
    """Maximum likelihood fit of the GLM without random effects."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        beta = _irls(resp, 0.0, _start(resp))
        log_phi = 0.0
        if resp.family.has_dispersion:
            beta, log_phi = _with_dispersion(resp, beta)
        s, w = resp.score_weights(resp.X @ beta + resp.offset, log_phi)
        info = resp.X.T @ (resp.X * w[:, None])
        loglik = float(np.sum(resp.loglik(resp.X @ beta + resp.offset, log_phi)))
    se = np.sqrt(np.clip(np.diag(np.linalg.pinv(info)), 0, None))
    if resp.family.name in ("bernoulli", "binomial") and np.any(np.abs(beta) > 15):
        warnings.warn(
            "the model without random effects has coefficients beyond +-15 on the link scale: "
            "the outcome may be (quasi-)completely separated by a covariate",
            SeparationWarning,
            stacklevel=3,
        )
    return GLMFit(beta, log_phi, loglik, se)


def _with_dispersion(resp: Response, beta: np.ndarray) -> tuple[np.ndarray, float]:
    X, off = resp.X, resp.offset

    def negll(x):
        v = -float(np.sum(resp.loglik(X @ x[:-1] + off, x[-1])))
        return v if np.isfinite(v) else 1e300

    res = minimize(negll, np.r_[beta, 0.0], method="BFGS", options={"gtol": 1e-8})
    res = minimize(negll, res.x, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12})
    return res.x[:-1], float(res.x[-1])
