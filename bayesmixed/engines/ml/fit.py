"""Fit a Gaussian linear mixed model by ML or REML: the composition of the stages.

Mirrors lme4's ``lFormula -> mkLmerDevfun -> optimizeLmer -> mkMerMod``:
cross-products once, a deviance function of theta, an optimizer, then the
estimates recovered from the factorization at the optimum.
"""

from __future__ import annotations

import warnings
from functools import cache, partial

import numpy as np
from threadpoolctl import ThreadpoolController

from ...design.types import Design
from ...errors import EstimationError, NotSupportedError
from ..estimates import LMMEstimates
from .component_gradient import ComponentGradient
from .criterion import boundary_notes, make_deviance, to_design_order
from .deviance import ProfiledDeviance
from .gradient import DenseGradient
from .inference import WorkingMap, working_covariance
from .optimize import minimize_theta, minimize_theta_gradient, prefer_boundary
from .rescale import column_scales, scaled_design, unscale_theta
from .residual import estimate_structured
from .start import moment_start


@cache
def _blas_threads() -> ThreadpoolController:
    """The process's BLAS and OpenMP pools, found once.

    ``threadpool_limits`` walks every loaded shared library on each call: 1.3 ms, ~5% of a
    small fit (grouse-shaped Gaussian, 27 ms).  The libraries this engine calls (NumPy's and
    SciPy's BLAS) are loaded before its first fit, so the controller found then covers them.
    """
    return ThreadpoolController()


def _start_and_bounds(dev: ProfiledDeviance) -> tuple[np.ndarray, list]:
    start, bounds = [], []
    for s in dev.structures:
        start.append(s.theta_start())
        bounds.extend(s.theta_bounds())
    return np.concatenate(start), bounds


def estimate_lmm(design: Design, reml: bool = False) -> LMMEstimates:
    """Maximize the (restricted) likelihood of a Gaussian mixed model.

    BLAS runs single-threaded during the fit: the dense factorizations are of
    moderate size (about 1,000 for InstEval-like data), where a second thread
    gains little and, on a busy machine, oversubscription made each
    factorization 3x slower (8 s vs 28 s for the benchmark's crossed model);
    one thread also makes results bit-identical across runs.

    Frequency weights enter the cross-products (:mod:`.crossprod`); sampling
    weights are fitted by pseudo-likelihood from the unweighted fit
    (:mod:`.pseudo`); ``vce(robust)``/``vce(cluster)`` then replace the
    covariance by the cluster sandwich (:mod:`.robust`).

    Raises
    ------
    EstimationError
        When the fixed-effects design is singular after collinearity checks,
        or the criterion is not finite anywhere the optimizer looked.
    """
    with _blas_threads().limit(limits=1):
        if reml and (design.weights is not None or design.spec.estimation.robust):
            raise NotSupportedError("weights and vce(robust) are not allowed with REML (Stata)")
        if design.residual is not None and (design.weights or design.spec.estimation.robust):
            raise NotSupportedError(
                "weights and vce(robust) are not available with residuals() yet"
            )
        if design.spec.estimation.level_fweighted and design.spec.estimation.cluster:
            raise NotSupportedError(
                "vce(cluster) is not available with fweight() at higher levels; vce(robust) is"
            )
        if design.weights is not None and not design.weights.frequency:
            from .pseudo import estimate_pseudo, unweighted  # sampling weights

            return estimate_pseudo(design, _fit_lmm(unweighted(design), reml))
        if design.residual is not None:
            est = estimate_structured(design, reml)  # structured residuals (issue 3)
        else:
            est = _fit_lmm(design, reml)
        if design.spec.estimation.robust:
            from .robust import robust_lmm

            est = robust_lmm(est)
        return est


