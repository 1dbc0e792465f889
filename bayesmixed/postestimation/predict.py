"""Stata's ``predict`` after ``mixed`` and ``me*``: one function, every kind.

This is the likelihood fits' implementation; users reach it, and its Bayesian
twin :mod:`.bayes_predict`, through one entry point,
:func:`bayesmixed.postestimation.dispatch.predict` (``result.predict(...)``,
``bayesmixed.predict(result, ...)``), which picks by the result's kind.

Kinds (``predict newvar, kind``):

* ``xb`` -- the fixed portion X beta; ``stdp`` its standard error;
* ``fitted`` -- X beta + Z b with the BLUPs b, from the top level down to
  ``relevel`` (Stata's ``fitted relevel(region)``; all levels by default);
* ``residuals`` -- y - fitted; ``rstandard`` -- residuals / sigma_e (iid errors), or
  whitened by each panel's error covariance after ``residuals()`` (nlme's normalized
  residuals);
* ``reffects`` -- each observation's BLUPs, one column per effect named as
  Stata names them (``school: _cons``, ``school: math3``); ``reses`` -- their
  conditional standard deviations (lme4's ``sqrt(postVar)``);
* GLMMs: ``mu`` (``pr`` for binary outcomes: the probability), ``eta`` (the
  linear predictor with the random effects), conditional on the modes by
  default or ``marginal=True``: the random effects integrated out of
  g^-1(eta) by Gauss-Hermite quadrature on each row's total random-effect
  variance.  Categorical families (``meologit``): ``pr`` gives one column per
  outcome (Stata's ``predict p*, pr``), or one outcome with ``outcome=`` (a
  value, or ``"#k"`` for the k-th category, as Stata's ``outcome()``).

New data: rows in groups seen in training use those groups' effects, rows in
new groups use the population value (zero), with a :class:`NewGroupWarning`
naming how many rows and which groups; the returned object's
``attrs["new_groups"]`` maps each level to the row labels in new groups.
Groups are matched by label, so school ``"1"`` (text) is school ``1``.  A
factor level the model never saw raises a :class:`VariableError`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, NotSupportedError, SpecificationError
from ..results.base import ResultKind
from .blup import blups, fitted_psi
from .newdata import warn_unseen
from .predict_rows import PredictRows, included_levels, new_group_labels, prediction_rows

LMM_KINDS = ("xb", "stdp", "fitted", "residuals", "rstandard", "reffects", "reses")
GLMM_KINDS = ("mu", "pr", "eta", "xb", "stdp", "residuals", "reffects", "reses")
RELEVEL_KINDS = ("fitted", "residuals", "rstandard", "mu", "pr", "eta")
GH_POINTS = 40


def ml_predict(
    result,
    kind: str | None = None,
    data=None,
    relevel: str | None = None,
    *,
    marginal: bool = False,
    interval: float | None = None,
    seed: int | None = 0,
    outcome: float | str | None = None,
):
    """Stata's ``predict`` for a fitted mixed model (see the module notes).

    Parameters
    ----------
    result : a :class:`MixedResult` or :class:`GLMMResult` (Bayesian fits are served
        by :func:`~bayesmixed.postestimation.bayes_predict.bayes_predict`).
    kind : one of :data:`LMM_KINDS` / :data:`GLMM_KINDS`; default ``xb``
        (``mu`` for GLMMs), as Stata.
    data : new rows (a DataFrame); ``None`` predicts for the estimation sample.
    relevel : a grouping level: include random effects from the top level down
        to this one only.
    marginal : GLMMs: integrate the random effects out instead of plugging in modes.
    interval, seed : Bayesian fits only (credible intervals, and the seed of the
        effects drawn for unseen groups): ``interval`` is refused here, ``seed`` unused.
    outcome : categorical families: the outcome whose probability ``pr`` gives.

    Returns
    -------
    pandas.Series (one value per row, indexed like the rows) or, for
    ``reffects``/``reses``, a DataFrame with one column per effect.
    """
    if interval is not None:
        raise NotSupportedError(
            "interval= gives credible intervals after a Bayesian fit; after an ML/REML fit "
            "use stdp (xb) or reses (reffects) for standard errors"
        )
    glmm = result.kind is ResultKind.GLMM
    kind = _check_kind(result, kind, glmm, relevel, marginal, outcome)
    rows = prediction_rows(result, data, glmm)
    levels = included_levels(result, relevel)
    if kind in ("reffects", "reses"):
        out = _effects_frame(result, rows, kind)
    elif glmm and result.family.outcomes and kind == "pr":
        out = _outcome_frame(result, rows, levels, marginal, outcome)
    else:
        values = _scalar(result, rows, kind, levels, marginal, glmm)
        full = np.full(len(rows.index), np.nan)
        full[rows.valid] = values
        out = pd.Series(full, index=rows.index, name=kind)
    if rows.new_data:
        out.attrs["new_groups"] = new_group_labels(result, rows)
        if kind not in ("xb", "stdp") and not marginal:  # these use no group's effect
            warn_unseen(result.design, rows, levels)
    return out


# -- checks -------------------------------------------------------------------------------
def _check_kind(result, kind, glmm: bool, relevel, marginal: bool, outcome=None) -> str:
    allowed = GLMM_KINDS if glmm else LMM_KINDS
    categorical = glmm and result.family.outcomes
    if kind is None:
        kind = ("pr" if categorical else "mu") if glmm else "xb"
    if outcome is not None and not (categorical and kind == "pr"):
        raise SpecificationError("outcome() is for pr after a categorical model (meologit)")
    if categorical and kind in ("mu", "residuals"):
        raise SpecificationError(
            f"predict {kind} is not defined after {result.design.spec.command} (the outcome "
            "is categorical): use pr for the probability of each outcome, or eta"
        )
    if kind not in allowed:
        raise SpecificationError(
            f"predict: unknown kind '{kind}' after {result.design.spec.command}; "
            f"use one of {', '.join(allowed)}"
        )
    if kind == "pr" and not (result.family.binary or categorical):
        raise SpecificationError(
            f"predict pr is for binary and binomial outcomes; use mu after a "
            f"{result.family.name} model"
        )
    if relevel is not None and kind not in RELEVEL_KINDS:
        raise SpecificationError(
            f"relevel() is for {', '.join(RELEVEL_KINDS)}, not {kind}: "
            f"{kind} does not depend on which random effects are included"
        )
    if marginal and kind not in ("mu", "pr", "residuals"):
        raise SpecificationError(
            f"marginal is for mu, pr and residuals after a GLMM, not {kind}"
            + ("" if glmm else " (a linear model's marginal mean is xb)")
        )
    if marginal and relevel is not None:
        raise SpecificationError("marginal and relevel() cannot be combined")
    return kind


# -- scalar kinds ---------------------------------------------------------------------------
def _scalar(result, rows: PredictRows, kind: str, levels: set[str], marginal: bool, glmm: bool):
    xb = rows.X @ np.asarray(result.beta, float)
    if kind == "xb":
        return xb
    if kind == "stdp":
        return np.sqrt(np.einsum("ij,jk,ik->i", rows.X, result.vcov_beta, rows.X))
    if glmm:
        return _glmm_scalar(result, rows, kind, xb + rows.offset, levels, marginal)
    fitted = xb + _re_part(result, rows, levels)
    if kind == "fitted":
        return fitted
    resid = _response(rows, kind) - fitted
    if kind == "residuals":
        return resid
    if result.design.residual is not None:
        return _normalized(result, resid)
    return resid / np.sqrt(result.sigma2)


def _normalized(result, resid: np.ndarray) -> np.ndarray:
    """Residuals times the inverse Cholesky factor of each panel's error covariance.

    Stata's rstandard after residuals() ("multiplied by the inverse square root of the
    estimated error covariance matrix") and nlme's normalized residuals: iid N(0, 1) under
    the fitted model, so they can be plotted and checked like rstandard without structure.
    """
    from ..engines.ml.residual import whiten_values

    design = result.design
    if len(resid) != design.n:
        raise NotSupportedError(
            "rstandard after a residuals() structure needs the estimation sample (whole panels)"
        )
    return whiten_values(design, fitted_psi(result), resid) / np.sqrt(result.sigma2)


def _re_part(result, rows: PredictRows, levels: set[str]) -> np.ndarray:
    """Sum of z'b over the included blocks; rows in new groups add zero."""
    est = blups(result)
    total = np.zeros(len(rows.X))
    for block, b, codes, z in zip(result.design.blocks, est.values, rows.codes, rows.Z):
        if block.level not in levels:
            continue
        seen = codes >= 0
        total[seen] += np.einsum("nk,nk->n", z[seen], b[codes[seen]])
    return total


