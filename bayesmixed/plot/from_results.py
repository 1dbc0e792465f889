"""What the plots need, read from fitted results: group effects, draws, replicates.

The plotting functions take arrays; this module is the one place that knows how each
result type stores them.  A result's own methods win where they exist (a future
``r.posterior_predictive()``); otherwise the quantities are computed here by the
textbook formulas.  BLUPs and their conditional SDs (Henderson; lme4's
``ranef(condVar = TRUE)``): with Lambda a square root of G / sigma^2,

    M = Lambda' Z'Z Lambda + I,   b = Lambda M^-1 Lambda' Z'(y - X beta),
    Var(b | y) = sigma^2 Lambda M^-1 Lambda',

dense q x q algebra (q = number of random effects, small in the workshop).
"""

from __future__ import annotations

import numpy as np

from ..errors import NotSupportedError


def is_bayes(result: object) -> bool:
    return hasattr(result, "idata") and hasattr(result, "parameter_draws")


def ml_effects(result) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per block, (groups, k) arrays of BLUPs (or conditional modes) and their SDs."""
    return conditional_effects(result)


def bayes_effect_draws(result, block: int) -> np.ndarray:
    """(draws, groups, k) posterior draws of one block's random effects."""
    name = result.block_names[block]
    values = result.posterior[f"b[{name}]"].values
    return values.reshape((-1,) + values.shape[2:])


def parameter_draws(result, limit: int = 8) -> dict[str, np.ndarray]:
    """Up to ``limit`` printed parameters as (chain, draw) arrays, named ``eq:param``."""
    out = {}
    for (eq, param), values in result.parameter_draws().items():
        out[f"{eq}:{param}"] = values
        if len(out) == limit:
            break
    return out


def posterior_predictive(result, limit: int = 100) -> np.ndarray:
    """(draws, n) replicated responses: y_rep = X beta + Z b + sigma * eps per draw."""
    native = getattr(result, "posterior_predictive", None)
    if callable(native):
        values = np.asarray(native(), float)
        return values.reshape(-1, values.shape[-1])[:limit]
    design = result.design
    if design.spec.family != "gaussian":
        raise NotSupportedError(
            "posterior predictive draws of non-Gaussian models need postestimation"
        )
    post = result.posterior
    beta = post["beta"].values.reshape(-1, design.p)
    sigma = post["sigma"].values.ravel()
    pick = np.linspace(0, len(sigma) - 1, min(limit, len(sigma))).astype(int)
    mean = beta[pick] @ design.X.T
    for i, block in enumerate(design.blocks):
        b = bayes_effect_draws(result, i)[pick]
        mean += np.einsum("snk,nk->sn", b[:, block.codes, :], block.Z)
    rng = np.random.default_rng(20240601)
    return mean + sigma[pick, None] * rng.standard_normal(mean.shape)


def raw_group_means(result, block: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each group's mean of y - X beta (the no-pooling intercept) and its size."""
    design = result.design
    resid = design.y - design.X @ np.asarray(result_coef(result))
    codes = design.blocks[block].codes
    n = np.bincount(codes, minlength=design.blocks[block].n_groups)
    sums = np.bincount(codes, weights=resid, minlength=design.blocks[block].n_groups)
    return sums / np.maximum(n, 1), n


def result_coef(result) -> np.ndarray:
    return np.asarray(result.coef, float)


def conditional_effects(result) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """BLUPs (conditional modes for GLMMs) and their conditional SDs, per block.

    Computed by the postestimation package from the engine's blocked Cholesky
    factor, so no n x q matrix is ever formed.
    """
    from ..postestimation.blup import blups

    fitted = blups(result)
    return list(fitted.values), fitted.cond_sd()
