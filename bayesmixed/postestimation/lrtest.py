"""Likelihood-ratio test of two nested mixed models, as Stata's ``lrtest``.

The statistic is ``2 (ll_full - ll_nested)`` on as many degrees of freedom
as the models' parameter counts differ (``df_model``: fixed effects,
covariance parameters and the residual variance).  Like Stata, the test is
refused when its premises fail -- different estimation samples, an ML fit
compared with a REML fit, or REML fits whose fixed effects differ (the
restricted likelihoods then condition on different contrasts of the data and
are not comparable) -- rather than printing a number that means nothing.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from ..lazy_import import stats
from ..results.accessors import LikelihoodAccessors
from ..results.mixed import MixedResult

BOUNDARY_NOTE = (
    "The reported degrees of freedom assumes the null hypothesis is not on the "
    "boundary of the parameter space.  If this is not true, then the reported "
    "test is conservative."
)
# Rounding noise in two optima of the same likelihood: below this, "negative" is zero.
NEGATIVE_TOLERANCE = 1e-6


class LRTestError(SpecificationError):
    """Two fits that a likelihood-ratio test cannot compare."""


@dataclass(frozen=True)
class LRTestResult:
    """Outcome of :func:`lrtest`; ``str()`` prints it as Stata does."""

    chi2: float
    df: int
    p: float
    nested: str = "A"
    full: str = "B"
    note: str | None = None

    def __str__(self) -> str:
        stat = f"LR chi2({self.df})"
        lines = [
            f"{'Likelihood-ratio test':<54}{stat:<12}={self.chi2:10.2f}",
            f"{f'(Assumption: {self.nested} nested in {self.full})':<54}"
            f"{'Prob > chi2':<12}={self.p:10.4f}",
        ]
        if self.note:
            lines.append("")
            lines += textwrap.wrap("Note: " + self.note, width=77, subsequent_indent=" " * 6)
        return "\n".join(lines)


def lrtest(a: MixedResult, b: MixedResult, names: tuple[str, str] = ("A", "B")) -> LRTestResult:
    """Compare two nested fits; the one with fewer parameters is the null model.

    The parametric-bootstrap p-value (``bayesmixed.lrtest(..., bootstrap=n)``) is
    :func:`bayesmixed.resampling.bootstrap_lrtest`, which builds on this test; this
    module does not import resampling (see the import rule in :mod:`bayesmixed`).

    Parameters
    ----------
    a, b : fitted results, in either order.
    names : labels of ``a`` and ``b`` for the printed assumption line.

    Raises
    ------
    LRTestError
        When either fit is Bayesian (no maximized likelihood), the samples
        differ, ML is compared with REML, REML fits differ in their fixed
        effects, the parameter counts are equal, or the larger model fits
        worse (the models cannot be nested).
    """
    _check_likelihood(a, b)
    if any(getattr(r, "vce", "oim") != "oim" for r in (a, b)):
        # Stata: "LR test likely invalid for models with robust vce"
        raise LRTestError(
            "LR test likely invalid for models with robust vce or sampling weights: "
            "the criterion is a pseudo-likelihood; use test (Wald) instead"
        )
    _check_comparable(a, b)
    df = a.df_model - b.df_model
    if df == 0:
        raise LRTestError(
            f"df(unrestricted) = df(restricted) = {a.df_model}: the two models have the "
            "same number of parameters, so neither is nested in the other"
        )
    (small, small_name), (big, big_name) = sorted(
        [(a, names[0]), (b, names[1])], key=lambda pair: pair[0].df_model
    )
    chi2 = 2.0 * (float(big.loglik) - float(small.loglik))
    if chi2 < -NEGATIVE_TOLERANCE * max(1.0, abs(float(big.loglik))):
        raise LRTestError(
            f"the model with more parameters ({big_name}, log likelihood {big.loglik:.6f}) fits "
            f"worse than the one with fewer ({small_name}, {small.loglik:.6f}): they are not "
            "nested, or a fit did not reach its optimum"
        )
    chi2 = max(chi2, 0.0)
    df = abs(df)
    note = BOUNDARY_NOTE if small.n_cov_params != big.n_cov_params else None
    return LRTestResult(chi2, df, float(stats.chi2.sf(chi2, df)), small_name, big_name, note)


def _check_likelihood(*fits: object) -> None:
    """Refuse anything but ML/REML and GLMM fits, saying what to use instead."""
    for fit in fits:
        if not isinstance(fit, LikelihoodAccessors):
            kind = type(fit).__name__
            raise LRTestError(
                f"lrtest compares maximized likelihoods of ML/REML or GLMM fits, not a {kind}: "
                "compare Bayesian fits with bayesmixed.compare(...) (PSIS-LOO) instead"
            )


def _check_comparable(a: MixedResult, b: MixedResult) -> None:
    if a.nobs != b.nobs:
        raise LRTestError(f"observations differ: {a.nobs} vs. {b.nobs}")
    if a.reml != b.reml:
        raise LRTestError(
            "cannot compare an ML fit with a REML fit: their likelihoods are different criteria"
        )
    if a.reml and not _same_fixed(a, b):
        raise LRTestError(
            "REML criterion not comparable: likelihood-ratio tests of REML fits require the "
            "same fixed-effects specification; refit both models by ML to compare fixed effects"
        )


def _same_fixed(a: MixedResult, b: MixedResult) -> bool:
    xa, xb = np.asarray(a.design.X), np.asarray(b.design.X)
    if list(a.design.fixed_names) != list(b.design.fixed_names) or xa.shape != xb.shape:
        return False
    return bool(np.allclose(xa, xb, rtol=1e-10, atol=1e-12))
