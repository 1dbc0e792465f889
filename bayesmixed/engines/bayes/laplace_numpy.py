"""The log posterior of an integrated Gaussian model in NumPy, for the Laplace mode.

For a Gaussian model whose random effects (and optionally beta) integrate out, the log
posterior is the log marginal likelihood plus the log prior densities, and the marginal
likelihood is what the ML engine already evaluates by its blocked Cholesky
(:class:`~bayesmixed.engines.ml.deviance.ProfiledDeviance`): at sigma and relative factors
Lambda = lam / sigma, its factor gives log|Lambda'Z'Z Lambda + I| (``logdet_re``), the
penalized residual sum of squares at the GLS beta (``r2``) and L_XX, whose L_XX L_XX' /
sigma2 is the precision of beta in the factor's internal coordinates.  Then, not profiled,

* beta given:       -1/2 [n log(2 pi sigma2) + logdet_re + r2/sigma2 + |L_XX'(b - b^)|^2/sigma2]
* beta integrated:  the same at b^, + 1/2 sum log q0 - 1/2 log|A + P| - 1/2 Q_min,

with A = X'V^-1 X, P = diag(q0) the prior precision (0 for flat coefficients) and Q_min
the minimum over beta of (b - b^)'A(b - b^) + (b - m0)'P(b - m0): exactly the integral
:func:`.marginal.weighted_loglik` writes in PyTensor, constants included.  The working
coordinates are those of the PyMC model (:mod:`.numpy_density`), so the mode, its Hessian
and the draws mapped back are the PyMC path's, without building a graph or compiling one.

:func:`covers` says which models this handles: Gaussian, random effects integrated out,
homoskedastic independent residuals, the four covariance structures with scale priors of
:data:`.numpy_density.SCALE_LOGPDF`, LKJ / uniform correlations, and normal, t, Cauchy,
Laplace or flat coefficients.  Everything else (residual cells or correlated residual
structures, inverse-Wishart, uniform scale or coefficient priors) uses the PyMC model.
"""

from __future__ import annotations

import numpy as np

from ...spec.covariance import Exchangeable, Identity, Independent, Unstructured
from ..ml.crossprod import build_crossproducts
from ..ml.deviance import ProfiledDeviance
from ..ml.fit import estimate_lmm
from .numpy_density import (
    COEF_LOGPDF,
    PositiveScale,
    covered_scale,
    cpc_factor,
    cpc_working,
    interval,
    interval_working,
    lkj_logp,
)

LOG_2PI = float(np.log(2 * np.pi))
STRUCTURES = (Independent, Identity, Exchangeable, Unstructured)
_CORR_DISTS = {Exchangeable: ("uniform",), Unstructured: ("lkj",)}  # what the graphs build


def covers(built) -> bool:
    """Whether the NumPy log posterior reproduces ``built``'s PyMC model exactly."""
    if not (built.gaussian and built.marginal) or built.cells is not None:
        return False
    if built.panels is not None:
        return False
    return covers_parameters(built)


def covers_parameters(built) -> bool:
    """Whether the NumPy densities have every prior and covariance structure of ``built``
    (residual structures apart: :func:`covers` and :mod:`.fast_residual` decide those)."""
    return covered_scale(built.priors["sigma"]) and covers_effects(built)


def covers_effects(built) -> bool:
    """Whether the NumPy densities have the priors of ``built``'s random-effects blocks and
    coefficients (what a GLMM, which has no residual SD, needs of them)."""
    priors = built.priors
    for name, block in zip(built.names, built.design.blocks):
        if f"cov[{name}]" in priors or type(block.structure) not in STRUCTURES:
            return False
        keys = [k for k in priors if k.startswith((f"sd[{name}]", f"sd[{name}:"))]
        if not all(covered_scale(priors[k]) for k in keys):
            return False
        corr = priors.get(f"corr[{name}]")
        if block.k > 1 and corr is not None and corr.dist not in _CORR_DISTS[type(block.structure)]:
            return False
    coefs = [priors[f"beta[{n}]"] for n in built.design.fixed_names]
    if built.integrate_beta:
        return all(p.dist in ("normal", "flat") for p in coefs)
    return all(p.dist in COEF_LOGPDF for p in coefs)


