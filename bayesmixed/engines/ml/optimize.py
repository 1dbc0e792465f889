"""Minimizing the profiled deviance over theta.

theta has only a handful of components (one per variance/Cholesky element), so
a derivative-free trust-region method with bounds (Powell's BOBYQA, lme4's
default) converges in tens of cheap evaluations without noisy
finite-difference gradients.  Afterwards components that ended a
hair above zero are *snapped* to the boundary when that does not worsen the
criterion, as MixedModels.jl does, so boundary fits are reported as such
instead of as tiny positive variances.  Models with many covariance parameters (maximal
models: 72 for two 8 x 8 unstructured blocks) and nested designs factored by components
go to :func:`minimize_theta_gradient` instead, quasi-Newton on the exact gradient of
:mod:`.gradient` or :mod:`.component_gradient` (vcomp2: 32 evaluations instead of 221).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import nlopt
import numpy as np

from ..optsummary import OptSummary
from .batch import evaluate_all, workers_for

SNAP_BELOW = 1e-4
#: Newton steps below this (relative) change the criterion by about its rounding
UNRESOLVED_STEP = 1e-6
#: evaluations of the gradient search kept for its end point's stationarity check
RECENT = 4


def _snap(f, x: np.ndarray, value: float, lower: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Set near-zero bounded components to zero if the criterion allows it."""
    snapped = False
    for i in np.flatnonzero((lower == 0) & (x < SNAP_BELOW) & (x != 0)):
        trial = x.copy()
        trial[i] = 0.0
        v = f(trial)
        if v <= value + 1e-9 * max(1.0, abs(value)):
            x, value, snapped = trial, min(v, value), True
    return x, value, snapped


def _bobyqa(
    f, start: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, float, str]:
    """Powell's BOBYQA (as lme4's default ``nloptwrap``): derivative-free, bounded."""
    opt = nlopt.opt(nlopt.LN_BOBYQA, len(start))
    best = [np.inf, np.clip(start, lower, upper)]

    def objective(x, grad):
        value = f(np.asarray(x))
        if value < best[0]:
            best[0], best[1] = value, np.array(x, float)
        return value

    opt.set_min_objective(objective)
    opt.set_lower_bounds(lower)
    opt.set_upper_bounds(upper)
    opt.set_ftol_rel(1e-10)
    opt.set_xtol_abs(1e-7)  # the Newton polish that follows finishes the job
    opt.set_maxeval(20000)
    opt.set_initial_step(np.where(np.abs(start) > 0, 0.2 * np.abs(start), 0.1))
    x0 = np.clip(start, lower, upper)
    try:
        x = opt.optimize(x0)
    except nlopt.RoundoffLimited:
        # BOBYQA gives up when rounding hides further progress (a flat criterion, e.g.
        # two groups): the best point it evaluated is the answer, as in lme4's nloptwrap
        return best[1], float(best[0]), "converged (roundoff-limited)"
    return (
        np.asarray(x),
        float(opt.last_optimum_value()),
        _NLOPT_RESULTS.get(opt.last_optimize_result(), "stopped"),
    )


_NLOPT_RESULTS = {
    1: "success",
    3: "converged (relative change in the criterion below tolerance)",
    4: "converged (change in theta below tolerance)",
    5: "stopped: maximum number of evaluations reached",
}


def minimize_theta(
    f: Callable[[np.ndarray], float],
    start: np.ndarray,
    bounds: list[tuple[float | None, float | None]],
) -> tuple[np.ndarray, OptSummary]:
    """Minimize ``f`` from ``start`` within ``bounds``; return theta and a summary."""
    crit = _Counted(f, bounds)
    f0 = crit(start)
    local = lambda s: _bobyqa(crit, s, crit.lower, crit.upper)  # noqa: E731
    x, value, message, snapped = _with_restarts(local, crit, start)
    x, value, settled = _newton_polish(crit, x, value, crit.lower, crit.upper)
    # components the polish settled need no probing (_newton_polish's docstring)
    probe = np.setdiff1d(np.arange(len(x)), settled)
    converged = message != _NLOPT_RESULTS[5] and _is_stationary(crit, x, crit.lower, value, probe)
    optimizer = "BOBYQA (nlopt) on the profiled deviance"
    return x, crit.summary(optimizer, start, f0, x, value, converged, message, snapped)


