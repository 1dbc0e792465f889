"""``predict`` after a Bayesian fit: every kind as a posterior summary over draws.

Each kind is first computed once per posterior draw -- X beta_s, X beta_s + Z b_s,
y - fitted_s, (y - fitted_s) / sigma_s, g^-1(eta_s), the effects b_s -- and then
summarized: the posterior mean (``stdp`` and ``reses``: the posterior SD), and with
``interval=0.95`` the equal-tailed credible interval.  Summarizing last, rather than
plugging posterior means into the frequentist formulas, is what makes the intervals
honest: they carry the uncertainty of beta, of the covariance parameters and of the
effects together.

New data: rows in groups seen in training use those groups' draws; rows in groups the
model never saw get a fresh effect per draw, b_new,s ~ N(0, Sigma_s) -- the posterior
predictive of a new group, so their intervals widen by the between-group spread
(the frequentist ``predict`` uses the population value, zero, instead).  The returned
object's ``attrs["new_groups"]`` lists those rows per level and ``attrs["new_group_effects"]``
says how they were treated.  The fresh draws use ``seed`` so repeated calls agree.

Rows are processed in chunks so an (S x n) array of draws never has to exist at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..design.random import ALL, group_codes
from ..errors import NotSupportedError, SpecificationError
from ..maths import sqrt_psd
from ..validate import seed_or_generator
from .newdata import predictor_names, warn_unseen
from .predict import (
    GH_POINTS,
    GLMM_KINDS,
    LMM_KINDS,
    RELEVEL_KINDS,
    effect_columns,
    outcome_frame,
)
from .predict_rows import included_levels, new_group_labels, prediction_rows

SD_KINDS = ("stdp", "reses")
CHUNK_VALUES = 4_000_000  # draws x rows held at once
NEW_GROUPS_NOTE = "fresh draws from N(0, Sigma) per posterior draw (posterior predictive)"
FRESH_EFFECTS = (
    "their random effects at that level are drawn afresh from N(0, Sigma) for each posterior "
    "draw (a new group's posterior predictive)"
)


@dataclass
class PosteriorDraws:
    """Flattened posterior draws (S = chains x draws) of what predictions need."""

    beta: np.ndarray  # (S, p)
    b: list[np.ndarray]  # per block (S, groups, k)
    cov: list[np.ndarray]  # per block (S, k, k)
    sigma: np.ndarray | None  # (S,), Gaussian models with iid errors
    ancillary: np.ndarray | None = None  # (S,) alpha / phi, or (S, m) cutpoints: natural draws

    @property
    def n(self) -> int:
        return self.beta.shape[0]


def posterior_draws(result) -> PosteriorDraws:
    """The draws of ``result``'s posterior group, flattened over chains."""
    post = result.posterior

    def flat(name):
        v = post[name].values
        return v.reshape((-1,) + v.shape[2:])

    # one residual SD for every row only with iid errors (a residuals() structure: None)
    iid = "sigma" in post and result.design.residual is None
    sigma = flat("sigma") if iid else None
    family = family_of(result)
    anc = None if family is None else family.ancillary
    ancillary = None if anc is None else flat(anc.bayes_name)
    names = result.block_names
    return PosteriorDraws(
        flat("beta"),
        [flat(f"b[{n}]") for n in names],
        [flat(f"cov[{n}]") for n in names],
        sigma,
        ancillary,
    )


def family_of(result):
    """The response family of a Bayesian fit, or ``None`` for a Gaussian identity-link model."""
    from ..spec.family import get_family

    spec = result.design.spec
    family = get_family(spec.family, spec.link)
    return None if family.closed_form else family.bound(result.design.y)


