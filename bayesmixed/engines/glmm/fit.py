"""Fit a GLMM: the composition of the stages (cf. lme4's ``glmer``).

response -> plain GLM (start, LR baseline) -> Laplace fit -> quadrature fit
-> Hessian on the working scale (standard errors, Newton polish) -> estimates
(the result object is built from them by :mod:`bayesmixed.fitting`).
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from ...design.standardize import FixedScaling
from ...design.types import Design
from ...errors import NotSupportedError
from ...spec.options import DEFAULT_INTPOINTS
from ..estimates import GLMMEstimates
from ..optsummary import OptSummary
from .first_stage import integrated_start
from .glm import fit_glm
from .guard import data_failures
from .inference import WorkingScale, information
from .objective import METHODS, ApproxLoglik
from .optimize import Timer, bobyqa
from .response import build_response
from .warn import BoundaryWarning, ConvergenceWarning, SeparationWarning

SNAP_BELOW = 1e-4


def default_method(design: Design) -> str:
    """Stata's default: mvaghermite, but Laplace for crossed random effects."""
    return "laplace" if is_crossed(design) else "mvaghermite"


def is_crossed(design: Design) -> bool:
    """True when some two levels are not nested (``_all: R.x`` or lme4's ``(1|a) + (1|b)``)."""
    paths = [b.equation.path for b in design.blocks]
    for a in paths:
        for b in paths:
            short, long = (a, b) if len(a) <= len(b) else (b, a)
            if long[: len(short)] != short or "_all" in short:
                return True
    return False


def resolve_method(design: Design, intmethod: str | None, intpoints: int) -> tuple[str, int]:
    method = intmethod or default_method(design)
    if method not in METHODS:
        raise NotSupportedError(f"unknown integration method '{method}'; use {', '.join(METHODS)}")
    if method != "laplace" and len(design.blocks) > 1:
        kind = "crossed" if is_crossed(design) else "multi-level"
        raise NotSupportedError(
            f"intmethod({method}) is not available for {kind} random effects in this version; "
            "add intmethod(laplace) (the Laplace approximation works for every design)"
        )
    if int(intpoints) < 1:
        raise NotSupportedError("intpoints() must be at least 1")
    points = 1 if method == "laplace" else int(intpoints)
    if method != "laplace" and points ** design.blocks[0].k > 50_000:
        raise NotSupportedError(
            f"{points} points in {design.blocks[0].k} dimensions need "
            f"{points ** design.blocks[0].k}"
            " nodes per group; lower intpoints() or use intmethod(laplace)"
        )
    return method, points


def estimate_glmm(
    design: Design,
    *,
    intmethod: str | None = None,
    intpoints: int = DEFAULT_INTPOINTS,
    offset: np.ndarray | None = None,
    trials: np.ndarray | float | None = None,
) -> GLMMEstimates:
    """Maximize the (approximate) likelihood of a GLMM.

    Parameters
    ----------
    design : from :func:`bayesmixed.design.build_design`; family and link come
        from ``design.spec``.
    intmethod : ``mvaghermite``, ``mcaghermite``, ``ghermite`` or ``laplace``;
        ``None`` picks Stata's default for the design.
    intpoints : quadrature points per dimension (ignored by Laplace).
    offset, trials : in the design's row order; see
        :func:`bayesmixed.engines.glmm.response.glm_extras`.
    """
    if not design.blocks:
        raise NotSupportedError("a mixed model needs at least one random-effects equation")
    timer = Timer()
    method, points = resolve_method(design, intmethod, intpoints)
    # fit on centred, unit-scale columns (issue 19: x + 1e5 already broke the fit)
    fixed = FixedScaling.of(design.X)
    internal = replace(design, X=fixed.apply(design.X))
    resp = build_response(internal, offset=offset, trials=trials)
    if design.spec.estimation.robust:
        from .robust import check_robust_design

        check_robust_design(design)  # refuse before fitting, not after
    if design.weights is not None and not design.weights.frequency:
        from .pseudo import estimate_pseudo_glmm  # sampling weights: pseudo-likelihood

        plain = replace(design, weights=None, spec=_unweighted_spec(design.spec))
        start = estimate_glmm(
            plain, intmethod=intmethod, intpoints=intpoints, offset=offset, trials=trials
        )
        return estimate_pseudo_glmm(design, start, offset=offset, trials=trials)
    with data_failures(resp):
        est = _fit(design, resp, method, points, timer, fixed)
    if design.spec.estimation.robust:
        from .robust import robust_glmm

        est = robust_glmm(est, offset=offset, trials=trials)
    return est