class _Counted:
    """The criterion as the optimizers see it: counted, 1e300 outside the space, with the
    bounds as arrays and the clock started, for the :class:`OptSummary` at the end."""

    def __init__(self, f: Callable[[np.ndarray], float], bounds: list) -> None:
        self.f, self.evaluations, self.t0 = f, 0, time.perf_counter()
        self.lower = np.array([-np.inf if lo is None else lo for lo, _ in bounds])
        self.upper = np.array([np.inf if hi is None else hi for _, hi in bounds])

    def __call__(self, x: np.ndarray) -> float:
        self.evaluations += 1
        v = self.f(x)
        return v if np.isfinite(v) else 1e300

    def many(self, points: list[np.ndarray]) -> np.ndarray:
        """The criterion at independent points, two at a time where it pays (:mod:`.batch`)."""
        self.evaluations += len(points)
        values = np.array(evaluate_all(self.f, points, workers_for(self.f)), float)
        return np.where(np.isfinite(values), values, 1e300)

    def summary(self, optimizer, start, f0, x, value, converged, message, snapped) -> OptSummary:
        return OptSummary(
            optimizer=optimizer,
            theta_start=np.asarray(start, float),
            theta_end=x,
            criterion_start=float(f0),
            criterion_end=value,
            evaluations=self.evaluations,
            converged=converged,
            message=message,
            seconds=time.perf_counter() - self.t0,
            boundary_snapped=snapped,
        )


def _with_restarts(local, crit: _Counted, start) -> tuple[np.ndarray, float, str, bool]:
    """``local(start)``, snapped to the boundary, and again from :func:`_restarts` when the
    optimum is on it; the best end point, its value, message and whether it was snapped."""
    x, value, message = local(start)
    x, value, snapped = _snap(crit, x, value, crit.lower)
    for restart in _restarts(x, crit.lower):
        x2, v2, m2 = local(restart)
        x2, v2, s2 = _snap(crit, x2, v2, crit.lower)
        if v2 < value - 1e-9 * max(1.0, abs(value)):
            x, value, message, snapped = x2, v2, m2, s2
    return x, value, message, snapped


def minimize_theta_gradient(
    f: Callable[[np.ndarray], float],
    value_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    bounds: list[tuple[float | None, float | None]],
) -> tuple[np.ndarray, OptSummary]:
    """:func:`minimize_theta` for many covariance parameters: L-BFGS-B on the exact gradient.

    ``value_grad`` is :class:`.gradient.DenseGradient`.  Quasi-Newton steps need a few
    hundred evaluations where BOBYQA and the finite-difference polish need O(d^2)
    (72 parameters: 204 s and a worse optimum before).  The tolerances are at rounding
    level, so the search stops when no step improves the criterion, not on a relative
    change; the boundary snap, the restarts from a boundary optimum and the final
    stationarity check (on ``f`` itself) are those of :func:`minimize_theta`.
    """
    crit = _Counted(f, bounds)
    recent: list[tuple[np.ndarray, float, np.ndarray]] = []  # the last few evaluations

    def counted_grad(x):
        crit.evaluations += 1
        x = np.array(x, float)
        v, g = value_grad(x)
        if not (np.isfinite(v) and np.all(np.isfinite(g))):
            v, g = 1e300, np.zeros_like(g)
        recent[:] = [*recent[-(RECENT - 1) :], (x, v, g)]
        return v, g

    def known_grad(x):
        """The end point's gradient, from the search's own evaluations when it made one
        there (L-BFGS-B's result is one of its last few points): one factorization less."""
        for y, v, g in reversed(recent):
            if np.array_equal(y, x):
                return v, g
        return counted_grad(x)

    f0 = crit(start)
    local = lambda s: _lbfgsb(counted_grad, s, crit.lower, crit.upper)  # noqa: E731
    x, value, message, snapped = _with_restarts(local, crit, start)
    converged = _gradient_stationary(known_grad, x, crit.lower, value)
    if converged is None:  # no finite gradient there: probe the criterion itself
        converged = _is_stationary(crit, x, crit.lower, value)
    optimizer = "L-BFGS-B (scipy) on the profiled deviance and its analytic gradient"
    return x, crit.summary(optimizer, start, f0, x, value, converged, message, snapped)


def _lbfgsb(value_grad, start, lower, upper) -> tuple[np.ndarray, float, str]:
    from scipy.optimize import minimize

    box = list(
        zip(np.where(np.isfinite(lower), lower, None), np.where(np.isfinite(upper), upper, None))
    )
    res = minimize(
        value_grad,
        np.clip(start, lower, upper),
        jac=True,
        method="L-BFGS-B",
        bounds=box,
        options={"maxiter": 20000, "maxfun": 50000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20},
    )
    message = "converged" if res.success else f"stopped: {res.message}"
    return np.asarray(res.x, float), float(res.fun), message


