"""Exact second derivatives of the likelihood's parts for crossed scalar random effects.

Why: the standard errors of the variance components differenced the log determinants and
r2 at 36 points (:func:`.inference._parts_derivatives`); on InstEval's shape (students,
lecturers and departments, one intercept each) that was 0.9 s of a 3 s fit, each point a
factorization of the 1,158 dense rest effects.  When every block is a scalar random effect
the derivatives have closed forms in the blocked factor's own pieces, for about the price
of a few factorizations.

In the precisions phi_b = theta_b^-2 (D = sum_b phi_b P_b, P_b the indicator of block b's
effects) the criterion's parts are, up to terms linear in log theta,

* ML: log|A + D|; REML: log|H| with H = [[A + D, Z'X], [X'Z, X'X]];
* r2 = min over (b, beta) of |y - X beta - Z b|^2 + b'D b,

and D enters linearly, so (G the random-effect block of the inverse: (A + D)^-1 for ML's
log determinant, H^-1's for REML and for r2; b the modes)

* d log / d phi_b = tr(P_b G),  d2 log / d phi_b d phi_c = -sum_{i in b, j in c} G_ij^2;
* d r2 / d phi_b = |b_b|^2,  d2 r2 / d phi_b d phi_c = -2 b_b' G_bc b_c (envelope theorem).

G = Lambda N Lambda with N the matching block of K^-1, K = L L' the spherical system the
deviance factors (first block diagonal, rest and X dense: L_2), so with V = L_21 L_1^-1
and R = L_2^-T L_2^-1: N_11 = L_1^-2 + V'R V, N_1r = -V'R, N_rr = R.  The block sums of
squares need R (LAPACK's inverse from the Cholesky factor L_2) and two small Gram
matrices of V (:func:`_block_norms`); r2's terms need one solve with L per block.
The tests hold all of it against seven-point differences of the criterion itself.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack, solve_triangular

from .component_hessian import FlatDerivatives
from .deviance import ProfiledDeviance

#: rest effects (plus fixed effects) above which the differences are used instead: R, W and
#: RW are three dense m x m matrices (72 MB each at 3,000) and RW costs 2 m^3 flops
#: (InstEval's 1,161: 0.23-0.35 s in all, against 37 evaluations of ~30 ms)
MAX_REST = 3000


class ScalarHessian:
    """theta -> exact derivatives of the likelihood's parts, every block a scalar effect."""

    def __init__(self, dev: ProfiledDeviance) -> None:
        self.dev = dev

    @classmethod
    def build(cls, dev) -> ScalarHessian | None:
        """The exact derivatives when ``dev`` is blocked with scalar blocks only, else None.

        Not for frequency-weighted levels (pivots counted per copy), nor past
        :data:`MAX_REST` (memory).
        """
        if not isinstance(dev, ProfiledDeviance) or dev.cp.copies is not None:
            return None
        if any(k != 1 for k in dev.cp.k) or len(dev.cp.k) < 2:
            return None
        if dev.cp.q_rest + dev.cp.p > MAX_REST:
            return None
        return cls(dev)

    def __call__(self, theta: np.ndarray, entries: np.ndarray) -> FlatDerivatives:
        """Derivatives in theta (the flat Lambda entries: one per scalar block).

        Raises
        ------
        numpy.linalg.LinAlgError
            At a boundary (a theta of zero: its precision is infinite) or a singular factor.
        """
        theta = np.asarray(theta, float)
        if np.any(theta <= 0):
            raise np.linalg.LinAlgError("a variance on the boundary: no precision there")
        dev, cp = self.dev, self.dev.cp
        f = dev.factor(theta)
        sizes = np.array(cp.n_groups)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        q1, q_r, p = int(sizes[0]), cp.q_rest, cp.p
        l1 = f.l1[:, 0, 0]
        scale = np.repeat(theta, sizes)  # Lambda's diagonal, effect by effect
        l21 = self._l21(f, scale, l1)  # (q_r + p, q1): the rest's rows, then X's
        l2 = f.l_rest[: q_r + p, : q_r + p]  # read through its lower triangle only
        # log|A + D| (ML) sees the random effects alone; log|H| (REML) and r2 see X too
        m = q_r + p if dev.reml else q_r
        trace, sq = _block_norms(l1, l21[:m], l2[:m, :m], starts)
        t2 = theta**2
        grad_a, hess_a = _to_theta(theta, t2 * trace, -np.outer(t2, t2) * sq, sizes)
        rhs = np.concatenate([scale * _z_y(cp), cp.a_xyxy[:p, p]])
        modes = _solve(l1, l21, l2, rhs)[: q1 + q_r]
        g_r, h_r = _r2_phi(l1, l21, l2, modes, starts, t2)
        grad_r, hess_r = _to_theta(theta, g_r, h_r, None)
        pick = np.ix_(entries, entries)
        return FlatDerivatives(
            float(f.r2), grad_a[entries], grad_r[entries], hess_a[pick], hess_r[pick]
        )

    def _l21(self, f, scale: np.ndarray, l1: np.ndarray) -> sp.csr_matrix:
        """L_21: the rest's and X's rows of the factor under the first block."""
        cp = self.dev.cp
        q1 = l1.size
        a_r1 = cp.a_r1 if cp.a_r1_csr is None else cp.a_r1_csr
        rest = _scale_columns(sp.csr_matrix(a_r1), scale[:q1] / l1)
        rest.data *= np.repeat(scale[q1:], np.diff(rest.indptr))  # rows by Lambda_r
        x_rows = sp.csr_matrix(f.w_xy1[: cp.p])
        return sp.vstack([rest, x_rows]).tocsr()


