"""Heteroskedastic cells and AR(1) panels in the fast integrated density (no compiled graph).

Why: a ``bayes: mixed ..., residuals(ar 1, t(year))`` or ``residuals(independent,
by(female))`` fit compiled PyMC's graph, ~130 s on a new user's empty compile cache for
the workshop's productivity model.  Both structures keep the marginal likelihood a
function of a few fixed cross-products, so :mod:`.fast_density`'s component arithmetic
applies unchanged once they are combined:

* **cells**: rows of cell c have error variance sigma_c^2, so the whitened cross-products
  are sum_c A_c / sigma_c^2 (A_c = W_c'W_c, W = [Z X y]).
* **AR(1)** with unit time steps: the precision of a panel's errors is tridiagonal,
  R^-1 = (T0 - rho T1 + rho^2 T2) / (1 - rho^2) with T0 = I, T1 the adjacency of
  consecutive times and T2 the interior rows (minus the rows of one-row panels, whose
  R^-1 is 1), so W'V^-1 W = (A0 - rho A1 + rho^2 A2) /
  (sigma^2 (1 - rho^2)) and log|V| = n log sigma^2 + (n - panels) log(1 - rho^2).

In both, W'V^-1 W = sum_k c_k(psi) A_k.  The likelihood is then the iid one at unit error
variance on those cross-products, minus log|V| / 2.  Its gradient in psi follows from
Fisher's identity, d l / d psi = E[d log p(y | b, beta, psi) / d psi | y]:

    d l / d c_k = -1/2 (e'A_k e + tr(A_k[ww] Cov(b, beta | y))),   e = [b^, beta^, -1],

with the conditional means and covariance the factorization already holds (K, H^-1);
``tests/engines/bayes/test_fast_residual.py`` checks value and gradient against the
dense multivariate normal and central differences.

AR(1) panels with gaps (a step other than 1) have a precision that is not quadratic in
rho; they, other structures and by-group patterns of those stay with the PyMC model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...design.types import Design
from ...spec.residual import AR, time_lags
from . import fast_kernels
from .conjugate import LOG_2PI, SuffStats
from .fast_density import KERNEL_MAX_WIDTH, IntegratedGaussian, layout
from .marginal import sparse_z


@dataclass(frozen=True)
class ResidualGroup:
    """One residual SD (a cell) and, under AR(1), its rho: which terms they scale."""

    cell: int
    terms: tuple[int, ...]  # A0 (cells: the only one), then A1, A2 under AR(1)
    n: int
    n_panels: int  # 0: no correlation parameter


def _cross(z, x, y, a: np.ndarray, b: np.ndarray) -> SuffStats:
    """W_a'W_b + W_b'W_a for row index arrays a, b of equal length (W = [Z X y])."""
    za, zb, xa, xb, ya, yb = z[a], z[b], x[a], x[b], y[a], y[b]
    zz = (za.T @ zb).toarray()
    xx = xa.T @ xb
    return SuffStats(
        ztz=zz + zz.T,
        ztx=np.asarray(za.T @ xb + zb.T @ xa),
        zty=np.asarray(za.T @ yb + zb.T @ ya),
        xtx=xx + xx.T,
        xty=xa.T @ yb + xb.T @ ya,
        yty=float(2 * ya @ yb),
        n=len(a),
        z=z,
    )


def _half(st: SuffStats) -> SuffStats:
    """W_a'W_a from :func:`_cross` (a, a), which counts it twice."""
    return SuffStats(st.ztz / 2, st.ztx / 2, st.zty / 2, st.xtx / 2, st.xty / 2, st.yty / 2,
                     st.n, st.z)  # fmt: skip


def _minus(a: SuffStats, b: SuffStats) -> SuffStats:
    return SuffStats(a.ztz - b.ztz, a.ztx - b.ztx, a.zty - b.zty, a.xtx - b.xtx, a.xty - b.xty,
                     a.yty - b.yty, a.n, a.z)  # fmt: skip


def unit_steps(design: Design) -> bool:
    """Every panel's consecutive observations one time unit apart (AR(1)'s tridiagonal R^-1)."""
    for batch in design.residual.batches:
        m = batch.size
        lags = time_lags(np.asarray(batch.times, float))  # (panels, m, m)
        if m > 1 and not np.all(np.rint(lags[:, np.arange(m - 1), np.arange(1, m)]) == 1):
            return False
    return True