def _fit(
    design: Design, resp, method: str, points: int, timer: Timer, fixed: FixedScaling
) -> GLMMEstimates:
    """The numerical stages of :func:`estimate_glmm`, on a checked response.

    ``resp`` holds X~ = X M (``fixed``); the result is mapped back to the user's X.
    """
    glm = fit_glm(resp)
    structures, ks = [b.structure for b in design.blocks], [b.k for b in design.blocks]
    lap = ApproxLoglik(resp, structures, ks, "laplace", 1)
    x0, steps = _start(lap, glm)
    lower, upper = _bounds(lap)
    x0, steps, stage_evaluations, started = integrated_start(lap, x0, steps, lower, upper)
    f0 = lap(x0)
    x, value, message, converged = bobyqa(lap, x0, lower, upper, steps)
    obj = lap
    if method != "laplace":
        obj = ApproxLoglik(resp, structures, ks, method, points)
        x, value, message, converged = _quadrature_stage(obj, x, lower, upper, steps / 10)
    x, value = _snap(obj, x, value, lower[: lap.n_theta])
    if obj.frozen:
        value = obj.adapt(x)
    scale = WorkingScale(obj)
    x, value, vcov_beta, w_vcov, joint = information(obj, scale, x, value)
    evaluations = stage_evaluations + lap.evaluations + (obj.evaluations if obj is not lap else 0)
    first = "beta integrated out, then " if started else ""
    opt = OptSummary(
        optimizer=f"BOBYQA (nlopt), {first}Laplace" + ("" if obj is lap else f" then {method}"),
        theta_start=x0,
        theta_end=x,
        criterion_start=-2 * f0,
        criterion_end=-2 * value,
        evaluations=evaluations,
        converged=converged,
        message=message,
        seconds=timer.seconds,
    )
    result = _result(design, obj, scale, x, value, vcov_beta, w_vcov, glm.loglik, opt)
    result.vcov_joint = joint
    _to_user_scale(result, fixed, obj.n_theta)
    result.intmethod, result.intpoints = method, points
    _warn(result, resp, obj, x)
    return result


def _unweighted_spec(spec):
    """The spec without weights or vce (the start of a pseudo-likelihood fit)."""
    est = replace(spec.estimation, weight=None, level_weights=(), vce="oim", cluster=None)
    return replace(spec, estimation=est)


def _quadrature_stage(obj: ApproxLoglik, x, lower, upper, steps, rounds: int = 6):
    """BOBYQA on the quadrature objective; for mvaghermite in rounds of re-adaptation.

    With the mean-variance rule frozen at the current estimate, each round
    maximizes a smooth function; the rule is re-adapted at its optimum and
    the rounds stop when the estimate no longer moves (Stata's scheme: the
    adaptive parameters are updated between iterations, not within them).
    """
    if obj.method != "mvaghermite":
        return bobyqa(obj, x, lower, upper, steps)
    previous = -np.inf
    for _ in range(rounds):
        start = obj.adapt(x)
        x_new, value, message, converged = bobyqa(obj, x, lower, upper, steps)
        moved = np.max(np.abs(x_new - x))
        x, steps = x_new, np.maximum(steps / 4, 1e-4)
        # stop when re-adapting no longer changes the optimum (in x or in log L)
        if moved < 1e-6 or (abs(value - previous) < 1e-8 and abs(value - start) < 1e-8):
            break
        previous = value
    return x, value, message, converged


