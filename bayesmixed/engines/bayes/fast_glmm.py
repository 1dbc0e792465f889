"""The non-centred log posterior of a GLMM and its exact gradient, in NumPy (no compile).

Why this exists: a Bayesian ``melogit`` compiled PyMC's graph through PyTensor's numba
backend before its first draw -- 37 s for the workshop's random intercept and 98 s for its
random slope with an unstructured covariance on an empty compile cache -- which made the
two ``bayes: melogit`` twins more than half of a new user's ``bayesmixed workshop``.  The
log density of a GLMM without an ancillary parameter (Bernoulli, binomial, Poisson, any
link) is a handful of array operations whose gradient is closed form, so nutpie can call
it through Python from the first second (:mod:`.fast_nuts`).

**The density** is exactly the PyMC model's (:mod:`.glmm`, :mod:`.build`): coefficients
with their priors, each block's covariance factor Lambda from the same working coordinates
and priors (:class:`.laplace_numpy.BlockParams`: log scales, tanh'd CPCs under an LKJ
prior, the logit of an exchangeable correlation, Jacobians included), the effects
b_g = Lambda u_g with u ~ N(0, I), and the family's own log density at
eta = X beta + offset + Z b (constants included, so the value equals PyMC's log density;
``tests/engines/bayes/test_fast_glmm.py`` checks it against the compiled graph).

**The gradient**, with s = dl/deta (the family's score, :meth:`Family.loglik_score`):
dl/dbeta = X's; with G_b the (groups x k) rows of Z's for block b, dl/du_b = G_b Lambda - u_b
and dl/dLambda = G_b' U_b, which :func:`.fast_posterior.lam_grad` chains through the
block's transforms.  The score is exact under the logit and log links; under the others it
is :meth:`Family.score_weights`', which clips the mean away from 0 and 1 (probabilities
below 1e-15), where it departs from the exact derivative.  The leapfrog stays
volume-preserving and reversible with any force, and the accept step uses the exact
density, so the draws stay exact and only such far-out trajectories lose efficiency.

Speed: for canonical links (logit, log) the same posterior runs compiled, as a C callback
nutpie calls on every core (:mod:`.fast_glmm_kernel`); other links (probit, cloglog) call
this NumPy version through Python (~120 us an evaluation, chains one after another).
Sampled effects take nutpie's diagonal mass-matrix adaptation (:func:`.fast_nuts.
adaptation`).  Measured on the workshop's ``melogit c_use urban age child1 child2 child3
|| district: urban, cov(unstructured)`` (1,934 rows, 60 districts, 129 coordinates, 2
chains x 1,000 draws): ~7 s a fit, against ~30 s through this NumPy density with low-rank
adaptation and 98 s of compile alone for PyMC's graph (cold); see
``benchmarks/first_posterior.py`` (case h) and the README.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...errors import BayesmixedError
from ...spec.family import get_family
from ..glmm.glm import fit_glm
from ..glmm.response import build_response, offset_array
from .ancillary import bound_family
from .build import BuiltModel
from .covariance import beta_prior_moments
from .fast_posterior import COEF_DLOGPDF, lam_grad
from .laplace_numpy import BlockParams, covers_effects
from .marginal import suff_stats
from .numpy_density import COEF_LOGPDF
from .priors import block_names

LOG_2PI = float(np.log(2 * np.pi))
START_SD = 0.5  # each random effect's SD at the start (working scale), before the jitter


def glmm_model(design, priors: dict, marginal: bool, integrate: bool, offset, trials):
    """The built model :class:`GlmmPosterior` needs, without PyMC's graph (None: not covered)."""
    if get_family(design.spec.family, design.spec.link).closed_form or marginal or integrate:
        return None
    mean, prec = beta_prior_moments(list(design.fixed_names), priors)
    built = BuiltModel(None, design, priors, block_names(design), False, False,
                       suff_stats(design), mean, prec)  # fmt: skip
    built.family, built.y_obs, built.trials = bound_family(design, trials)
    built.offset = offset_array(offset, design.n)
    return built if glmm_covers(built) else None


def glmm_covers(built) -> bool:
    """Whether :class:`GlmmPosterior` reproduces ``built``'s PyMC model exactly."""
    if built.gaussian or built.marginal or built.integrate_beta:
        return False
    if built.family.ancillary is not None or built.design.weights is not None:
        return False
    return covers_effects(built)


