"""The Gaussian pieces that the integrated likelihood and its conditional draws share.

A leaf of the Bayesian engine: the cross-products of [Z X y] (:class:`SuffStats`), the
weighted sum of per-cell cross-products, and the exact NumPy draws of (u, beta) from
their Gaussian conditional for a batch of posterior draws.  :mod:`.marginal` (dense
Cholesky), :mod:`.blocked` (group by group) and :mod:`.panel_draws` (correlated
residuals) all use these; keeping them here lets each of those import the others
one way only (``blocked`` and ``marginal`` used to import each other).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ...design.types import Design
from ...maths import sqrt_psd

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


def wsum(weights, values):
    """sum_r weights[r] * values[r] (PyTensor or NumPy): per-cell cross-products weighted
    by each cell's inverse error variance."""
    out = weights[0] * values[0]
    for w, v in zip(weights[1:], values[1:]):
        out = out + w * v
    return out


# -- exact conditional draws, NumPy --------------------------------------------------
def lambda_batch(covs: list[np.ndarray], design: Design) -> np.ndarray:
    """(S, q, q) block-diagonal Lambda for S draws of every block's covariance."""
    s = covs[0].shape[0]
    q = sum(b.q for b in design.blocks)
    out = np.zeros((s, q, q))
    off = 0
    for cov, b in zip(covs, design.blocks):
        lam = sqrt_psd(cov)
        for g in range(b.n_groups):
            sl = slice(off + g * b.k, off + (g + 1) * b.k)
            out[:, sl, sl] = lam
        off += b.q
    return out


def draw_batch(parts, lam, w, rng, beta, prior_mean, prior_prec, noise) -> np.ndarray:
    """One batch of draws of gamma = [u; beta] (or u given ``beta``) from its conditional.

    ``lam`` is (S, q, q), ``w`` (S, cells) weights each part's cross-products; returns
    (S, q + p), or (S, q) given ``beta``; ``noise=False`` gives the conditional means.
    """
    q = parts[0].q
    wt = [w[:, r, None, None] for r in range(len(parts))]
    lzz = wsum(wt, [np.einsum("sji,jk,skl->sil", lam, st.ztz, lam, optimize=True) for st in parts])
    zty = w @ np.stack([st.zty for st in parts])
    if beta is None:
        xtx = wsum(wt, [st.xtx[None] for st in parts])
        lzx = wsum(wt, [np.einsum("sji,jk->sik", lam, st.ztx) for st in parts])
        top = np.concatenate([lzz, lzx], axis=2)
        bottom = np.concatenate([lzx.transpose(0, 2, 1), xtx], axis=2)
        wtw = np.concatenate([top, bottom], axis=1)
        xty = w @ np.stack([st.xty for st in parts])
        wty = np.concatenate([np.einsum("sji,sj->si", lam, zty), xty], axis=1)
        prec = np.concatenate([np.ones(q), prior_prec])
        mean = np.concatenate([np.zeros(q), prior_mean])
    else:
        ztxb = wsum([w[:, r, None] for r in range(len(parts))], [beta @ st.ztx.T for st in parts])
        wtw = lzz
        wty = np.einsum("sji,sj->si", lam, zty - ztxb)
        prec, mean = np.ones(q), np.zeros(q)
    p_mat = wtw + np.eye(len(prec)) * prec
    h = wty + prec * mean
    chol = np.linalg.cholesky(p_mat)
    mu = np.linalg.solve(p_mat, h[..., None])[..., 0]
    if not noise:
        return mu
    z = rng.standard_normal(h.shape)
    return mu + np.linalg.solve(chol.transpose(0, 2, 1), z[..., None])[..., 0]
