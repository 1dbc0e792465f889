"""The log posterior of an integrated Gaussian model and its exact gradient, on NUTS's scale.

The coordinates, priors and transforms are those of the PyMC model (and of
:class:`.laplace_numpy.NumpyObjective`, which this reuses for them): log scales, tanh'd
canonical partial correlations for an LKJ factor, a logit for a uniform correlation, and
beta when it is sampled.  The likelihood and its derivatives with respect to sigma, each
block's covariance and beta come from :class:`.fast_density.IntegratedGaussian`; this
module chains them through the transforms and adds the priors' derivatives, all in closed
form.  Nothing here is compiled, so a sampler can call :meth:`FastPosterior.logp_grad`
from the first second.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ...spec.covariance import Exchangeable, Unstructured
from .fast_density import MAX_COST, IntegratedGaussian, fast_cost, layout
from .laplace_numpy import NumpyObjective, covers
from .numpy_density import COEF_LOGPDF, log_sech_scalar

#: d/dv log p(v) of a positive variable by prior name (see numpy_density.SCALE_LOGPDF)
SCALE_DLOGPDF: dict[str, Callable[[float, tuple], float]] = {
    "halfnormal": lambda v, p: -v / p[0],
    "halfcauchy": lambda v, p: -2.0 * v / (p[0] ** 2 + v * v),
    "halft": lambda v, p: -(p[1] + 1.0) * v / (p[1] * p[0] + v * v),
    "exponential": lambda v, p: -1.0 / p[0],
    "gamma": lambda v, p: (p[0] - 1.0) / v - 1.0 / p[1],
    "lognormal": lambda v, p: -1.0 / v - (np.log(v) - p[0]) / (v * p[1]),
    "igamma": lambda v, p: -(p[0] + 1.0) / v + p[1] / (v * v),
    "flat": lambda v, p: 0.0,
}

#: d/db log p(b) of a coefficient by prior name (see numpy_density.COEF_LOGPDF)
COEF_DLOGPDF: dict[str, Callable[[float, tuple], float]] = {
    "normal": lambda b, p: -(b - p[0]) / p[1],
    "t": lambda b, p: -(p[2] + 1.0) * (b - p[0]) / (p[2] * p[1] + (b - p[0]) ** 2),
    "cauchy": lambda b, p: -2.0 * (b - p[0]) / (p[1] ** 2 + (b - p[0]) ** 2),
    "laplace": lambda b, p: -np.sign(b - p[0]) / p[1],
    "flat": lambda b, p: 0.0,
}


def fast_covers(built) -> bool:
    """Whether :class:`FastPosterior` samples ``built`` exactly and cheaply."""
    if not built.gaussian:  # a GLMM's non-centred density
        from .fast_glmm import glmm_covers

        return glmm_covers(built)
    if built.cells is not None:  # residual cells or AR(1) panels
        from .fast_residual_posterior import residual_covers

        return residual_covers(built)
    if not covers(built) or built.design.weights is not None:
        return False
    return fast_cost(built_layout(built)) <= MAX_COST


def built_layout(built):
    """The design's component layout, found once per built model (kept on ``built``)."""
    cache = built.__dict__.setdefault("_fast", {})
    if "layout" not in cache:
        blocks = built.design.blocks
        cache["layout"] = layout(built.stats, [b.k for b in blocks], [b.n_groups for b in blocks])
    return cache["layout"]


def scale_grad(scale, w: float, d_sd: float) -> float:
    """d/dw of the likelihood through sd = exp(c w), plus the prior with its Jacobian."""
    v = math.exp(w)
    c = 0.5 if scale.on_variance else 1.0
    return d_sd * c * scale.sd(w) + SCALE_DLOGPDF[scale.prior.dist](v, scale.prior.params) * v + 1


def _cpc_grad(y: np.ndarray, k: int, g_c: np.ndarray, eta: float) -> np.ndarray:
    """Gradient in the CPC coordinates y of <g_c, C(y)> + LKJ(C) + log-Jacobian.

    C[r, c] = tanh(y_rc) prod_{j<c} sech(y_rj) below the diagonal and prod_{j<r} sech(y_rj)
    on it, so dC[r, c]/dy_rm = -tanh(y_rm) C[r, c] for m < c and sech^2 times the product
    for m = c.
    """
    if k == 2:  # the common case, written out: C = [[1, 0], [t, sech]]
        t = math.tanh(y[0])
        sech = math.exp(log_sech_scalar(float(y[0])))
        return np.array(
            [g_c[1, 0] * (1 - t * t) - t * g_c[1, 1] * sech - t * (2 * eta - 2) - 2 * t]
        )
    rows, cols = np.tril_indices(k, -1)
    t = np.zeros((k, k))
    t[rows, cols] = np.tanh(y)
    ls = np.zeros((k, k))
    ls[rows, cols] = np.log1p(-(t[rows, cols] ** 2)) * 0.5  # log sech
    before = np.cumsum(ls, axis=1) - ls
    chol = np.where(np.tri(k, k, -1, bool), t, 0.0) * np.exp(before) + np.diag(
        np.exp(before[np.arange(k), np.arange(k)])
    )
    hc = np.tril(g_c * chol)
    after = np.cumsum(hc[:, ::-1], axis=1)[:, ::-1] - hc  # sum over c > m
    grad = g_c * (1.0 - t * t) * np.exp(before) - t * after
    exponents = 2 * eta - 2 + k - np.arange(1, k + 1)
    grad -= t * (exponents[:, None] + (np.arange(k)[:, None] - np.arange(k)[None, :] + 1))
    return grad[rows, cols]


