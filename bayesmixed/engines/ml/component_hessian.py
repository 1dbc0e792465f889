"""Exact second derivatives of the profiled likelihood's parts, one component at a time.

Why: the standard errors of the variance components come from the observed information
(:func:`.inference.working_covariance`), which differenced the log determinants ``a`` and
the penalized residual sum of squares ``r2`` with a seven-point rule: 6 d (d + 1) / 2 + 1
factorizations, 91 for statsmodels' vcomp2 (5 covariance parameters), half of its whole
fit.  Nested designs factor one small dense block per component (:mod:`.components`), so
the exact derivatives in the entries of Lambda are a few batched products of the same
small blocks; the differences move to the cheap map from the working scale to Lambda.

Per component (A = Z'Z, A_xy = Z'[X y], M = Lambda'A Lambda + I = L L', B = Lambda'A_xy,
C = M^-1 B) and directions E_k (the unit change of one Lambda template element, in
every group of the component that carries it):

* dM_k = E_k'A Lambda + Lambda'A E_k, d2M_kl = E_k'A E_l + E_l'A E_k, dB_k = E_k'A_xy;
* d log|M| = tr(M^-1 dM_k), d2 log|M| = 2 tr(M^-1 E_k'A E_l) - tr(M^-1 dM_k M^-1 dM_l);
* [X y]'s Schur complement S = A_xyxy - sum_c B'C has dS_k = -sum_c (E_k C)'F + F'(E_k C)
  (F = A_xy - A Lambda C) and, with H_k = dB_k - dM_k C,
  d2S_kl = -sum_c [H_k'M^-1 H_l + H_l'M^-1 H_k - (E_k C)'A (E_l C) - (E_l C)'A (E_k C)];
* r2 = min over beta of v'S v (v = (-beta, 1)): dr2_k = v'dS_k v and
  d2r2_kl = v'd2S_kl v - 2 (dS_k v)_X' S_XX^-1 (dS_l v)_X;
* REML adds log|S_XX|: tr(S_XX^-1 dS_XX) and tr(S_XX^-1 d2S_XX) - tr(S_XX^-1 dS_k S_XX^-1 dS_l).

The tests hold these against seven-point differences of the criterion itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .components import ComponentDeviance, lower_inverse

#: the batched direction arrays hold (entries x components x size^2) floats; above this
#: many the differences of the criterion are used instead (memory, not speed, decides)
MAX_FLOATS = 20_000_000


@dataclass
class FlatDerivatives:
    """(a, r2) and their gradients and Hessians in the flat Lambda entries ``entries``."""

    r2: float
    grad_a: np.ndarray
    grad_r: np.ndarray
    hess_a: np.ndarray
    hess_r: np.ndarray


class ComponentHessian:
    """theta -> exact derivatives of the likelihood's parts for a component layout."""

    def __init__(self, dev: ComponentDeviance) -> None:
        self.dev = dev
        self.size = sum(lam.size for lam in dev.lambdas(np.ones(dev.n_theta)))

    @classmethod
    def build(cls, dev) -> ComponentHessian | None:
        """The exact derivatives for ``dev`` when it is factored by components, else None.

        Not for frequency-weighted levels: each pivot then counts once per copy of its
        group, which the log determinant here does not weigh.
        """
        if not isinstance(dev, ComponentDeviance) or dev.cp.copies is not None:
            return None
        out = cls(dev)
        floats = sum(out.size * bk.count * bk.size**2 for bk in dev.layout.buckets)
        return out if floats <= MAX_FLOATS else None

    def __call__(self, theta: np.ndarray, entries: np.ndarray) -> FlatDerivatives:
        """Derivatives in the flat Lambda entries ``entries`` (indices into the template).

        Raises
        ------
        numpy.linalg.LinAlgError
            If Lambda'A Lambda + I or the Schur complement is not positive definite.
        """
        dev = self.dev
        f = dev.factor(np.asarray(theta, float))
        m = dev.cp.p + 1
        n_e = len(entries)
        g_logm, h_logm = np.zeros(n_e), np.zeros((n_e, n_e))
        ds, d2s = np.zeros((n_e, m, m)), np.zeros((n_e, n_e, m, m))
        for n, (bk, (a, xy)) in enumerate(zip(dev.layout.buckets, dev._gathered())):
            linv = lower_inverse(f.chol[n])
            g, h, d1, d2 = _bucket_terms(bk, a, xy, linv, f.lam_c[n], f.w[n], entries)
            g_logm += g
            h_logm += h
            ds += d1
            d2s += d2
        return _profile(f, ds, d2s, g_logm, h_logm, dev.reml)


