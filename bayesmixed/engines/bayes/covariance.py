"""Covariance structures and scale parameters as PyMC random variables.

Each random-effects block becomes a k x k covariance ``cov`` and a square root ``lam``
(``lam @ lam.T == cov``) in the PyTensor graph, chosen by the shared structure object:

* unstructured: one standard deviation per effect times the Cholesky factor of an LKJ
  correlation (``pm.LKJCorr`` is distributed over that factor), or an inverse-Wishart
  matrix.  Keeping the standard deviations as separate variables is what
  ``pm.LKJCholeskyCov`` does inside; doing it here lets any scale prior (flat,
  inverse-gamma on the variance) sit under the LKJ, and avoids the list-of-scales
  ``sd_dist`` that nutpie cannot initialise.  The factor is unconstrained through tanh'd
  canonical partial correlations (:mod:`.cpc`), Stan's transform, not PyMC's default.
* independent: one standard deviation per effect; identity: one shared;
  exchangeable: one shared plus one correlation (closed-form symmetric square root,
  as the ML engine's structure uses, valid up to the boundary of the correlation).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy.special import multigammaln

from ...design.types import REBlock
from .cpc import CPCTransform
from .priors import Prior


def scale_variable(name: str, prior: Prior) -> pt.TensorVariable:
    """A standard deviation with ``prior`` (``igamma`` is put on the variance)."""
    d, p = prior.dist, prior.params
    if d == "halfnormal":
        return pm.HalfNormal(name, sigma=p[0])
    if d == "halfstudentt":
        return pm.HalfStudentT(name, nu=p[0], sigma=p[1])
    if d == "exponential":
        return pm.Exponential(name, scale=p[0])
    if d == "flat":
        return pm.HalfFlat(name)
    if d == "igamma":
        if name.startswith("sigma"):
            var_name = "sigma2" + name[len("sigma") :]
        else:
            var_name = name.replace("sd[", "var[", 1)
        var = pm.InverseGamma(var_name, alpha=p[0], beta=p[1])
        return pm.Deterministic(name, pt.sqrt(var))
    raise ValueError(f"no scale prior {d}")  # priors.as_prior validated the name


def block_covariance(
    name: str, block: REBlock, priors: dict[str, Prior]
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """Random variables for one block; returns ``(cov, lam)`` as k x k tensors."""
    k, kind = block.k, block.structure.name
    if f"cov[{name}]" in priors:
        return _inverse_wishart(name, k, priors[f"cov[{name}]"].params[0])
    if kind in ("identity", "exchangeable"):
        sd = scale_variable(f"sd[{name}]", priors[f"sd[{name}]"])
        if kind == "identity" or k == 1:
            lam = sd * pt.eye(k)
        else:
            lo, hi = priors[f"corr[{name}]"].params
            rho = pm.Uniform(f"corr[{name}]", lower=lo, upper=hi)
            a = pt.sqrt(1.0 - rho)
            b = pt.sqrt(1.0 + (k - 1) * rho)
            lam = sd * (a * pt.eye(k) + (b - a) / k * pt.ones((k, k)))
        return lam @ lam.T, lam
    sds = pt.stack(
        [scale_variable(f"sd[{name}:{e}]", priors[f"sd[{name}:{e}]"]) for e in block.effect_names]
    )
    if kind == "unstructured" and k > 1:
        eta = priors[f"corr[{name}]"].params[0] if priors[f"corr[{name}]"].params else 1.0
        chol_corr = pm.LKJCorr(f"corr[{name}]", n=k, eta=eta, default_transform=CPCTransform(k))
        lam = sds[:, None] * chol_corr
    else:
        lam = pt.diag(sds)
    return lam @ lam.T, lam


def _inverse_wishart(name: str, k: int, df: float) -> tuple[pt.TensorVariable, ...]:
    """IW(df, I) on the covariance, through its Cholesky factor with log-diagonal.

    The density of Sigma is carried to the free coordinates with the Jacobian of
    Sigma = L L' (2^k prod L_ii^(k-i+1), i = 1..k) and of L_ii = exp(x_i).
    """
    raw = pm.Flat(f"cov[{name}]_raw", shape=(k * (k + 1) // 2,))
    rows, cols = np.tril_indices(k)
    diag = rows == cols
    chol = pt.zeros((k, k))
    vals = pt.where(diag, pt.exp(raw), raw)
    chol = pt.set_subtensor(chol[rows, cols], vals)
    log_d = raw[np.flatnonzero(diag)]
    logdet = 2.0 * pt.sum(log_d)
    inv_chol = pt.linalg.solve_triangular(chol, pt.eye(k), lower=True)
    trace = pt.sum(inv_chol**2)
    const = -0.5 * df * k * np.log(2.0) - multigammaln(0.5 * df, k)
    logp = const - 0.5 * (df + k + 1) * logdet - 0.5 * trace
    log_jac = k * np.log(2.0) + pt.sum((k - np.arange(k) + 1.0) * log_d)
    pm.Potential(f"cov[{name}]_prior", logp + log_jac)
    return chol @ chol.T, chol


def residual_sd(prior: Prior) -> pt.TensorVariable:
    """The residual standard deviation, named ``sigma`` in the trace."""
    sd = scale_variable("sigma", prior)
    return sd


def beta_variable(names: list[str], priors: dict[str, Prior]) -> pt.TensorVariable:
    """Fixed effects with independent normal or flat priors (``dims="fixed"``)."""
    ps = [priors[f"beta[{n}]"] for n in names]
    if all(p.dist == "normal" for p in ps):
        mu = np.array([p.params[0] for p in ps])
        sd = np.sqrt([p.params[1] for p in ps])
        return pm.Normal("beta", mu=mu, sigma=sd, dims="fixed")
    beta = pm.Flat("beta", dims="fixed")
    normal = [i for i, p in enumerate(ps) if p.dist == "normal"]
    if normal:
        mu = np.array([ps[i].params[0] for i in normal])
        sd = np.sqrt([ps[i].params[1] for i in normal])
        pm.Potential("beta_prior", pm.logp(pm.Normal.dist(mu, sd), beta[normal]).sum())
    return beta


def beta_prior_moments(names: list[str], priors: dict[str, Prior]):
    """Prior mean and precision of each coefficient (precision 0 for flat)."""
    ps = [priors[f"beta[{n}]"] for n in names]
    mean = np.array([p.params[0] if p.dist == "normal" else 0.0 for p in ps])
    prec = np.array([1.0 / p.params[1] if p.dist == "normal" else 0.0 for p in ps])
    return mean, prec