class BlockParams:
    """One random-effects block: its slice of the working vector <-> (lam, log prior)."""

    def __init__(self, name: str, block, priors: dict):
        self.name, self.k = name, block.k
        self.kind = type(block.structure)
        shared = self.kind in (Identity, Exchangeable)
        keys = [f"sd[{name}]"] if shared else [f"sd[{name}:{e}]" for e in block.effect_names]
        self.scales = [PositiveScale(priors[key]) for key in keys]
        self.n_corr = 0
        if self.k > 1 and self.kind is Exchangeable:
            self.n_corr, self.bounds = 1, tuple(priors[f"corr[{name}]"].params)
        elif self.k > 1 and self.kind is Unstructured:
            corr = priors[f"corr[{name}]"]
            self.n_corr = self.k * (self.k - 1) // 2
            self.eta = corr.params[0] if corr.params else 1.0
        self.size = len(self.scales) + self.n_corr

    def lam(self, w: np.ndarray, jacobian: bool, prior: bool = True) -> tuple[np.ndarray, float]:
        """The block's lower square root of cov (as the PyMC graph builds it) and log prior
        (0 with ``prior=False``: the draws' values only, as the sampler's output needs)."""
        if self.k == 1:  # the common random intercept, without the general path's arrays
            scale, v = self.scales[0], float(w[0])
            return np.array([[scale.sd(v)]]), scale.logp(v, jacobian) if prior else 0.0
        ns = len(self.scales)
        logp = sum(s.logp(v, jacobian) for s, v in zip(self.scales, w[:ns])) if prior else 0.0
        sds = np.array([s.sd(v) for s, v in zip(self.scales, w[:ns])])
        k = self.k
        if self.kind is Exchangeable and k > 1:
            rho, log_jac = interval(w[ns], *self.bounds)
            logp += -np.log(self.bounds[1] - self.bounds[0]) + (log_jac if jacobian else 0.0)
            a, b = np.sqrt(1.0 - rho), np.sqrt(1.0 + (k - 1) * rho)
            return sds[0] * (a * np.eye(k) + (b - a) / k * np.ones((k, k))), logp
        if self.kind is Unstructured and k > 1:
            chol, log_jac = cpc_factor(w[ns:], k)
            if prior:
                logp += lkj_logp(chol, self.eta) + (log_jac if jacobian else 0.0)
            return sds[:, None] * chol, logp
        return np.diag(np.broadcast_to(sds, (k,))).astype(float), logp

    def working(self, cov: np.ndarray, floor: float) -> np.ndarray:
        """Working values at a covariance (the ML start), kept off the boundary."""
        sds = np.maximum(np.sqrt(np.clip(np.diag(cov), 0, None)), floor)
        if len(self.scales) == 1:
            out = [self.scales[0].working(float(np.sqrt(np.mean(sds**2))))]
        else:
            out = [s.working(float(v)) for s, v in zip(self.scales, sds)]
        corr = np.clip(cov / np.outer(sds, sds), -0.95, 0.95)
        np.fill_diagonal(corr, 1.0)
        if self.n_corr and self.kind is Exchangeable:
            lo, hi = self.bounds
            rho = float(np.mean(corr[np.tril_indices(self.k, -1)]))
            rho = min(max(rho, lo + 1e-3 * (hi - lo)), hi - 1e-3 * (hi - lo))
            out.append(interval_working(rho, lo, hi))
        elif self.n_corr:
            out.extend(cpc_working(np.linalg.cholesky(corr)))
        return np.asarray(out, float)


class _FixedLambda(ProfiledDeviance):
    """The ML engine's factorization at given relative factors instead of theta."""

    def lambdas(self, theta):
        return theta


def ml_fit(built, reml: bool):
    """The ML/REML fit of ``built``'s design, computed once per built model."""
    cache = built.__dict__.setdefault("_laplace_ml", {})
    if reml not in cache:
        cache[reml] = estimate_lmm(built.design, reml=reml)
    return cache[reml]


