"""The result of a generalized linear mixed-model fit, as data.

Same accessors as :class:`~bayesmixed.results.mixed.MixedResult` (``coef``,
``vcov``, ``se``, ``re_cov``, ``loglik``, ``aic``, ``bic``, ``nobs``,
``converged``, ``groups``) plus what a GLMM adds: the family and link, the
integration method and points, the dispersion parameter, and the log
likelihood of the plain GLM for Stata's "LR test vs. logistic model".
Rendering lives in :mod:`bayesmixed.results.render_glmm`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..design.types import Design
from ..spec.family import Family
from .accessors import LikelihoodAccessors
from .mixed import OptSummary


@dataclass(repr=False)  # repr: the short one of ResultInterface
class GLMMResult(LikelihoodAccessors):
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
    modes : conditional modes (BLUP analogues) of each block, (groups, k).
    boundary : notes on parameters on the boundary of the space.
    notes : other remarks printed under the table.
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
    level: float = 95.0
    eform: str | None = None

    def __str__(self) -> str:
        from .render_glmm import render_text

        return render_text(self)

    def _fit_line(self) -> str:
        from .render_glmm import title

        how = f"{self.intmethod}, {self.intpoints} points" if self.intpoints > 1 else self.intmethod
        return f"{title(self)} ({how}): log likelihood = {self.loglik:.4f}"

    def _fixed_rows(self) -> list:
        from .render_glmm import fixed_rows

        return fixed_rows(self)[: self.design.p]

    def _summary_rows(self) -> list:
        from .render_glmm import fixed_rows, random_sections

        rows = [(self.design.spec.response, r) for r in fixed_rows(self)]
        for section in random_sections(self):
            rows += [(section.title, r) for r in section.rows]
        return rows

    @property
    def reml(self) -> bool:
        """Always False: a GLMM is fitted by (approximate) ML, so ``lrtest`` can compare two."""
        return False

    @property
    def link(self) -> str:
        return self.family.link.name

    @property
    def dispersion(self) -> float | None:
        """alpha (nbinomial), phi (gamma) or sigma^2 (gaussian)."""
        return None if self.log_phi is None else float(np.exp(self.log_phi))

    def lr_test(self) -> tuple[float, int, float, bool]:
        """LR test vs. the GLM: (chi2, df, p, chibar).

        With one variance tested (df 1) the statistic is a 50:50 mixture of
        chi2(0) and chi2(1) -- Stata's ``chibar2(01)`` -- so p halves; with
        more parameters Stata prints ``chi2(df)`` and notes the test is
        conservative.
        """
        chi2 = max(2 * (self.loglik - self.loglik_glm), 0.0)
        df = self.n_cov_params - (0 if self.log_phi is None else 1)
        p = float(stats.chi2.sf(chi2, df)) if df else float("nan")
        if df == 1:
            return chi2, 1, (0.5 * p if chi2 > 0 else 1.0), True
        return chi2, df, p, False
