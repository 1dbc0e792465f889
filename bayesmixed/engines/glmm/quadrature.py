"""Gauss-Hermite quadrature over the random effects of one grouping factor.

Each group's likelihood is  L_g = integral exp(S_g(u)) phi_k(u) du, with S_g
the sum of the group's log densities and u ~ N(0, I_k) the spherical random
effects.  Moving the rule to centre m and scale C (u = m + C v) gives

    L_g ~= |C| sum_j w_j exp(S_g(u_j) - |u_j|^2/2 + |v_j|^2/2),

with (v_j, w_j) a product Gauss-Hermite rule for N(0, I_k) (weights summing
to one).  The methods differ only in m and C:

* ``ghermite``     m = 0, C = I (the prior; non-adaptive);
* ``mcaghermite``  m = the conditional mode, C = H^-T/2 (mode-curvature;
  lme4's ``nAGQ``; with one point it is the Laplace approximation);
* ``mvaghermite``  m, C C' = the posterior mean and variance of u_g, found by
  iterating the rule on itself until they stop moving (Rabe-Hesketh,
  Skrondal and Pickles 2005; Stata's default).

Vector random effects use the k-fold product rule (7^2 = 49 nodes for a
random intercept and slope).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import logsumexp

from .pirls import GroupModes
from .response import Response

MV_TOL = 1e-9
MV_MAX_IT = 200


@lru_cache(maxsize=32)
def product_rule(points: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (M, k) and log weights (M,) of the product rule for N(0, I_k)."""
    x, w = np.polynomial.hermite_e.hermegauss(points)
    w = w / w.sum()
    grids = np.meshgrid(*([x] * k), indexing="ij")
    wgrids = np.meshgrid(*([np.log(w)] * k), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    logw = np.sum(np.stack([g.ravel() for g in wgrids], axis=1), axis=1)
    return nodes, logw


def _terms(resp, eta0, lam, centre, scale, nodes, logw, anc):
    """Log integrand terms (G, M) and the node positions u (G, M, k)."""
    u = centre[:, None, :] + np.einsum("gab,mb->gma", scale, nodes)
    ll = resp.group_sum(resp.loglik(_node_eta(resp, eta0, lam, centre, scale, nodes), anc))
    half = 0.5 * (np.sum(nodes**2, axis=1)[None, :] - np.sum(u**2, axis=2))
    return logw[None, :] + ll + half, u


def _node_eta(resp, eta0, lam, centre, scale, nodes) -> np.ndarray:
    """eta at every node, (n, M): eta0 + z' Lambda m + (z' Lambda C) v, one matmul."""
    z, codes = resp.Z[0], resp.codes[0]
    if z.shape[1] == 1:
        a = (lam[0, 0] * scale[:, 0, 0])[codes] * z[:, 0]
        c = eta0 + (lam[0, 0] * centre[:, 0])[codes] * z[:, 0]
        return c[:, None] + a[:, None] * nodes[None, :, 0]
    zl = z @ lam
    c = eta0 + np.einsum("nk,nk->n", zl, centre[codes])
    a = np.einsum("nk,nkj->nj", zl, scale[codes])
    return c[:, None] + a @ nodes.T


def _log_det(scale: np.ndarray) -> np.ndarray:
    return np.sum(np.log(np.abs(np.diagonal(scale, axis1=1, axis2=2))), axis=1)


def rule_loglik(resp, eta0, lam, centre, scale, nodes, logw, anc=()) -> np.ndarray:
    """log L_g of every group for a rule centred at ``centre`` with lower-triangular ``scale``."""
    terms, _ = _terms(resp, eta0, lam, centre, scale, nodes, logw, anc)
    return _log_det(scale) + logsumexp(terms, axis=1)


def mode_scale(modes: GroupModes) -> np.ndarray:
    """Lower Cholesky factor C of H^-1 (the curvature's inverse), per group.

    A product rule is not rotation invariant, so the square root matters for
    k > 1; the lower Cholesky factor of the variance is the convention of the
    mean-variance rule as well, so both adaptive rules share one code path.
    """
    k = modes.chol.shape[1]
    inv = np.linalg.solve(modes.chol, np.broadcast_to(np.eye(k), modes.chol.shape))
    return np.linalg.cholesky(np.einsum("gba,gbc->gac", inv, inv))


def ghermite(resp, eta0, lam, points, anc=()) -> float:
    k = lam.shape[0]
    nodes, logw = product_rule(points, k)
    g = len(resp.starts)
    centre = np.zeros((g, k))
    scale = np.broadcast_to(np.eye(k), (g, k, k))
    return float(np.sum(rule_loglik(resp, eta0, lam, centre, scale, nodes, logw, anc)))


def mcaghermite(resp, eta0, lam, modes: GroupModes, points, anc=()) -> float:
    nodes, logw = product_rule(points, lam.shape[0])
    scale = mode_scale(modes)
    return float(np.sum(rule_loglik(resp, eta0, lam, modes.u, scale, nodes, logw, anc)))


class MeanVariance:
    """Stata's mean-variance adaptive rule, warm-started across evaluations.

    The posterior moments of each group move little between nearby
    parameter values, so starting from the previous evaluation's moments
    usually needs two or three sweeps instead of ten.
    """

    def __init__(self, points: int, k: int) -> None:
        self.nodes, self.logw = product_rule(points, k)
        self.centre: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.sweeps = 0

    def frozen_loglik(self, resp: Response, eta0, lam, anc=()) -> float:
        """The rule at the stored moments, not re-adapted (one sweep, no modes).

        As in Stata, the adaptive parameters are updated between optimizer
        rounds rather than at every evaluation, which makes the objective
        smooth and about four times cheaper; :meth:`loglik` re-adapts.
        """
        terms, _ = _terms(resp, eta0, lam, self.centre, self.scale, self.nodes, self.logw, anc)
        return float(np.sum(_log_det(self.scale) + logsumexp(terms, axis=1)))

    def loglik(self, resp: Response, eta0, lam, modes: GroupModes, anc=()) -> float:
        centre, scale = modes.u, mode_scale(modes)
        if self.centre is not None:
            centre, scale = self.centre, self.scale
        value = np.inf
        for _ in range(MV_MAX_IT):
            self.sweeps += 1
            terms, u = _terms(resp, eta0, lam, centre, scale, self.nodes, self.logw, anc)
            lse = logsumexp(terms, axis=1)
            new_value = float(np.sum(_log_det(scale) + lse))
            prob = np.exp(terms - lse[:, None])
            mean = np.einsum("gm,gma->ga", prob, u)
            dev = u - mean[:, None, :]
            try:
                new_scale = np.linalg.cholesky(np.einsum("gm,gma,gmb->gab", prob, dev, dev))
            except np.linalg.LinAlgError:
                value = new_value
                break
            moved = max(np.max(np.abs(mean - centre)), np.max(np.abs(new_scale - scale)))
            converged = moved < MV_TOL or abs(new_value - value) < 1e-11
            centre, scale, value = mean, new_scale, new_value
            if converged:
                break
        self.centre, self.scale = centre, scale
        return value
