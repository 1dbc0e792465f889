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

After ``meologit``/``meoprobit`` the prediction is ``pr outcome(k)``: the
probability of one category, ``F(c_k - eta) - F(c_(k-1) - eta)``, averaged over the
random effects by the same one-dimensional Gauss-Hermite rule (or at the random
effects' zero with ``fixedonly``).  It depends on the cutpoints as well as beta,
so its Jacobian has a column per parameter of ``(beta, working)`` -- the
cutpoints' columns by central differences on their working scale -- and the
delta method uses the fit's joint covariance ``vcov_joint``.

Integrated predictions (``mu`` and ``pr outcome()`` averaged over the effects)
also depend on the random-effects covariance, which is part of Stata's ``e(b)``:
as Stata's delta method differentiates in every parameter, their Jacobian has
columns for the covariance parameters too (central differences on each block's
working scale, through ``structure.cov_from_working``), and the covariance is
``vcov_joint``.  A result without ``vcov_joint`` (a posterior point of
``bayes:``, a file saved before it existed) keeps the beta-only Jacobian.
"""

from __future__ import annotations

import re
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

    kind: str  # "xb", "mu", "fixedonly", or "outcome" (pr outcome(k) of an ordinal model)
    label: str  # Stata's "Expression:" line
    outcome: int | None = None  # the category's index, for "outcome"
    fixedonly: bool = False  # "outcome" at the random effects' zero


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
        return _outcome_prediction(result, text)
    if words not in GLMM_LABELS:
        raise MarginsError(
            f"margins: predict({text}) is not allowed after {result.design.spec.command}; use mu "
            "(the default: the random effects integrated out), mu fixedonly, or xb (conditional "
            "predictions use the empirical Bayes means, which are not functions of e(b))"
        )
    kind = {"xb": "xb", "mu fixedonly": "fixedonly"}.get(words, "mu")
    return Prediction(kind, _expression(GLMM_LABELS[words], text))


_OUTCOME = re.compile(r"\boutcome\(\s*([^)]*?)\s*\)")


def _outcome_prediction(result, text: str | None) -> Prediction:
    """``predict(pr outcome(#2))`` (or ``outcome(3)``, a value) after an ordinal model."""
    from .predict import outcome_index

    command = result.design.spec.command
    if text is not None and " ".join(text.split()) == "xb":
        return Prediction("xb", _expression("Linear prediction, fixed portion only", text))
    found = _OUTCOME.search(text or "")
    words = set(_OUTCOME.sub(" ", text or "").split())
    if found is None or not words <= {"pr", "marginal", "fixedonly"} or "pr" not in words:
        raise MarginsError(
            f"margins after {command}: say which outcome's probability, e.g. "
            "predict(pr outcome(#1)) (add fixedonly for the random effects at zero), or xb"
        )
    if getattr(result, "vcov_joint", None) is None or not hasattr(result, "anc_working"):
        raise MarginsError(
            f"margins after {command}: the fit lacks the joint covariance of the coefficients "
            "and cutpoints (a result saved by an older version, or a Bayesian fit)"
        )
    word = found.group(1)
    levels = result.family.levels
    try:
        index = outcome_index(levels, word if word.startswith("#") else float(word))
    except ValueError:
        raise MarginsError(f"outcome({word}) is not an outcome") from None
    what = f"Pr({result.design.spec.response}=={levels[index]:g})"
    if "fixedonly" in words:
        what += ", fixed portion only"
    return Prediction("outcome", _expression(what, text), index, "fixedonly" in words)


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
    if pred.kind == "outcome":
        return _outcome(result, pred, X, eta, Z)
    link = result.family.link
    scale = 1.0 if trials is None or not result.family.uses_trials else trials
    if pred.kind == "fixedonly":
        return scale * link.inverse(eta), (scale * link.mu_eta(eta))[:, None] * X
    mean, slope = _integrated(link, eta, _sd(result.cov_blocks, Z))
    jac = (scale * slope)[:, None] * X
    if not _joint(result):  # beta only (a Bayesian point, or a result saved without it)
        return scale * mean, jac
    columns = _variance_columns(result, Z, lambda sd: _integrated(link, eta, sd)[0])
    return scale * mean, np.hstack([jac, np.reshape(scale, (-1, 1)) * columns])


def _joint(result) -> bool:
    """Whether the fit has the joint covariance of (beta, working) the full Jacobian needs."""
    return getattr(result, "vcov_joint", None) is not None


def _sd(covs, Z: list[np.ndarray]) -> np.ndarray:
    """SD of each row's random part z'b: the square root of the sum over blocks of z'Sigma z."""
    var = np.zeros(len(Z[0]) if Z else 0)
    for z, cov in zip(Z, covs, strict=True):
        var = var + np.einsum("nk,kl,nl->n", z, np.asarray(cov, float), z)
    return np.sqrt(np.clip(var, 0.0, None))


def _integrated(link, eta: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[g^-1(eta + sd u)] and E[g^-1'(eta + sd u)] for u ~ N(0, 1), by Gauss-Hermite."""
    nodes, weights = _rule()
    grid = eta[:, None] + sd[:, None] * nodes[None, :]
    return link.inverse(grid) @ weights, link.mu_eta(grid) @ weights


def _rule() -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(GH_POINTS)
    return nodes, weights / weights.sum()


def _variance_columns(result, Z: list[np.ndarray], fn) -> np.ndarray:
    """d prediction / d working: central differences in each covariance parameter.

    ``fn`` maps each row's random-part SD to the prediction; the covariance
    parameters are the first entries of ``working`` (each block's
    ``structure.n_theta`` of them, on its working scale); the ancillary
    parameters after them get zero columns here.  A parameter on the boundary
    (not finite) keeps a zero column, as its variance in ``vcov_joint`` is zero.
    """
    working = np.asarray(result.working, float)
    out = np.zeros((len(Z[0]) if Z else 0, len(working)))
    start = 0
    for b, block in enumerate(result.design.blocks):
        piece = slice(start, start + block.structure.n_theta)
        start = piece.stop
        for j in range(piece.start, piece.stop):
            if not np.isfinite(working[j]):
                continue
            h = 1e-5 * max(1.0, abs(working[j]))
            values = []
            for step in (h, -h):
                w = working[piece].copy()
                w[j - piece.start] += step
                covs = list(result.cov_blocks)
                covs[b] = block.structure.cov_from_working(w)
                values.append(fn(_sd(covs, Z)))
            out[:, j] = (values[0] - values[1]) / (2 * h)
    return out


def _outcome(result, pred: Prediction, X, eta, Z) -> tuple[np.ndarray, np.ndarray]:
    """Pr(y = k) per row and its Jacobian in (beta, working) (see the module notes)."""
    family, anc = result.family, np.asarray(result.anc_working, float)
    sd = np.zeros(len(eta)) if pred.fixedonly else _sd(result.cov_blocks, Z)
    nodes, weights = _rule()

    def prob(a: np.ndarray, shift: float = 0.0, scale=sd) -> np.ndarray:
        grid = (eta + shift)[:, None] + scale[:, None] * nodes[None, :]
        return family.probabilities(grid, a)[..., pred.outcome] @ weights

    h = 1e-5
    jac = np.zeros((len(eta), X.shape[1] + len(result.working)))
    jac[:, : X.shape[1]] = ((prob(anc, h) - prob(anc, -h)) / (2 * h))[:, None] * X
    if not pred.fixedonly:
        jac[:, X.shape[1] :] = _variance_columns(result, Z, lambda s: prob(anc, scale=s))
    first = jac.shape[1] - len(anc)  # the ancillary parameters end ``working``
    for j in range(len(anc)):
        step = h * max(1.0, abs(anc[j]))
        up, down = anc.copy(), anc.copy()
        up[j] += step
        down[j] -= step
        jac[:, first + j] = (prob(up) - prob(down)) / (2 * step)
    return prob(anc), jac