def residual_terms(built) -> tuple[list[SuffStats], list[ResidualGroup]] | None:
    """The cross-products A_k and the groups that scale them; None: not this module's."""
    design, cells = built.design, built.cells
    if cells is None:
        return None
    if built.panels is None:  # diagonal structure: one term per variance cell
        groups = [ResidualGroup(c, (c,), part.n, 0) for c, part in enumerate(built.parts)]
        return list(built.parts), groups
    model = design.residual.model
    structure = model.structure
    if type(structure) is not AR or structure.order != 1 or not unit_steps(design):
        return None
    if list(cells.codes) != list(range(model.n_groups)):  # a by() group without rows
        return None
    z, x, y = sparse_z(design), design.X, design.y
    terms, groups = [], []
    for c, g in enumerate(np.asarray(cells.codes, int)):  # AR(1): one cell per by() group
        rows = [b.rows for b in design.residual.batches if b.group == g]
        every = np.concatenate([r.ravel() for r in rows])
        left = np.concatenate([r[:, :-1].ravel() for r in rows])
        right = np.concatenate([r[:, 1:].ravel() for r in rows])
        inner = np.concatenate([r[:, 1:-1].ravel() for r in rows])
        # a one-row panel has R^-1 = 1 = (1 - rho^2) / (1 - rho^2): its row enters A2 with -1
        single = np.concatenate([r.ravel() for r in rows if r.shape[1] == 1] + [[]]).astype(int)
        a2 = _minus(_half(_cross(z, x, y, inner, inner)), _half(_cross(z, x, y, single, single)))
        start = len(terms)
        terms += [_half(_cross(z, x, y, every, every)), _cross(z, x, y, left, right), a2]
        groups.append(
            ResidualGroup(c, (start, start + 1, start + 2), len(every), sum(len(r) for r in rows))
        )
    return terms, groups


