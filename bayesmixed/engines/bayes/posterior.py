"""Turn sampled (or Laplace) draws into the ArviZ DataTree every method returns.

Whatever produced the draws -- NUTS on the marginal model, NUTS on the non-centred model,
or the Laplace approximation -- the result has the same groups and names: ``posterior``
(``beta``, ``sigma``, ``sd[<block>]``, ``corr[<block>]``, ``cov[<block>]``,
``b[<block>]``, ``sigma_e`` per residual cell, ``alpha``/``phi`` for dispersed GLMMs),
``log_likelihood`` (pointwise, conditional on the random effects, for
LOO; one value per panel under a correlated ``residuals()`` structure, whose rows are not
conditionally independent), ``observed_data`` and, for NUTS, ``sample_stats``.  Correlated
structures add ``resid_z`` and ``residual`` (Stata's printed residual rows, per draw).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .ancillary import coords as ancillary_coords
from .build import BuiltModel, coords_of
from .fast_residual import term_weights
from .fast_residual_posterior import cached_terms
from .glmm import pointwise
from .marginal import conditional_draws, pointwise_loglik
from .panel_draws import (
    evaluator,
    panel_conditional,
    panel_labels,
    panel_loglik,
    printed_rows,
)


def _flat(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, float).reshape((-1,) + np.shape(a)[2:])


def complete_draws(built: BuiltModel, raw: dict[str, np.ndarray], rng: np.random.Generator):
    """Fill in beta and b (exact conditional draws) for marginal models; flat arrays (S, ...).

    ``sigma`` is (S,) for iid errors, (S, cells) under heteroskedastic cells, None for GLMMs.
    """
    design = built.design
    sigma = None
    if built.gaussian:
        sigma = _flat(raw["sigma_e"] if built.cells is not None else raw["sigma"])
    covs = [_flat(raw[f"cov[{n}]"]) for n in built.names]
    beta = None if built.integrate_beta else _flat(raw["beta"])
    ar1 = cached_terms(built) if built.panels is not None else None
    if built.panels is not None and ar1 is None:
        z = _flat(raw["resid_z"])
        b, beta = panel_conditional(built, evaluator(built), sigma, z, covs, rng, beta)
    elif ar1 is not None:  # AR(1), unit steps: cross-products weighted per draw, no panels
        weights = term_weights(ar1[1], sigma, np.tanh(_flat(raw["resid_z"])[:, :, 0]))
        b, beta = conditional_draws(built.stats, design, sigma[:, 0], covs, rng, beta,
                                    built.prior_mean, built.prior_prec, parts=ar1[0],
                                    weights=weights)  # fmt: skip
    elif built.marginal:
        weights = None if built.cells is None else 1.0 / sigma**2
        ref = sigma if built.cells is None else sigma[:, 0]
        b, beta = conditional_draws(
            built.stats,
            design,
            ref,
            covs,
            rng,
            beta,
            built.prior_mean,
            built.prior_prec,
            parts=built.parts,
            weights=weights,
        )
    else:
        b = np.concatenate(
            [_flat(raw[f"b[{n}]"]).reshape(len(covs[0]), -1) for n in built.names], axis=1
        )
    return sigma, covs, beta, b


def _loglik(built: BuiltModel, raw, sigma, beta, b) -> np.ndarray:
    """Pointwise log likelihood (S, n), conditional on the random effects."""
    if not built.gaussian:
        anc = built.family.ancillary
        return pointwise(built, beta, b, None if anc is None else _flat(raw[anc.bayes_name]))
    if built.panels is not None:
        return panel_loglik(built, evaluator(built), sigma, _flat(raw["resid_z"]), beta, b)
    per_obs = sigma if built.cells is None else sigma[:, built.cells.of_obs]
    return pointwise_loglik(built.design, built.stats, beta, b, per_obs)


def to_datatree(
    built: BuiltModel,
    raw: dict[str, np.ndarray],
    rng: np.random.Generator,
    sample_stats: xr.Dataset | None = None,
    attrs: dict | None = None,
) -> xr.DataTree:
    """Assemble the result's DataTree from ``raw`` draws shaped (chain, draw, ...)."""
    design = built.design
    chains, draws = np.shape(raw[f"cov[{built.names[0]}]"])[:2]
    sigma, covs, beta, b = complete_draws(built, raw, rng)

    def shaped(a):
        return a.reshape((chains, draws) + a.shape[1:])

    cd = ("chain", "draw")
    data = {"beta": (cd + ("fixed",), shaped(beta))}
    if built.cells is not None:
        data["sigma"] = (cd, shaped(sigma[:, 0]))
        data["sigma_e"] = (cd + ("residual_cells",), shaped(sigma))
    elif sigma is not None:
        data["sigma"] = (cd, shaped(sigma))
    if built.panels is not None:
        z = _flat(raw["resid_z"])
        data["resid_z"] = (cd + ("residual_groups", "residual_params"), shaped(z))
        labels, rows = printed_rows(built, sigma, z)
        data["residual"] = (cd + ("residual_rows",), shaped(rows))
    anc = None if built.gaussian else built.family.ancillary
    if anc is not None:  # a scalar dispersion, or a vector of cutpoints with its labels
        dims = cd if anc.support == "positive" else cd + (f"{anc.bayes_name}_index",)
        data[anc.bayes_name] = (dims, shaped(_flat(raw[anc.bayes_name])))
    off = 0
    for name, block, cov in zip(built.names, design.blocks, covs):
        eff, eff2, grp = f"{name}_effects", f"{name}_effects_", f"{name}_groups"
        sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))
        data[f"sd[{name}]"] = (cd + (eff,), shaped(sd))
        if block.k > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                corr = cov / (sd[:, :, None] * sd[:, None, :])
            data[f"corr[{name}]"] = (cd + (eff, eff2), shaped(corr))
        data[f"cov[{name}]"] = (cd + (eff, eff2), shaped(cov))
        bb = b[:, off : off + block.q].reshape(len(beta), block.n_groups, block.k)
        data[f"b[{name}]"] = (cd + (grp, eff), shaped(bb))
        off += block.q
    coords = coords_of(design)
    coords.pop("obs")
    for name in built.names:
        coords[f"{name}_effects_"] = coords[f"{name}_effects"]
    coords.update(chain=np.arange(chains), draw=np.arange(draws))
    if built.panels is not None:
        coords["residual_rows"] = labels
    if not built.gaussian:
        coords.update(ancillary_coords(built.family))
    posterior = xr.Dataset(data, coords=coords, attrs=attrs or {})
    ll = _loglik(built, raw, sigma, beta, b)
    unit = "obs" if built.panels is None else "panel"
    units = np.arange(design.n) if built.panels is None else panel_labels(built)
    obs = {"obs": np.arange(design.n)}
    response = design.spec.response
    y_obs = design.y if built.y_obs is None else built.y_obs
    if not built.gaussian and built.family.data_bound:
        y_obs = design.y  # ordinal: the observed values, as posterior predictive draws give them
    groups = {
        "posterior": posterior,
        "log_likelihood": xr.Dataset(
            {response: (cd + (unit,), shaped(ll))},
            coords={unit: units, "chain": np.arange(chains), "draw": np.arange(draws)},
        ),
        "observed_data": xr.Dataset({response: (("obs",), y_obs)}, coords=obs),
    }
    if sample_stats is not None:
        groups["sample_stats"] = sample_stats
    return xr.DataTree.from_dict(groups)
