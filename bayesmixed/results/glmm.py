"""The result of a generalized linear mixed-model fit, as data.

The numbers are the GLMM engine's :class:`~bayesmixed.engines.estimates.GLMMEstimates`:
the same accessors as :class:`~bayesmixed.results.mixed.MixedResult` (``coef``,
``vcov``, ``se``, ``re_cov``, ``loglik``, ``aic``, ``bic``, ``nobs``,
``converged``, ``groups``) plus what a GLMM adds: the family and link, the
integration method and points, the dispersion parameter, and the log
likelihood of the plain GLM for Stata's "LR test vs. logistic model".
Rendering lives in :mod:`bayesmixed.results.render_glmm`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..engines.estimates import GLMMEstimates
from ..lazy_import import stats
from ..spec.options import DEFAULT_LEVEL
from .accessors import LikelihoodAccessors
from .base import ResultKind


@dataclass(repr=False)  # repr: the short one of ResultBase
class GLMMResult(LikelihoodAccessors, GLMMEstimates):
    """Estimates of a GLMM by (approximate) maximum likelihood, with how to print them.

    The estimates' fields are documented on
    :class:`~bayesmixed.engines.estimates.GLMMEstimates`; the display settings
    (set from the command's options by :func:`bayesmixed.api.fit_spec`) are:

    Attributes
    ----------
    level : confidence level of the printed intervals, in percent.
    eform : ``"or"``, ``"irr"`` or ``"eform"`` to print exponentiated coefficients.
    """

    kind: ClassVar[ResultKind] = ResultKind.GLMM

    level: float = DEFAULT_LEVEL
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
    def anc_working(self) -> np.ndarray:
        """The family's working ancillary vector (files saved before it existed: log phi)."""
        if len(self.ancillary) or self.log_phi is None:
            return np.asarray(self.ancillary, float)
        return np.array([float(self.log_phi)])

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
        df = self.n_cov_params - self.family.n_anc
        p = float(stats.chi2.sf(chi2, df)) if df else float("nan")
        if df == 1:
            return chi2, 1, (0.5 * p if chi2 > 0 else 1.0), True
        return chi2, df, p, False
