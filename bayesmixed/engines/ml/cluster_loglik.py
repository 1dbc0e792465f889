"""The log likelihood of each top-level cluster of a linear mixed model, in one batch.

Robust standard errors need the scores of each independent cluster and the
pseudo-likelihood of sampling weights needs each cluster's log likelihood
weighted by its own weight, so neither can use the profiled deviance, which
sums over clusters inside one Cholesky factor.  Here the clusters are the
groups of the top level (every lower level nests in it), each padded to the
largest cluster so that all of them are factored by one batched Cholesky.

With level-one weights w (frequency weights, or scaled sampling weights), the
cluster's (pseudo) log likelihood integrates prod_i f(y_i | u)^{w_i} over its
random effects u ~ N(0, L L'):

    log L_c = -1/2 [ sum(w) log(2 pi s2) + log|A| + (r'W r - b'A^-1 b / s2) / s2 ],
    A = I + (Z L)' W (Z L) / s2,   b = (Z L)' W r,   r = y - X beta,

which with w = 1 is the Gaussian marginal log density of the cluster (and
with whole-number w that of the data expanded by the weights).  Padded rows
carry weight 0 and padded effects a zero column of Z, so they add nothing.
The parameters are Stata's: beta, then each block's working vector (design
order), then log sigma_e.

``fweight()`` below the top level (``copies``: how many copies of each row's
group one copy of its top-level cluster holds) is handled as in
:mod:`.crossprod`: Z / sqrt(c) with the rows' weights, the cluster's effects
ordered lowest level first and each pivot of the Cholesky factor counted c
times in log|A|; the result is the log likelihood of one expanded copy.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...design.types import Design
from ...errors import NotSupportedError

LOG_2PI = float(np.log(2 * np.pi))


def top_clusters(design: Design) -> tuple[np.ndarray, str]:
    """(cluster code of each row, name of the top level) for nested designs.

    Every block's path must start with the same grouping variable; crossed
    designs and ``_all`` equations have no independent clusters.
    """
    paths = [b.equation.path for b in design.blocks]
    top = paths[0][0]
    if top == "_all" or any(p[0] != top or b.equation.factor for p, b in zip(paths, design.blocks)):
        raise NotSupportedError(
            "robust standard errors and sampling weights need nested random effects whose "
            "top level is a grouping variable (not _all, R.var or crossed levels)"
        )
    shortest = min(range(len(paths)), key=lambda i: len(paths[i]))
    block = design.blocks[shortest]
    depth = len(paths[shortest])
    if depth == 1:
        return block.codes, top
    # groups of a deeper block are (top, ...) tuples: their first element is the cluster
    tops = np.array([g[0] for g in block.groups], dtype=object)
    _, top_of_group = np.unique(tops.astype(str), return_inverse=True)
    return top_of_group[block.codes], top


class ClusterLoglik:
    """params -> (C,) log likelihood of each top-level cluster (batched, padded).

    ``weights`` are the level-one weights of the rows (``None``: ones); ``copies``
    per block the (n,) copies of each row's group within one copy of its top-level
    cluster (``fweight()``), or ``None``.
    """

    def __init__(
        self, design: Design, weights: np.ndarray | None = None, copies: list | None = None
    ) -> None:
        if design.residual is not None:
            raise NotSupportedError(
                "robust standard errors and sampling weights are not available with residuals()"
            )
        codes, self.top = top_clusters(design)
        self.codes = codes  # each row's top-level cluster
        self.design = design
        self.n_clusters = int(codes.max()) + 1
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes, minlength=self.n_clusters)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        pos = np.empty(design.n, int)
        pos[order] = np.arange(design.n) - np.repeat(starts, counts)
        c, m, n_max = codes, pos, int(counts.max())
        w = np.ones(design.n) if weights is None else np.asarray(weights, float)
        self.w = _pad(c, m, n_max, self.n_clusters, w)
        self.y = _pad(c, m, n_max, self.n_clusters, design.y)
        self.X = _pad(c, m, n_max, self.n_clusters, design.X)
        blocks = design.blocks
        if copies is not None:
            blocks = [replace(b, Z=b.Z / np.sqrt(k)[:, None]) for b, k in zip(blocks, copies)]
        z_local = [self._block_z(b, c, m, n_max) for b in blocks]
        self.z = [z for z, _ in z_local]
        # elimination order: lowest level first where the log-determinant is weighted
        self.elim = list(range(len(blocks)))
        self.pivots = None  # (C, q) copies of each effect slot, in elimination order
        if copies is not None:
            self.elim.sort(key=lambda i: -len(blocks[i].equation.path))
            self.pivots = np.concatenate(
                [self._slot_copies(blocks[i], copies[i], c, z_local[i][1]) for i in self.elim],
                axis=1,
            )
        self.structures = [b.structure for b in design.blocks]
        self.sizes = [s.n_theta for s in self.structures]
        self.p = design.p

    def _block_z(self, block, c, m, n_max) -> tuple[np.ndarray, np.ndarray]:
        """(C, n_max, g_max, k) each row's effect values in its local group's slot, and
        each row's local slot."""
        local = np.zeros(len(c), int)
        for cl in range(self.n_clusters):
            rows = np.flatnonzero(c == cl)
            _, local[rows] = np.unique(block.codes[rows], return_inverse=True)
        out = np.zeros((self.n_clusters, n_max, int(local.max()) + 1, block.k))
        out[c, m, local] = block.Z
        return out, local

    def _slot_copies(self, block, copies: np.ndarray, c, local) -> np.ndarray:
        """(C, g_max k) copies of each effect slot's group (padded slots: 1)."""
        out = np.ones((self.n_clusters, int(local.max()) + 1))
        out[c, local] = copies
        return np.repeat(out, block.k, axis=1)

    @property
    def size(self) -> int:
        return self.p + int(sum(self.sizes)) + 1

    def __call__(self, params: np.ndarray) -> np.ndarray:
        params = np.asarray(params, float)
        beta = params[: self.p]
        parts = np.split(params[self.p : -1], np.cumsum(self.sizes)[:-1])
        s2 = float(np.exp(2 * params[-1]))
        zls = [
            _times_factor(z, s.cov_from_working(part))
            for z, s, part in zip(self.z, self.structures, parts)
        ]
        zl = np.concatenate([zls[i] for i in self.elim], axis=2)
        r = self.y - np.einsum("cnp,p->cn", self.X, beta)
        wr = self.w * r
        q = zl.shape[2]
        a = np.eye(q) + np.einsum("cnq,cn,cnr->cqr", zl, self.w, zl) / s2
        chol = np.linalg.cholesky(a)
        b = np.einsum("cnq,cn->cq", zl, wr)
        half = np.linalg.solve(chol, b[:, :, None])[:, :, 0]
        logs = np.log(np.diagonal(chol, axis1=1, axis2=2))
        logdet = 2 * np.sum(logs if self.pivots is None else self.pivots * logs, axis=1)
        quad = (np.sum(wr * r, axis=1) - np.sum(half**2, axis=1) / s2) / s2
        sw = np.sum(self.w, axis=1)
        return -0.5 * (sw * (LOG_2PI + np.log(s2)) + logdet + quad)


def _times_factor(z: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """(C, n, g, k) Z times a factor L of cov (L L' = cov), flattened to (C, n, g k)."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    lam = vecs * np.sqrt(np.clip(vals, 0.0, None))
    zl = np.einsum("cngk,kj->cngj", z, lam)
    return zl.reshape(z.shape[0], z.shape[1], -1)


def _pad(c: np.ndarray, m: np.ndarray, n_max: int, n_clusters: int, values: np.ndarray):
    values = np.asarray(values, float)
    out = np.zeros((n_clusters, n_max) + values.shape[1:])
    out[c, m] = values
    return out
