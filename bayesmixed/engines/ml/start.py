"""Starting values for theta from simple moments of the OLS residuals.

lme4 starts every relative standard deviation at 1.  For scalar random
intercepts a moment estimate is nearly free and lands near the optimum:
on the InstEval-sized crossed benchmark BOBYQA then needs 37 evaluations
instead of 87.  For each scalar block, the between-group variance of the OLS
residuals is their group means' variance less the share the within-group
noise contributes (sigma2 * mean(1/n_g)); with several such blocks, each block's share
in the others' group means (nested or crossed) is taken out by solving their moment
equations together (:func:`_shared_between`); sigma_e^2 is what is left, less what the
other blocks add at their own start (:func:`_other_blocks`).  Slopes and vector blocks keep
the structure's own start: their geometry (correlations near the boundary) is where a
crude start can lead BOBYQA astray.  Measured evaluations (old -> new): productivity's
region/state 59 -> 39, its crossed model 108 -> 52, grunfeld crossed 60 -> 50, a
grouseticks-shaped model 32 -> 20, four nested levels 81 -> 43, InstEval's shape 61 -> 53;
vcomp2 32 -> 38 (its count is set by L-BFGS-B's stopping rule, not its start);
single-block models unchanged.

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
    if len(moments) > 1 and not level_fweighted(design):
        between = _shared_between(design, order, moments, noise, w)
    sigma2 = max(total - sum(between.values()), SIGMA_FLOOR * noise)
    structures = [b.structure for b in design.blocks]
    sigma2 /= 1.0 + _other_blocks(order, default, set(moments), structures)
    out = [
        np.array([max(np.sqrt(between[pos] / sigma2), FLOOR)]) if pos in between else part
        for pos, part in enumerate(default)
    ]
    return np.concatenate(out)


def _other_blocks(order, default: list[np.ndarray], done: set, structures) -> float:
    """Variance the blocks without a moment estimate add per row, relative to sigma_e^2.

    Those blocks (random slopes, vector blocks) start at their structure's own theta, a
    covariance Lambda Lambda' relative to sigma_e^2 per unit-scale column (the optimizer
    sees each slope covariate divided by its root mean square, :mod:`.rescale`), so each
    adds about tr(Lambda Lambda') sigma_e^2 to a row's variance: the residuals' variance
    left after the intercepts is sigma_e^2 times one plus their sum.  Without this
    vcomp2's two slopes were counted as noise and its intercepts started at 1.15 against
    an optimum of 2.1.  Read off the structures alone, so a weighted fit and the fit of
    its expanded data start at the same point.
    """
    extra = 0.0
    for pos, idx in enumerate(order):
        if pos not in done:
            extra += float(np.sum(structures[idx].lam(default[pos]) ** 2))
    return extra


def _shared_between(design: Design, order, moments: dict, noise: float, w) -> dict:
    """Between-group variances of several blocks, each block's share in the others' removed.

    A group's mean of the residuals carries every effect its rows touch: a location's
    mean averages its broods' effects, a brood's mean carries its location's whole
    effect, a student's mean averages the lecturers it rated.  Taking each block's
    group-mean variance as its own variance (less the noise) counted nested effects
    twice: grouseticks-shaped data started at theta = (5.1, 5.3) against an optimum of
    (0.51, 1.60), and L-BFGS-B stopped on the zero bound first (a second run from a restart
    found the optimum); vcomp2 started at 2.4 times its optimum.  Here the expected
    variance of block b's group means, sum_c K_bc s_c + noise E_b, is solved for the
    variances s >= 0 (:func:`scipy.optimize.nnls`), with
    K_bc = mean_g sum_h w_gh^2 - sum_h (mean_g w_gh)^2, w_gh = n_gh / n_g the share of
    group g's rows in group h of block c, and E_b = mean_g(1 / n_g) (1 - 1/G_b).
    Row frequency weights count as rows (the expanded data's counts).
    """
    from scipy.optimize import nnls

    pos = sorted(moments)
    blocks = [design.blocks[order[p]] for p in pos]
    k = np.array([[_mixing(b, c, w) for c in blocks] for b in blocks])
    rhs = np.array(
        [moments[p][0] - noise * moments[p][1] * (1 - 1 / b.n_groups) for p, b in zip(pos, blocks)]
    )
    try:
        shares, _ = nnls(k, rhs)
    except (RuntimeError, ValueError):  # no solution found: the separate moments
        return {p: max(moments[p][0] - noise * moments[p][1], 0.0) for p in pos}
    return dict(zip(pos, shares))


def _mixing(b, c, w: np.ndarray | None) -> float:
    """K_bc of :func:`_shared_between`: block c's share in the variance of b's group means."""
    n_g = np.bincount(b.codes, weights=w, minlength=b.n_groups)
    key = b.codes.astype(np.int64) * c.n_groups + c.codes
    cell, at = np.unique(key, return_inverse=True)
    g, h = np.divmod(cell, c.n_groups)
    share = np.bincount(at.ravel(), weights=w) / np.maximum(n_g[g], 1e-300)
    column = np.bincount(h, weights=share, minlength=c.n_groups) / b.n_groups
    return float(np.sum(share**2) / b.n_groups - np.sum(column**2))


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
