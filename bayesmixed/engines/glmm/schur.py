"""The PIRLS curvature of a multi-block GLMM, factored with its largest block eliminated first.

Every Newton step of :func:`.pirls.sparse_modes` factors H = (Z Lambda)' W (Z Lambda) + I.
Built as a scipy sparse matrix and factored by SuperLU, a step cost ~1.6 ms on grouseticks
(q = 584) and ~3 ms on VerbAgg (q = 340), four fifths of it scipy's per-object
bookkeeping rather than arithmetic, and a fit takes 1,500-1,900 steps: 1.8x lme4's time.

H's pattern never changes.  Ordered with the largest block's columns first, H is
[[D, C], [C', H_RR]] with D block diagonal (one k x k matrix per group of that block:
a group's rows touch only its own k columns), so eliminating D is a batch of small solves,
and what is left is the Schur complement S = H_RR - C' D^-1 C over the other blocks'
columns, dense and small when those blocks are (r = 181 on grouseticks, 24 on VerbAgg),
factored by LAPACK.  The entries of D, C and H_RR are sums over rows of w_i times
products of two columns of Z Lambda, accumulated by ``np.bincount`` at positions fixed
once per model, and the products themselves once per Lambda: a step is three bincounts,
one batched solve, C' D^-1 C (a BLAS product, or sums over pairs of C's nonzeros where C
is sparse) and a Cholesky of S -- after eliminating S's leading block too where S keeps it
diagonal (nested factors).  Measured with ``benchmarks/crossed_glmm_bench.py`` (2 cores,
load 1.6, glmer timed in the same run): grouseticks Poisson with three factors 2.5 s ->
0.83 s (lme4 0.82 s), VerbAgg 5.8 s -> 1.2 s (lme4 2.9 s).  :func:`build` keeps SuperLU
for designs whose remainder is large (InstEval-sized crossed factors), where a dense S
would cost more than it saves.

log |H| = log |D| + log |S|, exact (no approximation is added: the same H is factored).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_solve

MAX_REST = 800  # columns outside the eliminated block: S is dense r x r, factored per step
MAX_PAIRS = 3e6  # products C_ga C_gb summed into S per step (four int64 arrays of this length)
MAX_DENSE_C = 4e6  # entries of C held dense for a BLAS product
BLAS_GAIN = 50  # a BLAS flop against a gathered, bincounted pair (measured ~40-80x)


def suits(ks: list[int], n_groups: list[int]) -> bool:
    """Whether eliminating the largest block leaves a dense Schur complement small enough."""
    if len(ks) < 2:
        return False
    sizes = [k * g for k, g in zip(ks, n_groups)]
    return sum(sizes) - max(sizes) <= MAX_REST


def build(codes: list[np.ndarray], Z: list[np.ndarray], n_groups: list[int]):
    """The layout for this design, or None where SuperLU should stay (see :func:`suits`).

    Also None when the pivot groups share so many columns with the rest that the pairs of
    C's nonzeros would not fit in memory (:data:`MAX_PAIRS`), counted before any is made.
    """
    ks = [z.shape[1] for z in Z]
    if not suits(ks, n_groups):
        return None
    p = int(np.argmax([k * g for k, g in zip(ks, n_groups)]))
    touched = 0  # distinct (pivot group, rest group) pairs, times the effects they carry
    for b in range(len(Z)):
        if b != p:
            keys = np.unique(codes[p].astype(np.int64) * n_groups[b] + codes[b])
            per_group = np.bincount(keys // n_groups[b], minlength=n_groups[p])
            touched = touched + per_group * ks[b]
    if np.sum((np.asarray(touched) * ks[p]) ** 2) > MAX_PAIRS:
        return None
    return SchurCurvature(codes, Z, n_groups)


class SchurCurvature:
    """Positions of H's entries for one design, fixed once per model.

    C (pivot columns x rest columns) is kept as its nonzero entries only ("incidences":
    a pivot group's effect and a rest column that share a row), so C' D^-1 C is summed
    over the pairs of incidences within each pivot group: on VerbAgg 316 x 24^2 pairs
    against 316 x 24^2 flops of a dense product, on an InstEval-shaped design 2 million
    against 4 billion.

    Parameters
    ----------
    codes, Z, n_groups : each block's group codes (n,), design (n, k) and group count,
        in the layout of :func:`.pirls.z_matrix` (block, group, effect).
    """

    def __init__(self, codes: list[np.ndarray], Z: list[np.ndarray], n_groups: list[int]):
        self.ks = [z.shape[1] for z in Z]
        sizes = [k * g for k, g in zip(self.ks, n_groups)]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        self.q = int(starts[-1])
        self.p = int(np.argmax(sizes))  # the pivot block, eliminated first
        # the remaining blocks largest first: the next one to eliminate leads S
        self.rest = sorted((b for b in range(len(Z)) if b != self.p), key=lambda b: -sizes[b])
        self.g_p, self.k_p = n_groups[self.p], self.ks[self.p]
        self.pivot_cols = np.arange(starts[self.p], starts[self.p + 1])
        self.rest_cols = np.concatenate([np.arange(starts[b], starts[b + 1]) for b in self.rest])
        self.r = r = len(self.rest_cols)
        local = {}  # each rest block's column (within R) for each row and effect
        offset = 0
        for b in self.rest:
            local[b] = offset + codes[b][:, None] * self.ks[b] + np.arange(self.ks[b])
            offset += sizes[b]
        kp, cp, n = self.k_p, codes[self.p], len(codes[self.p])
        self._d_idx = (cp[:, None] * kp * kp + np.arange(kp * kp)).ravel()
        c_keys = np.concatenate(
            [((cp[:, None] * kp + np.arange(kp))[:, :, None] * r
              + local[c][:, None, :]).reshape(n, -1) for c in self.rest],
            axis=1,
        ).ravel()  # fmt: skip
        keys, self._c_idx = np.unique(c_keys, return_inverse=True)  # sorted: by group first
        self.m, self.keys = len(keys), keys
        self.inc_row, self.inc_col = keys // r, keys % r  # pivot column (group*k + j), rest column
        self._pairs(keys // (r * kp))
        # C' D^-1 C as a dense product where C is dense enough for BLAS to beat the gathers
        gk = self.g_p * kp
        self.dense_c = gk * r <= MAX_DENSE_C and gk * r * r <= BLAS_GAIN * len(self.pair_s)
        self._h_idx = np.concatenate(
            [(local[b][:, :, None] * r + local[c][:, None, :]).reshape(n, -1)
             for b in self.rest for c in self.rest],
            axis=1,
        ).ravel()  # fmt: skip
        self.Z = Z
        self.columns = [  # each row's columns of u, block by block
            starts[b] + codes[b][:, None] * self.ks[b] + np.arange(self.ks[b])
            for b in range(len(Z))
        ]
        self.all_columns = np.concatenate([c.ravel() for c in self.columns])
        self.second = self._second_block(sizes)

    def _second_block(self, sizes: list[int]) -> tuple | None:
        """The largest remaining block, if S's pattern keeps it block diagonal (else None)."""
        if len(self.rest) < 2:
            return None
        b = self.rest[0]  # S's leading columns
        k, r, m = self.ks[b], self.r, sizes[b]
        entries = np.concatenate([self._h_idx, self.pair_s])
        row, col = entries // r, entries % r
        inside = (row < m) & (col < m)
        if np.any(row[inside] // k != col[inside] // k):
            return None
        return m, k

    def _pairs(self, group: np.ndarray) -> None:
        """Every ordered pair of incidences within one pivot group, and where it lands in S."""
        counts = np.bincount(group, minlength=self.g_p)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        squares = counts * counts
        owner = np.repeat(np.arange(self.g_p), squares)
        t = np.arange(len(owner)) - np.repeat(np.cumsum(squares) - squares, squares)
        self.pair_a = first[owner] + t // counts[owner]
        self.pair_b = first[owner] + t % counts[owner]
        self.pair_s = self.inc_col[self.pair_a] * self.r + self.inc_col[self.pair_b]
        k = self.k_p  # D^-1 entry (group, j, l) of the pair
        j, m = self.inc_row[self.pair_a] % k, self.inc_row[self.pair_b] % k
        self.pair_d = (owner * k + j) * k + m

    def at(self, lams: list[np.ndarray]) -> CurvatureAt:
        """The products of Z Lambda's columns for one Lambda (one objective evaluation)."""
        zl = [z @ lam for z, lam in zip(self.Z, lams)]
        zp = zl[self.p]
        n = len(zp)
        d = (zp[:, :, None] * zp[:, None, :]).reshape(n, -1)
        c = np.concatenate(
            [(zp[:, :, None] * zl[b][:, None, :]).reshape(n, -1) for b in self.rest], axis=1
        )
        h = np.concatenate(
            [(zl[b][:, :, None] * zl[c][:, None, :]).reshape(n, -1)
             for b in self.rest for c in self.rest],
            axis=1,
        )  # fmt: skip
        return CurvatureAt(self, zl, d, c, h)


class CurvatureAt:
    """H's row products at one Lambda; :meth:`factor` weights them for one Newton step.

    Also Z Lambda's products with vectors (:meth:`matvec`, :meth:`rmatvec`) from the
    dense per-block columns, so a Newton step builds no scipy object at all.
    """

    def __init__(self, layout: SchurCurvature, zl: list[np.ndarray], d, c, h) -> None:
        self.layout, self.zl, self._d, self._c, self._h = layout, zl, d, c, h

    def matvec(self, u: np.ndarray) -> np.ndarray:
        """Z Lambda u."""
        out = 0.0
        for zl, cols in zip(self.zl, self.layout.columns):
            out = out + (zl[:, 0] * u[cols[:, 0]] if zl.shape[1] == 1
                         else np.einsum("nk,nk->n", zl, u[cols]))  # fmt: skip
        return out

    def rmatvec(self, s: np.ndarray) -> np.ndarray:
        """(Z Lambda)' s."""
        values = np.concatenate([(zl * s[:, None]).ravel() for zl in self.zl])
        return np.bincount(self.layout.all_columns, values, minlength=self.layout.q)

    def factor(self, w: np.ndarray) -> SchurFactor:
        lay = self.layout
        g, k, r = lay.g_p, lay.k_p, lay.r
        d = np.bincount(lay._d_idx, (self._d * w[:, None]).ravel(), minlength=g * k * k)
        cv = np.bincount(lay._c_idx, (self._c * w[:, None]).ravel(), minlength=lay.m)
        h = np.bincount(lay._h_idx, (self._h * w[:, None]).ravel(), minlength=r * r)
        dinv, logdet_d = _block_inverse(d.reshape(g, k, k) + np.eye(k))
        if lay.dense_c:
            c = np.zeros(g * k * r)
            c[lay.keys] = cv
            c = c.reshape(g, k, r)
            dinv_c = c * dinv[:, :, 0, None] if k == 1 else np.einsum("gjl,glr->gjr", dinv, c)
            s = h.reshape(r, r) - c.reshape(g * k, r).T @ dinv_c.reshape(g * k, r)
        else:
            fill = cv[lay.pair_a] * cv[lay.pair_b] * dinv.ravel()[lay.pair_d]
            s = (h - np.bincount(lay.pair_s, fill, minlength=r * r)).reshape(r, r)
        s[np.diag_indices(r)] += 1.0
        dense = DenseFactor(s, lay.second)  # LinAlgError if H is not positive definite
        return SchurFactor(lay, dinv, cv, dense, logdet_d + dense.logdet)


class SchurFactor:
    """H factored: :meth:`solve` and ``logdet``, the interface of the SuperLU path."""

    def __init__(self, layout: SchurCurvature, dinv, cv, dense: DenseFactor, logdet: float):
        self.layout, self._dinv, self._cv, self._dense = layout, dinv, cv, dense
        self.logdet = logdet

    def _dinv_apply(self, v: np.ndarray) -> np.ndarray:
        g, k = self.layout.g_p, self.layout.k_p
        return np.einsum("gjl,gl->gj", self._dinv, v.reshape(g, k)).ravel()

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        lay = self.layout
        gk, r = lay.g_p * lay.k_p, lay.r
        y = self._dinv_apply(rhs[lay.pivot_cols])
        ct_y = np.bincount(lay.inc_col, self._cv * y[lay.inc_row], minlength=r)
        x_r = self._dense.solve(rhs[lay.rest_cols] - ct_y)
        c_x = np.bincount(lay.inc_row, self._cv * x_r[lay.inc_col], minlength=gk)
        out = np.empty(lay.q)
        out[lay.pivot_cols] = y - self._dinv_apply(c_x)
        out[lay.rest_cols] = x_r
        return out


class DenseFactor:
    """S (dense, r x r) factored, its leading block eliminated first where S keeps it diagonal.

    ``second`` = (that block's column count m, its k): nested factors (grouseticks' broods
    in locations) leave the broods' part of S block diagonal after the first elimination,
    so S factors as a batch of k x k blocks and a Schur complement over the remaining
    columns (63 x 63 instead of 181 x 181: ~0.05 against ~0.4 ms).
    """

    def __init__(self, s: np.ndarray, second: tuple | None) -> None:
        self.second = second
        if second is None:
            self.chol = np.linalg.cholesky(s)
            self.logdet = 2.0 * float(np.sum(np.log(np.diagonal(self.chol))))
            return
        m, k = second
        g = m // k
        self.dinv, logdet_d = _block_inverse(
            s[:m, :m].reshape(g, k, g, k)[np.arange(g), :, np.arange(g), :]
        )
        self.c = s[:m, m:]
        self.dinv_c = np.einsum("gjl,glr->gjr", self.dinv, self.c.reshape(g, k, -1)).reshape(m, -1)
        self.chol = np.linalg.cholesky(s[m:, m:] - self.c.T @ self.dinv_c)
        self.logdet = logdet_d + 2.0 * float(np.sum(np.log(np.diagonal(self.chol))))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        if self.second is None:
            return cho_solve((self.chol, True), rhs, check_finite=False)
        m, k = self.second
        y = np.einsum("gjl,gl->gj", self.dinv, rhs[:m].reshape(m // k, k)).ravel()
        x_o = cho_solve((self.chol, True), rhs[m:] - self.c.T @ y, check_finite=False)
        return np.concatenate([y - self.dinv_c @ x_o, x_o])


def _block_inverse(d: np.ndarray) -> tuple[np.ndarray, float]:
    """Inverses of a batch of k x k positive definite blocks (g, k, k), and their log|.|."""
    if d.shape[1] == 1:
        return 1.0 / d, float(np.sum(np.log(d)))
    chol = np.linalg.cholesky(d)  # LinAlgError if a block is not positive definite
    logdet = 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
    return np.linalg.inv(d), logdet
