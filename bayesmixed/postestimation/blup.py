"""Conditional modes (BLUPs) and conditional covariances of the random effects.

Linear models: with b = Lambda u and the lower Cholesky factor L of
Lambda'Z'Z Lambda + I (the random-effects part of the profiled deviance's
factor), the modes solve L' u = L_yZ' - L_XZ' beta and
Var(b | y) = sigma^2 Lambda (L L')^-1 Lambda', as lme4's
``ranef(condVar = TRUE)``.  L is blocked as the ML engine stores it,

    L = [[L_1, 0], [L_r1, L_rr]],   L_1 = diag(L_g) one k x k factor per group,

so the diagonal blocks of (L L')^-1 are exact without a q x q inverse:

* first block, group g: T_g (I + W_g'W_g) T_g' with T_g = lambda L_g^-T and
  W = L_rr^-1 L_r1 (formed a chunk of groups at a time);
* other blocks: the diagonal blocks of L_rr^-T L_rr^-1 (L_rr is dense already).

Designs factored one independent component at a time (nested factors,
:mod:`..engines.ml.components`) compute both per component, from their own factor.

With ``fweight()`` on levels, the factor is that of the expanded data's symmetric
PLS problem in v = sqrt(C) u (C: copies of each effect's group,
:mod:`..engines.ml.crossprod`).  A copy's mode is then Lambda v / sqrt(c_g), and
its conditional covariance is the g block of L_e^-T L_e^-1 with L_e = S L S^-1,
S = sqrt(C) (the expanded factor restricted to one copy and its ancestors): that
is (L^-T C L^-1)_gg / c_g, so the rows of W and of L_rr^-1 are weighted by c.

GLMMs: the modes come with the fit; the conditional covariance is
Lambda H^-1 Lambda' with H = Lambda'Z'WZ Lambda + I at the mode (Fisher
weights), lme4's ``condVar`` for ``glmer``: per group for one block, from a
sparse LU with chunked solves for several.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular
from scipy.sparse.linalg import splu

from ..errors import NotSupportedError
from ..results.base import ResultKind
from ..spec.family import get_family

CHUNK = 2048  # columns of W (or of H^-1) formed at a time


@dataclass
class BLUPs:
    """Per block (design order): modes (groups, k) and conditional covariances (groups, k, k)."""

    values: list[np.ndarray]
    cond_cov: list[np.ndarray]

    def cond_sd(self) -> list[np.ndarray]:
        return [np.sqrt(np.maximum(np.diagonal(c, axis1=1, axis2=2), 0.0)) for c in self.cond_cov]


def blups(result) -> BLUPs:
    """BLUPs of a frequentist fit, cached on the result (they are reused by every kind)."""
    cached = getattr(result, "_blups", None)
    if cached is not None:
        return cached
    # by kind, not through the dispatch table: this module is one of the table's
    # implementations (behind random_effects and predict), so it cannot import it
    out = glmm_blups(result) if result.kind is ResultKind.GLMM else lmm_blups(result)
    try:
        result._blups = out
    except AttributeError:  # pragma: no cover - frozen result types
        pass
    return out


# -- linear mixed models -----------------------------------------------------------------
def lmm_blups(result) -> BLUPs:
    """Modes and conditional covariances of a :class:`MixedResult`."""
    from ..design.standardize import FixedScaling
    from ..engines.ml.components import ComponentFactor
    from ..engines.ml.criterion import make_deviance, to_design_order

    fixed = None  # a whitened design is scaled as the raw X it came from
    design = result.design
    if design.residual is not None:
        design, fixed = _whitened(result), FixedScaling.of(design.X)
    dev = make_deviance(design, result.reml, fixed)
    theta_eval = _eval_theta(result, dev.cp.order)
    fac = dev.factor(theta_eval)
    order = dev.cp.order
    sigma2 = float(result.sigma2)
    if isinstance(fac, ComponentFactor):  # one factor per independent component
        values, rel = fac.blups(fac.to_internal(np.asarray(result.beta)))
        covs = [sigma2 * c for c in rel]
        return BLUPs(to_design_order(values, order), to_design_order(covs, order))
    l_r1 = fac.w_r1 if fac.w_r1 is not None else dev._rest_first(fac.lam[1:], fac.t1)
    u1, u_r = _spherical_modes(fac, fac.to_internal(np.asarray(result.beta)), l_r1)
    c1, c_r = _copies(dev.cp, fac)
    values = [u1 @ fac.lam[0].T / np.sqrt(c1)[:, None]]
    covs = [sigma2 * _first_block_cov(fac, l_r1, c1, c_r)]
    l_rr = fac.l_rest[: fac.q_r, : fac.q_r]
    m_inv = solve_triangular(l_rr, np.eye(fac.q_r), lower=True) if fac.q_r else None
    for lam, (off, k, g) in zip(fac.lam[1:], _rest_layout(dev.cp)):
        c_g = c_r[off : off + k * g : k]
        values.append(u_r[off : off + k * g].reshape(g, k) @ lam.T / np.sqrt(c_g)[:, None])
        cols = m_inv[:, off : off + k * g].reshape(fac.q_r, g, k)
        v_u = np.einsum("rga,r,rgb->gab", cols, c_r, cols) / c_g[:, None, None]
        covs.append(sigma2 * np.einsum("ab,gbc,dc->gad", lam, v_u, lam))
    return BLUPs(to_design_order(values, order), to_design_order(covs, order))


def _copies(cp, fac) -> tuple[np.ndarray, np.ndarray]:
    """Copies of the first block's groups (g,) and of every rest effect (q_r,); ones
    without ``fweight()``."""
    g, k, _ = fac.l1.shape
    if cp.copies is None:
        return np.ones(g), np.ones(fac.q_r)
    return cp.copies[: g * k : k], cp.copies[g * k :]


def _whitened(result):
    """The design with every panel whitened at the fitted residual parameters.

    Whitening by C_i^-1/2 leaves the random effects and their group codes alone, so the
    conditional modes and covariances of the whitened iid model are those of the fitted
    structured one (the ML engine optimizes the same way, :mod:`..engines.ml.residual`).
    """
    from ..engines.ml.residual import Whitener

    whitener = Whitener(result.design)
    white, _ = whitener.whiten(fitted_psi(result))
    return whitener.design_from(white)


def fitted_psi(result) -> np.ndarray:
    """The residual model's unconstrained vector at the fit (between the working values
    of the blocks and log sigma, as :func:`..engines.ml.residual._result` stores it)."""
    n_psi = result.design.residual.model.n_params
    n_blocks = len(result.working) - n_psi - 1
    return np.asarray(result.working, float)[n_blocks : n_blocks + n_psi]


def _eval_theta(result, order: list[int]) -> np.ndarray:
    """The result's theta (design order) rearranged into evaluation order."""
    sizes = [b.structure.n_theta for b in result.design.blocks]
    parts = np.split(np.asarray(result.theta, float), np.cumsum(sizes)[:-1])
    return np.concatenate([parts[i] for i in order])


