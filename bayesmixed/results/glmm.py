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
import pandas as pd
from scipy import stats

from ..design.types import Design
from ..spec.family import Family
from .mixed import OptSummary, _block_diag_frames


@dataclass
class GLMMResult:
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

    # -- conventional accessors -------------------------------------------------
    def __str__(self) -> str:
        from .render_glmm import render_text

        return render_text(self)

    @property
    def link(self) -> str:
        return self.family.link.name

    @property
    def coef(self) -> pd.Series:
        return pd.Series(self.beta, index=self.design.fixed_names, name="coef")

    @property
    def vcov(self) -> pd.DataFrame:
        names = self.design.fixed_names
        return pd.DataFrame(self.vcov_beta, index=names, columns=names)

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.vcov_beta)), index=self.design.fixed_names)

    @property
    def re_cov(self) -> dict[str, pd.DataFrame]:
        """Level (or ``R.var``) -> covariance of that level's random effects."""
        out: dict[str, pd.DataFrame] = {}
        for block, cov in zip(self.design.blocks, self.cov_blocks):
            frame = pd.DataFrame(cov, index=block.effect_names, columns=block.effect_names)
            if block.key in out:
                frame = _block_diag_frames(out[block.key], frame)
            out[block.key] = frame
        return out

    @property
    def dispersion(self) -> float | None:
        """alpha (nbinomial), phi (gamma) or sigma^2 (gaussian)."""
        return None if self.log_phi is None else float(np.exp(self.log_phi))

    @property
    def nobs(self) -> int:
        return self.design.n

    @property
    def converged(self) -> bool:
        return self.opt.converged

    @property
    def n_cov_params(self) -> int:
        """Covariance parameters, the dispersion included."""
        return len(self.working)

    @property
    def df_model(self) -> int:
        return self.design.p + self.n_cov_params

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.df_model

    @property
    def bic(self) -> float:
        return -2 * self.loglik + np.log(self.nobs) * self.df_model

    @property
    def deviance(self) -> float:
        return -2 * self.loglik

    @property
    def groups(self) -> pd.DataFrame:
        rows = [(g.level, g.n_groups, g.min, g.avg, g.max) for g in self.design.group_info]
        return pd.DataFrame(rows, columns=["level", "groups", "min", "avg", "max"]).set_index(
            "level"
        )

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
