"""Generalized linear mixed models under NUTS: non-centred random effects, exact densities.

The random effects of a non-Gaussian model cannot be integrated out in closed form, so
they are sampled as b = Lambda u, u ~ N(0, I) (:mod:`.noncentred` explains why non-centred).
The log density of each observation is written on the linear-predictor scale with every
constant included, the same conventions as :class:`bayesmixed.spec.family.Family` (Stata's
``meglm``): binomial counts of successes out of ``trials``, the negative binomial with mean
dispersion (Var = mu (1 + alpha mu)), the gamma with dispersion phi = 1/shape.  Links are
applied in log space (log Phi, log(1 - exp(-exp(eta)))) so no probability rounds to 0 or 1.
The pointwise log likelihood for LOO is recomputed afterwards by the shared Family object.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.dist_math import normal_lcdf

from ...design.types import Design
from ...errors import NotSupportedError
from ...spec.family import Family, get_family

SUPPORTED = {
    "bernoulli": ("logit", "probit", "cloglog"),
    "binomial": ("logit", "probit", "cloglog"),
    "poisson": ("log",),
    "nbinomial": ("log",),
    "gamma": ("log",),
}
DISPERSION = {"nbinomial": "alpha", "gamma": "phi"}


def check_family(spec) -> None:
    """Refuse families and links the PyMC engine does not implement, naming what works."""
    links = SUPPORTED.get(spec.family)
    if spec.family == "gaussian" and spec.link == "identity":
        return
    if links is None or spec.link not in links:
        works = "; ".join(f"{f} ({', '.join(ls)})" for f, ls in SUPPORTED.items())
        raise NotSupportedError(
            f"Bayesian estimation of {spec.command} (family {spec.family}, link {spec.link}) "
            f"is not available; supported families (links): gaussian (identity); {works}"
        )


def _log_pair(link: str, eta):
    """(log mu, log(1 - mu)) of a binary probability, stably."""
    if link == "logit":
        return -pt.softplus(-eta), -pt.softplus(eta)
    if link == "probit":
        zero, one = np.float64(0.0), np.float64(1.0)  # Python floats become float32 constants
        return normal_lcdf(zero, one, eta), normal_lcdf(zero, one, -eta)
    e = pt.exp(eta)  # cloglog: mu = 1 - exp(-exp(eta))
    return pt.log1mexp(-e), -e


def log_density(family: str, link: str, y, eta, trials=None, dispersion=None):
    """Per-observation log density (PyTensor), constants included."""
    # Python scalars would enter the graph as float32 constants: make them float64 arrays
    trials = None if trials is None else np.asarray(trials, dtype=np.float64)
    if isinstance(dispersion, int | float):
        dispersion = np.float64(dispersion)
    if family in ("bernoulli", "binomial"):
        n = 1.0 if trials is None else trials
        lp, lq = _log_pair(link, eta)
        out = y * lp + (n - y) * lq
        if trials is not None:
            out = out + pt.gammaln(n + 1) - pt.gammaln(y + 1) - pt.gammaln(n - y + 1)
        return out
    if family == "poisson":
        return y * eta - pt.exp(eta) - pt.gammaln(y + 1.0)
    if family == "nbinomial":
        m = 1.0 / dispersion
        log_mu = eta
        log_sum = pt.logaddexp(pt.log(m), log_mu)
        return (
            pt.gammaln(y + m)
            - pt.gammaln(m)
            - pt.gammaln(y + 1.0)
            + m * (pt.log(m) - log_sum)
            + y * (log_mu - log_sum)
        )
    s = 1.0 / dispersion  # gamma, log link
    return s * (pt.log(s) + pt.log(y) - eta) - s * y * pt.exp(-eta) - pt.log(y) - pt.gammaln(s)


def observed(design: Design, trials) -> tuple[Family, np.ndarray, np.ndarray | None]:
    """The family object, the response it models (checked as Stata does) and the trials."""
    spec = design.spec
    family = get_family(spec.family, spec.link)
    tr = None
    if family.name == "binomial":
        tr = np.broadcast_to(np.asarray(1.0 if trials is None else trials, float), (design.n,))
        tr = tr.copy()
    return family, family.check_response(design.y, tr, spec.response), tr


def add_glmm_likelihood(built, design: Design) -> None:
    """u, b = u Lambda', the linear predictor and the summed log density as a Potential."""
    eta = pt.dot(design.X, built.beta) + built.offset
    for name, block, lam in zip(built.names, design.blocks, built.lams):
        dims = (f"{name}_groups", f"{name}_effects")
        u = pm.Normal(f"u[{name}]", 0.0, 1.0, dims=dims)
        b = pm.Deterministic(f"b[{name}]", u @ lam.T, dims=dims)
        eta = eta + pt.sum(block.Z * b[block.codes], axis=1)
    spec = design.spec
    value = log_density(spec.family, spec.link, built.y_obs, eta, built.trials, built.dispersion)
    pm.Potential("loglik", pt.sum(value))


def pointwise(built, beta: np.ndarray, b: np.ndarray, dispersion: np.ndarray | None):
    """(S, n) log densities at each draw, from the shared Family object."""
    eta = beta @ built.design.X.T + (built.stats.z @ b.T).T + built.offset[None, :]
    log_phi = 0.0 if dispersion is None else np.log(dispersion)[:, None]
    return built.family.loglik(built.y_obs[None, :], eta, built.trials, log_phi)
