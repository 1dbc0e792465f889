"""The log posterior of a model with residual cells or AR(1) panels, on NUTS's scale.

The counterpart of :mod:`.fast_posterior` for :mod:`.fast_residual`'s density: the same
working coordinates as the PyMC model of :mod:`.build` (log of each cell's SD -- the
first is ``sigma`` -- under the ``sigma`` prior, the blocks' coordinates of
:class:`.laplace_numpy.BlockParams`, the interval (logit) transform of each by() group's
AR(1) rho under its uniform ``corr[e]`` prior, beta when sampled), so nutpie samples the
posterior PyMC would, without building or compiling its graph.  The trace holds what
:func:`.build.trace_names` lists (``sigma``, ``sigma_e``, ``resid_z``, ``cov[...]``,
``beta``), so the draws' assembly is the PyMC path's.
"""

from __future__ import annotations

import math

import numpy as np

from ...spec.family import get_family
from .build import BuiltModel, correlated
from .correlated import prior_bounds
from .covariance import beta_prior_moments
from .fast_density import MAX_COST, fast_cost
from .fast_posterior import COEF_DLOGPDF, block_grad, coef_logp, scale_grad
from .fast_residual import ResidualGaussian, residual_terms
from .hetero import residual_cells
from .laplace_numpy import BlockParams, covers_parameters, ml_fit
from .marginal import suff_stats
from .numpy_density import PositiveScale, interval, interval_working
from .panels import panel_layout
from .priors import RESIDUAL_CORR, block_names


def residual_model(design, priors: dict, marginal: bool, integrate: bool) -> BuiltModel | None:
    """The built model the fast path needs for a residual structure, without PyMC's graph
    (None where :mod:`.fast_residual` does not cover it)."""
    if not marginal or design.residual is None or design.weights is not None:
        return None
    if not get_family(design.spec.family, design.spec.link).closed_form:
        return None
    mean, prec = beta_prior_moments(list(design.fixed_names), priors)
    built = BuiltModel(None, design, priors, block_names(design), True, integrate,
                       suff_stats(design), mean, prec)  # fmt: skip
    built.cells = residual_cells(design)
    built.parts = [suff_stats(design, rows) for rows in built.cells.rows]
    if correlated(design):
        built.panels = panel_layout(design, built.cells.of_obs)
    return built if residual_covers(built) else None


def cached_terms(built):
    """:func:`.fast_residual.residual_terms` of ``built``, found once."""
    cache = built.__dict__.setdefault("_fast", {})
    if "residual_terms" not in cache:
        cache["residual_terms"] = residual_terms(built)
    return cache["residual_terms"]


def _density(built) -> ResidualGaussian:
    cache = built.__dict__.setdefault("_fast", {})
    if "residual_density" not in cache:
        terms, groups = cached_terms(built)
        blocks = built.design.blocks
        cache["residual_density"] = ResidualGaussian(
            terms, groups, [b.k for b in blocks], [b.n_groups for b in blocks],
            built.prior_mean, built.prior_prec, bool(built.integrate_beta),
        )  # fmt: skip
    return cache["residual_density"]


def residual_covers(built) -> bool:
    """Whether :class:`ResidualPosterior` samples ``built`` exactly and cheaply."""
    if not (built.gaussian and built.marginal) or built.cells is None:
        return False
    if built.design.weights is not None or cached_terms(built) is None:
        return False
    if not covers_parameters(built):
        return False
    if built.panels is not None:
        if built.priors[RESIDUAL_CORR].dist not in ("uniform", "flat"):
            return False
    return fast_cost(_density(built).lay) <= MAX_COST


