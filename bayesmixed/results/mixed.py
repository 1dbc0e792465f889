"""The result of a frequentist linear mixed-model fit, as data.

Rendering lives in :mod:`bayesmixed.results.render`; this module only holds
estimates and derives the conventional accessors (``coef``, ``vcov``,
``re_cov``, ``loglik``, ``aic``, ``bic``, ``nobs``) from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..design.types import Design
from .accessors import LikelihoodAccessors


@dataclass
class OptSummary:
    """What the optimizer did: start, end, evaluations, time (cf. MixedModels.jl)."""

    optimizer: str
    theta_start: np.ndarray
    theta_end: np.ndarray
    criterion_start: float
    criterion_end: float
    evaluations: int
    converged: bool
    message: str
    seconds: float
    boundary_snapped: bool = False


@dataclass(repr=False)  # repr: the short one of ResultInterface, not a 20,000-character dump
class MixedResult(LikelihoodAccessors):
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
    boundary : notes on parameters fitted on the boundary of the space.
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
    level: float = 95.0
    display: str = "variance"
    show_base: bool = False
    residual_params: pd.Series | None = None

    def __str__(self) -> str:
        from .render import render_text

        return render_text(self)

    def _repr_html_(self) -> str:
        from .render import render_html

        return render_html(self)

    def _fit_line(self) -> str:
        from .render import criterion_label, title

        return f"{title(self)}: {criterion_label(self).lower()} = {self.loglik:.4f}"

    def _residual_variance(self) -> float | None:
        # with a residuals() structure sigma2 is only the reference cell's variance:
        # varcorr() then leaves the residual out and summary() has its rows
        return float(self.sigma2) if self.residual_params is None else None

    def _fixed_rows(self) -> list:
        from .coef import coef_row, critical_value

        crit = critical_value(self.level)
        return [coef_row(self, i, n, crit) for i, n in enumerate(self.design.fixed_names)]

    def _summary_rows(self) -> list:
        from .table import random_sections

        rows = [(self.design.spec.response, r) for r in self._fixed_rows()]
        for section in random_sections(self)[0]:
            equation = "Residual" if section.title is None else section.title.partition(": ")[0]
            rows += [(equation, r) for r in section.rows]
        return rows