class NumpyObjective:
    """-log posterior on the PyMC model's unconstrained coordinates, and its gradient.

    The same interface as the PyMC objective of :mod:`.laplace_pymc`: ``f``, ``g``,
    ``values`` (the trace variables at x), ``names`` and ``initial`` (the ML start).
    ``gtol``: finite-difference gradients are good to ~1e-7, so BFGS stops at 1e-5 and
    Newton steps with the second-difference :meth:`hessian` finish the search.
    """

    gtol = 1e-5

    def __init__(self, built, jacobian: bool = False):
        self.built, self.jacobian = built, jacobian
        design, priors = built.design, built.priors
        self.sigma = PositiveScale(priors["sigma"])
        self.blocks = [BlockParams(n, b, priors) for n, b in zip(built.names, design.blocks)]
        self.p = len(design.fixed_names)
        self.integrate = bool(built.integrate_beta)
        self.coefs = [priors[f"beta[{n}]"] for n in design.fixed_names]
        sizes = [1] + [b.size for b in self.blocks] + ([] if self.integrate else [self.p])
        self.splits = np.cumsum(sizes)[:-1]
        self.n = int(sum(sizes))
        cp = build_crossproducts(design)
        self.dev = _FixedLambda(cp, [design.blocks[i].structure for i in cp.order], False)
        self._prior_terms()
        self.names = ["sigma"] + [f"cov[{b.name}]" for b in self.blocks]
        self.names += [] if self.integrate else ["beta"]

    def _prior_terms(self) -> None:
        """beta's prior mean and precision in the factor's coordinates z (beta = M z)."""
        fixed = self.dev.cp.fixed
        prec = np.asarray(self.built.prior_prec, float)
        mean = np.asarray(self.built.prior_mean, float)
        m = fixed.matrix
        self.prec_z = m.T @ (prec[:, None] * m)
        self.mean_z = np.linalg.solve(m, mean)
        self.log_prec = 0.5 * float(np.sum(np.log(prec[prec > 0])))
        self.reml_shift = fixed.reml_shift  # log|det M|^-2: A_user = M^-T A_z M^-1

    # -- the density -------------------------------------------------------------------
    def split(self, x: np.ndarray):
        parts = np.split(np.asarray(x, float), self.splits)
        return parts[0][0], parts[1 : 1 + len(self.blocks)], None if self.integrate else parts[-1]

    def logp(self, x: np.ndarray) -> float:
        w_sigma, w_blocks, beta = self.split(x)
        sigma = self.sigma.sd(w_sigma)
        logp = self.sigma.logp(w_sigma, self.jacobian)
        lams = []
        for blk, w in zip(self.blocks, w_blocks):
            lam, lp = blk.lam(w, self.jacobian)
            lams.append(lam / sigma)
            logp += lp
        if beta is not None:
            logp += sum(float(COEF_LOGPDF[p.dist](b, p.params)) for p, b in zip(self.coefs, beta))
        return float(logp + self._loglik(sigma, lams, beta))

    def _loglik(self, sigma: float, lams: list[np.ndarray], beta) -> float:
        cp = self.dev.cp
        f = self.dev.factor([lams[i] for i in cp.order])
        s2 = sigma * sigma
        out = -0.5 * (cp.n * (LOG_2PI + np.log(s2)) + f.logdet_re + f.r2 / s2)
        l_xx = f.l_xx
        if beta is not None:
            u = l_xx.T @ (f.to_internal(beta) - f.beta_internal())
            return float(out - 0.5 * (u @ u) / s2)
        a = l_xx @ l_xx.T / s2
        z_hat = f.beta_internal() + f.beta_shift
        h = a + self.prec_z
        chol = np.linalg.cholesky(h)
        z_star = np.linalg.solve(h, a @ z_hat + self.prec_z @ self.mean_z)
        d, e = z_star - z_hat, z_star - self.mean_z
        q_min = d @ a @ d + e @ self.prec_z @ e
        logdet = 2.0 * np.sum(np.log(np.diag(chol))) + self.reml_shift
        return float(out + self.log_prec - 0.5 * (logdet + q_min))

    def f(self, x: np.ndarray) -> float:
        try:
            v = -self.logp(x)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError, OverflowError):
            return 1e300  # math.exp of a far step overflows: outside the search region
        return v if np.isfinite(v) else 1e300

    def g(self, x: np.ndarray) -> np.ndarray:
        """Central differences of the log density (each f is one blocked Cholesky)."""
        x = np.asarray(x, float)
        out = np.empty(len(x))
        for i in range(len(x)):
            h = 1e-5 * max(1.0, abs(x[i]))
            e = np.zeros(len(x))
            e[i] = h
            out[i] = (self.f(x + e) - self.f(x - e)) / (2 * h)
        return out

    # -- values ------------------------------------------------------------------------
    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The trace variables at x: sigma, each cov[<block>], and beta when sampled."""
        w_sigma, w_blocks, beta = self.split(x)
        out = {"sigma": np.asarray(self.sigma.sd(w_sigma))}
        for blk, w in zip(self.blocks, w_blocks):
            lam, _ = blk.lam(w, False, prior=False)
            out[f"cov[{blk.name}]"] = lam @ lam.T
        if beta is not None:
            out["beta"] = np.asarray(beta, float)
        return out

    def initial(self) -> np.ndarray:
        """The exact ML (or REML) fit on the working scale: BFGS starts at the optimum of
        the likelihood, which the ML engine finds in milliseconds.  The fit is kept on
        ``built`` for the second search (the boundary fallback of the same model)."""
        design = self.built.design
        ml = ml_fit(self.built, self.integrate)
        floor = 1e-3 * float(np.std(design.y))
        parts = [[self.sigma.working(max(float(np.sqrt(ml.sigma2)), floor))]]
        parts += [
            b.working(np.asarray(c, float), floor) for b, c in zip(self.blocks, ml.cov_blocks)
        ]
        if not self.integrate:
            parts.append(np.asarray(ml.beta, float))
        return np.concatenate([np.asarray(p, float) for p in parts])

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Central second differences of f (step 1e-4: rounding and truncation balance)."""
        x = np.asarray(x, float)
        n = len(x)
        h = 1e-4 * np.maximum(1.0, np.abs(x))
        f0 = self.f(x)
        out = np.empty((n, n))

        def at(i, si, j=None, sj=0.0):
            e = np.zeros(n)
            e[i] += si * h[i]
            if j is not None:
                e[j] += sj * h[j]
            return self.f(x + e)

        for i in range(n):
            out[i, i] = (at(i, 1) - 2 * f0 + at(i, -1)) / h[i] ** 2
            for j in range(i):
                v = at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)
                out[i, j] = out[j, i] = v / (4 * h[i] * h[j])
        return out


