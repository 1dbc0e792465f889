"""Satterthwaite and Kenward-Roger denominator degrees of freedom for LMM contrasts.

Notation (Kenward & Roger 1997; pbkrtest's ``vcovAdj`` and ``Lb_ddf``): V = sum
phi_m V_m with V_m = dV/dphi_m, Phi = (X'V^-1 X)^-1, P_m = -X'V^-1 V_m V^-1 X,
Q_mr = X'V^-1 V_m V^-1 V_r V^-1 X, and REML's projection P = V^-1 - V^-1 X Phi X'V^-1.

* **Satterthwaite** for one contrast c: nu = 2 (c'Phi c)^2 / (g' A g) with
  g_m = c' dPhi/dphi_m c = -c'Phi P_m Phi c and A the asymptotic covariance of
  phi-hat: the inverse *expected* REML information 1/2 tr(P V_m P V_r) (Stata's
  default, ``eim``) or the inverse *observed* information
  -1/2 tr(P V_m P V_r) + y'P V_m P V_r P y (``oim``; lmerTest differentiates the
  REML deviance numerically, which is the same quantity).  For q > 1 rows,
  lmerTest's rule: one nu per eigen-direction of L Phi L', combined as
  E = sum nu/(nu - 2), ddf = 2E/(E - q).
* **Kenward-Roger**: Phi_A = Phi + 2 Phi U Phi, U = sum W_mr (Q_mr - P_m Phi P_r),
  W = inverse expected information; the F statistic is scaled and its ddf
  matched to the first two moments (the constants A1, A2, B, g, c1..c3, rho of
  the paper, coded as pbkrtest codes them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .marginal_cov import MarginalCov


@dataclass
class Pieces:
    """Everything both methods need, summed over components."""

    phi_beta: np.ndarray  # Phi
    p_mats: list[np.ndarray]  # P_m
    q_mats: dict[tuple[int, int], np.ndarray]  # Q_mr, m <= r
    info_expected: np.ndarray  # 1/2 tr(P V_m P V_r)
    info_observed: np.ndarray

    @property
    def n_par(self) -> int:
        return len(self.p_mats)


def pieces(mc: MarginalCov) -> Pieces:
    """Accumulate Phi, P_m, Q_mr, the traces and the observed-information terms."""
    m_par, p = mc.n_par, mc.components[0].x.shape[1]
    xvx = np.zeros((p, p))
    p_mats = [np.zeros((p, p)) for _ in range(m_par)]
    q_mats = {(i, j): np.zeros((p, p)) for i in range(m_par) for j in range(i, m_par)}
    ktrace = np.zeros((m_par, m_par))
    s_yy = np.zeros((m_par, m_par))  # r'V^-1 V_m V^-1 V_r V^-1 r
    b = np.zeros((m_par, p))  # X'V^-1 V_m V^-1 r
    for c in mc.components:
        vx = c.v_inv @ c.x
        vr = c.v_inv @ mc.resid[c.rows]
        xvx += c.x.T @ vx
        h = [d @ c.v_inv for d in c.derivs]  # V_m V^-1
        o = [hm @ c.x for hm in h]  # V_m V^-1 X
        a = [d @ vr for d in c.derivs]  # V_m V^-1 r
        for i in range(m_par):
            p_mats[i] -= o[i].T @ vx
            b[i] += vx.T @ a[i]
            for j in range(i, m_par):
                q_mats[i, j] += o[i].T @ c.v_inv @ o[j]
                ktrace[i, j] += np.sum(h[i].T * h[j])
                s_yy[i, j] += a[i] @ c.v_inv @ a[j]
    phi = np.linalg.inv(xvx)
    phi = (phi + phi.T) / 2
    trace = np.zeros((m_par, m_par))
    for i in range(m_par):
        for j in range(i, m_par):
            trace[i, j] = (
                ktrace[i, j]
                - 2 * np.sum(phi * q_mats[i, j])
                + np.sum((phi @ p_mats[i]) * (phi @ p_mats[j]).T)
            )
            # y'P V_i P V_j P y with Py = V^-1 (y - X beta) =: v r
            s_yy[i, j] -= b[i] @ phi @ b[j]
    trace = np.triu(trace) + np.triu(trace, 1).T
    s_yy = np.triu(s_yy) + np.triu(s_yy, 1).T
    return Pieces(phi, p_mats, q_mats, trace / 2, s_yy - trace / 2)


def _inverse(info: np.ndarray) -> np.ndarray:
    """Inverse information; pseudo-inverse when (near) singular, as pbkrtest does."""
    if np.min(np.abs(np.linalg.eigvalsh(info))) > 1e-10:
        out = np.linalg.inv(info)
    else:
        out = np.linalg.pinv(info)
    return (out + out.T) / 2


def satterthwaite_df(pc: Pieces, lmat: np.ndarray, observed: bool = False) -> float:
    """Satterthwaite ddf for the rows of ``lmat`` (one row: the t-test df)."""
    lmat = np.atleast_2d(lmat)
    cov_phi = _inverse(pc.info_observed if observed else pc.info_expected)
    vl = lmat @ pc.phi_beta @ lmat.T
    vals, vecs = np.linalg.eigh(vl)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    keep = vals > max(np.finfo(float).eps ** 0.5 * vals[0], 0)
    nus = []
    for val, vec in zip(vals[keep], vecs[:, keep].T):
        c = vec @ lmat
        grad = np.array([-(c @ pc.phi_beta @ pm @ pc.phi_beta @ c) for pm in pc.p_mats])
        nus.append(2 * val**2 / (grad @ cov_phi @ grad))
    return combine_nus(np.array(nus))


def combine_nus(nus: np.ndarray, tol: float = 1e-8) -> float:
    """lmerTest's ``get_Fstat_ddf``: one F ddf from the per-direction t dfs."""
    if len(nus) == 1 or np.all(np.abs(nus - nus[0]) < tol):
        return float(nus[0])
    if np.any(nus <= 2):
        return 2.0
    e = np.sum(nus / (nus - 2))
    return float(2 * e / (e - len(nus)))