def bayes_predict(
    result,
    kind: str | None = None,
    data=None,
    relevel: str | None = None,
    *,
    interval: float | None = None,
    marginal: bool = False,
    seed: int | None = 0,
    outcome: float | str | None = None,
):
    """Posterior means (SDs for ``stdp``/``reses``) of Stata's ``predict`` kinds.

    Parameters
    ----------
    result : a :class:`~bayesmixed.results.bayes.BayesResult`.
    kind, data, relevel, marginal : as the frequentist
        :func:`~bayesmixed.postestimation.predict.predict`.
    interval : credible mass of equal-tailed intervals (``0.95`` or ``95``); adds
        ``lower``/``upper`` columns (``lower(<effect>)``/``upper(<effect>)`` for ``reffects``).
    seed : seed of the fresh effects drawn for groups not seen in training.
    outcome : categorical families (``meologit``): the outcome whose probability ``pr``
        gives; without it, one column per outcome.

    Returns
    -------
    Series (one value per row), or a DataFrame for ``reffects``/``reses`` and whenever
    ``interval`` is given.
    """
    family = family_of(result)
    kind = _check(result, kind, family, relevel, marginal, interval, outcome)
    mass = _interval_mass(interval)
    rows = prediction_rows(result, data, family is not None)
    draws = posterior_draws(result)
    rng = np.random.default_rng(seed_or_generator(seed))
    fresh = fresh_effects(result, data, rows, draws, rng)
    levels = included_levels(result, relevel)
    if rows.new_data and kind not in ("xb", "stdp") and not marginal:
        warn_unseen(result.design, rows, levels, FRESH_EFFECTS)
    if kind in ("reffects", "reses"):
        out = _effects(result, rows, draws, fresh, kind, mass)
    elif family is not None and family.outcomes and kind == "pr":
        calc = ScalarDraws(result, rows, draws, fresh, "eta", levels, family, False)
        out = _outcome_means(calc, rows, family, draws, outcome)
    elif kind == "rstandard" and result.design.residual is not None:
        out = _structured_rstandard(result, rows, draws, fresh, levels, data, mass)
    else:
        calc = ScalarDraws(result, rows, draws, fresh, kind, levels, family, marginal)
        out = _summarize_rows(calc, rows, kind, mass)
    if rows.new_data:
        out.attrs["new_groups"] = new_group_labels(result, rows)
        out.attrs["new_group_effects"] = NEW_GROUPS_NOTE
    if mass is not None:
        out.attrs["interval"] = mass
    return out


# -- checks ---------------------------------------------------------------------------------------
def _check(result, kind, family, relevel, marginal, interval, outcome=None) -> str:
    allowed = GLMM_KINDS if family is not None else LMM_KINDS
    categorical = family is not None and family.outcomes
    kind = kind or (("pr" if categorical else "mu") if family is not None else "xb")
    if outcome is not None and not (categorical and kind == "pr"):
        raise SpecificationError("outcome() is for pr after a categorical model (meologit)")
    if categorical and (kind in ("mu", "residuals") or marginal or interval is not None):
        raise SpecificationError(
            f"after a Bayesian {result.design.spec.command}, predict gives pr (the posterior "
            "mean probability of each outcome, conditional on the random effects) and eta"
        )
    if kind not in allowed:
        raise SpecificationError(
            f"predict: unknown kind '{kind}' after {result.design.spec.command}; "
            f"use one of {', '.join(allowed)}"
        )
    if kind == "pr" and not (family.binary or categorical):
        raise SpecificationError(
            f"predict pr is for binary and binomial outcomes; use mu after a {family.name} model"
        )
    if relevel is not None and kind not in RELEVEL_KINDS:
        raise SpecificationError(f"relevel() is for {', '.join(RELEVEL_KINDS)}, not {kind}")
    if marginal and (family is None or kind not in ("mu", "pr", "residuals")):
        raise SpecificationError(
            f"marginal is for mu, pr and residuals after a GLMM, not {kind}"
            + ("" if family is not None else " (a linear model's marginal mean is xb)")
        )
    if marginal and relevel is not None:
        raise SpecificationError("marginal and relevel() cannot be combined")
    if interval is not None and kind in SD_KINDS:
        raise SpecificationError(
            f"interval= is for posterior means; {kind} is a posterior SD (use "
            f"{'reffects' if kind == 'reses' else 'xb'} with interval= for its interval)"
        )
    return kind


def _outcome_means(calc, rows, family, d: PosteriorDraws, outcome) -> pd.DataFrame:
    """Posterior mean of Pr(y = k) for every outcome k, row by row (chunks bound memory)."""
    natural = np.asarray(d.ancillary, float).reshape(d.n, -1)
    anc = [w[:, None] for w in family.anc_working(list(natural.T))]
    n_valid = int(rows.valid.sum())
    probs = np.empty((n_valid, len(family.levels)))
    for sl in chunks(n_valid, d.n, len(family.levels)):
        probs[sl] = family.probabilities(calc(sl), anc).mean(axis=0)
    return outcome_frame(probs, rows, family.levels, outcome)


def _interval_mass(interval) -> float | None:
    if interval is None:
        return None
    try:
        value = float(interval)
    except (TypeError, ValueError):
        raise SpecificationError(
            f"interval must be a number such as 0.95, got {interval!r}"
        ) from None
    if 10 <= value < 100:  # a percentage, as Stata's level(95)
        value /= 100
    if not 0 < value < 1:
        raise SpecificationError(
            f"interval must lie in (0, 1), or be a percentage from 10 to 99.99, got {interval}"
        )
    return value


