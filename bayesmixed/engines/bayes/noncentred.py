"""The non-centred parameterization: random effects sampled as b = Lambda u, u ~ N(0, I).

Used for Gaussian models on request (``marginalize=False``); GLMMs use the same
construction in :mod:`.glmm`.  Sampling u rather than b removes the funnel between a
level's scale and its effects, which is what makes centred hierarchical models diverge.
The observed response is an ordinary PyMC likelihood, so PyMC's pointwise log-likelihood
serves LOO directly.
"""

from __future__ import annotations

from ...design.types import Design
from .lazy import pm, pt


def add_noncentred_likelihood(built, design: Design) -> None:
    """Add u, b = u Lambda' and y ~ N(X beta + sum_blocks z_i b[g_i], sigma) to the model."""
    mu = pt.dot(design.X, built.beta)
    for name, block, lam in zip(built.names, design.blocks, built.lams):
        dims = (f"{name}_groups", f"{name}_effects")
        u = pm.Normal(f"u[{name}]", 0.0, 1.0, dims=dims)
        b = pm.Deterministic(f"b[{name}]", u @ lam.T, dims=dims)
        mu = mu + pt.sum(block.Z * b[block.codes], axis=1)
    sigma = built.sigma if built.cells is None else built.sigma_e[built.cells.of_obs]
    pm.Normal("y", mu=mu, sigma=sigma, observed=design.y, dims="obs")