# -- natural -> working, exactly (the inverse of NumpyObjective.values) ------------------
def working_point(objective: NumpyObjective, values: dict[str, np.ndarray]) -> np.ndarray:
    """The working vector x with ``objective.values(x) == values``, without clipping.

    :meth:`BlockParams.working` keeps a start away from the boundary; evaluating the
    density at posterior draws (bridge sampling, :mod:`bayesmixed.postestimation.
    marginal_likelihood`) needs the exact inverse of the transforms instead: log of each
    scale (or of its variance), the logit of an exchangeable correlation, the CPCs of an
    unstructured correlation's Cholesky factor.
    """
    parts = [[objective.sigma.working(float(np.asarray(values["sigma"])))]]
    for blk in objective.blocks:
        parts.append(_block_working_exact(blk, np.asarray(values[f"cov[{blk.name}]"], float)))
    if not objective.integrate:
        parts.append(np.asarray(values["beta"], float))
    return np.concatenate([np.asarray(p, float) for p in parts])


def _block_working_exact(blk: BlockParams, cov: np.ndarray) -> np.ndarray:
    sds = np.sqrt(np.diag(cov))
    out = [s.working(float(v)) for s, v in zip(blk.scales, sds)]  # shared: sds[0] only
    if blk.n_corr and blk.kind is Exchangeable:
        out.append(interval_working(float(cov[1, 0] / cov[0, 0]), *blk.bounds))
    elif blk.n_corr:
        out.extend(cpc_working(np.linalg.cholesky(cov / np.outer(sds, sds))))
    return np.asarray(out, float)
