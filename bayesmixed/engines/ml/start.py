"""Starting values for theta from simple moments of the OLS residuals.

lme4 starts every relative standard deviation at 1.  For scalar random
intercepts a moment estimate is nearly free and lands near the optimum:
on the InstEval-sized crossed benchmark BOBYQA then needs 37 evaluations
instead of 87.  For each scalar block, the between-group variance of the OLS
residuals is their group means' variance less the share the within-group
noise contributes (sigma2 * mean(1/n_g)); sigma_e^2 is what is left.  Slopes and
vector blocks keep the structure's own start: their geometry (correlations near the
boundary) is where a crude start can lead BOBYQA astray.

The noise share and the floor under sigma_e^2 use the pooled within-group
variance of the residuals (the smallest over the blocks), not their total
variance.  With the total, a model whose groups explain nearly everything
(sigma_e = 1e-8 beside sigma_g = 1, theta = 1e8) started at theta = 3: BOBYQA's
trust region, which grows by small factors, then stopped "roundoff-limited"
near 5e4, 650 log-likelihood units short, with var(g) ten times too small
(issue 19).  Where the groups explain little, the within variance is about the
total and the start is what it was.

With frequency weights every moment is that of the expanded data, ``fweight()``
copies of groups included (each group's mean counts once per copy), so a weighted
fit starts where the fit of the expanded data starts and follows its path.
"""

from __future__ import annotations

import numpy as np

from ...design.types import Design
from ...design.weights import group_copies
from .crossprod import frequency_weights, level_fweighted

FLOOR = 0.05  # relative sd never starts below this: the optimizer can still go to 0
SIGMA_FLOOR = 0.1  # sigma_e^2 starts at no less than this share of the within variance


def moment_start(design: Design, order: list[int], default: list[np.ndarray]) -> np.ndarray:
    """theta start in evaluation order; ``default`` holds each block's own start."""
    w = frequency_weights(design)  # with fweights: the moments of the expanded data
    root = np.ones(design.n) if w is None else np.sqrt(w)
    beta, *_ = np.linalg.lstsq(design.X * root[:, None], design.y * root, rcond=None)
    resid = design.y - design.X @ beta
    total = float(np.cov(resid, aweights=w, ddof=0)) if w is not None else float(resid.var())
    if total <= 0:
        return np.concatenate(default)
    moments = {}
    for pos, idx in enumerate(order):
        block = design.blocks[idx]
        if block.k != 1 or block.n_groups < 3 or not np.all(block.Z[:, 0] == 1.0):
            continue
        copies = _copies(design, block)
        moments[pos] = _group_moments(block.codes, block.n_groups, resid, w, copies)
    within = [w for _, _, w in moments.values() if w is not None]
    noise = min([total, *within])
    between = {
        pos: max(var_means - noise * inv_n, 0.0) for pos, (var_means, inv_n, _) in moments.items()
    }
    sigma2 = max(total - sum(between.values()), SIGMA_FLOOR * noise)
    out = [
        np.array([max(np.sqrt(between[pos] / sigma2), FLOOR)]) if pos in between else part
        for pos, part in enumerate(default)
    ]
    return np.concatenate(out)


def _copies(design: Design, block) -> np.ndarray | None:
    """(groups,) copies of each group of ``block`` in the expanded data, or None (one each)."""
    if not level_fweighted(design):
        return None
    out = np.ones(block.n_groups)
    out[block.codes] = group_copies(design.spec, design.weights, block.equation.path)
    return out


def _group_moments(
    codes: np.ndarray,
    n_groups: int,
    resid: np.ndarray,
    w: np.ndarray | None = None,
    copies: np.ndarray | None = None,
) -> tuple[float, float, float | None]:
    """(variance of the group means, mean of 1/n_g, pooled within-group variance or None).

    ``copies``: how many times each group appears in the expanded data, each copy
    with 1/copies of the group's weighted rows.
    """
    w = np.ones(len(resid)) if w is None else w
    c = np.ones(n_groups) if copies is None else copies
    counts = np.bincount(codes, weights=w, minlength=n_groups)
    means = np.bincount(codes, weights=w * resid, minlength=n_groups) / np.maximum(counts, 1.0)
    per_copy = np.maximum(counts / c, 1.0)
    df = float(w.sum()) - float(c.sum())
    within = float(np.sum(w * (resid - means[codes]) ** 2) / df) if df > 0 else None
    if within is not None and within <= 0:
        within = None
    if copies is None:  # the plain moments, computed as they always were
        return float(means.var()), float(np.mean(1.0 / per_copy)), within
    centre = np.average(means, weights=c)
    between = float(np.average((means - centre) ** 2, weights=c))
    return between, float(np.average(1.0 / per_copy, weights=c)), within