# -- new groups -----------------------------------------------------------------------------------
def fresh_effects(result, data, rows, draws: PosteriorDraws, rng) -> list[np.ndarray | None]:
    """Per block: (S, rows, k) fresh effects for rows in unseen groups (None if there are none).

    Rows of the same unseen group share one draw of its effect per posterior draw.
    """
    out: list[np.ndarray | None] = []
    frame = None
    for block, codes, cov in zip(result.design.blocks, rows.codes, draws.cov):
        new = codes < 0
        if not new.any():
            out.append(None)
            continue
        if frame is None:
            frame = data.loc[rows.valid, predictor_names(result.design.spec)]
        ids = _group_ids(block, frame)[new]
        uniq, inverse = np.unique(ids, return_inverse=True)
        z = rng.standard_normal((draws.n, len(uniq), block.k))
        effects = np.einsum("skl,sgl->sgk", sqrt_psd(cov), z)
        full = np.zeros((draws.n, len(codes), block.k))
        full[:, new] = effects[:, inverse]
        out.append(full)
    return out


def _group_ids(block, frame: pd.DataFrame) -> np.ndarray:
    eq = block.equation
    path = tuple(v for v in eq.path if v != ALL) + ((eq.factor,) if eq.factor else ())
    return group_codes(frame, path)[0] if path else np.zeros(len(frame), dtype=np.intp)


# -- per-draw values ------------------------------------------------------------------------------
@dataclass
class ScalarDraws:
    """Computes one scalar kind for a slice of rows, one value per draw: (S, rows)."""

    result: object
    rows: object
    draws: PosteriorDraws
    fresh: list
    kind: str
    levels: set
    family: object
    marginal: bool

    def __call__(self, sl: slice) -> np.ndarray:
        rows, d = self.rows, self.draws
        xb = d.beta @ rows.X[sl].T
        if self.kind in ("xb", "stdp"):
            return xb
        re = random_part(self.result, rows, d, self.fresh, self.levels, sl)
        if self.family is None:
            fitted = xb + re
            if self.kind == "fitted":
                return fitted
            resid = _need_y(rows, self.kind)[sl] - fitted
            return resid if self.kind == "residuals" else resid / d.sigma[:, None]
        return self._glmm(xb + rows.offset[sl], re, sl)

    def _glmm(self, eta0, re, sl) -> np.ndarray:
        if self.kind == "eta":
            return eta0 + re
        if self.marginal:
            p = _marginal_mean(self.family, self.rows, self.draws, eta0, sl)
        else:
            p = self.family.link.inverse(eta0 + re)
        trials = self.rows.trials
        n = 1.0
        if self.family.uses_trials and trials is not None:
            n = trials[sl] if np.ndim(trials) else trials
        if self.kind == "pr":
            return p
        mu = n * p
        return mu if self.kind == "mu" else _need_y(self.rows, self.kind)[sl] - mu


def random_part(result, rows, d: PosteriorDraws, fresh, levels, sl: slice) -> np.ndarray:
    """Sum over the included blocks of z'b per draw: (S, rows in ``sl``)."""
    total = np.zeros((d.n, len(rows.X[sl])))
    for j, block in enumerate(result.design.blocks):
        if block.level not in levels:
            continue
        codes, z = rows.codes[j][sl], rows.Z[j][sl]
        seen = codes >= 0
        total[:, seen] += np.einsum("snk,nk->sn", d.b[j][:, codes[seen]], z[seen])
        if fresh[j] is not None and (~seen).any():
            total[:, ~seen] += np.einsum("snk,nk->sn", fresh[j][:, sl][:, ~seen], z[~seen])
    return total


def _marginal_mean(family, rows, d: PosteriorDraws, eta0, sl) -> np.ndarray:
    """Per draw, E[g^-1(eta0 + z'b)] over b ~ N(0, Sigma_s) by Gauss-Hermite quadrature."""
    var = np.zeros_like(eta0)
    for z, cov in zip(rows.Z, d.cov):
        var += np.einsum("nk,skl,nl->sn", z[sl], cov, z[sl])
    nodes, weights = np.polynomial.hermite_e.hermegauss(GH_POINTS)
    weights = weights / weights.sum()
    eta = eta0[..., None] + np.sqrt(var)[..., None] * nodes
    return family.link.inverse(eta) @ weights


def _need_y(rows, kind: str) -> np.ndarray:
    if rows.y is None:
        from ..errors import DataError

        raise DataError(f"predict {kind} needs the response in the new data")
    return rows.y


