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

from ..design.types import Design
from ..errors import NotSupportedError


def is_bayes(result: object) -> bool:
    return hasattr(result, "idata") and hasattr(result, "parameter_draws")


def ml_effects(result) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per block, (groups, k) arrays of BLUPs (or conditional modes) and their SDs."""
    from ..results.glmm import GLMMResult

    if isinstance(result, GLMMResult):
        return list(result.modes), [np.full_like(m, np.nan) for m in result.modes]
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
    """BLUPs and their conditional SDs, each a (groups, k) array per block."""
    design = result.design
    Z = _dense_z(design)
    lam = _sqrt_psd(_g_matrix(design, result.cov_blocks) / result.sigma2)
    zl = Z @ lam
    m = zl.T @ zl + np.eye(lam.shape[0])
    resid = design.y - design.X @ result.beta
    u = np.linalg.solve(m, zl.T @ resid)
    b = lam @ u
    var = result.sigma2 * lam @ np.linalg.solve(m, lam.T)
    sd = np.sqrt(np.clip(np.diag(var), 0.0, None))
    return _split(design, b), _split(design, sd)


def _dense_z(design: Design) -> np.ndarray:
    cols = []
    for block in design.blocks:
        z = np.zeros((design.n, block.n_groups * block.k))
        for j in range(block.k):
            z[np.arange(design.n), block.codes * block.k + j] = block.Z[:, j]
        cols.append(z)
    return np.hstack(cols)


def _g_matrix(design: Design, covs: list[np.ndarray]) -> np.ndarray:
    pieces = [np.kron(np.eye(b.n_groups), c) for b, c in zip(design.blocks, covs, strict=True)]
    size = sum(p.shape[0] for p in pieces)
    g = np.zeros((size, size))
    at = 0
    for p in pieces:
        g[at : at + p.shape[0], at : at + p.shape[0]] = p
        at += p.shape[0]
    return g


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    """Symmetric square root, exact for singular (boundary) covariance matrices."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _split(design: Design, flat: np.ndarray) -> list[np.ndarray]:
    out, at = [], 0
    for block in design.blocks:
        out.append(flat[at : at + block.q].reshape(block.n_groups, block.k))
        at += block.q
    return out
