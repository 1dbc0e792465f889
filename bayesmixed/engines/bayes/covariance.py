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

The choice is the table :data:`GRAPHS`, keyed by the structure's class (as
:mod:`.residual_corr` keys residual structures): a new structure adds one line here
and one in :data:`.priors.STRUCTURE_PRIORS`.  An ``iwishart`` prior on ``cov[<key>]``
replaces the table's variables where ``STRUCTURE_PRIORS`` allows it (unstructured).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import multigammaln

from ...design.types import REBlock
from ...errors import NotSupportedError
from ...spec.covariance import CovStructure, Exchangeable, Identity, Independent, Unstructured
from .lazy import pm, pt
from .priors import Prior

Factor = tuple  # (cov, lam): two k x k PyTensor variables


def scale_variable(name: str, prior: Prior) -> pt.TensorVariable:
    """A standard deviation with ``prior``, on its variance where :attr:`Prior.on_variance`.

    The variance is then the sampled variable (``sigma2``, ``var[...]``) and the
    standard deviation a deterministic square root of it.
    """
    if not prior.on_variance:
        return positive_variable(name, prior)
    if name.startswith("sigma"):
        var_name = "sigma2" + name[len("sigma") :]
    else:
        var_name = name.replace("sd[", "var[", 1)
    return pm.Deterministic(name, pt.sqrt(positive_variable(var_name, prior)))


def positive_variable(name: str, prior: Prior) -> pt.TensorVariable:
    """A positive variable with one of :data:`.distributions.SCALE_PRIORS`, as its table reads."""
    d, p = prior.dist, prior.params
    makers = {
        "halfnormal": lambda: pm.HalfNormal(name, sigma=np.sqrt(p[0])),
        "halfcauchy": lambda: pm.HalfCauchy(name, beta=p[0]),
        "halft": lambda: pm.HalfStudentT(name, nu=p[1], sigma=np.sqrt(p[0])),
        "exponential": lambda: pm.Exponential(name, scale=p[0]),
        "gamma": lambda: pm.Gamma(name, alpha=p[0], beta=1.0 / p[1]),
        "lognormal": lambda: pm.LogNormal(name, mu=p[0], sigma=np.sqrt(p[1])),
        "igamma": lambda: pm.InverseGamma(name, alpha=p[0], beta=p[1]),
        "uniform": lambda: pm.Uniform(name, lower=p[0], upper=p[1]),
        "flat": lambda: pm.HalfFlat(name),
    }
    if d not in makers:
        raise ValueError(f"no scale prior {d}")  # priors.as_prior validated the name
    return makers[d]()


def block_covariance(name: str, block: REBlock, priors: dict[str, Prior]) -> Factor:
    """Random variables for one block; returns ``(cov, lam)`` as k x k tensors."""
    if f"cov[{name}]" in priors:
        return _inverse_wishart(name, block.k, priors[f"cov[{name}]"].params[0])
    return structure_graph(block.structure).build(name, block, priors)


@dataclass(frozen=True)
class StructureGraph:
    """How the Bayesian engine models one class of covariance structure.

    Attributes
    ----------
    build : callable
        ``(name, block, priors) -> (cov, lam)``: the block's random variables.
    corr_value : callable or None
        The value of the block's ``corr[<key>]`` variable at a correlation matrix
        (starting values of the mode search); ``None`` where there is no such variable.
    lkj : bool
        Whether blocks of two or more effects carry an LKJ correlation, whose geometry
        wants NUTS's smaller steps (``target_accept`` 0.95) when the effects are sampled.
    """

    build: Callable[[str, REBlock, dict[str, Prior]], Factor]
    corr_value: Callable[[np.ndarray], np.ndarray] | None = None
    lkj: bool = False


def structure_graph(structure: CovStructure) -> StructureGraph:
    """The :data:`GRAPHS` entry of ``structure``'s class."""
    graph = GRAPHS.get(type(structure))
    if graph is None:
        raise NotSupportedError(
            f"the Bayesian engine cannot build random-effect covariances of type "
            f"{type(structure).__name__} ('{structure.name}')"
        )
    return graph


def _shared_sd(name: str, priors: dict[str, Prior]) -> pt.TensorVariable:
    return scale_variable(f"sd[{name}]", priors[f"sd[{name}]"])


def _effect_sds(name: str, block: REBlock, priors: dict[str, Prior]) -> pt.TensorVariable:
    return pt.stack(
        [scale_variable(f"sd[{name}:{e}]", priors[f"sd[{name}:{e}]"]) for e in block.effect_names]
    )


def _identity(name: str, block: REBlock, priors: dict[str, Prior]) -> Factor:
    lam = _shared_sd(name, priors) * pt.eye(block.k)
    return lam @ lam.T, lam


