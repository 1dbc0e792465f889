"""What the likelihood engines return: estimates as plain data, nothing to print.

Data flow one way through the pipeline (spec -> design -> engines -> results ->
postestimation), so an engine cannot build a result object: it returns one of
these dataclasses and the composition (:mod:`bayesmixed.fitting`) turns it into
a result at the results stage, attaching the display settings there.

Why the result types *extend* these classes instead of wrapping them: every
field keeps its name and place on the result (``result.beta``,
``result.opt.converged``), so the accessors, renderers, postestimation and
saved files (:mod:`bayesmixed.io` writes a result field by field) need no
change, and :meth:`~bayesmixed.results.base.ResultBase.from_estimates` is one
copy of the fields.  The Bayesian counterpart is
:class:`~bayesmixed.engines.bayes_estimates.BayesEstimates`, kept in its own
leaf module so that reading ML estimates never imports xarray.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..design.types import Design
from ..spec.family import Family
from .optsummary import OptSummary


# repr=False: the results' short repr must win, and a dataclass dump of a
# design runs to tens of thousands of characters
@dataclass(repr=False)
class LMMEstimates:
    """Estimates of a Gaussian mixed model by ML or REML.

    Attributes
    ----------
    design : the numeric design (sample, names, random-effect blocks).
    reml : whether the criterion was the restricted likelihood.
    beta, vcov_beta : fixed effects and their covariance (``fixed_names`` order).
    theta : the relative covariance parameters at the optimum.
    sigma2 : residual variance.
    cov_blocks : absolute covariance matrix of each block's effects.
    loglik : log likelihood (REML: log restricted-likelihood), as Stata prints.
    working, working_vcov : unconstrained covariance parameters (each block's
        structure working vector, then log sigma_e) and their covariance from
        the observed information, or ``None`` where it does not exist
        (boundary fits).  Standard errors of printed parameters derive from it.
    loglik_linear : the same criterion for the model without random effects,
        for Stata's "LR test vs. linear model".
    opt : what the optimizer did.
    boundary : notes on parameters fitted on the boundary of the space.
    vce, n_clusters, cluster_var : ``"oim"``, or ``"robust"``/``"cluster"`` when
        ``vcov_beta`` and ``working_vcov`` are the cluster sandwich
        (:mod:`bayesmixed.engines.sandwich`) over ``n_clusters`` clusters of
        ``cluster_var`` (Stata's "Std. err. adjusted for N clusters in var").
    residual_params : the residual-error parameters as Stata prints them
        (``rho``, ``var(e)``, ``0: var(e)``...) when the model has a
        ``residuals()`` structure, else ``None`` (``sigma2`` is then the only
        residual parameter).  With a structure, ``sigma2`` is the reference
        variance (first by() group, first time level) and ``working`` holds the
        blocks' working values, the residual model's unconstrained vector, then
        log sigma_e.
    """

    design: Design
    reml: bool
    beta: np.ndarray
    vcov_beta: np.ndarray
    theta: np.ndarray
    sigma2: float
    cov_blocks: list[np.ndarray]
    loglik: float
    working: np.ndarray
    working_vcov: np.ndarray | None
    loglik_linear: float
    opt: OptSummary
    boundary: list[str] = field(default_factory=list)
    residual_params: pd.Series | None = None
    vce: str = "oim"
    n_clusters: int | None = None
    cluster_var: str | None = None


@dataclass(repr=False)
class GLMMEstimates:
    """Estimates of a GLMM by (approximate) maximum likelihood.

    Attributes
    ----------
    design : the numeric design.
    family : the response family with its link.
    intmethod, intpoints : integration method and points (1 for Laplace).
    beta, vcov_beta : fixed effects and their covariance (inverse negative
        Hessian of the approximate log likelihood, as Stata).
    theta : each block's covariance factor (design order), b = Lambda u.
    cov_blocks : covariance matrix of each block's random effects.
    log_phi : log dispersion (lnalpha, ln phi, ln sigma^2) or ``None``.
    loglik : the approximate marginal log likelihood at the optimum.
    working, working_vcov : covariance parameters on each structure's working
        scale (design order), then the log dispersion if any, with their
        covariance; ``None`` where the Hessian is not usable (boundary fits).
    loglik_glm : log likelihood of the model without random effects.
    opt : what the optimizer did.
    modes : conditional modes (BLUP analogues) of each block, (groups, k).
    boundary : notes on parameters on the boundary of the space.
    notes : other remarks printed under the table.
    vce, n_clusters, cluster_var : as for :class:`LMMEstimates`.
    ancillary : the family's ancillary parameters (see
        :mod:`bayesmixed.spec.families`), empty for families without any.
    vcov_joint : covariance of (beta, working) together -- beta first, then
        ``working`` in its order -- for predictions that depend on beta and the
        ancillary parameters (``margins`` after ``meologit``); ``None`` when
        not computed (results saved before it existed).
    """

    design: Design
    family: Family
    intmethod: str
    intpoints: int
    beta: np.ndarray
    vcov_beta: np.ndarray
    theta: np.ndarray
    cov_blocks: list[np.ndarray]
    log_phi: float | None
    loglik: float
    working: np.ndarray
    working_vcov: np.ndarray | None
    loglik_glm: float
    opt: OptSummary
    modes: list[np.ndarray] = field(default_factory=list)
    boundary: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ancillary: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vce: str = "oim"
    n_clusters: int | None = None
    cluster_var: str | None = None
    vcov_joint: np.ndarray | None = None
