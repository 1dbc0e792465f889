"""The profiled deviance factored one connected component of the random effects at a time.

Two random effects interact in Lambda'Z'Z Lambda + I only if some row carries both.
Link the levels of all blocks that share a row: the connected components of that
graph split the matrix into independent diagonal blocks (after a permutation).
Nested factors give many small components whatever their coding -- ``(1 | v1)``
with labels unique across ``groups`` (statsmodels' vcomp2), ``(1 | groups:v1)``,
grouseticks' BROOD within LOCATION -- and the blocked layout of :mod:`.deviance`
then wastes its time: it factors everything after the first block as one dense
Schur complement (605 wide for vcomp2: ~36 ms an evaluation, 50x lme4's fit).

Here each component c has its own dense factor L_c of Lambda_c'A_cc Lambda_c + I,
computed as a batch: components are grouped by size, padded to a common size per
group (a padded slot has A = 0 and Lambda = 0, so a unit diagonal: it adds nothing
to log|L|^2 and nothing to the Schur complement).  X and y enter only through
the (p+1) x (p+1) Schur complement A_xyxy - sum_c W_c'W_c, W_c = L_c^-1 Lambda_c'A_c,xy.
The deviance, beta and BLUPs agree with the blocked layout to ~1e-15 relative.

Choice between the layouts (:func:`component_layout`) by a time model fitted to
measurements on this machine (2 shared cores, single-threaded OpenBLAS, float64,
one evaluation of ``factor``; blocked vs component, in ms):

===================================================  ========  ==========
design                                               blocked   components
===================================================  ========  ==========
vcomp2, 100 groups (q_r = 600; 100 components of 14)  40        1.5
vcomp2, 300 groups (q_r = 1,800)                      407       1.3
vcomp2, 20 groups (q_r = 120)                         0.9       0.25
grouseticks shape (63 locations, 118 broods, 403)     1.8       0.6
24 groups x 2 nested levels, random slope             0.5       0.17
4 groups x 100 nested levels (components of 101)      0.09      1.8
2 groups x 400 nested levels (components of 401)      0.5       28
===================================================  ========  ==========

* blocked: ``BLOCKED_US`` of NumPy calls plus ``BLOCKED_NS`` per flop of
  (q_r + p + 1)^3 / 3 (the dense Cholesky) + 12 q_r^2 (scaling A_rr, Gram products);
* components: ``COMPONENT_US`` plus ``BUCKET_US`` per size group plus
  ``COMPONENT_NS`` per flop of 3 s^3 + 2 s^2 (p+1) per padded component of size s.

The component layout is taken when its estimate is below ``PREFER`` times the
blocked one's (tests set ``PREFER = 0`` to force the blocked layout).  A design that
is one giant component (crossed factors, InstEval) keeps the blocked layout, which
exploits the first block's own diagonal structure, and so does a single
random-effects block (its levels are already the components); few large components
(the last two rows) are also left to it by the time model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ...design.types import Design
from ...spec.covariance import CovStructure
from .crossprod import CrossProducts
from .deviance import FactorBase, ProfiledCriterion, schur_fields

PREFER = 1.0  # take the component layout when its time is below PREFER x the blocked one's
# the measured time model of one evaluation (module docstring), in microseconds and ns/flop
BLOCKED_US, BLOCKED_NS = 400.0, 0.5
COMPONENT_US, BUCKET_US, COMPONENT_NS = 250.0, 150.0, 0.15


def _flops(size: float, p: int) -> float:
    """Two batched products and the bordered Cholesky of one padded component."""
    return 3.0 * size**3 + 2.0 * size**2 * (p + 1)


@dataclass
class Bucket:
    """Components of one padded size: their slots and where Lambda's entries go."""

    size: int
    count: int
    lam_at: tuple[np.ndarray, np.ndarray, np.ndarray]  # (component, row, col) of Lambda
    lam_src: np.ndarray  # index into the concatenated, flattened block lambdas


