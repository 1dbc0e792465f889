"""Cross-products of the augmented design [Z X y], computed once per fit.

The profiled deviance of a linear mixed model depends on the data only
through A = [Z X y]'[Z X y] (lme4's and MixedModels.jl's insight), so every
evaluation of the deviance costs a Cholesky update that does not grow with n.
We never form Z: each block is given by group codes and a small dense matrix,
and A is assembled from ``np.bincount`` sums and sparse triplets.

Blocks are reordered so that the one with the most random effects comes
first.  Its diagonal block of A is block-diagonal (one k x k matrix per group),
so its Cholesky factor is a batch of tiny factorizations; every other block is
handled densely after a Schur complement.  The wrong order costs ~20x.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ...design.types import Design, REBlock

DENSE_LIMIT = 2_000_000  # entries of A_r1 below which dense algebra beats sparse overhead


@dataclass
class CrossProducts:
    """A in the blocked layout the deviance evaluator needs.

    Attributes
    ----------
    order : indices of ``design.blocks`` in evaluation order (first = largest).
    k, n_groups : per block in evaluation order.
    a11 : (l1, k1, k1) diagonal blocks of Z1'Z1.
    a_xy1 : (p+1, l1, k1) cross-products of [X y] with Z1.
    a_r1 : (q_r, q1) cross-products of the other blocks with Z1, dense when small.
    a_rr : dense (q_r, q_r) cross-products among the other blocks.
    a_xyr : (p+1, q_r) cross-products of [X y] with the other blocks.
    a_xyxy : (p+1, p+1) = [X y]'[X y].
    """

    order: list[int]
    k: list[int]
    n_groups: list[int]
    a11: np.ndarray
    a_xy1: np.ndarray
    a_r1: np.ndarray | sp.csr_matrix
    a_rr: np.ndarray
    a_xyr: np.ndarray
    a_xyxy: np.ndarray
    n: int
    p: int

    @property
    def q_rest(self) -> int:
        return int(sum(k * g for k, g in zip(self.k[1:], self.n_groups[1:])))

    @property
    def offsets(self) -> list[int]:
        """Start of each rest block inside the rest random-effects vector."""
        sizes = [k * g for k, g in zip(self.k[1:], self.n_groups[1:])]
        return list(np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)) if sizes else []


def evaluation_order(blocks: list[REBlock]) -> list[int]:
    """Largest block (most random effects) first; ties keep Stata's order."""
    return sorted(range(len(blocks)), key=lambda i: -blocks[i].q)


def _group_sums(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum ``values`` (n, m) within groups -> (n_groups, m)."""
    out = np.empty((n_groups, values.shape[1]))
    for m in range(values.shape[1]):
        out[:, m] = np.bincount(codes, weights=values[:, m], minlength=n_groups)
    return out


def _diag_blocks(block: REBlock) -> np.ndarray:
    """Per-group Z_g'Z_g as an (l, k, k) array."""
    z = block.Z
    k = z.shape[1]
    prods = (z[:, :, None] * z[:, None, :]).reshape(len(z), k * k)
    return _group_sums(block.codes, prods, block.n_groups).reshape(block.n_groups, k, k)


def _pair_triplets(row: REBlock, col: REBlock) -> sp.csr_matrix:
    """Sparse Z_row' Z_col with rows (group, effect) of ``row``, cols of ``col``."""
    kr, kc = row.k, col.k
    rows = (row.codes[:, None] * kr + np.arange(kr)[None, :])[:, :, None]
    cols = (col.codes[:, None] * kc + np.arange(kc)[None, :])[:, None, :]
    vals = row.Z[:, :, None] * col.Z[:, None, :]
    shape = (row.q, col.q)
    rr = np.broadcast_to(rows, vals.shape).ravel()
    cc = np.broadcast_to(cols, vals.shape).ravel()
    return sp.coo_matrix((vals.ravel(), (rr, cc)), shape=shape).tocsr()


def _xy_block(xy: np.ndarray, block: REBlock) -> np.ndarray:
    """[X y]' Z_block as (p+1, l, k)."""
    k = block.k
    prods = (xy[:, :, None] * block.Z[:, None, :]).reshape(len(xy), -1)
    sums = _group_sums(block.codes, prods, block.n_groups)
    return sums.reshape(block.n_groups, xy.shape[1], k).transpose(1, 0, 2)


def build_crossproducts(design: Design) -> CrossProducts:
    """Assemble every block of A once, in evaluation order."""
    blocks = design.blocks
    order = evaluation_order(blocks)
    first, rest = blocks[order[0]], [blocks[i] for i in order[1:]]
    xy = np.column_stack([design.X, design.y])
    a_xy1 = _xy_block(xy, first)
    if rest:
        a_r1 = sp.vstack([_pair_triplets(b, first) for b in rest]).tocsr()
        if a_r1.shape[0] * a_r1.shape[1] <= DENSE_LIMIT:
            a_r1 = a_r1.toarray()
        a_rr = sp.bmat([[_pair_triplets(b, c) for c in rest] for b in rest]).toarray()
        a_xyr = np.concatenate([_xy_block(xy, b).reshape(xy.shape[1], -1) for b in rest], axis=1)
    else:
        a_r1 = sp.csr_matrix((0, first.q))
        a_rr = np.zeros((0, 0))
        a_xyr = np.zeros((xy.shape[1], 0))
    return CrossProducts(
        order=order,
        k=[blocks[i].k for i in order],
        n_groups=[blocks[i].n_groups for i in order],
        a11=_diag_blocks(first),
        a_xy1=a_xy1,
        a_r1=a_r1,
        a_rr=a_rr,
        a_xyr=a_xyr,
        a_xyxy=xy.T @ xy,
        n=design.n,
        p=design.p,
    )


def with_response(cp: CrossProducts, design: Design, y: np.ndarray) -> CrossProducts:
    """``cp`` for a new response: only the y row/column of A changes.

    Refits on simulated responses (parametric bootstrap, power analysis) keep
    X, Z and the groups, so every block of A that does not involve y -- the
    per-group Z'Z, the sparse Z_r'Z_1 and its Gram map, X'X -- is shared with
    ``cp`` (not copied); the y parts are new arrays, so ``cp`` itself is left
    untouched and concurrent refits cannot interfere.  Cost: O(n k) bincounts.
    """
    y = np.asarray(y, float)
    if y.shape != (cp.n,):
        raise ValueError(f"response must have shape ({cp.n},), got {y.shape}")
    blocks = [design.blocks[i] for i in cp.order]
    col = y[:, None]
    a_xy1 = cp.a_xy1.copy()
    a_xy1[-1] = _xy_block(col, blocks[0])[0]
    a_xyr = cp.a_xyr.copy()
    if len(blocks) > 1:
        a_xyr[-1] = np.concatenate([_xy_block(col, b).reshape(-1) for b in blocks[1:]])
    a_xyxy = cp.a_xyxy.copy()
    xy = design.X.T @ y
    a_xyxy[-1, :-1] = xy
    a_xyxy[:-1, -1] = xy
    a_xyxy[-1, -1] = y @ y
    return replace(cp, a_xy1=a_xy1, a_xyr=a_xyr, a_xyxy=a_xyxy)