def _restarts(x: np.ndarray, lower: np.ndarray) -> list[np.ndarray]:
    """Fresh starts when the optimum found lies on the boundary.

    On the boundary some components stop mattering (a zero standard deviation
    makes its correlation irrelevant), so a local optimizer can stall on a
    ridge; two restarts away from it cost little and catch that case.
    """
    on_bound = (lower == 0) & (x <= SNAP_BELOW)
    if not on_bound.any():
        return []
    starts: list[np.ndarray] = []
    for sign in (1.0, -1.0):
        s = x.copy()
        s[on_bound] = 0.5
        free = ~np.isfinite(lower)
        # mirrored signs too: a ridge at a zero variance can hide an optimum whose
        # correlation has the other sign (seen on simulated jsp random-slope data)
        s[free] = np.where(np.abs(x[free]) > 0.1, sign * x[free], sign * 0.5)
        if not any(np.array_equal(s, t) for t in starts):
            starts.append(s)
    return starts


def _newton_polish(f, x, value, lower, upper, iterations: int = 4):
    """A few Newton steps on the free components with a finite-difference Hessian.

    BOBYQA stops when its trust region is small, which on the flat ridges of
    variance-component likelihoods can leave theta off by 1e-4 relative;
    Newton's method on the interior components finishes the job cheaply.

    Returns x, its value and the components the polish *settled* (else none): the free
    components when its last step was a full, unclipped Newton step of under 1e-4
    relative on a positive-definite Hessian.  The criterion is then locally quadratic
    with its minimum a step's square away, so the coordinate probes of
    :func:`_is_stationary` (two evaluations a component: 6 of InstEval's 107) could not
    find a lower value there and are skipped.
    """
    free = np.flatnonzero(~((lower == 0) & (x == 0)))
    h, settled = None, np.zeros(0, int)
    for _ in range(iterations):
        g, h = _grad_hess(f, x, value, free, h)
        try:
            step = -np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or g @ step >= 0:
            break
        if _relative(step, x[free]) < UNRESOLVED_STEP and _positive_definite(h):
            # the decrease such a step makes is at the criterion's rounding, so comparing
            # values would accept or refuse it at random (a [fweight()] fit and the fit of
            # its expanded data then ended 4e-8 apart): the gradient, differenced at steps
            # far above rounding, is the better judge; take the step
            target = x[free] + step
            x = x.copy()
            x[free] = np.clip(target, lower[free], upper[free])
            value = f(x)
            if np.array_equal(x[free], target):
                settled = free
            break
        accepted = False
        for t in (1.0, 0.5, 0.25, 0.125):
            trial = x.copy()
            target = x[free] + t * step
            trial[free] = np.clip(target, lower[free], upper[free])
            v = f(trial)
            if v < value:
                x, value, accepted = trial, v, True
                exact = t == 1.0 and np.array_equal(trial[free], target)
                break
        if not accepted or np.max(np.abs(step)) < 1e-9:
            break
        # a Newton step this small leaves an error of its square: another round would
        # not move theta at the precision we report (and a halved one is rounding noise)
        relative = _relative(step, x[free])
        if relative < 1e-4:
            if exact and _positive_definite(h):
                settled = free
            break
        if t != 1.0 or relative > 1e-2:
            h = None  # far from the optimum: the next step needs a fresh Hessian
    return x, value, settled


def _relative(step: np.ndarray, x: np.ndarray) -> float:
    """The step's largest component relative to theta's (absolute below 0.01)."""
    return float(np.max(np.abs(step) / np.maximum(np.abs(x), 1e-2)))


