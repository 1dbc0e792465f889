"""The result of a frequentist linear mixed-model fit, as data.

The numbers are the ML engine's :class:`~bayesmixed.engines.estimates.LMMEstimates`;
this class adds the display settings and derives the conventional accessors
(``coef``, ``vcov``, ``re_cov``, ``loglik``, ``aic``, ``bic``, ``nobs``).
Rendering lives in :mod:`bayesmixed.results.render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..engines.estimates import LMMEstimates
from ..engines.optsummary import OptSummary
from ..spec.options import DEFAULT_LEVEL
from .accessors import LikelihoodAccessors
from .base import ResultKind

__all__ = ["MixedResult", "OptSummary"]


# repr=False: the short repr of ResultBase, not a 20,000-character dump
@dataclass(repr=False)
class MixedResult(LikelihoodAccessors, LMMEstimates):
    """Estimates of a Gaussian mixed model by ML or REML, with how to print them.

    The estimates' fields are documented on
    :class:`~bayesmixed.engines.estimates.LMMEstimates`; the display settings
    (set from the command's options by :func:`bayesmixed.api.fit_spec`) are:

    Attributes
    ----------
    level : confidence level of the printed intervals, in percent.
    display : ``"variance"`` or ``"stddeviations"`` for the random-effect rows.
    show_base : print the base levels of factor variables.
    dfmethod : ``dfmethod()`` of the command (t/F inference with small-sample
        degrees of freedom, :mod:`bayesmixed.postestimation.dfmethod`) or ``None``.
    """

    kind: ClassVar[ResultKind] = ResultKind.MIXED

    level: float = DEFAULT_LEVEL
    display: str = "variance"
    show_base: bool = False
    dfmethod: str | None = None

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
        from ..maths import critical_value
        from .coef import coef_row

        if self.dfmethod is not None:
            from ..postestimation.dfmethod import t_rows

            return t_rows(self)
        crit = critical_value(self.level)
        return [coef_row(self, i, n, crit) for i, n in enumerate(self.design.fixed_names)]

    def small_sample(self, dfmethod: str | None = None, level: float | None = None):
        """Coefficient table with t statistics and small-sample dfs (Stata's ``dfmethod()``).

        ``dfmethod`` is one of ``residual``, ``repeated``, ``anova``,
        ``satterthwaite`` (``"satterthwaite, oim"`` for the observed information)
        or ``kroger`` (the fit's own ``dfmethod()`` by default); the last two need
        REML.  Returns coef, se, t, df, p, lower, upper; with ``kroger`` the
        standard errors are the Kenward-Roger adjusted ones.
        """
        from ..postestimation.dfmethod import small_sample

        method = dfmethod if dfmethod is not None else self.dfmethod
        if method is None:
            from ..errors import SpecificationError

            raise SpecificationError("small_sample() needs a dfmethod (e.g. 'kroger')")
        return small_sample(self, method).table(self.level if level is None else float(level))

    def df_inference(self):
        """The small-sample inference of the fit's ``dfmethod()`` (dfs, model F test), cached.

        Renderers read it through this method, so only a result method reaches
        into postestimation (the package's one allowed upward import).
        """
        from ..postestimation.dfmethod import small_sample

        return small_sample(self, self.dfmethod)

    def estat_df(self, methods=None, post: bool | str = False):
        """Stata's ``estat df``: the dfs of each fixed effect under one or more methods.

        With ``post`` (``True``, or the method's name when ``methods`` lists several)
        it is ``estat df, post``: it returns a copy of this result that uses the
        method, as after ``mixed ..., dfmethod()`` (t table; ``test`` and
        ``testparm`` report F), instead of the table.
        """
        from ..postestimation.dfmethod import estat_df, post_df

        if post is False:
            return estat_df(self, methods)
        if isinstance(post, str):
            return post_df(self, post)
        listed = [methods] if isinstance(methods, str) else methods
        if listed is not None and len(listed) != 1:
            from ..errors import SpecificationError

            raise SpecificationError("estat_df(post=True) needs one method (or post='kroger')")
        return post_df(self, listed[0] if listed else self.dfmethod)

    def _summary_rows(self) -> list:
        from .table import random_sections

        rows = [(self.design.spec.response, r) for r in self._fixed_rows()]
        for section in random_sections(self)[0]:
            equation = "Residual" if section.title is None else section.title.partition(": ")[0]
            rows += [(equation, r) for r in section.rows]
        return rows