def _directions(bk, entries: np.ndarray) -> np.ndarray:
    """E_k per entry: (entries, count, size, size) indicators of the template element."""
    out = np.zeros((len(entries), bk.count, bk.size, bk.size))
    comp, row, col = bk.lam_at
    for i, e in enumerate(entries):
        sel = bk.lam_src == e
        out[i, comp[sel], row[sel], col[sel]] = 1.0
    return out


def _bucket_terms(bk, a, xy, linv, lam, w, entries):
    """One bucket's contributions to d log|M|, d2 log|M|, dS and d2S (module docstring).

    ``linv`` is L_c^-1 (count, s, s), ``w`` is L_c^-1 B.
    """
    n_e = len(entries)
    e = _directions(bk, entries)  # (K, c, s, s)
    et = e.transpose(0, 1, 3, 2)
    c_mat = linv.transpose(0, 2, 1) @ w  # M^-1 B
    al = a @ lam
    half = et @ al  # E_k'A Lambda
    dm = half + half.transpose(0, 1, 3, 2)
    db = et @ xy
    q = linv @ dm @ linv.transpose(0, 2, 1)  # L^-1 dM_k L^-T, symmetric
    p_k = linv @ et  # L^-1 E_k'
    pa = p_k @ a
    flat = lambda x: x.reshape(n_e, -1)  # noqa: E731 -- one reshape, used four times
    g_logm = np.trace(q, axis1=2, axis2=3).sum(axis=1)
    h_logm = 2.0 * flat(p_k) @ flat(pa).T - flat(q) @ flat(q).T
    ec = e @ c_mat  # (K, c, s, m)
    m = xy.shape[2]
    fm = (xy - al @ c_mat).reshape(-1, m)
    d1 = -(ec.reshape(n_e, -1, m).transpose(0, 2, 1) @ fm)
    d1 = d1 + d1.transpose(0, 2, 1)
    t = linv @ (db - dm @ c_mat)  # L^-1 H_k
    # pair sums over every slot of every component as one product: (K m) x (K m)
    wide = lambda x: x.reshape(n_e, -1, m).transpose(1, 0, 2).reshape(-1, n_e * m)  # noqa: E731
    d2 = wide(ec).T @ wide(a @ ec) - wide(t).T @ wide(t)
    d2 = d2.reshape(n_e, m, n_e, m).transpose(0, 2, 1, 3)
    d2 = d2 + d2.transpose(1, 0, 2, 3)
    return g_logm, h_logm, d1, d2


def _profile(f, ds, d2s, g_logm, h_logm, reml: bool) -> FlatDerivatives:
    """From S's derivatives to those of r2 = min_beta v'S v and (REML) log|S_XX|."""
    p = f.p
    s_mat = f.l_rest @ f.l_rest.T
    sxx_inv = np.linalg.inv(s_mat[:p, :p])
    v = np.append(-sxx_inv @ s_mat[:p, p], 1.0)
    dsv = ds @ v  # (K, m)
    g_r = dsv @ v
    h_r = np.einsum("i,klij,j->kl", v, d2s, v) - 2.0 * dsv[:, :p] @ sxx_inv @ dsv[:, :p].T
    g_a, h_a = g_logm.copy(), h_logm.copy()
    if reml and p:
        dxx = sxx_inv @ ds[:, :p, :p]  # (K, p, p): S_XX^-1 dS_k,XX
        g_a += np.trace(dxx, axis1=1, axis2=2)
        h_a += np.einsum("ij,klji->kl", sxx_inv, d2s[:, :, :p, :p])
        h_a -= np.einsum("kij,lji->kl", dxx, dxx)
    return FlatDerivatives(float(f.r2), g_a, g_r, (h_a + h_a.T) / 2, (h_r + h_r.T) / 2)