@dataclass
class ComponentLayout:
    """Where each random effect sits: bucket, component within it, slot within that.

    Random effects are numbered as in the cross-products: the first block's
    ``g * k + a``, then each other block after ``q1 + offset``.
    """

    buckets: list[Bucket]
    bucket_of: np.ndarray  # (q,) per random effect
    row_of: np.ndarray
    pos_of: np.ndarray
    k: list[int]
    n_groups: list[int]

    @property
    def n_components(self) -> int:
        return int(sum(b.count for b in self.buckets))

    def cost(self, p: int) -> float:
        """Estimated microseconds of one evaluation (see the module docstring)."""
        per = [BUCKET_US + b.count * _flops(b.size, p) * COMPONENT_NS / 1e3 for b in self.buckets]
        return COMPONENT_US + float(sum(per))

    @property
    def re_base(self) -> np.ndarray:
        sizes = [k * g for k, g in zip(self.k, self.n_groups)]
        return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)


def blocked_cost(cp: CrossProducts) -> float:
    """Estimated microseconds of one evaluation of the blocked layout (module docstring)."""
    q_r = cp.q_rest
    flops = (q_r + cp.p + 1) ** 3 / 3.0 + 12.0 * q_r**2
    return BLOCKED_US + flops * BLOCKED_NS / 1e3


def _padded(sizes: np.ndarray, p: int) -> np.ndarray:
    """Padded size of each component: the grouping of sorted sizes with the least time.

    Each size group costs ``BUCKET_US`` of NumPy calls and pads its members to its
    largest size; a dynamic programme over the distinct sizes (contiguous groups)
    balances the two: vcomp2 has one size, grouseticks' 63 locations ~20 sizes.
    """
    uniq, counts = np.unique(sizes, return_counts=True)
    cum = np.concatenate([[0], np.cumsum(counts)])
    best, cut = np.zeros(uniq.size + 1), np.zeros(uniq.size + 1, int)
    for j in range(1, uniq.size + 1):
        i = np.arange(1, j + 1)  # group uniq[i-1 .. j-1], padded to uniq[j-1]
        each = _flops(float(uniq[j - 1]), p) * COMPONENT_NS / 1e3
        total = best[i - 1] + BUCKET_US + (cum[j] - cum[i - 1]) * each
        best[j], cut[j] = total.min(), i[np.argmin(total)]
    pad = np.empty(uniq.size, int)
    j = uniq.size
    while j > 0:
        pad[cut[j] - 1 : j] = uniq[j - 1]
        j = cut[j] - 1
    return pad[np.searchsorted(uniq, sizes)]


