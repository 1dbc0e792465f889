"""Generalized linear mixed models under NUTS: non-centred random effects, exact densities.

The random effects of a non-Gaussian model cannot be integrated out in closed form, so
they are sampled as b = Lambda u, u ~ N(0, I) (:mod:`.noncentred` explains why non-centred).
The log density of each observation is the family's own (:mod:`bayesmixed.spec.families`),
evaluated with the PyTensor namespace (:mod:`.tensor_math`): the same expression, with every
constant, that the ML engine maximizes, so no density is written twice.  Links are applied in
log space (log Phi, log(1 - exp(-exp(eta)))) so no probability rounds to 0 or 1.  The
pointwise log likelihood for LOO is recomputed afterwards with the NumPy namespace.
"""

from __future__ import annotations

import numpy as np

from ...design.types import Design
from ...errors import NotSupportedError
from ...spec.family import REGISTRY, get_family
from .ancillary import working_draws
from .lazy import pm, pt


def check_family(spec) -> None:
    """Refuse families and links the PyMC engine does not sample, naming what works."""
    family = get_family(spec.family, spec.link)
    if family.closed_form or family.supports_bayes():
        return
    works = "; ".join(
        f"{name} ({', '.join(cls.links if cls.bayes_links is None else cls.bayes_links)})"
        for name, cls in REGISTRY.items()
    )
    raise NotSupportedError(
        f"Bayesian estimation of {spec.command} (family {spec.family}, link {spec.link}) "
        f"is not available; supported families (links): {works}"
    )


def add_glmm_likelihood(built, design: Design) -> None:
    """u, b = u Lambda', the linear predictor and the summed log density as a Potential."""
    from .tensor_math import TENSOR  # evaluates PyTensor at import

    eta = pt.dot(design.X, built.beta) + built.offset
    for name, block, lam in zip(built.names, design.blocks, built.lams):
        dims = (f"{name}_groups", f"{name}_effects")
        u = pm.Normal(f"u[{name}]", 0.0, 1.0, dims=dims)
        b = pm.Deterministic(f"b[{name}]", u @ lam.T, dims=dims)
        eta = eta + pt.sum(block.Z * b[block.codes], axis=1)
    trials = None if built.trials is None else np.asarray(built.trials, dtype=np.float64)
    value = built.family.loglik(built.y_obs, eta, trials, built.anc_working, TENSOR)
    pm.Potential("loglik", pt.sum(value))


def pointwise(built, beta: np.ndarray, b: np.ndarray, ancillary: np.ndarray | None):
    """(S, n) log densities at each draw; ``ancillary`` holds the natural draws, (S,) or (S, m)."""
    eta = beta @ built.design.X.T + (built.stats.z @ b.T).T + built.offset[None, :]
    anc = () if ancillary is None else working_draws(built.family, ancillary)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        return built.family.loglik(built.y_obs[None, :], eta, built.trials, anc)
