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

X enters A only as X~ = X M (:mod:`bayesmixed.design.standardize`: centred,
unit-scale columns) and y only as its OLS residual on X~, y - X~ b0: both are
reparametrisations of beta (beta = M (beta~ + b0)) that leave the likelihood
unchanged but keep A well conditioned.  Without them, A's y'y held the
residual sum of squares only as the difference of two numbers 1e16 times larger
when y = x + 1e-8 e, and the deviance was rounding noise (issue 19).

Frequency weights (issue 15).  ``[fw=]`` repeats rows inside their groups;
``fweight()`` on a level (``|| school:, fweight(w)``) repeats whole groups as
*independent* copies, so the log likelihood is sum_k w_k l_k over the top-level
clusters.  Both are the likelihood of the expanded data, whose PLS problem
has a symmetric solution (the copies of a group share their mode), so it can
be written on the unexpanded data.  With t_i the rows a row stands for and c_g
the copies of a group (product of the fweights at its level and above), the
expanded PLS objective is sum_i t_i (y_i - x_i b - z_i u)^2 + sum_g c_g |u_g|^2;
with v_g = sqrt(c_g) u_g it is the usual unweighted-penalty problem on
[Z / sqrt(c), X, y] with row weights t.  So every cross-product is
sum_i t_i a_i b_i / sqrt(c_a c_b) (c = 1 for X and y).  The log-determinant
is not: a copy of a group adds its own factor, so each diagonal entry of
the Cholesky factor counts c_g times (:attr:`CrossProducts.copies`), with the
levels eliminated from the lowest up (``evaluation_order``): eliminating a
group then only updates its ancestors, and the pivots of a copy in the
expanded data equal those of the group here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ...design.standardize import FixedScaling
from ...design.types import Design, REBlock
from ...design.weights import group_copies

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
    a_rr : (q_r, q_r) cross-products among the other blocks, sparse (CSR).
    a_xyr : (p+1, q_r) cross-products of [X y] with the other blocks.
    a_xyxy : (p+1, p+1) = [X y]'[X y].
    fixed : the scaling that turned the design's X into the X~ used here.
    beta_shift : b0, the OLS coefficients of y on X~ that were subtracted from y.

    X and y above mean X~ and y - X~ b0.
    """

    order: list[int]
    k: list[int]
    n_groups: list[int]
    a11: np.ndarray
    a_xy1: np.ndarray
    a_r1: np.ndarray | sp.csr_matrix
    a_rr: np.ndarray | sp.csr_matrix
    a_xyr: np.ndarray
    a_xyxy: np.ndarray
    n: int
    p: int
    fixed: FixedScaling
    beta_shift: np.ndarray
    copies: np.ndarray | None = None  # (q,) copies of each effect's group (fweight()), or None
    #: A_r1 as built (CSR) when ``a_r1`` is its dense copy: its nonzeros without a scan
    #: (:func:`.components.re_entries`: 3 ms for vcomp2's 480,000 dense entries)
    a_r1_csr: sp.csr_matrix | None = None

    @property
    def q_rest(self) -> int:
        return int(sum(k * g for k, g in zip(self.k[1:], self.n_groups[1:])))

    @property
    def offsets(self) -> list[int]:
        """Start of each rest block inside the rest random-effects vector."""
        sizes = [k * g for k, g in zip(self.k[1:], self.n_groups[1:])]
        return list(np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)) if sizes else []


def frequency_weights(design: Design) -> np.ndarray | None:
    """The rows' frequency weights, or ``None``: A is then the expanded data's [Z X y]'[Z X y].

    A row stands for its ``[fw=]`` weight times the ``fweight()`` of its groups
    (:attr:`~bayesmixed.design.weights.Weights.total`), so every cross-product of X
    and y is a weighted sum and n is the sum of the weights.
    """
    w = design.weights
    return None if w is None or not w.frequency else np.asarray(w.total, float)


def level_fweighted(design: Design) -> bool:
    """Whether some level's groups are replicated by ``fweight()``."""
    w = design.weights
    return w is not None and w.frequency and bool(w.levels)