def _weights(pc: Pieces) -> np.ndarray:
    """W = 2 (tr P V_m P V_r)^-1, the inverse expected information."""
    return _inverse(2 * pc.info_expected) * 2


def kenward_roger_vcov(pc: Pieces) -> np.ndarray:
    """Phi_A = Phi + 2 Phi U Phi (pbkrtest's ``vcovAdj``, no second-derivative term)."""
    w = _weights(pc)
    phi = pc.phi_beta
    u = np.zeros_like(phi)
    for (i, j), q in pc.q_mats.items():
        term = w[i, j] * (q - pc.p_mats[i] @ phi @ pc.p_mats[j])
        u += term if i == j else term + term.T
    adj = phi + 2 * phi @ u @ phi
    return (adj + adj.T) / 2


@dataclass
class KRTest:
    """Kenward-Roger F test of L beta = 0: statistic, df, scaling and p-value."""

    f: float
    ndf: int
    ddf: float
    scaling: float
    p: float


def kenward_roger_df(pc: Pieces, lmat: np.ndarray) -> tuple[float, float]:
    """(ddf, F scaling) of the KR test of the rows of ``lmat`` (pbkrtest's ``.KR_adjust``)."""
    lmat = np.atleast_2d(lmat)
    phi = pc.phi_beta
    w = _weights(pc)
    theta = lmat.T @ np.linalg.solve(lmat @ phi @ lmat.T, lmat)
    us = [theta @ phi @ pm @ phi for pm in pc.p_mats]
    a1 = a2 = 0.0
    for i in range(pc.n_par):
        for j in range(i, pc.n_par):
            e = 1.0 if i == j else 2.0
            a1 += e * w[i, j] * np.trace(us[i]) * np.trace(us[j])
            a2 += e * w[i, j] * np.sum(us[i] * us[j].T)
    q = np.linalg.matrix_rank(lmat)
    big_b = (a1 + 6 * a2) / (2 * q)
    g = ((q + 1) * a1 - (q + 4) * a2) / ((q + 2) * a2)
    denom = 3 * q + 2 * (1 - g)
    c1, c2, c3 = g / denom, (q - g) / denom, (q + 2 - g) / denom
    v0 = 1 + c1 * big_b
    v0 = 0.0 if abs(v0) < 1e-10 else v0
    v1, v2 = 1 - c2 * big_b, 1 - c3 * big_b
    num = 1 - a2 / q
    ratio = 1.0 if abs(num) < 1e-14 and abs(v1) < 1e-14 else num / v1
    rho = ratio**2 * v0 / v2 / q
    ddf = 4 + (q + 2) / (q * rho - 1)
    scaling = 1.0 if abs(ddf - 2) < 1e-2 else ddf * (1 - a2 / q) / (ddf - 2)
    return float(ddf), float(scaling)
