"""``margins`` and ``lincom`` after ``bayes:``: the posterior of each margin or combination.

A frequentist margin is a function of beta evaluated at the estimate, with a
delta-method standard error.  After ``bayes:`` the same function is evaluated at
every posterior draw, and the draws are summarised in Stata's ``bayes`` layout
(:func:`~bayesmixed.postestimation.bayesstats.summarize`: posterior mean, SD, MCSE,
median, equal-tailed or HPD interval) -- no delta method, no normal approximation.

``margins`` reuses the frequentist implementation (:mod:`.margins`) for everything
but the numbers: the request is parsed, and the table's rows, their ``at()``
settings and their design rows are built, by the same code.  It runs on a
:class:`PointFit`, one posterior point dressed as a likelihood fit:

* a linear prediction (``xb``, every ``margins`` after ``bayes: mixed`` and
  ``predict(xb)`` after ``bayes: me*``), and its ``dydx`` (a central difference of a
  linear function), is ``J beta`` with ``J`` the Jacobian :mod:`.margins` returns, a
  matrix that does not depend on beta -- so the margins of all draws are ``J`` times
  the beta draws, exactly;
* a nonlinear one (``mu`` after ``bayes: melogit``...) is computed afresh at each draw
  (beta and the covariance matrices of that draw), costing one ``margins`` per draw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..results.base import ResultKind
from ..spec.family import get_family
from ..spec.options import DEFAULT_LEVEL
from .bayesstats import Item, PosteriorSummary, summarize
from .margins import margins as ml_margins
from .margins_predict import choose_prediction
from .margins_spec import parse_margins
from .wald import EFORM_LABELS, WaldError, constraint_text, parse_linear

_HPD = re.compile(r"(?<![A-Za-z_])hpd(?![A-Za-z_(])")


@dataclass
class PointFit:
    """One posterior point (beta, covariance matrices) as :mod:`.margins` reads a fit.

    ``vcov_beta`` is the posterior covariance of beta: :mod:`.margins` needs one to
    lay out its table, and its standard errors are discarded here.
    """

    design: object
    beta: np.ndarray
    vcov_beta: np.ndarray
    cov_blocks: list[np.ndarray]
    family: object
    kind: ResultKind
    nobs: int
    vce: str = "oim"


def _point(result, beta: np.ndarray, covs: list[np.ndarray]) -> PointFit:
    spec = result.design.spec
    family = get_family(spec.family, spec.link)
    kind = ResultKind.MIXED if family.closed_form else ResultKind.GLMM
    draws = _beta_draws(result).reshape(-1, result.design.p)
    vcov = np.atleast_2d(np.cov(draws, rowvar=False))
    return PointFit(result.design, beta, vcov, covs, family, kind, result.nobs)


def _beta_draws(result) -> np.ndarray:
    return np.asarray(result.posterior["beta"].values, float)  # (chain, draw, p)


def _cov_draws(result) -> list[np.ndarray]:
    return [np.asarray(result.posterior[f"cov[{n}]"].values, float) for n in result.block_names]


@dataclass
class BayesMargins(PosteriorSummary):
    """``margins`` after ``bayes:``: the summary, and the (margins, chain, draw) draws."""

    draws: np.ndarray | None = None


def margins(result, data: pd.DataFrame | None, spec: str = "") -> BayesMargins:
    """Stata's ``margins`` after ``bayes:`` (``hpd`` among the options for HPD intervals).

    ``spec`` and ``data`` are as for the frequentist
    :func:`~bayesmixed.postestimation.margins.margins`.
    """
    spec, hpd = _take_hpd(spec)
    req = parse_margins(spec)
    beta, covs = _beta_draws(result), _cov_draws(result)
    centre = _point(result, beta.mean(axis=(0, 1)), [c.mean(axis=(0, 1)) for c in covs])
    first = ml_margins(centre, data, req)
    if choose_prediction(centre, req.predict).kind == "xb":
        draws = np.einsum("kp,cdp->kcd", first.jacobian, beta)
    else:
        draws = _per_draw(result, centre, data, req, beta, covs)
    chosen = [
        Item(*_row_label(row.section, row.label), row.label, draws[i])
        for i, row in enumerate(first.rows)
    ]
    notes = [f"Expression: {first.expression.split(', predict(')[0]}"] + first.at_legend
    out = summarize(chosen, req.level, hpd, title=first.title, notes=notes)
    return BayesMargins(**vars(out), draws=draws)


def _per_draw(result, centre: PointFit, data, req, beta, covs) -> np.ndarray:
    """(margins, chain, draw): a nonlinear prediction evaluated at every draw."""
    chains, draws = beta.shape[:2]
    out = None
    for c in range(chains):
        for d in range(draws):
            point = PointFit(
                centre.design, beta[c, d], centre.vcov_beta, [v[c, d] for v in covs],
                centre.family, centre.kind, centre.nobs,
            )  # fmt: skip
            values = ml_margins(point, data, req).margin
            if out is None:
                out = np.empty((len(values), chains, draws))
            out[:, c, d] = values
    return out


def _row_label(section: str, label: str) -> tuple[str, str]:
    """(equation, parameter) of a margin: ``("social", "2")``, or ``("", "_cons")``."""
    return ("", section) if not label else (section, label)


def _take_hpd(spec: str) -> tuple[str, bool]:
    """Remove Stata's ``hpd`` option from the options (after the comma)."""
    body, comma, options = spec.partition(",")
    if not comma or not _HPD.search(options):
        return spec, False
    rest = _HPD.sub(" ", options).strip()
    return (f"{body}, {rest}" if rest else body), True


def lincom(
    result,
    expr: str,
    level: float | None = None,
    eform: str | None = None,
    hpd: bool = False,
) -> PosteriorSummary:
    """Stata's ``lincom`` after ``bayes:``: the posterior of ``c'beta`` (plus a constant).

    The combination is computed at every draw of beta; ``eform`` exponentiates each
    draw (the posterior of ``exp(c'beta)``, whose mean is not ``exp`` of the mean).
    """
    if "=" in expr:
        raise WaldError(f"lincom '{expr}': give an expression, not an equation (use test)")
    if eform is not None and eform not in EFORM_LABELS:
        raise WaldError(f"lincom: eform must be one of {', '.join(EFORM_LABELS)}, not '{eform}'")
    names = list(result.design.fixed_names)
    response = str(result.design.spec.response)
    c, const = parse_linear(expr, names, response)
    draws = _beta_draws(result) @ c + const
    label = "(1)"
    if eform:
        draws, label = np.exp(draws), EFORM_LABELS[eform]
    text = constraint_text(c, -const, names, response)
    notes = [f" ( 1)  {text}"]
    item = Item(response, label, text, draws)
    level = DEFAULT_LEVEL if level is None else level
    return summarize([item], level, hpd, title="Linear combination of parameters", notes=notes)
