"""The plain GLM (no random effects): starting values and the LR-test baseline.

Stata's ``melogit`` reports "LR test vs. logistic model"; the comparison
model is the same family and link without random effects, fitted by
iteratively reweighted least squares (Fisher scoring; the observed curvature
for families that hand PIRLS one), with the family's ancillary parameters
(negative binomial ln alpha, gamma ln phi, gaussian ln sigma^2, ordinal
cutpoints) then maximized with beta jointly by a quasi-Newton method.
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
    anc: np.ndarray  # the family's working ancillary vector (empty for most families)
    loglik: float
    se: np.ndarray


def _irls(resp: Response, anc: np.ndarray, beta: np.ndarray, max_it: int = 100) -> np.ndarray:
    X = resp.X

    def loglik(b):
        return float(np.sum(resp.loglik(X @ b + resp.offset, anc)))

    value = loglik(beta)
    if not np.isfinite(value):
        raise overflow_error(resp, "at the starting values of the model without random effects")
    for _ in range(max_it):
        s, w = resp.score_weights(X @ beta + resp.offset, anc)
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
        if resp.family.binary:
            mean = min(mean, 1 - 1e-3)
        beta[const[0]] = resp.family.link.link(np.array(mean)) - np.mean(resp.offset)
    return beta


def fit_glm(resp: Response) -> GLMFit:
    """Maximum likelihood fit of the GLM without random effects."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        anc = resp.family.anc_start(resp.y, resp.trials)
        beta = _irls(resp, anc, _start(resp))
        if resp.family.n_anc:
            beta, anc = _with_ancillary(resp, beta, anc)
        s, w = resp.score_weights(resp.X @ beta + resp.offset, anc)
        info = resp.X.T @ (resp.X * w[:, None])
        loglik = float(np.sum(resp.loglik(resp.X @ beta + resp.offset, anc)))
    se = np.sqrt(np.clip(np.diag(np.linalg.pinv(info)), 0, None))
    if resp.family.binary and np.any(np.abs(beta) > 15):
        warnings.warn(
            "the model without random effects has coefficients beyond +-15 on the link scale: "
            "the outcome may be (quasi-)completely separated by a covariate",
            SeparationWarning,
            stacklevel=3,
        )
    return GLMFit(beta, anc, loglik, se)


def _with_ancillary(resp: Response, beta: np.ndarray, anc: np.ndarray):
    """beta and the working ancillary vector maximized jointly (BFGS, then a simplex polish)."""
    X, off, p = resp.X, resp.offset, resp.p

    def negll(x):
        v = -float(np.sum(resp.loglik(X @ x[:p] + off, x[p:])))
        return v if np.isfinite(v) else 1e300

    res = minimize(negll, np.r_[beta, anc], method="BFGS", options={"gtol": 1e-8})
    res = minimize(negll, res.x, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12})
    return res.x[:p], np.asarray(res.x[p:], float)