# -- summaries ------------------------------------------------------------------------------------
def chunks(n_rows: int, n_draws: int, width: int = 1):
    size = max(1, CHUNK_VALUES // max(1, n_draws * width))
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))


def _summaries(values: np.ndarray, sd: bool, mass: float | None) -> list[np.ndarray]:
    """Mean (or SD) over draws (axis 0), then the interval bounds when asked."""
    centre = values.std(axis=0, ddof=1) if sd else values.mean(axis=0)
    if mass is None:
        return [centre]
    lo, hi = np.quantile(values, [(1 - mass) / 2, (1 + mass) / 2], axis=0)
    return [centre, lo, hi]


def _structured_rstandard(result, rows, draws, fresh, levels, data, mass):
    """rstandard after residuals(): each draw's residuals whitened by its own V (whole panels)."""
    from .bayes_residuals import standardize

    if data is not None:
        raise NotSupportedError(
            "rstandard after a residuals() structure needs the estimation sample (whole panels)"
        )
    calc = ScalarDraws(result, rows, draws, fresh, "residuals", levels, None, False)
    n_valid = int(rows.valid.sum())
    resid = np.concatenate([calc(sl) for sl in chunks(n_valid, draws.n)], axis=1)
    z = standardize(result, np.arange(draws.n), resid)
    columns = ["rstandard"] if mass is None else ["rstandard", "lower", "upper"]
    full = np.full((len(rows.index), len(columns)), np.nan)
    full[rows.valid] = np.column_stack(_summaries(z, False, mass))
    if mass is None:
        return pd.Series(full[:, 0], index=rows.index, name="rstandard")
    return pd.DataFrame(full, index=rows.index, columns=columns)


def _summarize_rows(calc: ScalarDraws, rows, kind: str, mass: float | None):
    n_valid = int(rows.valid.sum())
    parts = [np.empty(n_valid) for _ in range(1 if mass is None else 3)]
    for sl in chunks(n_valid, calc.draws.n):
        for part, got in zip(parts, _summaries(calc(sl), kind in SD_KINDS, mass)):
            part[sl] = got
    columns = [kind] if mass is None else [kind, "lower", "upper"]
    full = np.full((len(rows.index), len(columns)), np.nan)
    full[rows.valid] = np.column_stack(parts)
    if mass is None:
        return pd.Series(full[:, 0], index=rows.index, name=kind)
    return pd.DataFrame(full, index=rows.index, columns=columns)


def _effects(result, rows, d: PosteriorDraws, fresh, kind: str, mass):
    """Per-row effect summaries: one column per effect (plus interval columns)."""
    names = effect_columns(result)
    n_valid = int(rows.valid.sum())
    blocks = []
    for j, block in enumerate(result.design.blocks):
        codes = rows.codes[j]
        stats = [np.zeros((n_valid, block.k)) for _ in range(1 if mass is None else 3)]
        for sl in chunks(n_valid, d.n, block.k):
            c = codes[sl]
            values = np.zeros((d.n, len(c), block.k))
            values[:, c >= 0] = d.b[j][:, c[c >= 0]]
            if fresh[j] is not None:
                values[:, c < 0] = fresh[j][:, sl][:, c < 0]
            for st, got in zip(stats, _summaries(values, kind == "reses", mass)):
                st[sl] = got
        blocks.append(stats)
    columns = list(names)
    arrays = [np.column_stack([b[0] for b in blocks])]
    if mass is not None:
        columns += [f"lower({n})" for n in names] + [f"upper({n})" for n in names]
        arrays += [np.column_stack([b[i] for b in blocks]) for i in (1, 2)]
    full = np.full((len(rows.index), len(columns)), np.nan)
    full[rows.valid] = np.column_stack(arrays)
    frame = pd.DataFrame(full, index=rows.index, columns=columns)
    if mass is not None:
        order = [c for n in names for c in (n, f"lower({n})", f"upper({n})")]
        frame = frame[order]
    return frame


# -- per-group effects and replicated data --------------------------------------------------------
def bayes_random_effects(result) -> dict[str, pd.DataFrame]:
    """Per block: posterior means and SDs of each group's effects, like the frequentist frames."""
    d = posterior_draws(result)
    out: dict[str, pd.DataFrame] = {}
    for name, block, b in zip(result.block_names, result.design.blocks, d.b):
        effects = list(block.effect_names)
        out[name] = pd.DataFrame(
            np.column_stack([b.mean(axis=0), b.std(axis=0, ddof=1)]),
            index=block.groups,
            columns=effects + [f"sd({e})" for e in effects],
        )
    return out
