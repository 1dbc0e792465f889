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
0.83 s (lme4 0.82 s), VerbAgg 5.8 s -> 1.2 s (lme4 2.9 s).  Then, with the first stage of
:mod:`.first_stage`, only the parts of S its factorization reads (:meth:`SchurCurvature._read`)
and C kept dense for the solves where it is formed dense: 0.24 s (lme4 0.92 s) and 0.61 s
(lme4 3.68 s) in one run, 0.41-0.43 s (1.23-1.28 s) and 0.90-0.92 s (4.15-4.25 s) in two
slower ones.

Large remainders too: SuperLU's LU of H (its column ordering is made for unsymmetric
matrices) fills in far beyond the dense S.  A Bernoulli model with 1,000 x 900 crossed
factors (20,000 rows) took 0.64 s a factorization and 272 s a fit that way, 6.5 s with S
dense (r = 900, the same log likelihood); with 3,000 x 1,100 (73,000 rows, InstEval's
shape) over 900 s against 17 s, where lme4 took 303 s.  :func:`build` keeps SuperLU only
where S would not fit in memory comfortably (:data:`MAX_REST`: 128 MB a copy).

log |H| = log |D| + log |S|, exact (no approximation is added: the same H is factored).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy.linalg import lapack

MAX_REST = 4000  # columns outside the eliminated block: S is dense r x r, factored per step
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
        self.pivot_cols = _as_slice(np.arange(starts[self.p], starts[self.p + 1]))
        self.rest_cols = _as_slice(
            np.concatenate([np.arange(starts[b], starts[b + 1]) for b in self.rest])
        )
        self.r = r = int(sum(sizes)) - sizes[self.p]
        local, start_in_r = {}, {}  # each rest block's column (within R) per row and effect
        offset = 0
        for b in self.rest:
            local[b] = offset + codes[b][:, None] * self.ks[b] + np.arange(self.ks[b])
            start_in_r[b] = offset
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
        self._inc_group = keys // (r * kp)  # each incidence's pivot group
        counts = np.bincount(self._inc_group, minlength=self.g_p).astype(np.int64)
        self.n_pairs = int(np.sum(counts * counts))
        # C' D^-1 C as a dense product where C is dense enough for BLAS to beat the gathers
        # (then the pairs are never formed: 284,000 of them cost 25 ms in VerbAgg's first stage)
        gk = self.g_p * kp
        self.dense_c = gk * r <= MAX_DENSE_C and gk * r * r <= BLAS_GAIN * self.n_pairs
        self.second = self._second_block(sizes)
        # H_RR's products by rows, except between two blocks of one group each (all rows:
        # ``_all: x``, or the first stage's fixed-effects block), which are one BLAS product;
        # only the block pairs DenseFactor reads (:meth:`_read`)
        glob = [b for b in self.rest if n_groups[b] == 1]
        read = [(b, c) for b in self.rest for c in self.rest if self._read(b, c)]
        self.h_pairs = [(b, c) for b, c in read if not (b in glob and c in glob)]
        self.dense_pairs = [
            (b, c, slice(start_in_r[b], start_in_r[b] + self.ks[b]),
             slice(start_in_r[c], start_in_r[c] + self.ks[c]))
            for b, c in read if b in glob and c in glob
        ]  # fmt: skip
        self._h_idx = np.concatenate(
            [(local[b][:, :, None] * r + local[c][:, None, :]).reshape(n, -1)
             for b, c in self.h_pairs] or [np.zeros((n, 0), np.int64)],
            axis=1,
        ).ravel()  # fmt: skip
        self.Z = Z
        self.columns = [  # each row's columns of u, block by block
            starts[b] + codes[b][:, None] * self.ks[b] + np.arange(self.ks[b])
            for b in range(len(Z))
        ]
        self.all_columns = np.concatenate([c.ravel() for c in self.columns])

    def _read(self, b: int, c: int) -> bool:
        """Whether S's (b, c) block of rows and columns is read when S is factored.

        LAPACK's lower Cholesky reads S's lower triangle only, so a block above the
        diagonal is never formed (VerbAgg's first stage: 7 products a row instead of 13).
        Where the second block is eliminated first, its row of blocks is read instead of
        its column (the coupling ``c`` of :class:`DenseFactor`).
        """
        pos, lead = self.rest.index, self.rest[0]
        if self.second is not None and lead in (b, c):
            return b == lead
        return pos(b) >= pos(c)

    def _second_block(self, sizes: list[int]) -> tuple | None:
        """The largest remaining block, if S's pattern keeps it block diagonal (else None).

        H_RR's own part there is block diagonal (a row touches one group of each block), so
        only C' D^-1 C can couple two of its groups: when one pivot group has incidences in
        both.
        """
        if len(self.rest) < 2:
            return None
        b = self.rest[0]  # S's leading columns
        k, m = self.ks[b], sizes[b]
        inside = self.inc_col < m
        touched = np.unique(self._inc_group[inside] * (m // k) + self.inc_col[inside] // k)
        if np.any(np.diff(touched // (m // k)) == 0):
            return None
        return m, k

    @cached_property
    def _pair_data(self) -> tuple[np.ndarray, ...]:
        """Every ordered pair of incidences within one pivot group, and where it lands in S.

        (first incidence, second incidence, flat position in S, flat D^-1 entry); formed on
        first use, by the pairs path of :meth:`CurvatureAt.factor` only.
        """
        group = self._inc_group
        counts = np.bincount(group, minlength=self.g_p)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        squares = counts * counts
        owner = np.repeat(np.arange(self.g_p), squares)
        t = np.arange(len(owner)) - np.repeat(np.cumsum(squares) - squares, squares)
        pair_a = first[owner] + t // counts[owner]
        pair_b = first[owner] + t % counts[owner]
        row, col = self.inc_col[pair_a], self.inc_col[pair_b]
        read = self._reads(row, col)  # half of them land above the diagonal: never read
        pair_a, pair_b, owner = pair_a[read], pair_b[read], owner[read]
        k = self.k_p  # D^-1 entry (group, j, l) of the pair
        j, m = self.inc_row[pair_a] % k, self.inc_row[pair_b] % k
        return pair_a, pair_b, row[read] * self.r + col[read], (owner * k + j) * k + m

    def _reads(self, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        """Whether S's entries (row, col) are read when S is factored (see :meth:`_read`)."""
        if self.second is None:
            return row >= col
        m = self.second[0]  # the second block's rows are read whole, its column not at all
        return np.where(row < m, True, (col >= m) & (row >= col))

    pair_a = property(lambda self: self._pair_data[0], doc="each pair's first incidence")
    pair_b = property(lambda self: self._pair_data[1], doc="each pair's second incidence")
    pair_s = property(lambda self: self._pair_data[2], doc="each pair's flat position in S")
    pair_d = property(lambda self: self._pair_data[3], doc="each pair's flat D^-1 entry")

    @cached_property
    def h_and_pairs(self) -> np.ndarray:
        """H_RR's row positions, then the pairs': one bincount sums S."""
        return np.concatenate([self._h_idx, self.pair_s])

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
             for b, c in self.h_pairs] or [np.zeros((n, 0))],
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
        hw = (self._h * w[:, None]).ravel()
        if k == 1:
            d = d + 1.0
            dinv, logdet_d = (1.0 / d).reshape(g, 1, 1), float(np.sum(np.log(d)))
        else:
            dinv, logdet_d = _block_inverse(d.reshape(g, k, k) + np.eye(k))
        c = None
        if lay.dense_c:
            c = np.zeros(g * k * r)
            c[lay.keys] = cv
            c = c.reshape(g, k, r)
            dinv_c = c * dinv[:, :, 0, None] if k == 1 else np.einsum("gjl,glr->gjr", dinv, c)
            c = c.reshape(g * k, r)
            s = np.bincount(lay._h_idx, hw, minlength=r * r).reshape(r, r)
            s -= c.T @ dinv_c.reshape(g * k, r)
        else:  # H_RR's row products and -C' D^-1 C's pairs summed by one bincount
            fill = cv[lay.pair_a] * cv[lay.pair_b] * dinv.ravel()[lay.pair_d]
            s = np.bincount(lay.h_and_pairs, np.concatenate([hw, -fill]), minlength=r * r)
            s = s.reshape(r, r)
        for b, c_, rows, cols in lay.dense_pairs:
            s[rows, cols] += (self.zl[b] * w[:, None]).T @ self.zl[c_]
        s.flat[:: r + 1] += 1.0
        dense = DenseFactor(s, lay.second)  # LinAlgError if H is not positive definite
        return SchurFactor(lay, dinv, cv, dense, logdet_d + dense.logdet, c)


class SchurFactor:
    """H factored: :meth:`solve` and ``logdet``, the interface of the SuperLU path."""

    def __init__(
        self, layout: SchurCurvature, dinv, cv, dense: DenseFactor, logdet: float, c=None
    ) -> None:
        self.layout, self._dinv, self._cv, self._dense = layout, dinv, cv, dense
        self.logdet = logdet
        self._c = c  # C as a dense (g k, r) matrix where it was formed for BLAS, else None

    def _dinv_apply(self, v: np.ndarray) -> np.ndarray:
        g, k = self.layout.g_p, self.layout.k_p
        if k == 1:
            return self._dinv[:, 0, 0] * v
        return np.einsum("gjl,gl->gj", self._dinv, v.reshape(g, k)).ravel()

    def _ct(self, y: np.ndarray) -> np.ndarray:
        """C' y."""
        if self._c is not None:
            return self._c.T @ y
        lay = self.layout
        return np.bincount(lay.inc_col, self._cv * y[lay.inc_row], minlength=lay.r)

    def _c_times(self, x: np.ndarray) -> np.ndarray:
        """C x."""
        if self._c is not None:
            return self._c @ x
        lay = self.layout
        return np.bincount(lay.inc_row, self._cv * x[lay.inc_col], minlength=lay.g_p * lay.k_p)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        lay = self.layout
        y = self._dinv_apply(rhs[lay.pivot_cols])
        x_r = self._dense.solve(rhs[lay.rest_cols] - self._ct(y))
        c_x = self._c_times(x_r)
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
            self.chol = _cholesky(s)
            self.logdet = 2.0 * float(np.sum(np.log(np.diagonal(self.chol))))
            return
        m, k = second
        g = m // k
        if k == 1:  # a diagonal block: no batched inverse, no einsum (~3x faster here)
            d = np.diagonal(s)[:m].copy()
            self.dinv, logdet_d = 1.0 / d, float(np.sum(np.log(d)))
            self.c = s[:m, m:]
            self.dinv_c = self.c * self.dinv[:, None]
        else:
            self.dinv, logdet_d = _block_inverse(
                s[:m, :m].reshape(g, k, g, k)[np.arange(g), :, np.arange(g), :]
            )
            self.c = s[:m, m:]
            self.dinv_c = np.einsum("gjl,glr->gjr", self.dinv, self.c.reshape(g, k, -1)).reshape(
                m, -1
            )
        self.chol = _cholesky(s[m:, m:] - self.c.T @ self.dinv_c)
        self.logdet = logdet_d + 2.0 * float(np.sum(np.log(np.diagonal(self.chol))))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        if self.second is None:
            return _cho_solve(self.chol, rhs)
        m, k = self.second
        if k == 1:
            y = self.dinv * rhs[:m]
        else:
            y = np.einsum("gjl,gl->gj", self.dinv, rhs[:m].reshape(m // k, k)).ravel()
        x_o = _cho_solve(self.chol, rhs[m:] - self.c.T @ y)
        return np.concatenate([y - self.dinv_c @ x_o, x_o])


def _cholesky(a: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor by LAPACK's dpotrf (NumPy's gufunc adds ~7 us a call here)."""
    chol, info = lapack.dpotrf(a, lower=1, clean=1)
    if info != 0:
        raise np.linalg.LinAlgError("the PIRLS curvature is not positive definite")
    return chol


def _cho_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve with a lower Cholesky factor (dpotrs: half of ``cho_solve``'s call overhead)."""
    x, info = lapack.dpotrs(chol, rhs, lower=1)
    if info != 0:  # pragma: no cover - only for malformed arguments
        raise np.linalg.LinAlgError("dpotrs failed")
    return x


def _block_inverse(d: np.ndarray) -> tuple[np.ndarray, float]:
    """Inverses of a batch of k x k positive definite blocks (g, k, k), and their log|.|."""
    if d.shape[1] == 1:
        return 1.0 / d, float(np.sum(np.log(d)))
    chol = np.linalg.cholesky(d)  # LinAlgError if a block is not positive definite
    logdet = 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
    return np.linalg.inv(d), logdet


def _as_slice(cols: np.ndarray) -> slice | np.ndarray:
    """A run of consecutive columns as a slice (a view, not a gather), else the indices."""
    if len(cols) and np.all(np.diff(cols) == 1):
        return slice(int(cols[0]), int(cols[-1]) + 1)
    return cols
