"""The pseudo log likelihood of each top-level cluster of a three-level model, in one batch.

Sampling weights at the middle level (``|| school: || class:, pweight(w2)``)
raise each class's likelihood, an integral over the class's random effects, to
the power w_{j|k} *inside* the integral over the school's effects (Rabe-Hesketh
and Skrondal 2006; Stata's ``mixed``):

    log L_k = w_k log integral prod_j [ integral prod_i f(y_ijk | u_j, v_k)^{w_i|jk}
                                         phi(u_j) du_j ]^{w_j|k} phi(v_k) dv_k,

so the joint Gaussian integral of :class:`.cluster_loglik.ClusterLoglik` no
longer applies.  Both integrals are still Gaussian and are done in closed form.
With e_j = r_j - Z3_j L3 v (r = y - X beta), W_j the level-one weights and
A_j = I + (Z2 L2)' W_j (Z2 L2) / s2, the class integral is

    l_j(v) = c_j - e_j' Q_j e_j / 2,   c_j = -[sum_i w_i log(2 pi s2) + log|A_j|] / 2,
    Q_j = (W_j - W_j Z2 L2 A_j^-1 L2' Z2' W_j / s2) / s2,

a quadratic in v; with T = sum_j w_j [r_j, Z3_j L3]' Q_j [r_j, Z3_j L3] (blocks
t_rr, t_vr, t_vv) and B = I + t_vv the school integral is

    log L_k / w_k = sum_j w_j c_j - t_rr / 2 - log|B| / 2 + t_vr' B^-1 t_vr / 2.

With every weight 1 this is the Gaussian marginal log density of the school's
rows.  Classes are padded to the largest per school and rows to the largest
class, with weight 0, so they add nothing.  Parameters as in ClusterLoglik:
beta, each block's working vector (design order), log sigma_e.
"""

from __future__ import annotations

import numpy as np

from ...design.types import Design
from ...errors import NotSupportedError
from .cluster_loglik import top_clusters

LOG_2PI = float(np.log(2 * np.pi))


def _local_index(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Rank of each item's ``inner`` code among the distinct inner codes of its ``outer`` code."""
    width = int(inner.max()) + 1
    keys, back = np.unique(outer.astype(np.int64) * width + inner, return_inverse=True)
    owner = keys // width
    return (np.arange(len(keys)) - np.searchsorted(owner, owner, side="left"))[back]


class NestedLoglik:
    """params -> (K,) pseudo log likelihood of each school, weights at levels one and two.

    Parameters
    ----------
    design : a three-level design: every block's path has one (top) or two (middle) levels.
    obs_w : (n,) level-one weight of each row.
    mid_w : (n,) weight of each row's middle-level group (ones when not weighted).
    """

    def __init__(self, design: Design, obs_w: np.ndarray, mid_w: np.ndarray) -> None:
        if design.residual is not None:
            raise NotSupportedError("sampling weights are not available with residuals()")
        codes, self.top = top_clusters(design)
        depth = [len(b.equation.path) for b in design.blocks]
        if set(depth) - {1, 2} or 2 not in depth:
            raise NotSupportedError(
                "sampling weights are supported for two- and three-level models so far"
            )
        mid = design.blocks[depth.index(2)].codes
        self.codes, self.design, self.p = codes, design, design.p
        self.n_clusters = int(codes.max()) + 1
        j_loc = _local_index(codes, mid)
        i_loc = _local_index(mid, np.arange(design.n))
        shape = (self.n_clusters, int(j_loc.max()) + 1, int(i_loc.max()) + 1)
        self._at = (codes, j_loc, i_loc)
        self.w = self._pad(shape, obs_w)
        self.y = self._pad(shape, design.y)
        self.X = self._pad(shape, design.X)
        self.w_mid = self._pad(shape[:2], mid_w, rows=False)  # (K, J): padded classes get 0
        self.z = [self._pad(shape, b.Z) for b in design.blocks]
        self.is_top = [d == 1 for d in depth]
        self.structures = [b.structure for b in design.blocks]
        self.sizes = [s.n_theta for s in self.structures]

    def _pad(self, shape: tuple, values: np.ndarray, rows: bool = True) -> np.ndarray:
        values = np.asarray(values, float)
        out = np.zeros(shape + values.shape[1:])
        index = self._at if rows else self._at[:2]
        out[index] = values  # a middle-level value is one per group: later rows rewrite it
        return out

    def __call__(self, params: np.ndarray) -> np.ndarray:
        params = np.asarray(params, float)
        parts = np.split(params[self.p : -1], np.cumsum(self.sizes)[:-1])
        s2 = float(np.exp(2 * params[-1]))
        zl = [z @ _factor(s.cov_from_working(w)) for z, s, w in zip(self.z, self.structures, parts)]
        zl3 = np.concatenate([z for z, top in zip(zl, self.is_top) if top], axis=-1)
        zl2 = np.concatenate([z for z, top in zip(zl, self.is_top) if not top], axis=-1)
        r = self.y - self.X @ params[: self.p]
        g = np.concatenate([r[..., None], zl3], axis=-1)  # (K, J, N, 1 + q3)
        wg = self.w[..., None] * g
        a = np.eye(zl2.shape[-1]) + np.einsum("kjnq,kjnp->kjqp", self.w[..., None] * zl2, zl2) / s2
        chol = np.linalg.cholesky(a)
        s = np.linalg.solve(chol, np.einsum("kjnq,kjnm->kjqm", zl2, wg))
        quad = (np.einsum("kjnm,kjnl->kjml", wg, g) - np.einsum("kjqm,kjql->kjml", s, s) / s2) / s2
        logdet_a = 2 * np.sum(np.log(np.diagonal(chol, axis1=2, axis2=3)), axis=2)
        c_j = -0.5 * (self.w.sum(axis=2) * (LOG_2PI + np.log(s2)) + logdet_a)
        t = np.einsum("kj,kjml->kml", self.w_mid, quad)
        b = np.eye(zl3.shape[-1]) + t[:, 1:, 1:]
        chol_b = np.linalg.cholesky(b)
        half = np.linalg.solve(chol_b, t[:, 1:, :1])[:, :, 0]
        logdet_b = 2 * np.sum(np.log(np.diagonal(chol_b, axis1=1, axis2=2)), axis=1)
        inner = np.sum(self.w_mid * c_j, axis=1)
        return inner - 0.5 * t[:, 0, 0] - 0.5 * logdet_b + 0.5 * np.sum(half**2, axis=1)


def _factor(cov: np.ndarray) -> np.ndarray:
    """A factor L of ``cov`` (L L' = cov) that stays real on the boundary (a zero variance)."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))
