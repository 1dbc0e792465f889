"""Which postestimation implementation serves which kind of result: the one table.

Likelihood fits (``mixed``, ``me*``) and Bayesian fits answer Stata's
postestimation commands differently -- BLUPs or posterior means, delta-method
or credible intervals, a Wald test or no Wald test at all -- and a GLMM lacks
what only a Gaussian model has (``estat wcorrelation``).  :data:`TABLE` says,
for each :class:`~bayesmixed.results.base.ResultKind`, which function serves
each command, and for the commands a kind cannot answer, a refusal that says
what to use instead.  The result methods (``result.predict``,
``result.estat_icc``...) and the module-level :func:`predict` and
:func:`random_effects` all look the implementation up here, so a new kind of
result is one row of this table, and no caller asks ``hasattr`` what a result
is.

This module imports the implementations and none of them imports it, which is
why the table lives here and not on the result base: the results stage comes
before postestimation, and its methods import this module inside the function
(the one upward import the package allows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd

from ..errors import BayesmixedError, SpecificationError
from ..results.base import ResultKind, kind_of
from ..spec.options import DEFAULT_LEVEL
from .bayes_margins import lincom as bayes_lincom
from .bayes_margins import margins as bayes_margins
from .bayes_predict import bayes_predict, bayes_random_effects
from .contrast import contrast, pwcompare
from .estat import estat_ic, estat_icc, estat_icc_bayes, estat_recovariance, estat_wcorrelation
from .margins import margins
from .predict import ml_predict, ml_random_effects
from .wald import lincom, test, testparm

WALD_AFTER_BAYES = (
    "{} is a Wald test for ML/REML and me* fits: for a Bayesian fit use the posterior "
    "summaries (result.summary(), credible intervals) or the draws in result.posterior"
)
MARGINS_AFTER_BAYES = (
    "{} uses delta-method standard errors of an ML/REML or me* fit: for a Bayesian fit "
    "use margins (the posterior of each margin) or lincom (of a combination), or "
    "summarize the posterior of the predictions (result.predict(data=..., interval=0.95))"
)
IC_AFTER_BAYES = (
    "estat ic needs a maximized likelihood: for a Bayesian fit use result.loo() or "
    "bayesmixed.compare(...) (PSIS-LOO)"
)
WCORR_AFTER_BAYES = (
    "estat wcorrelation is available after ML/REML fits only: fit the model with "
    "bayesmixed.mixed(...) (no bayes: prefix), or use result.re_cov for the posterior "
    "means of the covariance matrices"
)


@dataclass(frozen=True)
class Postestimation:
    """The functions serving one kind of result; each takes the result first.

    ``predict`` and ``random_effects`` are the kind's predictions and
    per-group effects (BLUPs with conditional SDs, or posterior means and SDs);
    ``estat_*`` Stata's ``estat`` subcommands; ``test``, ``testparm`` and
    ``lincom`` the Wald commands; ``margins``, ``contrast`` and ``pwcompare``
    Stata's commands of the same names.
    """

    predict: Callable[..., object]
    random_effects: Callable[..., dict[str, pd.DataFrame]]
    estat_icc: Callable[..., pd.DataFrame]
    estat_recovariance: Callable[..., dict[str, pd.DataFrame]]
    estat_wcorrelation: Callable[..., pd.DataFrame]
    estat_ic: Callable[..., pd.DataFrame]
    test: Callable[..., object]
    testparm: Callable[..., object]
    lincom: Callable[..., object]
    margins: Callable[..., object]
    contrast: Callable[..., object]
    pwcompare: Callable[..., object]


def refusal(message: str) -> Callable[..., object]:
    """A stand-in for a command a kind cannot answer: it raises ``message``."""

    def refuse(result: object, *args: object, **kwargs: object) -> object:
        raise BayesmixedError(message)

    return refuse


def _estat_icc_bayes(result, level: float | None = None) -> pd.DataFrame:
    """``estat icc`` after a Bayesian fit: the credible level is 95 unless asked."""
    return estat_icc_bayes(result, DEFAULT_LEVEL if level is None else level)


_LIKELIHOOD = Postestimation(
    predict=ml_predict,
    random_effects=ml_random_effects,
    estat_icc=estat_icc,
    estat_recovariance=estat_recovariance,
    estat_wcorrelation=estat_wcorrelation,
    estat_ic=estat_ic,
    test=test,
    testparm=testparm,
    lincom=lincom,
    margins=margins,
    contrast=contrast,
    pwcompare=pwcompare,
)

#: result kind -> the implementations that serve it
TABLE: dict[ResultKind, Postestimation] = {
    ResultKind.MIXED: _LIKELIHOOD,
    # estat_wcorrelation refuses a GLMM itself, with the same words for every caller
    ResultKind.GLMM: _LIKELIHOOD,
    ResultKind.BAYES: replace(
        _LIKELIHOOD,
        predict=bayes_predict,
        random_effects=bayes_random_effects,
        estat_icc=_estat_icc_bayes,
        estat_wcorrelation=refusal(WCORR_AFTER_BAYES),
        estat_ic=refusal(IC_AFTER_BAYES),
        test=refusal(WALD_AFTER_BAYES.format("test")),
        testparm=refusal(WALD_AFTER_BAYES.format("testparm")),
        lincom=bayes_lincom,  # the posterior of the combination, not a Wald test
        margins=bayes_margins,  # the posterior of each margin, not the delta method
        contrast=refusal(MARGINS_AFTER_BAYES.format("contrast")),
        pwcompare=refusal(MARGINS_AFTER_BAYES.format("pwcompare")),
    ),
}


def served(result: object, command: str) -> Callable[..., object]:
    """The function that serves ``command`` (a :class:`Postestimation` field) for ``result``."""
    kind = kind_of(result)
    if kind is None:
        raise SpecificationError(
            f"{command} needs a fitted bayesmixed model, not a {type(result).__name__}"
        )
    return getattr(TABLE[kind], command)


def predict(
    result: object,
    kind: str | None = None,
    data: pd.DataFrame | None = None,
    relevel: str | None = None,
    **options: object,
):
    """Stata's ``predict`` after any fit: the one entry point, dispatching by result kind.

    Likelihood fits: :func:`~bayesmixed.postestimation.predict.ml_predict` (BLUPs or
    conditional modes; ``marginal=True`` integrates a GLMM's effects out).  Bayesian
    fits: :func:`~bayesmixed.postestimation.bayes_predict.bayes_predict` (posterior
    means, SDs for ``stdp``/``reses``; ``interval=0.95`` adds credible intervals,
    ``seed`` seeds the effects drawn for groups not in the sample).

    Parameters
    ----------
    result : a fitted model.
    kind : ``xb``, ``fitted``, ``residuals``, ``rstandard``, ``reffects``, ``reses``,
        ``stdp``, or for GLMMs ``mu``, ``pr``, ``eta``; default ``xb`` (``mu`` for
        GLMMs), as Stata.
    data : new rows; ``None`` predicts for the estimation sample.
    relevel : include random effects from the top level down to this one only.
    options : ``marginal``, ``interval``, ``seed`` (see above).
    """
    return served(result, "predict")(result, kind, data, relevel, **options)


def random_effects(result: object) -> dict[str, pd.DataFrame]:
    """Per-group random effects with their conditional (posterior) SDs, by result kind."""
    return served(result, "random_effects")(result)