def _response(rows: PredictRows, kind: str) -> np.ndarray:
    if rows.y is None:
        raise DataError(f"predict {kind} needs the response in the new data")
    return rows.y


def _glmm_scalar(result, rows: PredictRows, kind, eta0, levels, marginal: bool) -> np.ndarray:
    family = result.family
    if marginal:
        p = _marginal_mean(result, rows, eta0)
    else:
        eta = eta0 + _re_part(result, rows, levels)
        if kind == "eta":
            return eta
        p = family.link.inverse(eta)
    n = rows.trials if family.uses_trials and rows.trials is not None else 1.0
    mu = p if kind == "pr" else n * p
    if kind in ("mu", "pr"):
        return mu
    return _response(rows, kind) - n * p  # response residuals


def _marginal_mean(result, rows: PredictRows, eta0: np.ndarray) -> np.ndarray:
    """E[g^-1(eta0 + z'b)] over b ~ N(0, Sigma): one Gauss-Hermite integral per row.

    The random part z_i'b of row i is normal with variance
    s_i^2 = sum over blocks of z_i' Sigma_block z_i (blocks independent).
    """
    var = np.zeros(len(eta0))
    for z, cov in zip(rows.Z, result.cov_blocks):
        var += np.einsum("nk,kl,nl->n", z, cov, z)
    nodes, weights = np.polynomial.hermite_e.hermegauss(GH_POINTS)
    weights = weights / weights.sum()
    eta = eta0[:, None] + np.sqrt(var)[:, None] * nodes[None, :]
    return result.family.link.inverse(eta) @ weights