class ResidualGaussian:
    """log p(y | sigma_c, rho_g, Sigma_b [, beta]) and its gradient, effects integrated out.

    ``terms``/``groups`` from :func:`residual_terms`; the priors and ``integrate`` as
    :class:`.fast_density.IntegratedGaussian`, whose component layout (found from every
    term's pattern: AR(1) links consecutive rows) and NumPy arithmetic this reuses at unit
    error variance on the combined cross-products.
    """

    def __init__(self, terms, groups, ks, sizes, prior_mean, prior_prec, integrate: bool,
                 use_kernel: bool = True):  # fmt: skip
        union = sum(np.abs(t.ztz) for t in terms)
        first = terms[0]
        lay = layout(SuffStats(union, first.ztx, first.zty, first.xtx, first.xty, 0.0, 0, None),
                     list(ks), list(sizes))  # fmt: skip
        packed = [IntegratedGaussian(t, ks, sizes, prior_mean, prior_prec, integrate,
                                     use_kernels=False, lay=lay) for t in terms]  # fmt: skip
        self.core = packed[0]
        self.lay = lay
        self.ztz = np.stack([g.ztz for g in packed])  # (K, c, w, w)
        self.zxy = np.stack([g.zxy for g in packed])  # (K, c, w, p + 1)
        self.xyxy = np.stack([g.xyxy for g in packed])  # (K, p + 1, p + 1)
        self.groups = groups
        self.term_group = np.empty(len(terms), int)
        for i, grp in enumerate(groups):
            self.term_group[list(grp.terms)] = i
        self.n = sum(grp.n for grp in groups)
        self.p, self.integrate = first.p, integrate
        self.compiled = None  # no whole-posterior kernel: nutpie calls this through Python
        small = lay.width <= KERNEL_MAX_WIDTH  # wider: BLAS beats the compiled loops
        self.kernel = fast_kernels.residual_kernel() if use_kernel and small else None

    def _coefficients(self, sds: np.ndarray, rhos: np.ndarray):
        """c_k, dc_k/dsd and dc_k/drho of each term; log|V| and its derivatives by group."""
        k = len(self.term_group)
        coef, d_sd, d_rho = np.empty(k), np.empty(k), np.zeros(k)
        logdet = 0.0
        ld_sd, ld_rho = np.empty(len(self.groups)), np.zeros(len(self.groups))
        for i, grp in enumerate(self.groups):
            sd = float(sds[grp.cell])
            s2 = sd * sd
            ld_sd[i] = 2.0 * grp.n / sd
            logdet += grp.n * math.log(s2)
            if not grp.n_panels:
                coef[grp.terms[0]] = 1.0 / s2
                d_sd[grp.terms[0]] = -2.0 / (s2 * sd)
                continue
            rho = float(rhos[i])
            one = 1.0 - rho * rho
            a0, a1, a2 = grp.terms
            base, slope = 1.0 / (s2 * one), 1.0 / (s2 * one * one)
            coef[a0], coef[a1], coef[a2] = base, -rho * base, rho * rho * base
            for t in grp.terms:
                d_sd[t] = -2.0 * coef[t] / sd
            d_rho[a0] = d_rho[a2] = 2 * rho * slope
            d_rho[a1] = -(1 + rho * rho) * slope
            logdet += (grp.n - grp.n_panels) * math.log(one)
            ld_rho[i] = -2.0 * rho * (grp.n - grp.n_panels) / one
        return coef, d_sd, d_rho, logdet, ld_sd, ld_rho

    def __call__(self, sds, rhos, lams, beta=None):
        """(l, dl/dsd per group, dl/drho per group, [dl/dSigma_b], dl/dbeta or None)."""
        coef, d_sd, d_rho, logdet, ld_sd, ld_rho = self._coefficients(sds, rhos)
        core = self.core
        if self.kernel is not None:
            loglik, zgz, d_beta, moments = self.kernel(
                core.padded_lambda(lams), self.ztz, self.zxy, self.xyxy, coef, core.prec,
                core.prec_mean, core.mean, self.integrate,
                core.no_beta if beta is None else np.asarray(beta, float),
            )  # fmt: skip
            if not np.isfinite(loglik):
                raise np.linalg.LinAlgError("a factor of the marginal likelihood is not PD")
            loglik += core.log_prec - 0.5 * (self.n * LOG_2PI + logdet)
            return self._gradients(loglik, zgz, d_beta, moments, d_sd, d_rho, ld_sd, ld_rho)
        ztz = np.tensordot(coef, self.ztz, 1)  # local: chains call from several threads
        zxy = np.tensordot(coef, self.zxy, 1)
        xyxy = np.tensordot(coef, self.xyxy, 1)
        logdet_m, zkz, kmat = core.factor_numpy(core.padded_lambda(lams), 1.0, ztz, zxy)
        if not np.isfinite(logdet_m):
            raise np.linalg.LinAlgError("I + Lambda'Z'V^-1 Z Lambda is not positive definite")
        b, hinv, extra, rvr, d_beta = core.fixed_part(xyxy - zkz, beta)
        loglik = core.log_prec - 0.5 * (self.n * LOG_2PI + logdet + logdet_m + rvr + extra)
        zgz = core.zgz_numpy(kmat, 1.0, b, hinv, ztz, zxy)
        moments = self._moments(kmat, b, hinv, zxy)
        return self._gradients(loglik, zgz, d_beta, moments, d_sd, d_rho, ld_sd, ld_rho)

    def _gradients(self, loglik, zgz, d_beta, moments, d_sd, d_rho, ld_sd, ld_rho):
        """Chain d l / d c_k = -moments_k / 2 to each group's SD and rho; block sums."""
        n = len(self.groups)
        g_sd = -0.5 * (ld_sd + np.bincount(self.term_group, d_sd * moments, n))
        g_rho = -0.5 * (ld_rho + np.bincount(self.term_group, d_rho * moments, n))
        d_beta = None if self.integrate else d_beta
        return float(loglik), g_sd, g_rho, self.core.block_sums(zgz), d_beta

    def _moments(self, kmat: np.ndarray, b: np.ndarray, hinv, zxy_v) -> np.ndarray:
        """E[(W g - y)'(...)] under each term, g = (b, beta) | y: e'A_k e + tr(A_k Cov)."""
        p = self.p
        v = np.append(-b, 1.0)
        bhat = (kmat @ (zxy_v @ v)[..., None])[..., 0]  # (c, w): E[b | y]
        k = len(self.term_group)
        ztz, zxy = self.ztz.reshape(k, -1), self.zxy.reshape(k, *self.zxy.shape[1:])
        quad = ztz @ (bhat[..., :, None] * bhat[..., None, :]).ravel()
        quad -= 2.0 * np.einsum("kcwj,cw,j->k", zxy, bhat, v)
        quad += np.einsum("kij,i,j->k", self.xyxy, v, v)
        cov_b = kmat
        if self.integrate:
            f = kmat @ zxy_v[:, :, :p]  # (c, w, p): Cov(b, beta) = -F H^-1
            cov_b = kmat + f @ hinv @ np.swapaxes(f, 1, 2)
            quad -= 2.0 * (zxy[..., :p].reshape(k, -1) @ (f @ hinv).ravel())
            quad += self.xyxy[:, :p, :p].reshape(k, -1) @ hinv.ravel()
        return quad + ztz @ cov_b.ravel()


def term_weights(groups: list[ResidualGroup], sds: np.ndarray, rhos: np.ndarray) -> np.ndarray:
    """c_k for S draws at once, (S, terms): the weights :func:`.conjugate.draw_batch` gives
    each term's cross-products (its ``parts``) when drawing (b, beta) given the draws.

    ``sds`` is (S, cells), ``rhos`` (S, groups) (ignored for groups without a rho).
    """
    n_terms = sum(len(g.terms) for g in groups)
    out = np.empty((len(sds), n_terms))
    for i, grp in enumerate(groups):
        s2 = np.asarray(sds, float)[:, grp.cell] ** 2
        if not grp.n_panels:
            out[:, grp.terms[0]] = 1.0 / s2
            continue
        rho = np.asarray(rhos, float)[:, i]
        base = 1.0 / (s2 * (1.0 - rho * rho))
        out[:, list(grp.terms)] = base[:, None] * np.stack([np.ones_like(rho), -rho, rho * rho], 1)
    return out
