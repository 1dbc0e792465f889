"""One PyMC model per Design: coordinates, priors, covariance blocks, then a likelihood.

The likelihood is either the integrated (marginal) one of :mod:`.marginal` or the
non-centred one of :mod:`.noncentred`; everything before it is shared, so both
parameterizations carry the same priors, names and coordinates.  Variables the rest of
the engine reads from a trace: ``sigma``, ``cov[<block>]`` (k x k), ``beta`` when it is
sampled, ``b[<block>]`` (groups x effects) when the random effects are sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pymc as pm

from ...design.types import Design
from ...errors import SpecificationError
from .covariance import beta_prior_moments, beta_variable, block_covariance, residual_sd
from .marginal import SuffStats, add_marginal_likelihood, suff_stats
from .priors import Prior, block_names


@dataclass
class BuiltModel:
    """A PyMC model and what is needed to turn its trace into results."""

    model: pm.Model
    design: Design
    priors: dict[str, Prior]
    names: list[str]
    marginal: bool
    integrate_beta: bool
    stats: SuffStats
    prior_mean: np.ndarray
    prior_prec: np.ndarray
    lams: list = field(default_factory=list, repr=False)
    sigma: object = field(default=None, repr=False)
    beta: object = field(default=None, repr=False)


def group_labels(block) -> list[str]:
    """Group labels as strings (nested paths joined with '/')."""
    out = []
    for g in block.groups:
        out.append("/".join(map(str, g)) if isinstance(g, tuple) else str(g))
    return out


def coords_of(design: Design) -> dict[str, list[str]]:
    coords = {"fixed": list(design.fixed_names), "obs": list(range(design.n))}
    for name, block in zip(block_names(design), design.blocks):
        coords[f"{name}_effects"] = list(block.effect_names)
        coords[f"{name}_groups"] = group_labels(block)
    return coords


def build_model(
    design: Design, priors: dict[str, Prior], marginal: bool, integrate_beta: bool
) -> BuiltModel:
    """Build the PyMC model of ``design``; ``integrate_beta`` needs ``marginal``."""
    names = block_names(design)
    mean, prec = beta_prior_moments(list(design.fixed_names), priors)
    if integrate_beta and not marginal:
        raise SpecificationError("the fixed effects can only be integrated out with marginalize")
    st = suff_stats(design)
    with pm.Model(coords=coords_of(design)) as model:
        built = BuiltModel(model, design, priors, names, marginal, integrate_beta, st, mean, prec)
        built.sigma = residual_sd(priors["sigma"])
        for name, block in zip(names, design.blocks):
            cov, lam = block_covariance(name, block, priors)
            pm.Deterministic(f"cov[{name}]", cov)
            built.lams.append(lam)
        if not integrate_beta:
            built.beta = beta_variable(list(design.fixed_names), priors)
        if marginal:
            add_marginal_likelihood(built, design, st)
        else:
            from .noncentred import add_noncentred_likelihood

            add_noncentred_likelihood(built, design)
    return built
