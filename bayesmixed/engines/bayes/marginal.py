"""Gaussian models with the random effects (and optionally beta) integrated out.

With b = Lambda u, u ~ N(0, I) and y | u, beta ~ N(X beta + Z Lambda u, sigma2 I), the
random effects are conjugate, and so are the fixed effects under independent normal (or
flat) priors.  Stacking gamma = [u; beta] with prior mean m = [0; m0] and prior precision
D = diag(1, q0) (q0 = 0 for a flat coefficient), the posterior precision of gamma is

    P = W'W / sigma2 + D,      W = [Z Lambda, X],

and the log marginal likelihood (flat coefficients contribute an improper constant) is

    -n/2 log(2 pi sigma2) + 1/2 sum log q0 - 1/2 log|P|
        - 1/2 (y'y / sigma2 + m'Dm - h'P^-1 h),     h = W'y / sigma2 + D m.

It depends on the data only through Z'Z, Z'X, Z'y, X'X, X'y, y'y, built once; each
evaluation is one Cholesky of a (q + p) square matrix, so NUTS sees only sigma and the
covariance parameters (and beta when it is not integrated out) -- no funnel.  The
integrated quantities are then drawn exactly from their Gaussian conditional for every
posterior draw, in NumPy (:func:`conditional_draws`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
import scipy.sparse as sp

from ...design.types import Design

LOG_2PI = float(np.log(2 * np.pi))


@dataclass
class SuffStats:
    """Cross-products of [Z X y], Z in the design's block order (group-major, effect-minor)."""

    ztz: np.ndarray
    ztx: np.ndarray
    zty: np.ndarray
    xtx: np.ndarray
    xty: np.ndarray
    yty: float
    n: int
    z: sp.csr_matrix

    @property
    def q(self) -> int:
        return self.ztz.shape[0]

    @property
    def p(self) -> int:
        return self.xtx.shape[0]


def sparse_z(design: Design) -> sp.csr_matrix:
    """The n x q random-effects matrix from the compact blocks (column = group*k + effect)."""
    parts = []
    for block in design.blocks:
        k = block.k
        rows = np.repeat(np.arange(design.n), k)
        cols = (block.codes[:, None] * k + np.arange(k)[None, :]).ravel()
        parts.append(sp.csr_matrix((block.Z.ravel(), (rows, cols)), shape=(design.n, block.q)))
    return sp.hstack(parts).tocsr()


def suff_stats(design: Design) -> SuffStats:
    z = sparse_z(design)
    x, y = design.X, design.y
    return SuffStats(
        ztz=(z.T @ z).toarray(),
        ztx=np.asarray(z.T @ x),
        zty=np.asarray(z.T @ y),
        xtx=x.T @ x,
        xty=x.T @ y,
        yty=float(y @ y),
        n=design.n,
        z=z,
    )


def full_lambda(lams: list, design: Design):
    """Block-diagonal q x q Lambda from each block's k x k factor (PyTensor)."""
    parts = [pt.linalg.kron(pt.eye(b.n_groups), lam) for lam, b in zip(lams, design.blocks)]
    return parts[0] if len(parts) == 1 else pt.linalg.block_diag(*parts)


def marginal_loglik(st: SuffStats, lam, sigma, beta=None, prior_mean=None, prior_prec=None):
    """Log likelihood with u (and beta when ``beta`` is None) integrated out (PyTensor)."""
    s2 = sigma**2
    zl = lam.T @ st.ztz @ lam
    if beta is None:
        lzx = lam.T @ st.ztx
        top = pt.concatenate([zl, lzx], axis=1)
        bottom = pt.concatenate([lzx.T, pt.as_tensor(st.xtx)], axis=1)
        prec = np.concatenate([np.ones(st.q), prior_prec])
        mean = np.concatenate([np.zeros(st.q), prior_mean])
        wtw = pt.concatenate([top, bottom], axis=0)
        wty = pt.concatenate([lam.T @ st.zty, pt.as_tensor(st.xty)])
        quad0 = st.yty / s2 + float(np.sum(prior_prec * prior_mean**2))
        const = 0.5 * float(np.sum(np.log(prior_prec[prior_prec > 0])))
    else:
        prec, mean = np.ones(st.q), np.zeros(st.q)
        wtw = zl
        wty = lam.T @ (st.zty - st.ztx @ beta)
        rtr = st.yty - 2 * pt.dot(beta, st.xty) + pt.dot(beta, pt.dot(st.xtx, beta))
        quad0, const = rtr / s2, 0.0
    prec_mat = wtw / s2 + pt.diag(prec)
    h = wty / s2 + prec * mean
    chol = pt.linalg.cholesky(prec_mat)
    c = pt.linalg.solve_triangular(chol, h, lower=True)
    logdet = 2.0 * pt.sum(pt.log(pt.diag(chol)))
    return const - 0.5 * (st.n * (LOG_2PI + pt.log(s2)) + logdet + quad0 - pt.dot(c, c))