def replicated_blocks(design: Design, blocks: list[REBlock]) -> tuple[list[REBlock], list]:
    """(blocks with Z / sqrt(c), per block the (n,) copies c of each row's group).

    Without ``fweight()`` the blocks are returned as they are, with copies None.
    """
    if not level_fweighted(design):
        return blocks, [None] * len(blocks)
    copies = [group_copies(design.spec, design.weights, b.equation.path) for b in blocks]
    scaled = [replace(b, Z=b.Z / np.sqrt(c)[:, None]) for b, c in zip(blocks, copies)]
    return scaled, copies


def effect_copies(blocks: list[REBlock], copies: list) -> np.ndarray | None:
    """(q,) copies of each random effect's group, in the cross-products' numbering."""
    if copies[0] is None:
        return None
    parts = []
    for block, rows in zip(blocks, copies):
        per_group = np.ones(block.n_groups)
        per_group[block.codes] = rows
        parts.append(np.repeat(per_group, block.k))
    return np.concatenate(parts)


def evaluation_order(blocks: list[REBlock], nested: bool = False) -> list[int]:
    """Largest block (most random effects) first; ties keep Stata's order.

    ``nested`` (levels replicated by ``fweight()``): the lowest level first, each
    level before the levels above it (longest path first), which the weighted
    log-determinant needs (module docstring).
    """
    if nested:
        return sorted(range(len(blocks)), key=lambda i: -len(blocks[i].equation.path))
    return sorted(range(len(blocks)), key=lambda i: -blocks[i].q)