def _start(lap: ApproxLoglik, glm) -> tuple[np.ndarray, np.ndarray]:
    """Start at theta's default and the GLM's beta; initial steps of ~2 GLM SEs."""
    thetas = [s.theta_start() for s in lap.structures]
    x0 = np.r_[np.concatenate(thetas), glm.beta]
    steps = np.r_[np.full(lap.n_theta, 0.25), np.maximum(2 * glm.se, 0.02)]
    if lap.n_anc:
        x0, steps = np.r_[x0, glm.anc], np.r_[steps, np.full(lap.n_anc, 0.25)]
    return x0, steps


def _bounds(lap: ApproxLoglik) -> tuple[np.ndarray, np.ndarray]:
    bounds = [b for s in lap.structures for b in s.theta_bounds()]
    lower = [-np.inf if lo is None else lo for lo, _ in bounds]
    upper = [np.inf if hi is None else hi for _, hi in bounds]
    extra = lap.size - lap.n_theta
    return np.r_[lower, np.full(extra, -np.inf)], np.r_[upper, np.full(extra, np.inf)]


def _snap(obj, x, value, lower_theta):
    """Put near-zero bounded theta components on the bound when that costs nothing."""
    for i in np.flatnonzero((lower_theta == 0) & (x[: len(lower_theta)] < SNAP_BELOW)):
        trial = x.copy()
        trial[i] = 0.0
        v = obj(trial)
        if v >= value - 1e-7:
            x, value = trial, max(v, value)
    return x, value


def _result(design, obj, scale, x, value, vcov_beta, w_vcov, loglik_glm, opt) -> GLMMEstimates:
    thetas, beta, anc = obj.unpack(x)
    lams = obj.lambdas(thetas)
    return GLMMEstimates(
        design=design,
        family=obj.resp.family,
        intmethod=obj.method,
        intpoints=obj.points,
        beta=beta.copy(),
        vcov_beta=vcov_beta,
        theta=x[: obj.n_theta].copy(),
        cov_blocks=[lam @ lam.T for lam in lams],
        log_phi=float(anc[0]) if obj.resp.family.has_dispersion else None,
        ancillary=anc.copy(),
        loglik=value,
        working=np.r_[scale.to_working(x)[: obj.n_theta], anc],
        working_vcov=w_vcov,
        loglik_glm=loglik_glm,
        opt=opt,
        modes=obj.modes(x),
    )


def _to_user_scale(result: GLMMEstimates, fixed: FixedScaling, n_theta: int) -> None:
    """Map beta, its covariance and the optimizer's x from X~ = X M to the user's X."""
    result.beta = fixed.to_user(result.beta)
    result.vcov_beta = fixed.vcov_to_user(result.vcov_beta)
    if result.vcov_joint is not None:  # beta's rows and columns too: diag(M, I)
        p = len(result.beta)
        m = np.eye(len(result.vcov_joint))
        m[:p, :p] = fixed.matrix
        joint = m @ result.vcov_joint @ m.T
        result.vcov_joint = (joint + joint.T) / 2
    cols = slice(n_theta, n_theta + len(result.beta))
    for name in ("theta_start", "theta_end"):
        x = np.array(getattr(result.opt, name), float)  # a copy: the fit's x stays internal
        x[cols] = fixed.to_user(x[cols])
        setattr(result.opt, name, x)


def _warn(result: GLMMEstimates, resp, obj: ApproxLoglik, x: np.ndarray) -> None:
    for block, theta in zip(result.design.blocks, obj.unpack(x)[0]):
        for note in block.structure.boundary(theta):
            result.boundary.append(f"{block.key}: {note}")
    if result.boundary:
        warnings.warn(
            "estimate on the boundary of the parameter space: " + "; ".join(result.boundary),
            BoundaryWarning,
            stacklevel=3,
        )
    if not result.opt.converged:
        warnings.warn(f"the optimizer {result.opt.message}", ConvergenceWarning, stacklevel=3)
    if resp.family.binary and np.any(np.abs(result.beta) > 15):
        big = [n for n, b in zip(result.design.fixed_names, result.beta) if abs(b) > 15]
        msg = (
            f"coefficients of {', '.join(big)} exceed 15 in absolute value on the link scale: "
            "the outcome is probably (quasi-)completely separated; these estimates and their "
            "standard errors are not reliable"
        )
        result.notes.append(msg)
        warnings.warn(msg, SeparationWarning, stacklevel=3)
