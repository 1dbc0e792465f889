"""Standard errors from the Hessian of the approximate log likelihood.

As Stata does, the covariance of the estimates is the inverse negative
Hessian in the parameterization Stata reports on: fixed effects as they are,
covariance parameters on each structure's *working* scale (log standard
deviations, transformed correlations; see :mod:`bayesmixed.spec.covariance`)
and the dispersion as a log.  At the optimum the fixed-effects block of the
inverse does not depend on how the other parameters are written, so the
same Hessian serves both.  It is also used for one Newton step that polishes
the derivative-free optimum.

A variance estimated at zero has no finite working value; then the Hessian
is taken over the fixed effects (and dispersion) only, with the covariance
parameters held at their estimates, and no working covariance is returned.
"""

from __future__ import annotations

import numpy as np

from .objective import ApproxLoglik
from .optimize import hessian, newton_polish


class WorkingScale:
    """x = (theta, beta, log phi) <-> y = (working, beta, log phi)."""

    def __init__(self, obj: ApproxLoglik) -> None:
        self.obj = obj

    def to_working(self, x: np.ndarray) -> np.ndarray:
        thetas, _, _ = self.obj.unpack(x)
        parts = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for s, t in zip(self.obj.structures, thetas):
                lam = s.lam(t)
                parts.append(np.asarray(s.working_from_cov(lam @ lam.T), float))
        return np.r_[np.concatenate(parts), x[self.obj.n_theta :]]

    def to_x(self, y: np.ndarray) -> np.ndarray:
        obj = self.obj
        parts = np.split(y[: obj.n_theta], np.cumsum(obj.sizes)[:-1])
        thetas = [s.theta_from_working(w) for s, w in zip(obj.structures, parts)]
        return np.r_[np.concatenate(thetas), y[obj.n_theta :]]


def _steps(y: np.ndarray) -> np.ndarray:
    return 1e-4 * np.maximum(1.0, np.abs(y))


def _inverse(hess: np.ndarray) -> np.ndarray | None:
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return None
    cov = (cov + cov.T) / 2
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return None
    return cov


def _polish_at_boundary(h, sub: np.ndarray, value: float, rounds: int = 3):
    """Newton steps on (beta, ancillary) with theta on its bound; (sub, value, Hessian).

    BOBYQA stops on a relative change of the log likelihood; with a variance at zero
    the fixed effects can still be ~1e-4 from the optimum (lme4's test-glmernb
    cell-means model).  Newton's method with the finite-difference Hessian (needed
    for the standard errors anyway) converges quadratically from there.
    """
    grad, hess = hessian(h, sub, value, _steps(sub))
    for _ in range(rounds):
        new, new_value = newton_polish(h, sub, value, grad, hess, np.arange(len(sub)))
        if new is sub or new_value - value < 1e-12 * max(1.0, abs(value)):
            sub, value = new, new_value
            break
        sub, value = new, new_value
        grad, hess = hessian(h, sub, value, _steps(sub))
    return sub, value, hess


def information(obj: ApproxLoglik, scale: WorkingScale, x: np.ndarray, value: float):
    """(x, value, vcov of beta, working-scale covariance or None, joint covariance) at the optimum.

    The joint covariance is of (beta, working): beta first, then the working
    vector (theta's working scale, then the ancillary parameters) -- what a
    prediction that depends on beta and the cutpoints needs for its delta method.
    At the boundary theta is held, and its rows and columns are zero.

    The conditional modes are polished to rounding for these evaluations, so the
    finite-difference Hessian sees a smooth function (see ``grouped_modes``).
    """
    obj.polish = True
    value = obj(x)
    y = scale.to_working(x)
    nt = obj.n_theta
    if np.all(np.isfinite(y)):
        free = np.arange(len(y))

        def g(sub):
            try:
                return obj(scale.to_x(sub))
            except np.linalg.LinAlgError:  # a step past |corr| = 1: no covariance there
                return -np.inf

        grad, hess = hessian(g, y, value, _steps(y))
        y2, value = newton_polish(g, y, value, grad, hess, free)
        if y2 is not y:  # a polishing step is tiny: the Hessian at y stands for y2's
            x = scale.to_x(y2)
        cov = _inverse(hess)
        if cov is not None:
            rest = np.r_[np.arange(nt), np.arange(nt + obj.p, len(y))]
            order = np.r_[np.arange(nt, nt + obj.p), rest]
            beta_cov, w_cov = cov[nt : nt + obj.p, nt : nt + obj.p], cov[np.ix_(rest, rest)]
            return x, value, beta_cov, w_cov, cov[np.ix_(order, order)]
    # boundary (or singular Hessian): fixed effects and ancillary only, theta held
    free = np.arange(nt, len(x))

    def h(sub):
        z = x.copy()
        z[free] = sub
        return obj(z)

    sub, value, hess = _polish_at_boundary(h, x[free], value)
    x = x.copy()
    x[free] = sub
    cov = _inverse(hess)
    if cov is None:
        cov = np.full((len(free), len(free)), np.nan)
    joint = np.zeros((len(x), len(x)))  # (beta, theta held at 0 variance, ancillary)
    kept = np.r_[np.arange(obj.p), np.arange(obj.p + nt, len(x))]
    joint[np.ix_(kept, kept)] = cov
    return x, value, cov[: obj.p, : obj.p], None, joint
