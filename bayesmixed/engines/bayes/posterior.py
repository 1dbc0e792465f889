"""Turn sampled (or Laplace) draws into the ArviZ DataTree every method returns.

Whatever produced the draws -- NUTS on the marginal model, NUTS on the non-centred model,
or the Laplace approximation -- the result has the same groups and names: ``posterior``
(``beta``, ``sigma``, ``sd[<block>]``, ``corr[<block>]``, ``cov[<block>]``,
``b[<block>]``), ``log_likelihood`` (pointwise, conditional on the random effects, for
LOO), ``observed_data`` and, for NUTS, ``sample_stats``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .build import BuiltModel, coords_of
from .marginal import conditional_draws, pointwise_loglik


def _flat(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, float).reshape((-1,) + np.shape(a)[2:])


def complete_draws(built: BuiltModel, raw: dict[str, np.ndarray], rng: np.random.Generator):
    """Fill in beta and b (exact conditional draws) for marginal models; flat arrays (S, ...)."""
    design = built.design
    sigma = _flat(raw["sigma"])
    covs = [_flat(raw[f"cov[{n}]"]) for n in built.names]
    beta = None if built.integrate_beta else _flat(raw["beta"])
    if built.marginal:
        b, beta = conditional_draws(
            built.stats, design, sigma, covs, rng, beta, built.prior_mean, built.prior_prec
        )
    else:
        b = np.concatenate(
            [_flat(raw[f"b[{n}]"]).reshape(len(sigma), -1) for n in built.names], axis=1
        )
    return sigma, covs, beta, b


def to_datatree(
    built: BuiltModel,
    raw: dict[str, np.ndarray],
    rng: np.random.Generator,
    sample_stats: xr.Dataset | None = None,
    attrs: dict | None = None,
) -> xr.DataTree:
    """Assemble the result's DataTree from ``raw`` draws shaped (chain, draw, ...)."""
    design = built.design
    chains, draws = np.shape(raw["sigma"])[:2]
    sigma, covs, beta, b = complete_draws(built, raw, rng)

    def shaped(a):
        return a.reshape((chains, draws) + a.shape[1:])

    cd = ("chain", "draw")
    data = {"beta": (cd + ("fixed",), shaped(beta)), "sigma": (cd, shaped(sigma))}
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
        bb = b[:, off : off + block.q].reshape(len(sigma), block.n_groups, block.k)
        data[f"b[{name}]"] = (cd + (grp, eff), shaped(bb))
        off += block.q
    coords = coords_of(design)
    coords.pop("obs")
    for name in built.names:
        coords[f"{name}_effects_"] = coords[f"{name}_effects"]
    coords.update(chain=np.arange(chains), draw=np.arange(draws))
    posterior = xr.Dataset(data, coords=coords, attrs=attrs or {})
    ll = pointwise_loglik(design, built.stats, beta, b, sigma)
    obs = {"obs": np.arange(design.n)}
    response = design.spec.response
    groups = {
        "posterior": posterior,
        "log_likelihood": xr.Dataset(
            {response: (cd + ("obs",), shaped(ll))},
            coords={**obs, "chain": np.arange(chains), "draw": np.arange(draws)},
        ),
        "observed_data": xr.Dataset({response: (("obs",), design.y)}, coords=obs),
    }
    if sample_stats is not None:
        groups["sample_stats"] = sample_stats
    return xr.DataTree.from_dict(groups)