def _symmetrize_lower(m: np.ndarray, width: int = 256) -> None:
    """Copy the lower triangle onto the upper in place, a strip at a time (no m-sized copy)."""
    n = m.shape[0]
    for j0 in range(0, n, width):
        j1 = min(j0 + width, n)
        corner = m[j0:j1, j0:j1]
        corner[...] = np.tril(corner) + np.tril(corner, -1).T
        m[j0:j1, j1:] = m[j1:, j0:j1].T


def _scale_columns(m: sp.csr_matrix, factors: np.ndarray) -> sp.csr_matrix:
    """m diag(factors) as a new CSR matrix (no sparse product for a diagonal)."""
    out = sp.csr_matrix(m, copy=True)
    out.data *= factors[out.indices]
    return out


def _z_y(cp) -> np.ndarray:
    """Z'y (internal y) in the cross-products' order: the first block, then the rest."""
    return np.concatenate([cp.a_xy1[cp.p].ravel(), cp.a_xyr[cp.p]])


def _solve(l1: np.ndarray, l21, l2: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """K^-1 rhs by forward and back substitution through the blocked factor L.

    ``rhs`` covers the first block's effects, then l2's rows (rest effects, then X when
    l2 has them); K = L L' with L = [[diag(l1), 0], [L_21, L_2]].
    """
    q1 = l1.size
    y1 = rhs[:q1] / l1
    y2 = solve_triangular(l2, rhs[q1:] - l21 @ y1, lower=True, check_finite=False)
    z2 = solve_triangular(l2, y2, lower=True, trans="T", check_finite=False)
    z1 = (y1 - l21.T @ z2) / l1
    return np.concatenate([z1, z2])


def _block_norms(l1: np.ndarray, l21, l2: np.ndarray, starts: np.ndarray):
    """Per block, tr(P_b N) and, per pair, sum of N_ij^2 over i in b, j in c (M-space N).

    N is the random-effect block of K^-1 for K = L L' (module docstring); ``starts``
    are the blocks' first effects (the first block, then the rest blocks), the rest's
    effects coming first among l2's rows.  The first block's terms go through the small
    Gram matrices W = V V' and W_d = V L_1^-2 V' (l2's size) instead of the long V'R:
    tr(V'RV) = sum(R o W), |V'RV|^2 = tr(RW RW), |V'R P_b|^2 = the block's part of
    diag(RWR), so the one large product is RW, dense and in BLAS (InstEval's shape: the
    sparse products with V'R took 0.45 of 0.5 s).
    """
    q1 = l1.size
    n_blocks = len(starts) - 1
    r_mat, info = lapack.dpotri(l2, lower=1)  # (L_2 L_2')^-1, lower triangle
    if info != 0:
        raise np.linalg.LinAlgError("the rest's factor is singular")
    _symmetrize_lower(r_mat)
    r_mat = r_mat.T  # the same symmetric matrix, C-ordered: flat products need no copy
    d1 = 1.0 / l1**2
    v = _scale_columns(l21, 1.0 / l1)  # V = L_21 L_1^-1
    u = _scale_columns(v, 1.0 / l1)  # W_d = V L_1^-2 V' = U U'
    rw_d = float(np.vdot(r_mat, (u @ u.T).toarray()))  # tr(R W_d), its W_d freed at once
    w = (v @ v.T).toarray()
    trace_rw = float(np.vdot(r_mat, w))
    rw = r_mat @ w
    del w
    diag_rwr = np.einsum("jk,jk->j", rw, r_mat)
    rest = starts[1:] - q1  # rest blocks' ranges inside l2's rows
    trace = np.empty(n_blocks)
    sq = np.empty((n_blocks, n_blocks))
    trace[0] = d1.sum() + trace_rw
    sq[0, 0] = d1 @ d1 + 2.0 * rw_d + float(np.einsum("ij,ji->", rw, rw))
    diag_r = np.diag(r_mat)
    for b in range(1, n_blocks):
        rb = slice(rest[b - 1], rest[b])
        trace[b] = diag_r[rb].sum()
        sq[0, b] = sq[b, 0] = float(diag_rwr[rb].sum())
        for c in range(1, b + 1):
            rc = slice(rest[c - 1], rest[c])
            sq[b, c] = sq[c, b] = float(np.sum(r_mat[rb, rc] ** 2))
    return trace, sq


def _r2_phi(l1, l21, l2, modes: np.ndarray, starts: np.ndarray, t2: np.ndarray):
    """r2's gradient and Hessian in the precisions: |b_b|^2 and -2 b_b' G_bc b_c."""
    n_blocks, q = len(starts) - 1, modes.size
    pieces = np.zeros((n_blocks, l1.size + l2.shape[0]))  # P_b u, padded with X's zeros
    for b in range(n_blocks):
        pieces[b, starts[b] : starts[b + 1]] = modes[starts[b] : starts[b + 1]]
    solved = np.array([_solve(l1, l21, l2, piece)[:q] for piece in pieces])
    grad = t2 * np.einsum("bi,bi->b", pieces, pieces)
    hess = -2.0 * np.outer(t2, t2) * (pieces[:, :q] @ solved.T)
    return grad, (hess + hess.T) / 2


def _to_theta(theta: np.ndarray, g_phi: np.ndarray, h_phi: np.ndarray, sizes):
    """From the precisions phi = theta^-2 to theta; ``sizes`` adds log|Lambda|^2's terms."""
    d1 = -2.0 / theta**3
    d2 = 6.0 / theta**4
    grad = d1 * g_phi
    hess = np.outer(d1, d1) * h_phi + np.diag(d2 * g_phi)
    if sizes is not None:
        grad = grad + 2.0 * sizes / theta
        hess = hess - np.diag(2.0 * sizes / theta**2)
    return grad, hess
