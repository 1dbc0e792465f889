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
CHUNK = 500_000  # pairs formed at a time while building the map


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
        terms = pair_terms(a_r1, k)
        if terms is None:
            return None
        q_r, n_cols, low, high, cols, vals = terms
        key = low.astype(np.int64) * q_r + high
        del low, high
        uniq, entry = _compact(key, q_r * q_r)
        del key
        entry = np.repeat(entry.astype(np.int32), k * k)
        p = sp.csr_matrix((vals, (entry, cols)), shape=(uniq.size, n_cols))
        p.sum_duplicates()
        return cls(p, uniq // q_r, uniq % q_r, q_r)

    def __call__(self, g: np.ndarray) -> np.ndarray:
        """Dense A G A' for the stack ``g`` of per-group k x k matrices."""
        vals = self.p @ g.reshape(-1)
        out = np.zeros((self.q_r, self.q_r))
        out[self.rows, self.cols] = vals
        out[self.cols, self.rows] = vals
        return out


def pair_terms(a_r1: sp.spmatrix, k: int):
    """Every term of A G A' on and above the diagonal, or None when there are too many.

    Returns (q_r, columns of the map (groups * k^2), the entry's row and column per pair
    of nonzeros sharing a group (row <= col, int32), the map column of each term (k^2 per
    pair, int32) and its coefficient).  Built in chunks of whole groups: bounded
    temporaries, for peak memory (issue 13).
    """
    csc = sp.csc_matrix(a_r1)
    csc.sum_duplicates()
    q_r, q1 = csc.shape
    groups = q1 // k
    counts = np.diff(csc.indptr).reshape(groups, k).sum(axis=1)
    if float(np.sum(counts.astype(float) ** 2)) * k * k / 2 > MAX_PAIRS:
        return None
    rows, dense, group = _group_rows(csc, k)
    rows = rows.astype(np.int32)
    per = np.bincount(group, minlength=groups)
    n_pairs = int(np.sum(per * (per + 1) // 2))
    low, high = np.empty(n_pairs, np.int32), np.empty(n_pairs, np.int32)
    cols, vals = np.empty(n_pairs * k * k, np.int32), np.empty(n_pairs * k * k)
    at = 0  # filled chunk by chunk, in place: no concatenated copies (memory and time)
    for lo, hi in _chunks(group, CHUNK) if group.size else ():
        first, second = _upper_pairs(group, lo, hi)
        stop = at + first.size
        np.take(rows, first, out=low[at:stop])
        np.take(rows, second, out=high[at:stop])
        terms = slice(at * k * k, stop * k * k)
        if k == 1:
            np.multiply(dense[first, 0], dense[second, 0], out=vals[terms])
            cols[terms] = group[first]
        else:
            prod = dense[first][:, :, None] * dense[second][:, None, :]  # (pairs, k, k)
            vals[terms] = prod.reshape(-1)
            col = group[first][:, None] * (k * k) + np.arange(k * k)
            cols[terms] = col.reshape(-1)  # groups * k^2 < 2^31 (MAX_PAIRS)
        at = stop
    if at != n_pairs:  # pragma: no cover - the chunks cover every group's pairs once
        raise RuntimeError(f"the Gram map's chunks formed {at} pairs of {n_pairs}")
    return q_r, groups * k * k, low, high, cols, vals


def _group_rows(csc: sp.csc_matrix, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each group's rows (the union over its k columns), sorted by group then row.

    Returns (row, the (entries, k) values of that row in the group's columns, group).
    One sort over all nonzeros: slicing the matrix group by group took 1.6 s of an
    InstEval fit (2,972 groups, ~0.5 ms of scipy bookkeeping each).
    """
    q_r = csc.shape[0]
    col = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
    key = (col // k).astype(np.int64) * q_r + csc.indices
    uniq, at = np.unique(key, return_inverse=True)
    dense = np.zeros((uniq.size, k))
    dense[at, col % k] = csc.data  # (row, column) pairs are unique after sum_duplicates
    return uniq % q_r, dense, uniq // q_r


def _compact(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)``; by a presence table where the key space is
    small beside the keys (InstEval: 2.3 million pair keys among 1.3 million: no sort)."""
    if space > 4 * key.size:
        return np.unique(key, return_inverse=True)
    present = np.zeros(space, bool)
    present[key] = True
    uniq = np.flatnonzero(present)
    index = np.cumsum(present) - 1
    return uniq, index[key]


def _chunks(group: np.ndarray, size: int):
    """Runs [lo, hi) of whole groups (``group`` sorted) with about ``size`` pairs each."""
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], group.size]
    m = ends - starts
    total = np.cumsum(m * (m + 1) // 2)  # pairs up to and including each group
    cut = np.searchsorted(total, np.arange(size, total[-1], size), side="left")
    bounds = np.unique(np.r_[0, cut + 1, len(starts)])  # cut < len(starts): below the total
    for a, b in zip(bounds[:-1], bounds[1:]):
        yield int(starts[a]), int(ends[b - 1])


def _upper_pairs(group: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a, b), a <= b, of entries in one group, for a in [lo, hi) (sorted)."""
    end = np.searchsorted(group, group[lo:hi], side="right")  # one past a's group
    length = end - np.arange(lo, hi)  # partners of entry a: a .. end - 1
    first = np.repeat(np.arange(lo, hi), length)
    offset = np.arange(first.size) - np.repeat(np.cumsum(length) - length, length)
    return first, first + offset


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

    def subtract_lower_from(self, m: np.ndarray, g: np.ndarray) -> None:
        """``m[:q_r, :q_r] -= A G A'`` in place (both triangles: the contract needs the lower)."""
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
