"""The scaled Schur complement of scalar random-effect blocks, assembled by one product.

In the blocked layout (:mod:`.deviance`) every evaluation forms, for the blocks after
the first, M_rr = Lambda_r'(A_rr - A_r1 G A_r1')Lambda_r + I and factors it densely.
When those blocks are scalar (crossed intercepts: InstEval's lecturers and departments)
Lambda_r is a constant s_b within each block b, so every entry of M_rr in the block
pair (b, c) is s_b s_c times a fixed linear combination of A_rr's entry and the G_g.
The terms of :class:`.gram.SparseGram`'s precomputed map are therefore indexed anew:

* its rows are flat positions in the C-ordered (q_r + p + 1)-square buffer that the
  Cholesky overwrites, lower triangle only, so the product's output *is* that buffer
  (no scatter, no copy of A_rr, nothing written above the diagonal);
* its columns are repeated per block pair, so the scalings s_b s_c enter through the
  vector it multiplies (no pass over the matrix to scale it);
* A_rr's own nonzeros (sparse for crossed factors) are added by one small scatter.

Measured on InstEval's shape (1,158 rest effects, 3.1 million map entries, one thread):
the copy of A_rr, the subtraction through the map (product, then a scatter of 435,000
entries) and the two scalings took 14-18 ms of a 40-52 ms evaluation; the assembly takes
9 ms.  The buffer's upper triangle stays zero, so LAPACK's Cholesky can run on its
transpose (upper, column-major: no conversion copy) without cleaning, 14-15 ms instead of
the 20-21 ms of a cleaned lower factorization of a row-major array.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .gram import pair_terms


class ScaledAssembly:
    """Block scalings and the per-group G -> lower Lambda_r'(A_rr - A_r1 G A_r1')Lambda_r.

    ``block_of`` gives the rest block of every rest effect (all of them scalar); ``width``
    is the side of the buffer returned (q_r + p + 1: the bordered matrix of the factor).
    """

    def __init__(self, p: sp.csr_matrix, a_pos, a_val, a_pair, width: int, n_blocks: int) -> None:
        self.p = p  # (width^2, block pairs x groups k^2): the map, rows in the buffer's order
        self.a_pos, self.a_val, self.a_pair = a_pos, a_val, a_pair  # A_rr's lower nonzeros
        self.width = width
        self.n_blocks = n_blocks

    @classmethod
    def build(cls, a_r1, k: int, a_rr, block_of: np.ndarray, width: int) -> ScaledAssembly | None:
        """The assembly for the first block's A_r1 (k effects a group), or None when its
        map would be too large to precompute (:data:`.gram.MAX_PAIRS`)."""
        terms = pair_terms(a_r1, k)
        if terms is None:
            return None
        _, n_cols, lo, hi, cols, vals = terms  # lo <= hi: the entry (hi, lo) is lower
        nb = int(block_of.max()) + 1 if block_of.size else 0
        index = np.int32 if max(width * width, _pairs(nb) * n_cols) < 2**31 else np.int64
        rows = hi.astype(index)
        rows *= width
        rows += lo
        if k > 1:
            rows = np.repeat(rows, k * k)
        cols = cols.astype(index, copy=False)
        if nb > 1:  # each block pair's own copy of the columns (its scaling: __call__)
            b = block_of.astype(np.int32)
            code = b[hi]
            code *= nb
            code += b[lo]
            offset = (_pair(*np.divmod(np.arange(nb * nb), nb)) * n_cols).astype(index)
            cols += np.repeat(offset[code], k * k) if k > 1 else offset[code]
            del code
        del lo, hi
        p = sp.csr_matrix((vals, (rows, cols)), shape=(width * width, _pairs(nb) * n_cols))
        del rows, cols, vals
        a = sp.coo_matrix(a_rr)
        low = a.row >= a.col
        a_row, a_col = a.row[low].astype(np.int64), a.col[low].astype(np.int64)
        return cls(p, a_row * width + a_col, a.data[low].astype(float),
                   _pair(block_of[a_row], block_of[a_col]), width, nb)  # fmt: skip

    def __call__(self, scale: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The (width, width) buffer: D (A_rr - A_r1 G A_r1') D on the top-left lower triangle.

        ``scale`` holds each rest block's scalar Lambda, ``g`` the (groups, k, k) stack
        G_g = T_g T_g' of the first block.  Everything else in the buffer is zero.
        """
        s = np.asarray(scale, float)
        b, c = np.tril_indices(self.n_blocks)
        products = s[b] * s[c]  # per block pair, in _pair's order
        x = (-products[:, None] * np.asarray(g, float).reshape(1, -1)).reshape(-1)
        out = (self.p @ x).reshape(self.width, self.width)
        out.reshape(-1)[self.a_pos] += self.a_val * products[self.a_pair]
        return out


def _pair(b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Index of the block pair (b, c), b >= c, in row-major lower-triangle order."""
    return b * (b + 1) // 2 + c


def _pairs(n_blocks: int) -> int:
    return n_blocks * (n_blocks + 1) // 2