def _fit_lmm(design: Design, reml: bool) -> LMMEstimates:
    dev = make_deviance(design, reml)
    _warn_unidentified(design)
    theta, opt = _optimize(design, dev, reml)
    fac = dev.factor(theta)
    _check_precision(dev, fac, opt)
    sigma2 = dev.sigma2(fac)
    order = dev.cp.order
    covs_eval = [sigma2 * (lam @ lam.T) for lam in fac.lam]
    covs = to_design_order(covs_eval, order)
    wmap = WorkingMap([b.structure for b in design.blocks], order)
    w_hat = wmap.from_cov(covs, sigma2)
    boundary = boundary_notes(design, dev, theta)
    return LMMEstimates(
        design=design,
        reml=reml,
        beta=fac.beta(),
        vcov_beta=fac.vcov_beta(sigma2),
        theta=np.concatenate(to_design_order(dev.split(theta), order)),
        sigma2=sigma2,
        cov_blocks=covs,
        loglik=-0.5 * dev.criterion(fac),
        working=w_hat,
        working_vcov=working_covariance(dev, wmap, w_hat),
        loglik_linear=-0.5 * dev(np.zeros_like(theta)),
        opt=opt,
        boundary=boundary,
    )


class IdentificationWarning(UserWarning):
    """Some variance components are not separately identified by the data."""


class PrecisionWarning(UserWarning):
    """The residual variance is below what double precision resolves in this engine."""


PRECISION_RATIO = 1e-9  # r2 / y'y below this: r2 carries ~eps / ratio relative error


def _check_precision(dev: ProfiledDeviance, fac, opt) -> None:
    """Refuse to call a fit converged whose residual sum of squares is rounding noise.

    The deviance reads r2 as y'y less the part the fixed and random effects
    explain, both held in the cross-products; when the random effects explain all
    but a share 1e-16 of y (sigma_e = 1e-8 beside sigma_g = 1) that difference is
    rounding, the optimum cannot be located and the estimates are meaningless.
    lme4 and MixedModels.jl share this limit (the same normal equations); we say so.
    """
    yy = float(dev.cp.a_xyxy[-1, -1])
    if yy > 0 and fac.r2 < PRECISION_RATIO * yy:
        opt.converged = False
        opt.message += (
            "; the residual variance is below the precision of the cross-products "
            f"(r2 / y'y = {fac.r2 / yy:.1e}): the estimates are not reliable"
        )
        warnings.warn(
            "the residual variance is too small, relative to the random effects, to be "
            "estimated in double precision: the estimates are not reliable",
            PrecisionWarning,
            stacklevel=4,
        )


def _warn_unidentified(design: Design) -> None:
    """One observation per group: a random intercept there is confounded with the residual.

    lme4 refuses such a model by default; Stata fits it.  We fit it too (the
    likelihood has a ridge, not a wrong optimum) but say which split is arbitrary.
    """
    for block in design.blocks:
        if block.n_groups == design.n and block.k == 1 and design.residual is None:
            warnings.warn(
                f"each {block.key} group has one observation, so var({block.effect_names[0]}) "
                f"at {block.key} and var(e) are not separately identified: only their sum is",
                IdentificationWarning,
                stacklevel=3,
            )


def _optimize(design: Design, dev: ProfiledDeviance, reml: bool):
    """Optimize theta, on unit-scaled random-effect columns where they are badly scaled."""
    if design.n <= design.p:
        raise EstimationError(
            f"the likelihood cannot be evaluated: {design.n} observations for {design.p} "
            "fixed-effect coefficients leave no residual variation"
        )
    scales = column_scales(design)
    search = dev if scales is None else make_deviance(scaled_design(design, scales), reml)
    start, bounds = _start_and_bounds(search)
    start = moment_start(design, dev.cp.order, search.split(start))
    if not np.isfinite(search(start)):
        raise EstimationError(
            "the likelihood cannot be evaluated: the fixed-effects design is singular "
            "or the response has no variation left after the fixed effects"
        )
    # quasi-Newton on an exact gradient where one applies: many covariance parameters
    # (gradient.py) or a design factored by components (component_gradient.py)
    gradient = DenseGradient.build(search) or ComponentGradient.build(search)
    if gradient is None:
        minimize = minimize_theta
    else:
        minimize = partial(_with_gradient, gradient=gradient)
    theta, opt = minimize(search, start, bounds)
    theta, opt = prefer_boundary(search, theta, opt, bounds, search.sizes, minimize)
    if scales is not None:
        ordered = [scales[i] for i in dev.cp.order]
        parts = unscale_theta(search.split(theta), dev.structures, ordered)
        theta = np.concatenate(parts)
        opt.theta_end = theta
        opt.message += " (random-effect covariates rescaled while optimizing)"
    return theta, opt


def _with_gradient(f, start, bounds, gradient: DenseGradient | ComponentGradient):
    return minimize_theta_gradient(f, gradient, start, bounds)
