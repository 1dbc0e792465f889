"""The profiled criterion of strictly nested random effects, eliminated level by level.

When every random-effects level is nested in every coarser one (classes in schools in
regions; statsmodels' vcomp2, whose ``v2`` sits in ``v1`` in ``groups`` although the
labels are coded as crossed), Lambda'Z'Z Lambda + I is the matrix of a tree: a group
couples only to itself and to its one ancestor at each coarser level.  Eliminating the
finest level first then creates no fill-in outside those ancestor blocks -- the
elimination order a fill-reducing sparse Cholesky (CHOLMOD's, lme4's) finds for such
designs -- and each level's pivots are independent k x k blocks: a handful of
vectorized NumPy operations per level, whatever the number of groups, where the
component layout (:mod:`.components`) factors each top-level group's whole subtree as
one dense matrix.  Measured on this machine (2 shared cores, one evaluation, ms):

=====================================================  ==========  =========
design                                                 components  tree
=====================================================  ==========  =========
four levels (2,000 / 10,000 / 20,000 groups, scalar)   8-14        1.9-2.6
vcomp2 (100 groups x 2 slopes / 400 / 800)             0.32        0.42
24 groups with a random slope, 2-3 subgroups each      0.11-0.15   0.19-0.28
=====================================================  ==========  =========

Small designs are bound by the number of NumPy calls, of which the tree makes more
(about ten a level and eight a pair of levels), so it is taken only where the
layout's own estimate of an evaluation is large (:data:`.criterion.TREE_FROM_US`).
A compiled loop over the groups (numba, generic k) was tried: ~110 ns a group, 3.5 ms
an evaluation of the four-level design and 0.3 ms of vcomp2 -- no faster than these
vectorized levels where they are large, and it would bring numba's import (0.17 s)
and a compiled build to every ML fit.

Only the criterion uses the tree (the optimizer's and the standard errors' many
evaluations); the fit's final factorization, with its BLUPs and conditional
variances, is the layout's own (:meth:`.deviance.ProfiledCriterion.factor`).  Level
frequency weights (``fweight()`` at a level: ``cp.copies``) keep the layout's path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...design.types import Design
from .components import re_entries
from .crossprod import CrossProducts
from .deviance import FactorBase, schur_fields


@dataclass
class TreeLayout:
    """Elimination order of the levels, each group's slot, and its ancestors' slots.

    ``levels`` are positions in the cross-products' evaluation order, finest first.
    Each level's groups are stored in ``slot`` order (``slot[i][g]`` is group g's
    slot), sorted by their ancestors, so that every group's children are contiguous:
    ``starts[(i, j)]`` (i < j, indices into ``levels``) are the first slots of each
    level-j group's descendants at level i, for :func:`numpy.add.reduceat`.
    ``ancestor[(i, j)][s]`` is the slot of level i's slot s's level-j ancestor.
    """

    levels: list[int]
    slot: list[np.ndarray]
    ancestor: dict[tuple[int, int], np.ndarray]
    starts: dict[tuple[int, int], np.ndarray]


def detect_tree(design: Design, order: list[int]) -> TreeLayout | None:
    """The nesting of ``design``'s blocks (evaluation ``order``), or None if not a tree.

    Levels are sorted by their number of groups, most first; level i must map each of
    its groups to a single group of every later level (which makes the ancestors
    transitive: a group's level-j ancestor is that of its level-m ancestor).
    """
    if len(order) < 2:
        return None
    blocks = [design.blocks[i] for i in order]
    levels = sorted(range(len(order)), key=lambda pos: -blocks[pos].n_groups)
    parents = {}
    for i, pos in enumerate(levels):
        codes, g = blocks[pos].codes, blocks[pos].n_groups
        for j in range(i + 1, len(levels)):
            coarse = blocks[levels[j]]
            parent = np.full(g, -1)
            parent[codes] = coarse.codes
            if np.any(parent < 0) or np.any(parent[codes] != coarse.codes):
                return None
            parents[(i, j)] = parent
    n_lev = len(levels)
    slot = [np.empty(0, int)] * n_lev
    slot[-1] = np.arange(blocks[levels[-1]].n_groups)
    for i in range(n_lev - 2, -1, -1):  # children sorted by their parent's slot
        by_parent = np.argsort(slot[i + 1][parents[(i, i + 1)]], kind="stable")
        slot[i] = np.empty_like(by_parent)
        slot[i][by_parent] = np.arange(by_parent.size)
    ancestor, starts = {}, {}
    for (i, j), parent in parents.items():
        anc = np.empty_like(parent)
        anc[slot[i]] = slot[j][parent]  # non-decreasing in the slot
        ancestor[(i, j)] = anc
        starts[(i, j)] = np.flatnonzero(np.r_[True, anc[1:] != anc[:-1]])
    return TreeLayout(levels, slot, ancestor, starts)


@dataclass
class TreeData:
    """Per level (elimination order): Z'Z per group, Z'Z against each ancestor, [X y]'Z."""

    diag: list[np.ndarray]  # (g, k, k)
    off: dict[tuple[int, int], np.ndarray]  # (g_i, k_j, k_i): the ancestor's rows
    xy: list[np.ndarray]  # (g, p + 1, k)


def gather_tree(tree: TreeLayout, cp: CrossProducts) -> TreeData:
    """Read the per-level blocks of ``tree`` from the cross-products.

    Raises
    ------
    RuntimeError
        If some cross-product links two groups that the tree says are not related.
    """
    n_lev = len(tree.levels)
    base = np.concatenate([[0], cp.k[0] * cp.n_groups[0] + np.asarray(cp.offsets, int)])
    rank = np.empty(n_lev, int)
    rank[tree.levels] = np.arange(n_lev)
    sizes = [k * g for k, g in zip(cp.k, cp.n_groups)]
    q = int(sum(sizes))
    block = np.repeat(np.arange(n_lev), sizes)
    local = np.arange(q) - base[block]
    kk = np.asarray(cp.k)[block]
    level, group, within = rank[block], local // kk, local % kk
    ks = [cp.k[pos] for pos in tree.levels]
    gs = [cp.n_groups[pos] for pos in tree.levels]
    r, c, v = re_entries(cp)
    lr, lc = level[r], level[c]
    group = np.concatenate(
        [tree.slot[rank[b]][group[block == b]] for b in range(n_lev)]
    )  # each effect's group slot
    diag = []
    for i in range(n_lev):
        sel = (lr == i) & (lc == i)
        if np.any(group[r[sel]] != group[c[sel]]):
            raise RuntimeError("the cross-products link two groups of one level")
        a = np.zeros((gs[i], ks[i], ks[i]))
        a[group[r[sel]], within[r[sel]], within[c[sel]]] = v[sel]
        diag.append(a)
    off = {}
    for (i, j), anc in tree.ancestor.items():
        sel = (lr == j) & (lc == i)  # rows: the ancestor's effects, columns: level i's
        if np.any(anc[group[c[sel]]] != group[r[sel]]):
            raise RuntimeError("the cross-products link groups the nesting does not relate")
        a = np.zeros((gs[i], ks[j], ks[i]))
        a[group[c[sel]], within[r[sel]], within[c[sel]]] = v[sel]
        off[(i, j)] = a
    a_xyz = np.concatenate([cp.a_xy1.reshape(cp.p + 1, -1), cp.a_xyr], axis=1)
    xy = []
    for i, pos in enumerate(tree.levels):
        cols = a_xyz[:, base[pos] : base[pos] + ks[i] * gs[i]]
        per_group = np.empty((gs[i], cp.p + 1, ks[i]))
        per_group[tree.slot[i]] = cols.reshape(cp.p + 1, gs[i], ks[i]).transpose(1, 0, 2)
        xy.append(per_group)
    return TreeData(diag, off, xy)


def _right(a: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """(g, m, k) @ (k, k): one matrix product for all groups (a scaling when k = 1)."""
    if lam.shape[0] == 1:
        return a * float(lam[0, 0])
    g, m, k = a.shape
    return (a.reshape(g * m, k) @ lam).reshape(g, m, k)


def _left(lt: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(k, k) @ (g, k, m) for all groups: the transpose of :func:`_right`."""
    if lt.shape[0] == 1:
        return a * float(lt[0, 0])
    return _tr(_right(np.ascontiguousarray(_tr(a)), lt.T))


def _outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per group a @ b' for (g, m, k) and (g, n, k): a broadcast product when k = 1."""
    if a.shape[-1] == 1:
        return a * b.transpose(0, 2, 1)
    return a @ _tr(b)


def _tr(a: np.ndarray) -> np.ndarray:
    return a.transpose(0, 2, 1)


SMALL_K = 4  # up to this size the per-group factors are unrolled over k, vectorized over groups


def _chol_inv(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group: log of the Cholesky factor's diagonal and its inverse L^-1.

    Small blocks are factored entry by entry, each step one operation over all groups:
    LAPACK's batched calls cost ~1 us a group (100 random slopes: 80 of 300 us).
    """
    k = m.shape[1]
    if k == 1:
        root = np.sqrt(m)
        return np.log(root[:, :, 0]), 1.0 / root
    if k > SMALL_K:
        low = np.linalg.cholesky(m)
        return np.log(np.diagonal(low, axis1=1, axis2=2)), np.linalg.inv(low)
    low = np.zeros_like(m)
    for j in range(k):
        low[:, j, j] = np.sqrt(m[:, j, j] - np.sum(low[:, j, :j] ** 2, axis=1))
        for i in range(j + 1, k):
            dot = np.sum(low[:, i, :j] * low[:, j, :j], axis=1)
            low[:, i, j] = (m[:, i, j] - dot) / low[:, j, j]
    inv = np.zeros_like(m)
    diag = np.diagonal(low, axis1=1, axis2=2)
    for i in range(k):
        inv[:, i, i] = 1.0 / diag[:, i]
        for j in range(i):
            dot = np.sum(low[:, i, j:i] * inv[:, j:i, j], axis=1)
            inv[:, i, j] = -dot / diag[:, i]
    return np.log(diag), inv


def tree_factor(
    tree: TreeLayout, data: TreeData, cp: CrossProducts, lams: list[np.ndarray]
) -> FactorBase:
    """log|L_Z|^2 and the [X y] Schur complement's factor at one theta (``lams``, eval order).

    Raises
    ------
    numpy.linalg.LinAlgError
        If a pivot is not positive (as a Cholesky factorization would).
    """
    n_lev = len(tree.levels)
    lam = [lams[pos] for pos in tree.levels]
    minus_diag: list = [0.0] * n_lev  # accumulated Schur updates of each level's pivots
    minus_xy: list = [0.0] * n_lev
    minus_off: dict = {key: 0.0 for key in tree.ancestor}
    schur = cp.a_xyxy.copy()
    logdet = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(n_lev):
            k = lam[i].shape[0]
            pivot = _left(lam[i].T, _right(data.diag[i], lam[i])) - minus_diag[i]
            pivot[:, np.arange(k), np.arange(k)] += 1.0
            logs, inv = _chol_inv(pivot)
            if not np.all(np.isfinite(logs)):
                raise np.linalg.LinAlgError("a pivot of the nested factorization is not positive")
            logdet += 2.0 * float(logs.sum())
            l_xy = _outer(_right(data.xy[i], lam[i]) - minus_xy[i], inv)  # (g, p+1, k)
            flat = l_xy.transpose(1, 0, 2).reshape(cp.p + 1, -1)
            schur -= flat @ flat.T
            l_up = {}
            for j in range(i + 1, n_lev):
                c = _left(lam[j].T, _right(data.off[(i, j)], lam[i]))
                l_up[j] = _outer(c - minus_off[(i, j)], inv)  # (g_i, k_j, k_i)
            for j, lj in l_up.items():
                starts = tree.starts[(i, j)]
                minus_diag[j] = minus_diag[j] + _gather(starts, _outer(lj, lj))
                minus_xy[j] = minus_xy[j] + _gather(starts, _outer(l_xy, lj))
                for j2 in range(j + 1, n_lev):
                    minus_off[(j, j2)] = minus_off[(j, j2)] + _gather(starts, _outer(l_up[j2], lj))
    return FactorBase(**schur_fields(cp, lams, schur, logdet))


def _gather(starts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum (g_i, a, b) per-group values over each ancestor's contiguous children."""
    return np.add.reduceat(values, starts, axis=0)