def _exchangeable(name: str, block: REBlock, priors: dict[str, Prior]) -> Factor:
    k = block.k
    sd = _shared_sd(name, priors)
    if k == 1:
        lam = sd * pt.eye(k)
    else:
        lo, hi = priors[f"corr[{name}]"].params
        rho = pm.Uniform(f"corr[{name}]", lower=lo, upper=hi)
        a = pt.sqrt(1.0 - rho)
        b = pt.sqrt(1.0 + (k - 1) * rho)
        lam = sd * (a * pt.eye(k) + (b - a) / k * pt.ones((k, k)))
    return lam @ lam.T, lam


def _independent(name: str, block: REBlock, priors: dict[str, Prior]) -> Factor:
    lam = pt.diag(_effect_sds(name, block, priors))
    return lam @ lam.T, lam


def _unstructured(name: str, block: REBlock, priors: dict[str, Prior]) -> Factor:
    k = block.k
    sds = _effect_sds(name, block, priors)
    if k > 1:
        eta = priors[f"corr[{name}]"].params[0] if priors[f"corr[{name}]"].params else 1.0
        from .cpc import CPCTransform  # a PyMC transform: PyMC is imported here

        chol_corr = pm.LKJCorr(f"corr[{name}]", n=k, eta=eta, default_transform=CPCTransform(k))
        lam = sds[:, None] * chol_corr
    else:
        lam = pt.diag(sds)
    return lam @ lam.T, lam


def _mean_correlation(corr: np.ndarray) -> np.ndarray:
    return np.asarray(np.mean(corr[np.tril_indices(len(corr), -1)]))


GRAPHS: dict[type[CovStructure], StructureGraph] = {
    Independent: StructureGraph(_independent),
    Identity: StructureGraph(_identity),
    Exchangeable: StructureGraph(_exchangeable, corr_value=_mean_correlation),
    Unstructured: StructureGraph(_unstructured, corr_value=np.linalg.cholesky, lkj=True),
}


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
    """Fixed effects, each with a prior of :data:`.distributions.COEF_PRIORS` (dims "fixed").

    All normal: one ``pm.Normal``.  Otherwise a flat vector whose non-flat elements
    get their log densities as a Potential, started inside a bounded prior's support.
    """
    ps = [priors[f"beta[{n}]"] for n in names]
    if all(p.dist == "normal" for p in ps):
        mu = np.array([p.params[0] for p in ps])
        sd = np.sqrt([p.params[1] for p in ps])
        return pm.Normal("beta", mu=mu, sigma=sd, dims="fixed")
    start = np.array([_coef_start(p) for p in ps])
    beta = pm.Flat("beta", dims="fixed", initval=start)
    terms = [pm.logp(_coef_dist(p), beta[i]) for i, p in enumerate(ps) if p.dist != "flat"]
    if terms:
        pm.Potential("beta_prior", pt.sum(pt.stack(terms)))
    return beta


def _coef_dist(prior: Prior):
    """The unnamed PyMC distribution of one coefficient's prior (:mod:`.distributions`)."""
    d, p = prior.dist, prior.params
    if d == "normal":
        return pm.Normal.dist(p[0], np.sqrt(p[1]))
    if d == "t":
        return pm.StudentT.dist(nu=p[2], mu=p[0], sigma=np.sqrt(p[1]))
    if d == "cauchy":
        return pm.Cauchy.dist(alpha=p[0], beta=p[1])
    if d == "laplace":
        return pm.Laplace.dist(mu=p[0], b=p[1])
    if d == "uniform":
        return pm.Uniform.dist(lower=p[0], upper=p[1])
    raise ValueError(f"no coefficient prior {d}")  # priors.as_prior validated the name


def _coef_start(prior: Prior) -> float:
    if prior.dist == "uniform":
        return 0.5 * (prior.params[0] + prior.params[1])
    return prior.params[0] if prior.params else 0.0


def integrable_beta(names: list[str], priors: dict[str, Prior]) -> bool:
    """Whether every coefficient's prior is normal or flat, so beta integrates out exactly."""
    return all(priors[f"beta[{n}]"].dist in ("normal", "flat") for n in names)


def beta_prior_moments(names: list[str], priors: dict[str, Prior]):
    """Prior mean and precision of each coefficient (precision 0 for flat)."""
    ps = [priors[f"beta[{n}]"] for n in names]
    mean = np.array([p.params[0] if p.dist == "normal" else 0.0 for p in ps])
    prec = np.array([1.0 / p.params[1] if p.dist == "normal" else 0.0 for p in ps])
    return mean, prec