def _group_sums(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum ``values`` (n, m) within groups -> (n_groups, m)."""
    out = np.empty((n_groups, values.shape[1]))
    for m in range(values.shape[1]):
        out[:, m] = np.bincount(codes, weights=values[:, m], minlength=n_groups)
    return out


def _diag_blocks(block: REBlock, w: np.ndarray | None = None) -> np.ndarray:
    """Per-group Z_g'W Z_g as an (l, k, k) array (W = I without frequency weights)."""
    z = block.Z
    k = z.shape[1]
    prods = (z[:, :, None] * z[:, None, :]).reshape(len(z), k * k)
    if w is not None:
        prods = prods * w[:, None]
    return _group_sums(block.codes, prods, block.n_groups).reshape(block.n_groups, k, k)


def _pair_triplets(row: REBlock, col: REBlock, w: np.ndarray | None = None) -> sp.csr_matrix:
    """Sparse Z_row' W Z_col with rows (group, effect) of ``row``, cols of ``col``."""
    kr, kc = row.k, col.k
    rows = (row.codes[:, None] * kr + np.arange(kr)[None, :])[:, :, None]
    cols = (col.codes[:, None] * kc + np.arange(kc)[None, :])[:, None, :]
    vals = row.Z[:, :, None] * col.Z[:, None, :]
    if w is not None:
        vals = vals * w[:, None, None]
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


def _residualized(
    x_t: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(b0, y - x_t b0) with b0 the (weighted) least-squares fit, by SVD (no cross-products)."""
    if x_t.shape[1] == 0:
        return np.zeros(0), np.asarray(y, float)
    root = np.ones(len(y)) if w is None else np.sqrt(w)
    b0 = np.linalg.lstsq(x_t * root[:, None], y * root, rcond=None)[0]
    return b0, y - x_t @ b0


def _set_y_products(
    a_xyxy: np.ndarray, x_t: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
) -> np.ndarray:
    """Write X~'y and y'y into the last row/column of ``a_xyxy`` (in place; returned).

    y is a least-squares residual, so X~'y is rounding noise near zero; one
    computation for fits and refits keeps that noise identical between them.
    """
    wy = y if w is None else w * y
    xy = x_t.T @ wy
    a_xyxy[-1, :-1] = xy
    a_xyxy[:-1, -1] = xy
    a_xyxy[-1, -1] = y @ wy
    return a_xyxy


def build_crossproducts(design: Design, fixed: FixedScaling | None = None) -> CrossProducts:
    """Assemble every block of A once, in evaluation order.

    ``fixed`` defaults to the scaling of ``design.X``.  The structured-residual
    path passes the scaling of the unwhitened X (whitening destroys the constant
    it is centred against) and ``design.X`` is then taken as a linear image W X
    of those rows: W X M = W X~.
    """
    blocks, copies = replicated_blocks(design, design.blocks)
    order = evaluation_order(blocks, copies[0] is not None)
    first, rest = blocks[order[0]], [blocks[i] for i in order[1:]]
    if fixed is None:
        fixed = FixedScaling.of(design.X)
        x_t = fixed.apply(design.X)
    else:
        x_t = fixed.apply_linear(design.X)
    w = frequency_weights(design)
    b0, y_t = _residualized(x_t, design.y, w)
    xy = np.column_stack([x_t, y_t])
    wxy = xy if w is None else xy * w[:, None]
    a_xy1 = _xy_block(wxy, first)
    if rest:
        a_r1_csr = sp.vstack([_pair_triplets(b, first, w) for b in rest]).tocsr()
        a_r1 = a_r1_csr
        if a_r1.shape[0] * a_r1.shape[1] <= DENSE_LIMIT:
            a_r1 = a_r1.toarray()
        # sparse whatever its size: the blocked layout densifies it once, when it factors
        # (ProfiledDeviance._dense_rr); the component layout reads only its nonzeros (10^4
        # nested classes were 800 MB dense, vcomp2's 1,200 rest effects 5 ms of its fit)
        a_rr = sp.bmat([[_pair_triplets(b, c, w) for c in rest] for b in rest]).tocsr()
        a_xyr = np.concatenate([_xy_block(wxy, b).reshape(xy.shape[1], -1) for b in rest], axis=1)
    else:
        a_r1 = a_r1_csr = sp.csr_matrix((0, first.q))
        a_rr = np.zeros((0, 0))
        a_xyr = np.zeros((xy.shape[1], 0))
    return CrossProducts(
        order=order,
        k=[blocks[i].k for i in order],
        n_groups=[blocks[i].n_groups for i in order],
        a11=_diag_blocks(first, w),
        a_xy1=a_xy1,
        a_r1=a_r1,
        a_rr=a_rr,
        a_xyr=a_xyr,
        a_xyxy=_set_y_products(xy.T @ wxy, x_t, y_t, w),
        n=design.nobs,
        p=design.p,
        fixed=fixed,
        beta_shift=b0,
        copies=effect_copies([blocks[i] for i in order], [copies[i] for i in order]),
        a_r1_csr=None if a_r1 is a_r1_csr else a_r1_csr,
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
    if y.shape != (design.n,):
        raise ValueError(f"response must have shape ({design.n},), got {y.shape}")
    scaled = replicated_blocks(design, design.blocks)[0]
    blocks = [scaled[i] for i in cp.order]
    x_t = cp.fixed.apply(design.X)
    w = frequency_weights(design)
    b0, y = _residualized(x_t, y, w)
    col = (y if w is None else w * y)[:, None]
    a_xy1 = cp.a_xy1.copy()
    a_xy1[-1] = _xy_block(col, blocks[0])[0]
    a_xyr = cp.a_xyr.copy()
    if len(blocks) > 1:
        a_xyr[-1] = np.concatenate([_xy_block(col, b).reshape(-1) for b in blocks[1:]])
    a_xyxy = cp.a_xyxy.copy()
    _set_y_products(a_xyxy, x_t, y, w)
    return replace(cp, a_xy1=a_xy1, a_xyr=a_xyr, a_xyxy=a_xyxy, beta_shift=b0)