def _labels(design: Design, order: list[int]) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Connected components of the levels: (count, label per node, block per node, level)."""
    blocks = [design.blocks[i] for i in order]
    n_groups = np.array([b.n_groups for b in blocks])
    node_off = np.concatenate([[0], np.cumsum(n_groups)[:-1]])
    first = blocks[0].codes + node_off[0]
    rows = np.concatenate([first] * (len(blocks) - 1))
    cols = np.concatenate([b.codes + off for b, off in zip(blocks[1:], node_off[1:])])
    n_nodes = int(n_groups.sum())
    adj = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n_nodes, n_nodes))
    count, label = connected_components(adj, directed=False)
    block = np.repeat(np.arange(len(blocks)), n_groups)
    level = np.arange(n_nodes) - node_off[block]
    return int(count), label, block, level


def detect_components(design: Design, order: list[int]) -> ComponentLayout | None:
    """The component layout of ``design`` (blocks in evaluation ``order``), or None.

    None for one random-effects block or a single component: nothing to split.
    """
    if len(design.blocks) < 2:
        return None
    count, label, block, level = _labels(design, order)
    if count < 2:
        return None
    ks = np.array([design.blocks[i].k for i in order])
    n_groups = [design.blocks[i].n_groups for i in order]
    node_k = ks[block]
    sizes = np.bincount(label, weights=node_k, minlength=count).astype(int)
    padded = _padded(sizes, design.p)
    pads, bucket_of_comp = np.unique(padded, return_inverse=True)
    row_of_comp = np.empty(count, int)
    for b in range(pads.size):
        members = np.flatnonzero(bucket_of_comp == b)
        row_of_comp[members] = np.arange(members.size)
    # slots: nodes sorted by component (stable: block-major within a component)
    perm = np.argsort(label, kind="stable")
    slot_k = node_k[perm]
    re_base = np.concatenate([[0], np.cumsum(ks * np.array(n_groups))[:-1]])
    node_re = re_base[block] + level * node_k  # first random effect of each node
    starts = np.repeat(node_re[perm], slot_k)
    within = np.arange(slot_k.sum()) - np.repeat(np.cumsum(slot_k) - slot_k, slot_k)
    re_idx = starts + within
    comp = np.repeat(label[perm], slot_k)
    comp_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    q = re_idx.size
    bucket_of, row_of, pos_of = np.empty(q, int), np.empty(q, int), np.empty(q, int)
    bucket_of[re_idx] = bucket_of_comp[comp]
    row_of[re_idx] = row_of_comp[comp]
    pos_of[re_idx] = np.arange(q) - comp_start[comp]
    buckets = _buckets(pads, bucket_of_comp, ks, block, node_re, bucket_of, row_of, pos_of)
    return ComponentLayout(buckets, bucket_of, row_of, pos_of, list(ks), n_groups)


def _buckets(pads, bucket_of_comp, ks, block, node_re, bucket_of, row_of, pos_of) -> list:
    """Scatter indices of each block's k x k lambda into the padded component matrices."""
    lam_off = np.concatenate([[0], np.cumsum(ks**2)[:-1]])
    parts = []  # (bucket, row, i, j, src) per block and effect pair
    for j, k in enumerate(ks):
        first = node_re[block == j]
        a, b = np.divmod(np.arange(k * k), k)
        parts.append(
            (
                np.repeat(bucket_of[first], k * k),
                np.repeat(row_of[first], k * k),
                (pos_of[first][:, None] + a[None, :]).ravel(),
                (pos_of[first][:, None] + b[None, :]).ravel(),
                np.tile(lam_off[j] + np.arange(k * k), first.size),
            )
        )
    bkt, row, ii, jj, src = (np.concatenate(x) for x in zip(*parts))
    out = []
    for n, size in enumerate(pads):
        sel = bkt == n
        count = int(np.sum(bucket_of_comp == n))
        out.append(Bucket(int(size), count, (row[sel], ii[sel], jj[sel]), src[sel]))
    return out


def component_layout(design: Design, cp: CrossProducts) -> ComponentLayout | None:
    """The component layout when it is cheaper than the blocked one (module docstring)."""
    layout = detect_components(design, cp.order)
    if layout is None or layout.cost(cp.p) >= PREFER * blocked_cost(cp):
        return None
    return layout


