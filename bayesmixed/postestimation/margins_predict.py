"""The predictions ``margins`` averages, with their derivatives in beta.

A margin is an average of predictions ``p_i(beta)``; its delta-method
variance needs the Jacobian ``d p_i / d beta`` of every row.  All the
predictions ``margins`` allows are functions of the fixed effects only
(Stata: "statistics not allowed with margins are functions of stochastic
quantities other than e(b)"), so the Jacobian is analytic:

* ``xb`` -- ``x_i' beta`` (plus any offset): the Jacobian is ``x_i``;
* ``mu fixedonly`` -- ``g^-1(x_i' beta)``: ``g^-1'(eta_i) x_i``, with the link's ``mu_eta``;
* ``mu`` after ``me*`` (the default, as Stata's ``margins`` integrates the
  random effects out) -- ``E[g^-1(eta_i + z_i'b)]`` over ``b ~ N(0, Sigma)``.
  ``z_i'b`` is normal with variance ``s_i^2 = sum_blocks z_i' Sigma z_i``, so
  the mean is a one-dimensional Gauss-Hermite integral, and so is its
  derivative ``E[g^-1'(eta_i + s_i u)] x_i``.  40 nodes give 1e-10 accuracy
  for the logit and probit links at the variances of the workshop models
  (checked against ``scipy.integrate.quad`` in the tests).

With binomial trials ``mu`` is ``n_i`` times the probability, as ``predict``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results.base import ResultKind
from .margins_spec import MarginsError

GH_POINTS = 40

MIXED_LABEL = "Linear prediction, fixed portion"
#: predict() statistic (normalised) -> Stata's description on the "Expression:" line
GLMM_LABELS = {
    None: "Marginal predicted mean",
    "mu marginal": "Marginal predicted mean",
    "mu fixedonly": "Predicted mean, fixed portion only",
    "xb": "Linear prediction, fixed portion only",
}


@dataclass(frozen=True)
class Prediction:
    """Which prediction a margin averages: ``xb``, ``mu`` (integrated) or ``fixedonly``."""

    kind: str  # "xb", "mu" or "fixedonly"
    label: str  # Stata's "Expression:" line


def choose_prediction(result, text: str | None) -> Prediction:
    """The prediction of ``predict(text)`` (``None``: the model's default), checked."""
    words = None if text is None else _normalise(text)
    if result.kind is ResultKind.MIXED:
        if words not in (None, "xb"):
            raise MarginsError(
                f"margins after mixed: predict({text}) is not allowed; the prediction is xb, the "
                "fixed portion (fitted values include the BLUPs, which are not functions of e(b))"
            )
        return Prediction("xb", _expression(MIXED_LABEL, text))
    if result.kind is not ResultKind.GLMM:
        raise MarginsError(
            "margins needs a likelihood fit (mixed, me*): for a Bayesian fit summarize the "
            "posterior of the predictions instead (result.predict(..., interval=0.95))"
        )
    if result.family.outcomes:
        raise MarginsError(
            f"margins after {result.design.spec.command} (a categorical outcome) is not "
            "available yet: use predict(..., outcome=) and average the probabilities"
        )
    if words not in GLMM_LABELS:
        raise MarginsError(
            f"margins: predict({text}) is not allowed after {result.design.spec.command}; use mu "
            "(the default: the random effects integrated out), mu fixedonly, or xb (conditional "
            "predictions use the empirical Bayes means, which are not functions of e(b))"
        )
    kind = {"xb": "xb", "mu fixedonly": "fixedonly"}.get(words, "mu")
    return Prediction(kind, _expression(GLMM_LABELS[words], text))


def _expression(description: str, text: str | None) -> str:
    return f"{description}, predict({' '.join((text or '').split())})"


def _normalise(text: str) -> str:
    """``pr`` is ``mu`` for binary outcomes; ``mu marginal`` is ``mu``'s explicit name."""
    words = ["mu" if w == "pr" else w for w in text.split()]
    key = " ".join(w for w in words if w != "marginal") or "mu"
    return "mu marginal" if key == "mu" else key


def evaluate(
    result,
    pred: Prediction,
    X: np.ndarray,
    Z: list[np.ndarray],
    offset: np.ndarray | None = None,
    trials: np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row predictions (n,) and their Jacobian in beta (n, p)."""
    beta = np.asarray(result.beta, float)
    eta = X @ beta
    if offset is not None:
        eta = eta + offset
    if pred.kind == "xb":
        return eta, X
    link = result.family.link
    if pred.kind == "fixedonly":
        mean, slope = link.inverse(eta), link.mu_eta(eta)
    else:
        mean, slope = _integrated(link, eta, _re_sd(result, Z))
    scale = 1.0 if trials is None or not result.family.uses_trials else trials
    return scale * mean, (scale * slope)[:, None] * X


def _re_sd(result, Z: list[np.ndarray]) -> np.ndarray:
    """SD of each row's random part z'b: the square root of the sum over blocks of z'Sigma z."""
    var = np.zeros(len(Z[0]) if Z else 0)
    for z, cov in zip(Z, result.cov_blocks, strict=True):
        var = var + np.einsum("nk,kl,nl->n", z, np.asarray(cov, float), z)
    return np.sqrt(np.clip(var, 0.0, None))


def _integrated(link, eta: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[g^-1(eta + sd u)] and E[g^-1'(eta + sd u)] for u ~ N(0, 1), by Gauss-Hermite."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(GH_POINTS)
    weights = weights / weights.sum()
    grid = eta[:, None] + sd[:, None] * nodes[None, :]
    return link.inverse(grid) @ weights, link.mu_eta(grid) @ weights