class ResidualPosterior:
    """log posterior (Jacobian included) and gradient at a working vector x.

    It is its own ``obj`` (what :mod:`.fast_nuts` asks of :class:`.fast_posterior.
    FastPosterior`'s objective: ``built``, ``initial``, ``values``).  nutpie calls it
    through Python, so chains in parallel threads only contend for the GIL: ``serial``
    runs them one after another (productivity's AR(1) model, 4 chains: 32.9 s against
    36.0 s on two threads).
    """

    serial = True

    def __init__(self, built):
        design, priors = built.design, built.priors
        self.built, self.obj = built, self
        self.dens = _density(built)
        self.cells = built.cells
        self.scales = [PositiveScale(priors["sigma"]) for _ in self.cells.keys]
        self.blocks = [BlockParams(n, b, priors) for n, b in zip(built.names, design.blocks)]
        groups = self.dens.groups
        self.rho_of = [i for i, g in enumerate(groups) if g.n_panels]
        self.bounds = None
        if self.rho_of:
            self.bounds = prior_bounds(design.residual.model.structure, priors[RESIDUAL_CORR])
        self.integrate = bool(built.integrate_beta)
        self.coefs = [priors[f"beta[{n}]"] for n in design.fixed_names]
        self.p = len(self.coefs)
        sizes = [len(self.scales)] + [b.size for b in self.blocks] + [len(self.rho_of)]
        sizes += [] if self.integrate else [self.p]
        edges = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self._slices = list(zip(edges[:-1], edges[1:]))
        self.n = int(edges[-1])

    def split(self, x: np.ndarray):
        x = np.asarray(x, float)
        parts = [x[a:b] for a, b in self._slices]  # np.split costs ~20 us a call
        nb = len(self.blocks)
        beta = None if self.integrate else parts[-1]
        return parts[0], parts[1 : 1 + nb], parts[1 + nb], beta

    def _rhos(
        self, w_rho: np.ndarray, jacobian: bool = True
    ) -> tuple[np.ndarray, float, list[float]]:
        """Each group's rho (0 without one), its log prior (with the Jacobian when asked),
        and each sigmoid."""
        rhos, logp, sig = np.zeros(len(self.dens.groups)), 0.0, []
        for i, w in zip(self.rho_of, w_rho):
            lo, hi = self.bounds
            rhos[i], log_jac = interval(float(w), lo, hi)
            logp += (log_jac if jacobian else 0.0) - math.log(hi - lo)
            sig.append((rhos[i] - lo) / (hi - lo))
        return rhos, logp, sig

    def natural(self, x: np.ndarray, jacobian: bool = True) -> tuple:
        """(SDs, Lambdas, rhos, sigmoids, log prior of scales and blocks, log prior of rho,
        beta) at x; the priors with the change-of-variables terms when ``jacobian``."""
        w_sd, w_blocks, w_rho, beta = self.split(x)
        sds = np.array([s.sd(float(w)) for s, w in zip(self.scales, w_sd)])
        logp = sum(s.logp(float(w), jacobian) for s, w in zip(self.scales, w_sd))
        lams = []
        for blk, w in zip(self.blocks, w_blocks):
            lam, lp = blk.lam(w, jacobian)
            lams.append(lam)
            logp += lp
        rhos, lp_rho, sig = self._rhos(w_rho, jacobian)
        return sds, lams, rhos, sig, logp, lp_rho, beta

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        w_sd, w_blocks, _, _ = self.split(x)
        sds, lams, rhos, sig, logp, lp_rho, beta = self.natural(x)
        loglik, g_sd, g_rho, d_covs, d_beta = self.dens(sds, rhos, lams, beta)
        d_cell = np.zeros(len(sds))
        for g, grp in zip(g_sd, self.dens.groups):
            d_cell[grp.cell] = g
        scales = zip(self.scales, w_sd, d_cell)
        grad = [np.array([scale_grad(s, float(w), d) for s, w, d in scales])]
        for blk, w, lam, s in zip(self.blocks, w_blocks, lams, d_covs):
            grad.append(block_grad(blk, w, lam, s))
        if self.rho_of:
            width = self.bounds[1] - self.bounds[0]
            grad.append(np.array([g_rho[i] * width * s * (1 - s) + (1 - 2 * s)
                                  for i, s in zip(self.rho_of, sig)]))  # fmt: skip
        else:
            grad.append(np.zeros(0))
        if beta is not None:
            logp += sum(float(coef_logp(p, b)) for p, b in zip(self.coefs, beta))
            prior = [COEF_DLOGPDF[p.dist](b, p.params) for p, b in zip(self.coefs, beta)]
            grad.append(d_beta + np.asarray(prior, float))
        return float(logp + lp_rho + loglik), np.concatenate(grad)

    # -- the trace ---------------------------------------------------------------------
    def shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        built = self.built
        out = [("sigma", ()), ("sigma_e", (len(self.scales),))]
        out += [(f"cov[{n}]", (b.k, b.k)) for n, b in zip(built.names, built.design.blocks)]
        if built.panels is not None:
            out.append(("resid_z", (len(self.dens.groups), 1)))
        if not self.integrate:
            out.append(("beta", (self.p,)))
        return out

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The trace variables at x (``resid_z``: atanh of AR(1)'s rho, the ML engine's z)."""
        w_sd, w_blocks, w_rho, beta = self.split(x)
        sds = np.array([s.sd(float(w)) for s, w in zip(self.scales, w_sd)])
        out = {"sigma": np.asarray(sds[0]), "sigma_e": sds}
        for blk, w in zip(self.blocks, w_blocks):
            lam, _ = blk.lam(w, False, prior=False)
            out[f"cov[{blk.name}]"] = lam @ lam.T
        if self.built.panels is not None:
            out["resid_z"] = np.arctanh(self._rhos(w_rho)[0])[:, None]
        if beta is not None:
            out["beta"] = np.asarray(beta, float)
        return out

    def initial(self) -> np.ndarray:
        """The ML (REML when beta is integrated) fit on the working scale."""
        design = self.built.design
        ml = ml_fit(self.built, self.integrate)
        model = design.residual.model
        psi = np.asarray(ml.working, float)[-1 - model.n_params : -1]
        z, log_sd = model.unpack(psi)
        floor = 1e-3 * float(np.std(design.y))
        n_levels = model.structure.n_levels
        parts = []
        for scale, code in zip(self.scales, np.asarray(self.cells.codes, int)):
            g, lv = divmod(int(code), n_levels)
            sd = math.sqrt(ml.sigma2) * math.exp(float(log_sd[g, lv]))
            parts.append(scale.working(max(sd, floor)))
        parts = [np.asarray(parts, float)]
        covs = [np.asarray(c, float) for c in ml.cov_blocks]
        parts += [b.working(c, floor) for b, c in zip(self.blocks, covs)]
        if self.rho_of:
            lo, hi = self.bounds
            rho = np.clip(np.tanh(z[:, 0]), lo + 1e-3 * (hi - lo), hi - 1e-3 * (hi - lo))
            parts.append(np.array([interval_working(float(r), lo, hi) for r in rho]))
        if not self.integrate:
            parts.append(np.asarray(ml.beta, float))
        return np.concatenate(parts)
