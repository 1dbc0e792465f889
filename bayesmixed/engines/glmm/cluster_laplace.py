"""The Laplace log likelihood of each top-level cluster of a nested GLMM.

With nested random effects (``|| school: || class:``) every effect belongs to
one group of the top level, so the joint conditional mode and the curvature
H = Lambda' Z' W Z Lambda + I separate by top-level cluster: H is block
diagonal once its columns are ordered by cluster, and the fit's sparse
Laplace approximation (:func:`.laplace.sparse_laplace`) is the sum of

    log L_c = sum_{i in c} loglik_i(u_hat) - |u_hat_c|^2 / 2 - log|H_c| / 2

over the clusters.  Robust standard errors need these terms one by one (their
scores), which the sparse fit never forms.  The modes are those of the fit's
own Newton iteration (:func:`.pirls.sparse_modes`, polished to rounding, since
the scores are finite differences), always started from the modes at the
estimate (``x`` of the constructor): the finite-difference steps move them
little, and a fixed start keeps the function a function of its argument alone.
The blocks H_c are cut out of the sparse H and factored in batches of equal size.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .objective import ApproxLoglik
from .pirls import lambda_matrix, sparse_modes, z_matrix


class ClusterLaplace:
    """x (theta, beta, anc) -> (C,) Laplace log likelihood of each top-level cluster.

    Parameters
    ----------
    obj : the fit's objective (its response, structures and parameter layout).
    top : (n,) top-level cluster code of each row, in the response's sorted order.
    x : the estimate, whose conditional modes start every evaluation.
    """

    def __init__(self, obj: ApproxLoglik, top: np.ndarray, x: np.ndarray) -> None:
        self.obj = obj
        self.top = np.asarray(top, np.intp)
        self.n_clusters = int(self.top.max()) + 1
        self.z = z_matrix(obj.resp)
        self.col_top = _column_clusters(obj.resp, self.top, self.z.shape[1])
        self.local = _local_index(self.col_top)
        self.sizes = np.bincount(self.col_top, minlength=self.n_clusters)
        self.u0 = np.zeros(self.z.shape[1])
        self.u0 = self._modes(x)[0]

    def _modes(self, x: np.ndarray):
        """(u_hat, Z Lambda, eta0) at ``x``."""
        obj = self.obj
        thetas, beta, anc = obj.unpack(x)
        resp, eta0 = obj.resp, obj.eta0(beta)
        zl = (self.z @ lambda_matrix(obj.lambdas(thetas), resp.n_groups)).tocsr()
        return sparse_modes(resp, zl, eta0, self.u0, anc, polish=True).u, zl, eta0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        resp, anc = self.obj.resp, self.obj.unpack(x)[2]
        u, zl, eta0 = self._modes(x)
        eta = eta0 + zl @ u
        c = self.n_clusters
        ll = np.bincount(self.top, weights=resp.loglik(eta, anc), minlength=c)
        penalty = np.bincount(self.col_top, weights=u * u, minlength=c)
        _, w = resp.score_weights(eta, anc)
        hess = (zl.T @ sp.diags(w) @ zl + sp.identity(zl.shape[1])).tocoo()
        return ll - 0.5 * penalty - 0.5 * self._logdets(hess)

    def _logdets(self, hess: sp.coo_matrix) -> np.ndarray:
        """log|H_c| of every cluster: dense blocks, one batched Cholesky per block size."""
        rows, cols, vals = hess.row, hess.col, hess.data
        cluster = self.col_top[rows]
        out = np.zeros(self.n_clusters)
        for size in np.unique(self.sizes):
            members = np.flatnonzero(self.sizes == size)
            slot = np.full(self.n_clusters, -1)
            slot[members] = np.arange(len(members))
            keep = slot[cluster] >= 0
            blocks = np.zeros((len(members), size, size))
            idx = (slot[cluster[keep]], self.local[rows[keep]], self.local[cols[keep]])
            np.add.at(blocks, idx, vals[keep])
            chol = np.linalg.cholesky(blocks)
            diag = np.diagonal(chol, axis1=1, axis2=2)
            out[members] = 2 * np.sum(np.log(diag), axis=1)
        return out


def _column_clusters(resp, top: np.ndarray, q: int) -> np.ndarray:
    """Top-level cluster of each column of Z (block, group, effect), from the rows.

    Nesting makes every group of every block lie inside one top-level cluster;
    a column whose group has no rows cannot occur (groups come from the rows).
    """
    col_top = np.full(q, -1, np.intp)
    start = 0
    for codes, z, g in zip(resp.codes, resp.Z, resp.n_groups):
        k = z.shape[1]
        for e in range(k):
            col_top[start + codes * k + e] = top
        start += g * k
    return col_top


def _local_index(col_top: np.ndarray) -> np.ndarray:
    """Position of each column among the columns of its cluster."""
    order = np.argsort(col_top, kind="stable")
    counts = np.bincount(col_top)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    local = np.empty(len(col_top), np.intp)
    local[order] = np.arange(len(col_top)) - np.repeat(starts, counts)
    return local