def _rest_layout(cp) -> list[tuple[int, int, int]]:
    return [(off, k, g) for off, k, g in zip(cp.offsets, cp.k[1:], cp.n_groups[1:])]


def _spherical_modes(fac, beta: np.ndarray, l_r1) -> tuple[np.ndarray, np.ndarray]:
    """Back substitution L' u = c, c = L_yZ' - L_XZ' beta, rest blocks first.

    ``beta`` is in the factor's internal coordinates (:meth:`Factor.to_internal`).
    """
    p, q_r = fac.p, fac.q_r
    c1 = fac.w_xy1[p] - beta @ fac.w_xy1[:p]
    u_r = np.zeros(0)
    if q_r:
        below = fac.l_rest[q_r:, :q_r]
        c_r = below[p] - beta @ below[:p]
        u_r = solve_triangular(fac.l_rest[:q_r, :q_r], c_r, lower=True, trans="T")
        c1 = c1 - np.asarray(l_r1.T @ u_r).ravel()
    g, k, _ = fac.l1.shape
    rhs = c1.reshape(g, k, 1)
    u1 = np.linalg.solve(fac.l1.transpose(0, 2, 1), rhs)[:, :, 0]
    return u1, u_r


def _first_block_cov(fac, l_r1, c1: np.ndarray, c_r: np.ndarray) -> np.ndarray:
    """(groups, k, k) blocks T_g (I + W_g' C_r W_g / c_g) T_g' of the first block
    (relative scale; the copies C are ones without ``fweight()``)."""
    g, k, _ = fac.t1.shape
    inner = np.broadcast_to(np.eye(k), (g, k, k)).copy()
    q_r = fac.q_r
    if q_r:
        l_rr = fac.l_rest[:q_r, :q_r]
        per = max(1, CHUNK // k)
        for start in range(0, g, per):
            stop = min(g, start + per)
            block = l_r1[:, start * k : stop * k]
            block = block.toarray() if sp.issparse(block) else np.asarray(block)
            w = solve_triangular(l_rr, block, lower=True).reshape(q_r, stop - start, k)
            extra = np.einsum("rga,r,rgb->gab", w, c_r, w)
            inner[start:stop] += extra / c1[start:stop, None, None]
    return np.einsum("gab,gbc,gdc->gad", fac.t1, inner, fac.t1)


# -- generalized linear mixed models ----------------------------------------------------
def glmm_blups(result) -> BLUPs:
    """Modes of a :class:`GLMMResult` and Lambda H^-1 Lambda' at them."""
    from ..engines.glmm.pirls import lambda_matrix
    from ..engines.glmm.response import build_response

    design = result.design
    extras = glmm_extras(result)
    resp = build_response(design, **extras)
    lams = [_glmm_lambda(b, t) for b, t in zip(design.blocks, _split_theta(result))]
    modes = [np.asarray(m, float) for m in result.modes]
    eta = np.asarray(design.X @ result.beta, float) + _offset(extras, design.n)
    for block, b in zip(design.blocks, modes):
        eta = eta + np.einsum("nk,nk->n", block.Z, b[block.codes])
    _, w = resp.family.score_weights(resp.y, eta[resp.perm], resp.trials, result.anc_working)
    if len(design.blocks) == 1:
        cov = _grouped_glmm_cov(resp, w, lams[0])
        return BLUPs(modes, [cov])
    zl = _z_all(design) @ lambda_matrix(lams, [b.n_groups for b in design.blocks])
    w_orig = np.empty_like(w)
    w_orig[resp.perm] = w
    h = (zl.T @ sp.diags(w_orig) @ zl + sp.identity(zl.shape[1])).tocsc()
    return BLUPs(modes, _sparse_cond_cov(h, lams, design.blocks))


def glmm_extras(result) -> dict:
    """Offset and trials of the fit: stored on the result, or not needed by the model."""
    spec = result.design.spec
    out: dict = {}
    offset = getattr(result, "offset", None)
    trials = getattr(result, "trials", None)
    if offset is not None:
        out["offset"] = np.asarray(offset, float)
    elif spec.offset or spec.exposure:
        raise NotSupportedError(
            "this fit does not keep its offset()/exposure() values, so its predictions on the "
            "estimation sample cannot be rebuilt; pass the data with data=..."
        )
    if get_family(spec.family, spec.link).uses_trials:
        if trials is None and isinstance(spec.trials, str):
            raise NotSupportedError(
                "this fit does not keep its binomial trials, so its predictions on the "
                "estimation sample cannot be rebuilt; pass the data with data=..."
            )
        out["trials"] = trials if trials is not None else float(spec.trials or 1)
    return out


def _offset(extras: dict, n: int) -> np.ndarray:
    return np.asarray(extras.get("offset", np.zeros(n)), float)


def _split_theta(result) -> list[np.ndarray]:
    sizes = [b.structure.n_theta for b in result.design.blocks]
    return np.split(np.asarray(result.theta, float), np.cumsum(sizes)[:-1])


def _glmm_lambda(block, theta: np.ndarray) -> np.ndarray:
    return block.structure.lam(theta)


def _grouped_glmm_cov(resp, w: np.ndarray, lam: np.ndarray) -> np.ndarray:
    k = lam.shape[0]
    m = resp.group_sum(resp.zz * w[:, None]).reshape(-1, k, k)
    h = np.einsum("ba,gbc,cd->gad", lam, m, lam) + np.eye(k)
    h_inv = np.linalg.inv(h)
    return np.einsum("ab,gbc,dc->gad", lam, h_inv, lam)


def _z_all(design) -> sp.csr_matrix:
    mats = []
    n = design.n
    for block in design.blocks:
        k = block.k
        cols = block.codes[:, None] * k + np.arange(k)[None, :]
        rows = np.broadcast_to(np.arange(n)[:, None], cols.shape)
        mats.append(
            sp.csr_matrix((block.Z.ravel(), (rows.ravel(), cols.ravel())), shape=(n, block.q))
        )
    return sp.hstack(mats).tocsr()


def _sparse_cond_cov(h: sp.csc_matrix, lams, blocks) -> list[np.ndarray]:
    """Diagonal k x k blocks of Lambda H^-1 Lambda', by chunked sparse solves."""
    lu = splu(h)
    out, start = [], 0
    for lam, block in zip(lams, blocks):
        k, g = block.k, block.n_groups
        v = np.empty((g, k, k))
        per = max(1, CHUNK // k)
        for g0 in range(0, g, per):
            g1 = min(g, g0 + per)
            cols = np.arange(start + g0 * k, start + g1 * k)
            rhs = np.zeros((h.shape[0], len(cols)))
            rhs[cols, np.arange(len(cols))] = 1.0
            sol = lu.solve(rhs)[cols].reshape(g1 - g0, k, g1 - g0, k)
            idx = np.arange(g1 - g0)
            v[g0:g1] = sol[idx, :, idx, :]
        out.append(np.einsum("ab,gbc,dc->gad", lam, v, lam))
        start += k * g
    return out
