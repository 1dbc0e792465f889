"""The analytic gradient of the profiled deviance (ML) and REML criterion.

Why: BOBYQA and the finite-difference Newton polish need O(d^2) evaluations in the
number d of covariance parameters.  A maximal model with 8 x 8 unstructured
covariances on subjects and items (72 parameters, kb07's shape) took 204 s and stopped
2.2 log-likelihood units short of lme4 (issue 13); quasi-Newton steps on an exact
gradient need a few hundred evaluations, whatever d is.

The derivation (Bates et al. 2015's notation; Omega = [Z Lambda, X, y]'[Z Lambda, X, y]
+ diag(I, 0, 0), M = Lambda'A Lambda + I with A = Z'Z, K the leading (q + p) block of
Omega): the ML deviance is log|M| + n log r^2 + const and the REML criterion
log|K| + (n - p) log r^2 + const, because |K| = |M| |X'V^-1 X / sigma^2|.  Per parameter

* d log|K| = 2 tr(B dLambda), B = K^-1[:q] [Lambda'A; X'Z] (for ML the same with M^-1
  and Lambda'A alone): with dLambda block diagonal, only B's per-group diagonal blocks
  enter, summed over groups;
* d r^2 = -2 (Z'e)' dLambda u (the envelope theorem: r^2 is a minimum over u and beta),
  e = y - X beta - Z Lambda u at the solution.

Everything is dense in q, so this serves designs with a moderate number of random
effects (:data:`MAX_Q`) and many covariance parameters (:data:`MIN_THETA`), where the
evaluation count, not the factorization, is the cost.  The derivative of each block's
Lambda template in its own parameters is taken by central differences of the
structure's ``lam`` (exact up to rounding for the Cholesky-linear structures).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from .deviance import LOG_2PI, ProfiledCriterion

MIN_THETA = 12  # below this BOBYQA with the Newton polish is cheaper, and proven
#: a dense q x q factor and inverse per evaluation: 40 ms at q = 704 (kb07's shape, one
#: thread, measured); at 1,500 about 10x that by the q^3 count (not measured)
MAX_Q = 1500


class DenseGradient:
    """theta -> (criterion, gradient) for one profiled criterion, from its cross-products.

    The value equals ``dev(theta)`` to rounding (the tests check it), so the optimizer
    can use the pair while the rest of the fit keeps reading ``dev``.
    """

    def __init__(self, dev: ProfiledCriterion) -> None:
        cp = dev.cp
        self.dev, self.p = dev, cp.p
        self.dof = cp.n - cp.p if dev.reml else cp.n
        self.shift = cp.fixed.reml_shift if dev.reml else 0.0
        g1, k1 = cp.n_groups[0], cp.k[0]
        q1 = g1 * k1
        self.q = q = q1 + cp.q_rest
        # each block's effects are contiguous, group-major: (slice, groups, k)
        self.blocks = [(slice(0, q1), g1, k1)]
        for off, k, g in zip(cp.offsets, cp.k[1:], cp.n_groups[1:]):
            self.blocks.append((slice(q1 + off, q1 + off + g * k), g, k))
        a = np.zeros((q, q))
        first = np.arange(q1).reshape(g1, k1)
        a[first[:, :, None], first[:, None, :]] = cp.a11
        if cp.q_rest:
            a_r1, a_rr = (m.toarray() if sp.issparse(m) else m for m in (cp.a_r1, cp.a_rr))
            a[q1:, :q1], a[:q1, q1:], a[q1:, q1:] = a_r1, a_r1.T, a_rr
        self.a = a
        self.zxy = np.concatenate([cp.a_xy1.reshape(cp.p + 1, -1), cp.a_xyr], axis=1).T
        self.xyxy = cp.a_xyxy

    @classmethod
    def build(cls, dev: ProfiledCriterion) -> DenseGradient | None:
        """The gradient for ``dev`` when it pays and applies, else None.

        Not for frequency-weighted levels (each pivot then counts once per copy of its
        group, which the log-determinant below does not weigh).
        """
        cp = dev.cp
        q = int(cp.n_groups[0] * cp.k[0] + cp.q_rest)
        if dev.n_theta < MIN_THETA or q > MAX_Q or cp.copies is not None:
            return None
        return cls(dev)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.asarray(theta, float)
        lams = self.dev.lambdas(theta)
        al = self._times_lambda(self.a, lams)  # A Lambda (A symmetric: Lambda'A = al')
        omega = self._omega(al, lams)
        low, info = lapack.dpotrf(omega, lower=1, clean=1, overwrite_a=0)
        if info != 0:
            return np.inf, np.zeros_like(theta)
        value, sol = self._value(low)
        grad = self._gradient(theta, lams, low, al, sol)
        return value, grad

    def _upper(self, m: int) -> np.ndarray:
        if getattr(self, "_mask", np.zeros((0, 0))).shape[0] != m:
            self._mask = np.triu(np.ones((m, m), bool), 1)
        return self._mask

    # -- pieces -------------------------------------------------------------------
    def _times_lambda(self, mat: np.ndarray, lams: list[np.ndarray]) -> np.ndarray:
        """mat @ Lambda, one block's columns at a time (Lambda is block diagonal)."""
        out = np.empty_like(mat)
        rows = mat.shape[0]
        for (cols, g, k), lam in zip(self.blocks, lams):
            block = np.ascontiguousarray(mat[:, cols]).reshape(rows * g, k)
            out[:, cols] = (block @ lam).reshape(rows, g * k)  # one product, not rows * g
        return out

    def _lambda_t_times(self, mat: np.ndarray, lams: list[np.ndarray]) -> np.ndarray:
        """Lambda' @ mat, one block's rows at a time."""
        out = np.empty_like(mat)
        width = mat.shape[1]
        for (rows, g, k), lam in zip(self.blocks, lams):
            out[rows].reshape(g, k, width)[...] = lam.T @ mat[rows].reshape(g, k, width)
        return out

    def _omega(self, al: np.ndarray, lams: list[np.ndarray]) -> np.ndarray:
        q = self.q
        size = q + self.p + 1
        omega = np.empty((size, size))
        omega[:q, :q] = self._lambda_t_times(al, lams)
        omega[np.arange(q), np.arange(q)] += 1.0
        lz = self._lambda_t_times(self.zxy, lams)
        omega[:q, q:], omega[q:, :q], omega[q:, q:] = lz, lz.T, self.xyxy
        return omega

    def _value(self, low: np.ndarray) -> tuple[float, np.ndarray]:
        """The criterion and the solution (u, beta) of the penalized least squares."""
        q, p = self.q, self.p
        logs = np.log(np.diag(low)[: q + p if self.dev.reml else q])
        r2 = low[-1, -1] ** 2
        value = 2.0 * logs.sum() + self.shift + self.dof * (1 + LOG_2PI + np.log(r2 / self.dof))
        lk = low[: q + p, : q + p]
        sol, _ = lapack.dtrtrs(lk, low[-1, : q + p], lower=1, trans=1)
        return float(value), sol

    def _gradient(self, theta, lams, low, al, sol) -> np.ndarray:
        q, p = self.q, self.p
        u, beta = sol[:q], sol[q:]
        ze = self.zxy[:, -1] - self.zxy[:, :p] @ beta - al @ u  # Z'e
        r2 = low[-1, -1] ** 2
        m = q + p if self.dev.reml else q
        kinv, info = lapack.dpotri(low[:m, :m], lower=1)
        if info != 0:
            return np.full_like(theta, np.nan)
        np.copyto(kinv, kinv.T, where=self._upper(m))  # potri fills the lower triangle
        right = np.concatenate([al, self.zxy[:, :p]], axis=1) if self.dev.reml else al
        grad = np.empty_like(theta)
        for part, (rows, g, k), structure, t in zip(
            np.split(np.arange(len(theta)), self.dev.splits), self.blocks,
            self.dev.structures, self.dev.split(theta),
        ):  # fmt: skip
            width = right.shape[1]
            left = kinv[rows].reshape(g, k, width)
            # sum_g B_g' with B_g[c, a] = K^-1[g_c, :] . right[g_a, :]: one matrix product
            s = np.tensordot(right[rows].reshape(g, k, width), left, axes=([0, 2], [0, 2]))
            tt = ze[rows].reshape(g, k).T @ u[rows].reshape(g, k)  # sum_g (Z'e)_g u_g'
            weight = 2.0 * s - 2.0 * self.dof / r2 * tt
            for i, d_lam in zip(part, lam_derivatives(structure, t)):
                grad[i] = np.sum(weight * d_lam)
        return grad


def lam_derivatives(structure, t: np.ndarray) -> list[np.ndarray]:
    """d Lambda_template / d theta_i for each of the block's parameters (central)."""
    out = []
    for i in range(len(t)):
        h = 1e-6 * max(1.0, abs(t[i]))
        up, down = t.copy(), t.copy()
        up[i] += h
        down[i] -= h
        out.append((structure.lam(up) - structure.lam(down)) / (2 * h))
    return out
