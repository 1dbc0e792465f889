"""Maximizing the approximate log likelihood over (theta, beta, log dispersion).

lme4's glmer optimizes theta alone with beta inside PIRLS (stage 1), then
(theta, beta) jointly (stage 2).  We start from the plain GLM's beta instead
of stage 1 -- it is already close, because random effects barely move the
fixed effects of a well-specified model -- and run BOBYQA (nlopt, as lme4)
jointly on the Laplace approximation, which is cheap.  Quadrature fits then
restart from the Laplace optimum with small steps: the two optima are close,
so the expensive objective is evaluated only a few dozen times.  A Newton
step with the finite-difference Hessian (needed anyway for standard errors)
polishes the optimum.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import nlopt
import numpy as np

_MESSAGES = {
    1: "success",
    2: "converged (objective reached the stop value)",
    3: "converged (relative change in the log likelihood below tolerance)",
    4: "converged (change in the parameters below tolerance)",
    5: "stopped: maximum number of evaluations reached",
    6: "stopped: time limit reached",
}


def bobyqa(
    f: Callable[[np.ndarray], float],
    start: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    step: np.ndarray,
    ftol: float = 1e-12,
    maxeval: int = 20000,
) -> tuple[np.ndarray, float, str, bool]:
    """Maximize ``f``: (x, f(x), message, converged)."""

    def negated(x, grad):
        v = f(np.asarray(x))
        return -v if np.isfinite(v) else 1e300

    opt = nlopt.opt(nlopt.LN_BOBYQA, len(start))
    opt.set_min_objective(negated)
    opt.set_lower_bounds(lower)
    opt.set_upper_bounds(upper)
    opt.set_ftol_rel(ftol)
    opt.set_xtol_abs(1e-9)
    opt.set_maxeval(maxeval)
    x0 = np.clip(start, lower, upper)
    # BOBYQA's first points must stay within the bounds
    room = np.minimum(upper - x0, x0 - lower)
    step = np.where((room > 0) & (room < step), np.maximum(room, 1e-4), step)
    opt.set_initial_step(step)
    x = np.asarray(opt.optimize(x0))
    code = opt.last_optimize_result()
    return x, -float(opt.last_optimum_value()), _MESSAGES.get(code, "stopped"), code in (1, 2, 3, 4)


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, f0: float, h: np.ndarray):
    """Gradient and Hessian by central differences (2 evaluations per pair).

    H_ij = [f(x+ei+ej) - f(x+ei) - f(x+ej) + 2 f(x) - f(x-ei) - f(x-ej)
    + f(x-ei-ej)] / (2 h_i h_j) is second-order accurate and costs
    d^2 + d + 1 evaluations instead of the usual 2 d^2.
    """
    d = len(x)
    up, down = np.empty(d), np.empty(d)
    for i in range(d):
        e = np.zeros(d)
        e[i] = h[i]
        up[i], down[i] = f(x + e), f(x - e)
    grad = (up - down) / (2 * h)
    hess = np.empty((d, d))
    for i in range(d):
        hess[i, i] = (up[i] - 2 * f0 + down[i]) / h[i] ** 2
        for j in range(i):
            e = np.zeros(d)
            e[i], e[j] = h[i], h[j]
            num = f(x + e) - up[i] - up[j] + 2 * f0 - down[i] - down[j] + f(x - e)
            hess[i, j] = hess[j, i] = num / (2 * h[i] * h[j])
    return grad, hess


def newton_polish(f, x, value, grad, hess, free):
    """One Newton step on the free coordinates, kept only if it improves ``f``."""
    try:
        step = -np.linalg.solve(hess[np.ix_(free, free)], grad[free])
    except np.linalg.LinAlgError:
        return x, value
    if not np.all(np.isfinite(step)) or grad[free] @ step <= 0:
        return x, value
    for t in (1.0, 0.5, 0.25):
        trial = x.copy()
        trial[free] += t * step
        v = f(trial)
        if v > value:
            return trial, v
    return x, value


class Timer:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.t0