class FastPosterior:
    """log posterior (Jacobian included) and gradient at a working vector x."""

    def __init__(self, built):
        self.obj = NumpyObjective(built, jacobian=True)
        design = built.design
        self.dens = IntegratedGaussian(
            built.stats,
            [b.k for b in design.blocks],
            [b.n_groups for b in design.blocks],
            built.prior_mean,
            built.prior_prec,
            bool(built.integrate_beta),
            lay=built_layout(built),
        )
        self.n = self.obj.n
        edges = [0, *self.obj.splits, self.n]
        self.slices = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]

    def shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """The traced variables and their shapes (one draw)."""
        built = self.obj.built
        out = [("sigma", ())]
        out += [(f"cov[{n}]", (b.k, b.k)) for n, b in zip(built.names, built.design.blocks)]
        if not built.integrate_beta:
            out.append(("beta", (len(built.design.fixed_names),)))
        return out

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        obj = self.obj
        parts = [x[s] for s in self.slices]
        w_sigma, w_blocks = float(parts[0][0]), parts[1 : 1 + len(obj.blocks)]
        beta = None if obj.integrate else parts[-1]
        sigma = obj.sigma.sd(w_sigma)
        logp = obj.sigma.logp(w_sigma, True)
        lams = []
        for blk, w in zip(obj.blocks, w_blocks):
            lam, lp = blk.lam(w, True)
            lams.append(lam)
            logp += lp
        loglik, d_sigma, d_covs, d_beta = self.dens(sigma, lams, beta)
        grad = [np.array([scale_grad(obj.sigma, w_sigma, d_sigma)])]
        for blk, w, lam, s in zip(obj.blocks, w_blocks, lams, d_covs):
            grad.append(block_grad(blk, w, lam, s))
        if beta is not None:
            logp += sum(float(coef_logp(p, b)) for p, b in zip(obj.coefs, beta))
            prior = [COEF_DLOGPDF[p.dist](b, p.params) for p, b in zip(obj.coefs, beta)]
            grad.append(d_beta + np.asarray(prior, float))
        return float(logp + loglik), np.concatenate(grad)


def coef_logp(prior, b: float) -> float:
    return COEF_LOGPDF[prior.dist](b, prior.params)


def block_grad(blk, w: np.ndarray, lam: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Gradient of one block's working values from S = dl/dSigma_b (Sigma_b = lam lam')."""
    return lam_grad(blk, w, lam, 2.0 * s @ lam)


def lam_grad(blk, w: np.ndarray, lam: np.ndarray, g_lam: np.ndarray) -> np.ndarray:
    """Gradient of one block's working values from G = dl/dlam, priors and Jacobians
    included.  An integrated likelihood depends on Sigma_b only (G = 2 S lam); a sampled
    effect b = lam u (:mod:`.fast_glmm`) depends on lam itself."""
    if blk.k == 1:  # a random intercept: lam = sd
        scale, v = blk.scales[0], float(w[0])
        return np.array([scale_grad(scale, v, float(g_lam[0, 0]))])
    ns, k = len(blk.scales), blk.k
    sds = np.array([sc.sd(v) for sc, v in zip(blk.scales, w[:ns])])
    out = np.empty(blk.size)
    if blk.kind is Exchangeable and k > 1:
        # lam = sd (a I + (b - a) / k J), a = sqrt(1 - rho), b = sqrt(1 + (k - 1) rho)
        lo, hi = blk.bounds
        sg = 1.0 / (1.0 + np.exp(-w[ns]))
        rho = lo + (hi - lo) * sg
        a, b = math.sqrt(1.0 - rho), math.sqrt(1.0 + (k - 1) * rho)
        da, db = -0.5 / a, 0.5 * (k - 1) / b
        d_lam = sds[0] * (da * np.eye(k) + (db - da) / k * np.ones((k, k)))
        out[0] = scale_grad(blk.scales[0], w[0], float(np.sum(g_lam * lam)) / sds[0])
        out[ns] = float(np.sum(g_lam * d_lam)) * (hi - lo) * sg * (1 - sg) + (1 - 2 * sg)
        return out
    if blk.kind is Unstructured and k > 1:
        chol = lam / sds[:, None]
        d_sd = np.sum(g_lam * chol, axis=1)
        for i in range(ns):
            out[i] = scale_grad(blk.scales[i], w[i], float(d_sd[i]))
        out[ns:] = _cpc_grad(w[ns:], k, sds[:, None] * g_lam, blk.eta)
        return out
    d_sd = np.diag(g_lam) if ns == k else [float(np.trace(g_lam))]
    for i in range(ns):
        out[i] = scale_grad(blk.scales[i], w[i], float(d_sd[i]))
    return out