# -- exact conditional draws, NumPy --------------------------------------------------
def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    """Batched square roots of PSD matrices (Cholesky, eigen fallback on the boundary)."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(cov)
        return v * np.sqrt(np.clip(w, 0, None))[..., None, :]


def _lambda_batch(covs: list[np.ndarray], design: Design) -> np.ndarray:
    """(S, q, q) block-diagonal Lambda for S draws of every block's covariance."""
    s = covs[0].shape[0]
    q = sum(b.q for b in design.blocks)
    out = np.zeros((s, q, q))
    off = 0
    for cov, b in zip(covs, design.blocks):
        lam = _sqrt_psd(cov)
        for g in range(b.n_groups):
            sl = slice(off + g * b.k, off + (g + 1) * b.k)
            out[:, sl, sl] = lam
        off += b.q
    return out


def conditional_draws(
    st: SuffStats,
    design: Design,
    sigma: np.ndarray,
    covs: list[np.ndarray],
    rng: np.random.Generator,
    beta: np.ndarray | None = None,
    prior_mean: np.ndarray | None = None,
    prior_prec: np.ndarray | None = None,
    batch: int = 256,
    noise: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw (b, beta) from their Gaussian conditional for each of S posterior draws.

    ``sigma`` is (S,), each ``covs[i]`` (S, k, k); ``beta`` (S, p) when it was sampled.
    Returns b as (S, q) and beta as (S, p); ``noise=False`` gives the conditional means.
    """
    s_total = len(sigma)
    b_out = np.empty((s_total, st.q))
    beta_out = np.empty((s_total, st.p)) if beta is None else np.asarray(beta, float)
    for start in range(0, s_total, batch):
        sl = slice(start, min(start + batch, s_total))
        lam = _lambda_batch([c[sl] for c in covs], design)
        gamma = _draw_batch(
            st,
            lam,
            sigma[sl],
            rng,
            beta_out[sl] if beta is not None else None,
            prior_mean,
            prior_prec,
            noise,
        )
        u = gamma[:, : st.q]
        b_out[sl] = np.einsum("sij,sj->si", lam, u)
        if beta is None:
            beta_out[sl] = gamma[:, st.q :]
    return b_out, beta_out


def _draw_batch(st, lam, sigma, rng, beta, prior_mean, prior_prec, noise) -> np.ndarray:
    s2 = (sigma**2)[:, None, None]
    lzz = np.einsum("sji,jk,skl->sil", lam, st.ztz, lam, optimize=True)
    if beta is None:
        lzx = np.einsum("sji,jk->sik", lam, st.ztx)
        top = np.concatenate([lzz, lzx], axis=2)
        bottom = np.concatenate(
            [lzx.transpose(0, 2, 1), np.broadcast_to(st.xtx, (len(lam), st.p, st.p))], axis=2
        )
        wtw = np.concatenate([top, bottom], axis=1)
        wty = np.concatenate(
            [np.einsum("sji,j->si", lam, st.zty), np.broadcast_to(st.xty, (len(lam), st.p))], axis=1
        )
        prec = np.concatenate([np.ones(st.q), prior_prec])
        mean = np.concatenate([np.zeros(st.q), prior_mean])
    else:
        wtw = lzz
        wty = np.einsum("sji,sj->si", lam, st.zty[None, :] - beta @ st.ztx.T)
        prec, mean = np.ones(st.q), np.zeros(st.q)
    p_mat = wtw / s2 + np.eye(len(prec)) * prec
    h = wty / s2[:, :, 0] + prec * mean
    chol = np.linalg.cholesky(p_mat)
    mu = np.linalg.solve(p_mat, h[..., None])[..., 0]
    if not noise:
        return mu
    z = rng.standard_normal(h.shape)
    return mu + np.linalg.solve(chol.transpose(0, 2, 1), z[..., None])[..., 0]


def pointwise_loglik(
    design: Design, st: SuffStats, beta: np.ndarray, b: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """log N(y_i | x_i beta + z_i b, sigma2) for each draw: (S, n), conditional on b."""
    mu = beta @ design.X.T + (st.z @ b.T).T
    resid = design.y[None, :] - mu
    s2 = (sigma**2)[:, None]
    return -0.5 * (LOG_2PI + np.log(s2) + resid**2 / s2)


def add_marginal_likelihood(model_parts, design: Design, st: SuffStats) -> None:
    """Add the integrated likelihood as a Potential to the current PyMC model."""
    import pymc as pm

    lam = full_lambda(model_parts.lams, design)
    value = marginal_loglik(
        st,
        lam,
        model_parts.sigma,
        model_parts.beta,
        model_parts.prior_mean,
        model_parts.prior_prec,
    )
    pm.Potential("marginal_loglik", value)