def _positive_definite(h: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return False
    return True


def _grad_hess(f, x, f0, free, hess: np.ndarray | None = None):
    """Central-difference gradient and Hessian on the free components.

    ``hess`` from the previous Newton step is reused when given: after a full step of
    under 1e-2 relative (the quadratic regime) the Hessian has changed by about that
    relative amount, and a step with it leaves the error times that amount (BOBYQA
    ends ~1e-4 off: 1e-8 becomes ~1e-12) instead of squared.  The gradient, which
    decides where the polish ends, is differenced afresh: 2 d evaluations instead of
    2 d^2 (vcomp2's five parameters: 10 instead of 50; InstEval's three: 6 of 18).
    """
    d = len(free)
    h = 1e-4 * np.maximum(1e-2, np.abs(x[free]))  # relative: small thetas are sharply curved
    reuse = hess is not None
    g, hess = np.empty(d), (hess if reuse else np.empty((d, d)))
    corners = [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    moves = [((i, 1),) for i in range(d)] + [((i, -1),) for i in range(d)]
    if not reuse:
        moves += [((i, a), (j, b)) for i in range(d) for j in range(i) for a, b in corners]

    def point(move) -> np.ndarray:
        y = x.copy()
        for i, s in move:
            y[free[i]] += s * h[i]
        return y

    # every point is known in advance: one batch (two at a time where that pays)
    values = dict(zip(moves, f.many([point(m) for m in moves])))
    for i in range(d):
        up, down = values[((i, 1),)], values[((i, -1),)]
        g[i] = (up - down) / (2 * h[i])
        if reuse:
            continue
        hess[i, i] = (up - 2 * f0 + down) / h[i] ** 2
        for j in range(i):
            pp, pm, mp, mm = (values[((i, a), (j, b))] for a, b in corners)
            hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * h[i] * h[j])
    return g, hess


def _is_stationary(f, x: np.ndarray, lower: np.ndarray, value: float, coords=None) -> bool:
    """Accept line-search stops where no coordinate step improves the criterion.

    ``coords``: the components to probe (all by default).
    """
    for i in range(len(x)) if coords is None else coords:
        for step in (1e-5, -1e-5):
            trial = x.copy()
            trial[i] += step * max(1.0, abs(x[i]))
            if trial[i] < lower[i]:
                continue
            if f(trial) < value - 1e-8 * max(1.0, abs(value)):
                return False
    return True


def _gradient_stationary(value_grad, x: np.ndarray, lower: np.ndarray, value: float):
    """:func:`_is_stationary` read off the exact gradient: one evaluation instead of 2 d.

    A probe moves x_i by s_i = 1e-5 max(1, |x_i|) and fails when the criterion drops by more
    than 1e-8 max(1, |value|).  To first order the drop is |g_i| s_i (only -g_i s_i upward
    from a lower bound, where the downward probe is not made); the second-order term,
    ~1e-10 times the curvature, is far below that tolerance.  So the probes' answer is the
    gradient's, without their evaluations (vcomp2: 10 of its 38; now 29 in all).  None
    when the gradient is not finite at x.
    """
    v, g = value_grad(x)
    if not (np.isfinite(v) and v < 1e300 and np.all(np.isfinite(g))):  # counted_grad's mark
        return None
    step = 1e-5 * np.maximum(1.0, np.abs(x))
    upward_only = x - step < lower
    drop = np.where(upward_only, np.maximum(-g, 0.0), np.abs(g)) * step
    return bool(np.all(drop <= 1e-8 * max(1.0, abs(value))))


def prefer_boundary(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    summary: OptSummary,
    bounds: list[tuple[float | None, float | None]],
    sizes: list[int],
    minimize: Callable = minimize_theta,
) -> tuple[np.ndarray, OptSummary]:
    """Never end below a boundary point: compare with every block's variance at zero.

    The leading ``sizes`` components of ``x`` are the theta of each block; a zero
    part is a block without random effects (every structure's Lambda(0) = 0, and 0
    is inside each structure's bounds).  A local optimizer can stop on a ridge or
    a noisy criterion while such a point is better (issue 19 item 4: "converged"
    at log likelihood 993.5 where var(g) = 0 gives 1026.4).  When one of these
    points, or all blocks at zero, beats the optimum, the search resumes from the
    best of them and the better end point is kept: the fit then reports the
    boundary estimate, as Stata does, instead of a worse interior point.
    """
    value = summary.criterion_end
    best, best_value = None, value - 1e-9 * max(1.0, abs(value))
    candidates = _boundary_points(x, sizes)
    summary.evaluations += len(candidates)
    for cand, v in zip(candidates, evaluate_all(f, candidates, workers_for(f))):
        if np.isfinite(v) and v < best_value:
            best, best_value = cand, v
    if best is None:
        return x, summary
    x2, s2 = minimize(f, best, bounds)
    if not s2.criterion_end <= best_value:  # the search from there did not improve on it
        lower = np.array([-np.inf if lo is None else lo for lo, _ in bounds])
        x2, s2.criterion_end, s2.theta_end = best, best_value, best
        s2.converged = _is_stationary(f, best, lower, best_value)
    s2.theta_start, s2.criterion_start = summary.theta_start, summary.criterion_start
    s2.evaluations += summary.evaluations
    s2.seconds += summary.seconds
    s2.message += " (restarted from a zero variance, which beat the first optimum)"
    return x2, s2


def _boundary_points(x: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """``x`` with each block's theta set to zero in turn, then all of them together."""
    ends = np.cumsum(sizes)
    points = []
    for end, size in zip(ends, sizes):
        cand = np.array(x, float)
        cand[end - size : end] = 0.0
        points.append(cand)
    if len(sizes) > 1:
        cand = np.array(x, float)
        cand[: ends[-1]] = 0.0
        points.append(cand)
    return [p for p in points if not np.array_equal(p, x)]
