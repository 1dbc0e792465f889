"""One PyMC model per Design: coordinates, priors, covariance blocks, then a likelihood.

The likelihood is the integrated (marginal) one of :mod:`.marginal` (Gaussian models,
heteroskedastic cells from :mod:`.hetero`), the non-centred Gaussian one of
:mod:`.noncentred`, or the non-centred GLMM one of :mod:`.glmm`; everything before it is
shared, so all parameterizations carry the same priors, names and coordinates.  Variables
the rest of the engine reads from a trace (:func:`trace_names`): ``sigma`` (Gaussian),
``sigma_e`` (one SD per residual cell), ``alpha``/``phi``/``cut`` (a GLMM family's ancillary block),
``cov[<block>]`` (k x k), ``beta`` when it is sampled, ``b[<block>]`` (groups x effects)
when the random effects are sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...design.types import Design
from ...errors import SpecificationError
from ...spec.family import get_family
from .ancillary import ancillary_variable, bound_family
from .ancillary import coords as ancillary_coords
from .correlated import NAME as CORR_PRIOR
from .correlated import coords as correlated_coords
from .correlated import correlation_variables
from .covariance import (
    beta_prior_moments,
    beta_variable,
    block_covariance,
    residual_sd,
)
from .glmm import add_glmm_likelihood
from .hetero import Cells, cell_sds, residual_cells
from .lazy import pm
from .marginal import SuffStats, add_marginal_likelihood, suff_stats
from .panels import PanelLayout, panel_layout
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
    cells: Cells | None = None
    parts: list[SuffStats] | None = None
    sigma_e: object = field(default=None, repr=False)
    family: object = None  # spec.family.Family for GLMMs, None for Gaussian models
    y_obs: np.ndarray | None = None
    trials: np.ndarray | None = None
    offset: np.ndarray | None = None
    ancillary: object = field(default=None, repr=False)  # natural dispersion / cutpoints
    anc_working: list = field(default_factory=list, repr=False)  # what the density takes
    panels: PanelLayout | None = None  # correlated residual structures
    resid_z: list | None = field(default=None, repr=False)

    @property
    def gaussian(self) -> bool:
        return self.family is None


def trace_names(built: BuiltModel) -> list[str]:
    """The variables to read from a trace; the rest is derived from them."""
    names = [f"cov[{n}]" for n in built.names]
    if built.gaussian:
        names.insert(0, "sigma")
        names += ["sigma_e"] if built.cells is not None else []
    elif built.family.ancillary is not None:
        names.append(built.family.ancillary.bayes_name)
    names += ["resid_z"] if built.panels is not None else []
    names += [] if built.integrate_beta else ["beta"]
    names += [] if built.marginal else [f"b[{n}]" for n in built.names]
    return names


def correlated(design: Design) -> bool:
    """A residuals() structure with correlations within panels."""
    return design.residual is not None and not design.residual.diagonal


def group_labels(block) -> list[str]:
    """Group labels as strings (nested paths joined with '/')."""
    out = []
    for g in block.groups:
        out.append("/".join(map(str, g)) if isinstance(g, tuple) else str(g))
    return out


def coords_of(design: Design) -> dict[str, list[str]]:
    coords = {"fixed": list(design.fixed_names), "obs": list(range(design.n))}
    cells = residual_cells(design)
    if cells is not None:
        coords["residual_cells"] = cells.labels
    if correlated(design):
        coords.update(correlated_coords(design))
    for name, block in zip(block_names(design), design.blocks):
        coords[f"{name}_effects"] = list(block.effect_names)
        coords[f"{name}_groups"] = group_labels(block)
    return coords


def build_model(
    design: Design,
    priors: dict[str, Prior],
    marginal: bool,
    integrate_beta: bool,
    offset: np.ndarray | None = None,
    trials: np.ndarray | float | None = None,
) -> BuiltModel:
    """Build the PyMC model of ``design``; ``integrate_beta`` needs ``marginal``.

    ``offset`` (log exposure included) and ``trials`` only apply to GLMMs.
    """
    names = block_names(design)
    mean, prec = beta_prior_moments(list(design.fixed_names), priors)
    if integrate_beta and not marginal:
        raise SpecificationError("the fixed effects can only be integrated out with marginalize")
    st = suff_stats(design)
    with pm.Model(coords=coords_of(design)) as model:
        built = BuiltModel(model, design, priors, names, marginal, integrate_beta, st, mean, prec)
        _response_parts(built, design, priors, offset, trials)
        for name, block in zip(names, design.blocks):
            cov, lam = block_covariance(name, block, priors)
            pm.Deterministic(f"cov[{name}]", cov)
            built.lams.append(lam)
        if not integrate_beta:
            built.beta = beta_variable(list(design.fixed_names), priors)
        if not built.gaussian:
            add_glmm_likelihood(built, design)
        elif marginal:
            add_marginal_likelihood(built, design, st)
        else:
            from .noncentred import add_noncentred_likelihood

            add_noncentred_likelihood(built, design)
    return built


def _response_parts(built: BuiltModel, design: Design, priors, offset, trials) -> None:
    """Residual SDs (per cell) for Gaussian models; y, trials, offset, dispersion otherwise."""
    spec = design.spec
    if get_family(spec.family, spec.link).closed_form:
        built.cells = residual_cells(design)
        if built.cells is None:
            built.sigma = residual_sd(priors["sigma"])
        else:
            built.sigma_e = cell_sds(built.cells, priors["sigma"])
            built.sigma = built.sigma_e[0]
            built.parts = [suff_stats(design, rows) for rows in built.cells.rows]
        if correlated(design):
            built.panels = panel_layout(design, built.cells.of_obs)
            built.resid_z = correlation_variables(design, priors[CORR_PRIOR])
        return
    built.family, built.y_obs, built.trials = bound_family(design, trials)
    built.offset = np.zeros(design.n) if offset is None else np.asarray(offset, float)
    for name, labels in ancillary_coords(built.family).items():
        built.model.add_coord(name, labels)
    built.ancillary, built.anc_working = ancillary_variable(built.family, priors, built.y_obs)
