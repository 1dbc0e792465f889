"""Posterior predictive replicates: y_rep ~ p(y | beta_s, b_s, sigma_s), one per kept draw.

Split from :mod:`.bayes_predict` (posterior means of ``predict`` kinds), whose
per-draw linear predictors it reuses; the response itself is drawn by the family
object (:meth:`~bayesmixed.spec.families.base.Family.simulate`), so a new family
needs nothing here.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import NotSupportedError, SpecificationError
from ..validate import seed_or_generator
from .bayes_predict import (
    PosteriorDraws,
    ScalarDraws,
    chunks,
    family_of,
    fresh_effects,
    posterior_draws,
)
from .predict_rows import prediction_rows


def replicate(result, draws: int | None = None, seed: int | None = None, data=None):
    """Replicated responses y_rep ~ p(y | beta_s, b_s, sigma_s): a (chain, draw, obs) DataArray.

    ``draws`` is per chain (evenly spaced through each chain); ``None`` keeps them all.
    With ``data``, replicates the new rows (unseen groups get fresh effects).
    """

    family = family_of(result)
    post = result.posterior
    chains, total = post.sizes["chain"], post.sizes["draw"]
    keep = _kept_draws(total, draws)
    rng = np.random.default_rng(seed_or_generator(seed))
    rows = prediction_rows(result, data, family is not None)
    d = posterior_draws(result)
    index = (np.arange(chains)[:, None] * total + keep[None, :]).ravel()
    d = PosteriorDraws(
        d.beta[index],
        [b[index] for b in d.b],
        [c[index] for c in d.cov],
        None if d.sigma is None else d.sigma[index],
        None if d.ancillary is None else d.ancillary[index],
    )
    fresh = fresh_effects(result, data, rows, d, rng)
    levels = set(result.design.spec.levels)
    mean_kind = "fitted" if family is None else "eta"  # GLMMs: the family draws from eta
    calc = ScalarDraws(result, rows, d, fresh, mean_kind, levels, family, False)
    n_valid = int(rows.valid.sum())
    y = np.empty((d.n, n_valid))
    structured = family is None and result.design.residual is not None
    if structured and data is not None:
        raise NotSupportedError(
            "posterior predictive draws for new data after a residuals() structure are not "
            "available (new panels have no fitted time pattern); replicate the estimation sample"
        )
    for sl in chunks(n_valid, d.n):
        y[:, sl] = calc(sl) if structured else _draw_response(family, calc(sl), d, rows, sl, rng)
    if structured:
        from .bayes_residuals import residual_noise

        y += residual_noise(result, index, rng)
    obs = np.arange(n_valid) if data is None else np.asarray(rows.index[rows.valid])
    return xr.DataArray(
        y.reshape(chains, len(keep), n_valid),
        dims=("chain", "draw", "obs"),
        coords={"chain": post["chain"].values, "draw": post["draw"].values[keep], "obs": obs},
        name=result.design.spec.response,
    )


def _kept_draws(total: int, draws: int | None) -> np.ndarray:
    if draws is None:
        return np.arange(total)
    if not isinstance(draws, (int, np.integer)) or not 1 <= draws <= total:
        raise SpecificationError(f"draws must be a whole number from 1 to {total} (per chain)")
    return np.unique(np.linspace(0, total - 1, int(draws)).round().astype(int))


def _draw_response(family, center, d: PosteriorDraws, rows, sl, rng) -> np.ndarray:
    """One response per draw: around the fitted value (Gaussian) or from eta (the family)."""
    if family is None:
        return center + d.sigma[:, None] * rng.standard_normal(center.shape)
    trials = None
    if family.uses_trials:
        trials = rows.trials[sl] if np.ndim(rows.trials) else rows.trials
    anc: list = []
    if family.ancillary is not None:
        if d.ancillary is None:
            raise NotSupportedError(f"the posterior of this {family.name} model has no dispersion")
        natural = np.asarray(d.ancillary, float).reshape(d.n, -1)
        anc = [w[:, None] for w in family.anc_working(list(natural.T))]
    return family.simulate(rng, center, trials, anc)