# -- the factorization -----------------------------------------------------------------
def re_entries(cp: CrossProducts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nonzero entries (row, col, value) of Z'Z in the cross-products' numbering."""
    g, k, _ = cp.a11.shape
    base = np.arange(g)[:, None, None] * k
    rows = [np.broadcast_to(base + np.arange(k)[None, :, None], cp.a11.shape).ravel()]
    cols = [np.broadcast_to(base + np.arange(k)[None, None, :], cp.a11.shape).ravel()]
    vals = [cp.a11.ravel()]
    if cp.q_rest:
        q1 = g * k
        off = sp.coo_matrix(cp.a_r1 if cp.a_r1_csr is None else cp.a_r1_csr)
        rows += [off.row + q1, off.col]
        cols += [off.col, off.row + q1]
        vals += [off.data, off.data]
        rest = sp.coo_matrix(cp.a_rr)  # dense or sparse (large rest blocks)
        rows.append(rest.row + q1)
        cols.append(rest.col + q1)
        vals.append(rest.data)
    r, c, v = (np.concatenate(x) for x in (rows, cols, vals))
    keep = v != 0
    return r[keep], c[keep], v[keep]


def gather(layout: ComponentLayout, cp: CrossProducts) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per bucket, A_cc (count, s, s) and A_c,xy (count, s, p+1) read from the cross-products.

    Raises
    ------
    RuntimeError
        If some cross-product links two components: the layout is not that of ``cp``.
    """
    r, c, v = re_entries(cp)
    bkt, row, pos = layout.bucket_of, layout.row_of, layout.pos_of
    if np.any((bkt[r] != bkt[c]) | (row[r] != row[c])):
        raise RuntimeError("the cross-products link two components of the layout")
    a_xyz = np.concatenate([cp.a_xy1.reshape(cp.p + 1, -1), cp.a_xyr], axis=1)
    out = []
    for n, bk in enumerate(layout.buckets):
        a = np.zeros((bk.count, bk.size, bk.size))
        sel = bkt[r] == n
        a[row[r[sel]], pos[r[sel]], pos[c[sel]]] = v[sel]
        xy = np.zeros((bk.count, bk.size, cp.p + 1))
        idx = np.flatnonzero(bkt == n)
        xy[row[idx], pos[idx]] = a_xyz[:, idx].T
        out.append((a, xy))
    return out


def _augmented_cholesky(lam, a, xy, diagonal: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """L_c and W_c = L_c^-1 Lambda_c'A_c,xy from one batched Cholesky of a bordered matrix.

    The factor of [[M, B], [B', D]] (M = Lambda'A Lambda + I, B = Lambda'A_xy) has L_c
    top left and W_c' below it, for any D that keeps it positive definite:
    D = 2 B'B + I does, since W'W <= B'B (M >= I).  One LAPACK call per component
    instead of a Cholesky and an LU solve: the solve was a third of the evaluation.
    ``diagonal`` (every block a scalar random effect): Lambda_c is diagonal and the two
    stacked products are scalings, the same numbers at a fraction of the cost (a
    four-level nested design, 2,000 components of 16: 18 of 24 ms an evaluation).
    """
    s, m = lam.shape[1], xy.shape[2]
    big = np.empty((lam.shape[0], s + m, s + m))
    if diagonal:
        d = np.diagonal(lam, axis1=1, axis2=2)
        big[:, :s, :s] = a * d[:, :, None] * d[:, None, :]
        b = d[:, :, None] * xy
    else:
        lt = lam.transpose(0, 2, 1)
        big[:, :s, :s] = lt @ a @ lam
        b = lt @ xy
    diag = np.arange(s + m)
    big[:, s:, :s] = b.transpose(0, 2, 1)
    big[:, :s, s:] = b
    big[:, s:, s:] = 2.0 * (b.transpose(0, 2, 1) @ b)
    big[:, diag, diag] += 1.0
    low = np.linalg.cholesky(big)
    return low[:, :s, :s], low[:, s:, :s].transpose(0, 2, 1)


def lower_inverse(low: np.ndarray) -> np.ndarray:
    """L^-1 for a batch (count, s, s) of lower-triangular factors, row by row.

    Forward substitution vectorized over the batch: s - 1 small products where NumPy's
    batched inverse runs a pivoted LU per matrix.  Measured (min of 7): 100 factors of
    14, 0.28 ms against 0.55 ms; 2,000 of 16, 5.8 against 15.5 ms; 63 of 6, equal.
    A border of [B, I] in :func:`_augmented_cholesky` was tried too: 0.53 ms more for
    vcomp2's components and slower than either for grouse's.
    """
    out = np.zeros_like(low)
    inv_diag = 1.0 / np.diagonal(low, axis1=1, axis2=2)
    out[:, 0, 0] = inv_diag[:, 0]
    for i in range(1, low.shape[1]):
        row = low[:, i : i + 1, :i] @ out[:, :i, :i]
        out[:, i, :i] = -row[:, 0, :] * inv_diag[:, i : i + 1]
        out[:, i, i] = inv_diag[:, i]
    return out


@dataclass
class ComponentFactor(FactorBase):
    """L at one theta in the component layout: per bucket L_c, Lambda_c and W_c (q_r = 0)."""

    layout: ComponentLayout
    chol: list[np.ndarray]  # (count, s, s) lower factors per bucket
    lam_c: list[np.ndarray]  # (count, s, s) Lambda of each component
    w: list[np.ndarray]  # (count, s, p+1) L_c^-1 Lambda_c' A_c,xy
    copies: list[np.ndarray] | None = None  # (count, s) copies of each slot's group (fweight())

    def blups(self, beta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Modes b (groups, k) and relative conditional covariances per block, evaluation order.

        ``beta`` is in the factor's internal coordinates.  Per component the modes
        solve L_c' u = W_c,y - W_c,X beta, b = Lambda_c u; the conditional covariance
        is Lambda_c (L_c L_c')^-1 Lambda_c' (times sigma2), lme4's ``condVar``.
        """
        p = self.p
        modes, covs = [], []
        for n, (low, lam, w) in enumerate(zip(self.chol, self.lam_c, self.w)):
            rhs = w[:, :, p] - w[:, :, :p] @ beta
            u = np.linalg.solve(low.transpose(0, 2, 1), rhs[:, :, None])
            t = np.linalg.solve(low, lam.transpose(0, 2, 1)).transpose(0, 2, 1)
            # fweight(): per copy b = Lambda v / sqrt(c), Var = (T C T')_gg / c (blup docs)
            c = np.ones(lam.shape[:2]) if self.copies is None else self.copies[n]
            modes.append((lam @ u)[:, :, 0] / np.sqrt(c))
            cov = (t * c[:, None, :]) @ t.transpose(0, 2, 1)
            covs.append(cov / np.sqrt(c[:, :, None] * c[:, None, :]))
        return self._per_block(modes, covs)

    def _per_block(self, modes, covs) -> tuple[list[np.ndarray], list[np.ndarray]]:
        lay = self.layout
        values, cond = [], []
        for base, k, g in zip(lay.re_base, lay.k, lay.n_groups):
            re = base + np.arange(g)[:, None] * k + np.arange(k)[None, :]
            val, cov = np.empty((g, k)), np.empty((g, k, k))
            for n in range(len(modes)):
                sel = lay.bucket_of[re[:, 0]] == n
                row, pos = lay.row_of[re[sel, 0]], lay.pos_of[re[sel]]
                val[sel] = modes[n][row[:, None], pos]
                cov[sel] = covs[n][row[:, None, None], pos[:, :, None], pos[:, None, :]]
            values.append(val)
            cond.append(cov)
        return values, cond


class ComponentDeviance(ProfiledCriterion):
    """theta -> deviance or REML criterion, factored one component at a time.

    The per-bucket cross-products are read from ``cp`` when first needed and again
    whenever ``cp`` is replaced (a refit's new response, a whitened design), so
    callers may swap ``cp`` as they do for :class:`~.deviance.ProfiledDeviance`.
    """

    def __init__(
        self,
        cp: CrossProducts,
        structures: list[CovStructure],
        reml: bool,
        layout: ComponentLayout,
    ) -> None:
        super().__init__(cp, structures, reml)
        self.layout = layout
        self._data: tuple[CrossProducts, list] | None = None

    def _slot_copies(self) -> list[np.ndarray] | None:
        """Per bucket (count, size): copies of each slot's group (fweight()), padding 1."""
        if self.cp.copies is None:
            return None
        lay, out = self.layout, []
        for n, bk in enumerate(lay.buckets):
            out.append(np.ones((bk.count, bk.size)))
            idx = np.flatnonzero(lay.bucket_of == n)
            out[-1][lay.row_of[idx], lay.pos_of[idx]] = self.cp.copies[idx]
        return out

    def _gathered(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if self._data is None or self._data[0] is not self.cp:
            self._data = (self.cp, gather(self.layout, self.cp))
        return self._data[1]

    def factor(self, theta: np.ndarray) -> ComponentFactor:
        cp = self.cp
        lams = self.lambdas(theta)
        flat = np.concatenate([lam.ravel() for lam in lams])
        schur = cp.a_xyxy.copy()
        logdet = 0.0
        chol, lam_c, ws = [], [], []
        copies = self._slot_copies()
        for n, (bk, (a, xy)) in enumerate(zip(self.layout.buckets, self._gathered())):
            lam = np.zeros((bk.count, bk.size, bk.size))
            lam[bk.lam_at] = flat[bk.lam_src]
            low, w = _augmented_cholesky(lam, a, xy, all(k == 1 for k in cp.k))
            w2 = w.reshape(-1, cp.p + 1)
            schur -= w2.T @ w2
            logs = np.log(np.diagonal(low, axis1=1, axis2=2))
            logdet += 2.0 * float(np.sum(logs if copies is None else copies[n] * logs))
            chol.append(low)
            lam_c.append(lam)
            ws.append(w)
        return ComponentFactor(
            **schur_fields(cp, lams, schur, logdet),
            layout=self.layout,
            chol=chol,
            lam_c=lam_c,
            w=ws,
            copies=copies,
        )
