"""Conventional accessors of likelihood-based results.

``MixedResult`` (ML/REML) and ``GLMMResult`` (Laplace/quadrature) hold the
same kinds of numbers -- fixed effects with a covariance matrix, one
covariance matrix per random-effects block, a log likelihood and the count
of covariance parameters -- so lme4's and Stata's accessor names (``coef``,
``vcov``, ``re_cov``, ``aic``...) are derived here once.  What every kind
shares, Bayesian fits included (``nobs``, ``groups``, ``save``, the
postestimation methods), is in :mod:`.base`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from .base import ResultBase
from .interface import summary_frame


class LikelihoodAccessors(ResultBase):
    """Mixin: needs ``design``, ``beta``, ``vcov_beta``, ``cov_blocks``,
    ``loglik``, ``working``, ``opt`` and ``level``, plus ``_fixed_rows()`` and
    ``_summary_rows()`` (the printed table's rows, from the renderer's table code)."""

    def estat_sd(self, level: float | None = None) -> pd.DataFrame:
        """Stata's ``estat sd``: random-effect SDs and correlations with delta-method SEs.

        Indexed by (equation, parameter); columns estimate, se, lower, upper.
        ``print(bm.postestimation.estat_sd.format_estat_sd(result))`` prints Stata's table.
        """
        from ..postestimation.estat_sd import estat_sd

        return estat_sd(self, level)

    # -- the printed table as data ---------------------------------------------------------
    def summary(self, level: float | None = None) -> pd.DataFrame:
        """Every printed parameter: estimate, se, z, p, lower, upper.

        Indexed by (equation, parameter) as Stata prints them: the fixed effects
        under the response, then each level's variance parameters, then the
        residual's.  The numbers are the printed table's (Wald, normal reference;
        variance parameters with delta-method SEs and Stata's log/atanh-scale
        intervals, no z or p).  GLMM coefficients stay on the linear-predictor
        scale even when printed as odds ratios (``or``/``irr``): exponentiate
        ``estimate``, ``lower`` and ``upper`` for those.  ``level`` defaults to
        the fit's (95 unless the command said ``level()``).
        """
        return summary_frame(self._at_level(level)._summary_rows())

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided Wald p-values of the fixed effects, as the table prints them."""
        rows = self._fixed_rows()
        return pd.Series([r.p for r in rows], index=self.design.fixed_names, name="p")

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """Wald (normal) confidence intervals of the fixed effects: columns lower, upper."""
        rows = self._at_level(level)._fixed_rows()
        return pd.DataFrame(
            {"lower": [r.lower for r in rows], "upper": [r.upper for r in rows]},
            index=pd.Index(self.design.fixed_names),
        )

    def _at_level(self, level: float | None):
        if level is None or float(level) == float(self.level):
            return self
        if not 10 <= float(level) <= 99.99:
            raise SpecificationError(f"level({level:g}) must be between 10 and 99.99")
        return replace(self, level=float(level))

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
        """Level (or ``R.var``) -> covariance of that level's random effects.

        Two equations at the same level are merged into one block-diagonal
        frame, since they are independent by construction.
        """
        out: dict[str, pd.DataFrame] = {}
        for block, cov in zip(self.design.blocks, self.cov_blocks, strict=True):
            frame = pd.DataFrame(cov, index=block.effect_names, columns=block.effect_names)
            if block.key in out:
                frame = _block_diag_frames(out[block.key], frame)
            out[block.key] = frame
        return out

    @property
    def converged(self) -> bool:
        return self.opt.converged

    @property
    def n_cov_params(self) -> int:
        """Covariance parameters, the residual variance or dispersion included."""
        return len(self.working)

    @property
    def df_model(self) -> int:
        """Parameters counted by ``estat ic`` (fixed + covariance + residual)."""
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


def _block_diag_frames(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    names = list(a.index) + list(b.index)
    out = np.zeros((len(names), len(names)))
    out[: len(a), : len(a)] = a.to_numpy()
    out[len(a) :, len(a) :] = b.to_numpy()
    return pd.DataFrame(out, index=names, columns=names)