class GlmmPosterior:
    """log posterior (Jacobians included) and gradient at a working vector x.

    x = [beta, each block's covariance coordinates, each block's u (groups x k, row-major)].
    Like :class:`.fast_residual_posterior.ResidualPosterior` it is its own ``obj``; called
    through Python (links without a compiled kernel) its chains run one after another
    (``serial``).
    """

    serial = True
    dens = None  # no integrated density (:mod:`.fast_glmm_kernel` compiles this one)

    def __init__(self, built):
        design = built.design
        self.built, self.obj = built, self
        self.family, self.y, self.trials = built.family, built.y_obs, built.trials
        self.offset = built.offset
        # [X Z] as one sparse matrix: eta and X's, Z's are one product each (scipy's
        # per-call cost, ~8 us, is most of a product at n = 1,934)
        self.A = sp.hstack([sp.csr_matrix(np.asarray(design.X, float)), built.stats.z]).tocsr()
        self.AT = self.A.T.tocsr()
        self.blocks = [BlockParams(n, b, built.priors) for n, b in zip(built.names, design.blocks)]
        self.coefs = [built.priors[f"beta[{n}]"] for n in design.fixed_names]
        self.p = len(self.coefs)
        # normal priors (the default) in one vectorized pass; the others one by one
        normal = [c.dist == "normal" for c in self.coefs]
        self.normal = np.flatnonzero(normal)
        self.others = [(j, c) for j, c in enumerate(self.coefs) if not normal[j]]
        params = np.array([c.params[:2] for c in self.coefs if c.dist == "normal"], float)
        self.n_mean, self.n_var = params.T if len(params) else (np.zeros(0), np.ones(0))
        self.n_const = -0.5 * float(np.sum(LOG_2PI + np.log(self.n_var)))
        self.dims = [(b.n_groups, b.k) for b in design.blocks]
        sizes = [self.p] + [b.size for b in self.blocks] + [g * k for g, k in self.dims]
        edges = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self._slices = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
        self.n = int(edges[-1])
        self.q = sum(g * k for g, k in self.dims)
        self.const = -0.5 * self.q * LOG_2PI  # u's normal densities, as PyMC normalizes them

    def split(self, x: np.ndarray):
        """beta, each block's covariance coordinates, each block's u as (groups, k)."""
        x = np.asarray(x, float)
        nb = len(self.blocks)
        ws = [x[s] for s in self._slices[1 : 1 + nb]]
        us = [x[s].reshape(d) for s, d in zip(self._slices[1 + nb :], self.dims)]
        return x[self._slices[0]], ws, us

    def _coef_terms(self, beta: np.ndarray) -> tuple[float, np.ndarray]:
        """beta's log prior and its gradient."""
        grad = np.zeros(self.p)
        e = (beta[self.normal] - self.n_mean) / self.n_var
        grad[self.normal] = -e
        logp = self.n_const - 0.5 * float(e @ (beta[self.normal] - self.n_mean))
        for j, c in self.others:
            logp += float(COEF_LOGPDF[c.dist](beta[j], c.params))
            grad[j] = COEF_DLOGPDF[c.dist](beta[j], c.params)
        return logp, grad

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        beta, ws, us = self.split(x)
        logp, d_beta = self._coef_terms(beta)
        lams = []
        for blk, w in zip(self.blocks, ws):
            lam, lp = blk.lam(w, True)
            lams.append(lam)
            logp += lp
        coef = np.concatenate([beta] + [(u @ lam.T).ravel() for u, lam in zip(us, lams)])
        eta = self.A @ coef + self.offset
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            loglik, score = self.family.loglik_score(self.y, eta, self.trials)
        g_all = self.AT @ score
        grad = [g_all[: self.p] + d_beta]
        g_b, d_us, off = g_all[self.p :], [], 0
        for blk, w, u, lam in zip(self.blocks, ws, us, lams):
            rows = g_b[off : off + u.size].reshape(u.shape)
            off += u.size
            grad.append(lam_grad(blk, w, lam, rows.T @ u))
            d_us.append((rows @ lam - u).ravel())
            logp -= 0.5 * float(np.sum(u * u))
        return float(logp + loglik + self.const), np.concatenate(grad + d_us)

    # -- what the sampler's driver asks (see :mod:`.fast_nuts`) --------------------------
    def shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        out = [(f"cov[{b.name}]", (b.k, b.k)) for b in self.blocks]
        out.append(("beta", (self.p,)))
        return out + [(f"b[{b.name}]", d) for b, d in zip(self.blocks, self.dims)]

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The traced variables at x: each cov[<block>], beta and each b[<block>]."""
        beta, ws, us = self.split(x)
        out = {}
        for blk, w, u in zip(self.blocks, ws, us):
            lam, _ = blk.lam(w, False, prior=False)
            out[f"cov[{blk.name}]"] = lam @ lam.T
            out[f"b[{blk.name}]"] = u @ lam.T
        out["beta"] = np.asarray(beta, float)
        return out

    def initial(self) -> np.ndarray:
        """The GLM fit without random effects for beta, SDs of :data:`START_SD`, u = 0.

        The sampler jitters this start; the GLM's coefficients put eta on the data's scale
        from the first step, which PyMC's default start (beta = 0) does not.
        """
        design = self.built.design
        try:
            beta = fit_glm(build_response(design, offset=self.offset, trials=self.trials)).beta
        except (BayesmixedError, np.linalg.LinAlgError, FloatingPointError, ValueError):
            beta = np.zeros(self.p)  # PyMC's own start; the sampler's warm-up moves from it
        if not np.all(np.isfinite(beta)):
            beta = np.zeros(self.p)
        cov = np.eye(max(k for _, k in self.dims)) * START_SD**2
        parts = [np.asarray(beta, float)]
        parts += [blk.working(cov[: blk.k, : blk.k], START_SD) for blk in self.blocks]
        parts.append(np.zeros(self.q))
        return np.concatenate(parts)