def _outcome_frame(result, rows: PredictRows, levels, marginal: bool, outcome) -> pd.DataFrame:
    """Pr(y = k) for each outcome k (conditional on the modes, or averaged over the effects)."""
    family, anc = result.family, result.anc_working
    eta0 = rows.X @ np.asarray(result.beta, float) + rows.offset
    if marginal:
        var = np.zeros(len(eta0))
        for z, cov in zip(rows.Z, result.cov_blocks):
            var += np.einsum("nk,kl,nl->n", z, cov, z)
        nodes, weights = np.polynomial.hermite_e.hermegauss(GH_POINTS)
        eta = eta0[:, None] + np.sqrt(var)[:, None] * nodes[None, :]
        probs = np.einsum("nqk,q->nk", family.probabilities(eta, anc), weights / weights.sum())
    else:
        probs = family.probabilities(eta0 + _re_part(result, rows, levels), anc)
    return outcome_frame(probs, rows, family.levels, outcome)


def outcome_frame(probs: np.ndarray, rows: PredictRows, levels, outcome) -> pd.DataFrame:
    """One ``pr(k)`` column per outcome (NaN outside the sample), or the one ``outcome()`` asks."""
    names = [f"pr({v:g})" for v in levels]
    full = np.full((len(rows.index), len(names)), np.nan)
    full[rows.valid] = probs
    frame = pd.DataFrame(full, index=rows.index, columns=names)
    if outcome is None:
        return frame
    return frame.iloc[:, outcome_index(levels, outcome)].rename("pr")


def outcome_index(levels: tuple[float, ...], outcome) -> int:
    """Stata's ``outcome()``: a value of the response, or ``#k`` for the k-th category."""
    if isinstance(outcome, str) and outcome.startswith("#"):
        k = int(outcome[1:]) if outcome[1:].isdigit() else 0
        if 1 <= k <= len(levels):
            return k - 1
    elif isinstance(outcome, int | float) and float(outcome) in levels:
        return levels.index(float(outcome))
    values = ", ".join(f"{v:g}" for v in levels)
    raise SpecificationError(f"outcome({outcome}) is not an outcome; the outcomes are {values}")


# -- per-observation effects ---------------------------------------------------------------
def effect_columns(result) -> list[str]:
    """Stata's names of the random effects: ``school: _cons``, ``school: math3``."""
    return [f"{b.level}: {name}" for b in result.design.blocks for name in b.effect_names]


def _effects_frame(result, rows: PredictRows, kind: str) -> pd.DataFrame:
    est = blups(result)
    per_group = est.values if kind == "reffects" else est.cond_sd()
    cols = []
    for block, vals, codes in zip(result.design.blocks, per_group, rows.codes):
        if kind == "reses" and np.any(codes < 0):
            raise SpecificationError(
                f"reses: some rows are in {block.level} groups that are not in the estimation "
                "sample; their effects have no conditional distribution given the data (their "
                f"prior SDs are the square roots of the diagonal of re_cov['{block.key}'])"
            )
        out = np.zeros((len(codes), block.k))
        seen = codes >= 0
        out[seen] = vals[codes[seen]]
        cols.append(out)
    values = np.full((len(rows.index), len(effect_columns(result))), np.nan)
    values[rows.valid] = np.column_stack(cols)
    return pd.DataFrame(values, index=rows.index, columns=effect_columns(result))


def ml_random_effects(result) -> dict[str, pd.DataFrame]:
    """Per-group BLUPs and conditional SDs of every block, keyed like ``re_cov``.

    Each frame is indexed by the block's groups, with one column per effect and
    one ``sd(effect)`` column per effect (lme4's ``ranef(condVar = TRUE)``).
    """
    est = blups(result)
    out: dict[str, pd.DataFrame] = {}
    for block, vals, sds in zip(result.design.blocks, est.values, est.cond_sd()):
        names = list(block.effect_names)
        frame = pd.DataFrame(
            np.column_stack([vals, sds]),
            index=block.groups,
            columns=names + [f"sd({n})" for n in names],
        )
        key = block.key if block.key not in out else f"{block.key}#{len(out)}"
        out[key] = frame
    return out
