"""A_r1 G A_r1' for a fixed sparse A_r1 and varying block-diagonal G, fast.

In the blocked Cholesky the Schur complement of the first (largest) block
needs L_r1 L_r1' = Lambda_r' A_r1 blockdiag(T_g T_g') A_r1' Lambda_r at every
evaluation.  A_r1 never changes, only the small per-group k x k matrices
G_g = T_g T_g' do, so every entry of the product is a fixed linear
combination of the entries of the G_g.  We precompute that linear map once as
a sparse matrix P (one row per upper-triangular entry of the result, one
column per entry of some G_g); each evaluation is then one sparse
matrix-vector product and a scatter, instead of a sparse-sparse product
(scipy's two-pass ``csr_matmat`` was 5-10x slower on InstEval-sized data).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..quiet_import import IMPORT_LOCK

MAX_PAIRS = 40_000_000  # beyond this the map costs more memory than it saves time


class SparseGram:
    """Precomputed map G (l, k, k) -> dense symmetric A G A' of size q_r."""

    def __init__(self, p: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, q_r: int) -> None:
        self.p = p
        self.rows = rows
        self.cols = cols
        self.q_r = q_r

    @classmethod
    def build(cls, a_r1: sp.spmatrix, k: int) -> SparseGram | None:
        """Return the map, or None when it would be too large to be worth it."""
        csc = sp.csc_matrix(a_r1)
        csc.sum_duplicates()
        q_r, q1 = csc.shape
        groups = q1 // k
        counts = np.diff(csc.indptr).reshape(groups, k).sum(axis=1)
        if float(np.sum(counts.astype(float) ** 2)) * k * k / 2 > MAX_PAIRS:
            return None
        keys, wcols, vals = [], [], []
        for g in range(groups):
            sub = csc[:, g * k : (g + 1) * k]
            rows = np.unique(sub.indices)
            if rows.size == 0:
                continue
            dense = sub[rows].toarray()  # (m, k)
            ii, jj = np.triu_indices(rows.size)
            prod = dense[ii][:, :, None] * dense[jj][:, None, :]  # (pairs, k, k)
            keys.append(np.repeat(rows[ii] * q_r + rows[jj], k * k))
            wcols.append(np.tile(g * k * k + np.arange(k * k), ii.size))
            vals.append(prod.reshape(-1))
        if not keys:
            return cls(sp.csr_matrix((0, groups * k * k)), np.zeros(0, int), np.zeros(0, int), q_r)
        key = np.concatenate(keys)
        uniq, entry = np.unique(key, return_inverse=True)
        p = sp.csr_matrix(
            (np.concatenate(vals), (entry, np.concatenate(wcols))),
            shape=(uniq.size, groups * k * k),
        )
        p.sum_duplicates()
        return cls(p, uniq // q_r, uniq % q_r, q_r)

    def __call__(self, g: np.ndarray) -> np.ndarray:
        """Dense A G A' for the stack ``g`` of per-group k x k matrices."""
        vals = self.p @ g.reshape(-1)
        out = np.zeros((self.q_r, self.q_r))
        out[self.rows, self.cols] = vals
        out[self.cols, self.rows] = vals
        return out

    def subtract_from(self, m: np.ndarray, g: np.ndarray) -> None:
        """``m[:q_r, :q_r] -= A G A'`` in place, touching only the map's nonzeros.

        ``m`` is C-contiguous; the positions are flat indices into it, computed once per
        row length (2-D fancy indexing took 27 ms an evaluation on InstEval's 435,000).
        """
        vals = self.p @ g.reshape(-1)
        width = m.shape[1]
        if getattr(self, "_flat", (None,))[0] != width:
            upper = self.rows * width + self.cols  # unique, so -= is exact
            off = np.flatnonzero(self.rows != self.cols)
            lower = self.cols[off] * width + self.rows[off]
            order = np.argsort(lower)  # in memory order: fewer cache misses
            self._flat = (width, upper, lower[order], off[order])
        _, upper, lower, off = self._flat
        flat = m.reshape(-1)  # a view: m is contiguous
        flat[upper] -= vals
        flat[lower] -= vals[off]


class StreamingGram:
    """The same map, computed on the fly by a compiled loop: no precomputed P.

    For large crossed designs (ratings data: thousands of users x thousands of
    items) P would hold hundreds of millions of entries.  Here each evaluation
    walks the nonzeros of A_r1 column block by column block and adds
    ``a_i G_g[a, b] a_j`` into the upper triangle of the dense result, which
    costs one pass over the pairs of nonzeros that share a group -- the same
    work as P @ vec(G), without P's memory.  Needs numba (a PyMC dependency);
    ``build`` returns None without it and the caller falls back to sparse
    products.
    """

    def __init__(self, csc: sp.csc_matrix, k: int, kernel) -> None:
        self.indptr = csc.indptr.astype(np.int64)
        self.indices = csc.indices.astype(np.int64)
        self.data = csc.data.astype(float)
        self.k = k
        self.q_r = csc.shape[0]
        self._kernel = kernel

    @classmethod
    def build(cls, a_r1: sp.spmatrix, k: int) -> StreamingGram | None:
        kernel = _streaming_kernel()
        if kernel is None:
            return None
        csc = sp.csc_matrix(a_r1)
        csc.sum_duplicates()
        csc.sort_indices()
        return cls(csc, k, kernel)

    def __call__(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros((self.q_r, self.q_r))
        g = np.ascontiguousarray(g, dtype=float)
        self._kernel(self.indptr, self.indices, self.data, g, self.k, out)
        diag = out.diagonal().copy()
        out += out.T  # only the upper triangle was filled
        out[np.diag_indices_from(out)] = diag
        return out

    def subtract_from(self, m: np.ndarray, g: np.ndarray) -> None:
        """``m[:q_r, :q_r] -= A G A'`` in place."""
        m[: self.q_r, : self.q_r] -= self(g)


_KERNEL: list = []


def _streaming_kernel():
    """Compile the kernel once per process (cached on disk by numba)."""
    if _KERNEL:
        return _KERNEL[0]
    try:
        with IMPORT_LOCK:  # a Bayesian fit's start: nutpie may be importing numba too
            import numba
    except ImportError:  # pragma: no cover - numba ships with PyMC
        _KERNEL.append(None)
        return None

    @numba.njit(cache=True, nogil=True)
    def kernel(indptr, indices, data, g, k, out):  # pragma: no cover - compiled
        for grp in range(g.shape[0]):
            for a in range(k):
                c1 = grp * k + a
                for b in range(k):
                    gab = g[grp, a, b]
                    if gab == 0.0:
                        continue
                    c2 = grp * k + b
                    for p1 in range(indptr[c1], indptr[c1 + 1]):
                        r1 = indices[p1]
                        v1 = data[p1] * gab
                        start = p1 if a == b else indptr[c2]
                        for p2 in range(start, indptr[c2 + 1]):
                            r2 = indices[p2]
                            if r2 >= r1:
                                out[r1, r2] += v1 * data[p2]

    _KERNEL.append(kernel)
    return kernel
