"""Bridge sampling: a normalizing constant from posterior draws (Meng & Wong 1996).

For an unnormalized density q (here prior x likelihood, so its integral is the marginal
likelihood p(y)) and a proposal g that is normalized and easy to draw from, the optimal
bridge function gives the fixed point

    r = mean_j [ l2_j / (s1 l2_j + s2 r) ]  /  mean_i [ 1 / (s1 l1_i + s2 r) ]

with l1 = q/g at N1 posterior draws, l2 = q/g at N2 proposal draws and s1, s2 their
shares (s1 from the posterior draws' effective size).  This is the iterative scheme of
Gronau et al. (2017, *J. Math. Psych.* 81) and their R package ``bridgesampling``:
the first half of each chain gives the mean m and Cholesky factor L of the draws, the
second half enters the iteration, so the draws that shaped g are not reused.  The
package's ``warp3`` variant (Meng & Schilling 2002) is used: the draws are standardized,
z = L^-1 (theta - m), and bridged between the symmetrized density
q_w(z) = |L| [q(m + Lz) + q(m - Lz)] / 2 -- the same integral, with mean 0, covariance
about I and no skewness left to miss -- and the standard normal.  On a random-intercept
model with 10 groups (the log sd of the intercept visibly skewed) this halved the error
of the plain normal proposal at the same draws.  Each chain's second half keeps its
order, which the ESS in the error estimate needs.

The error is that package's approximate relative mean-squared error of the estimate
(Fruhwirth-Schnatter 2004): var(f1)/(N2 mean(f1)^2) + var(f2)/(ESS(f2) mean(f2)^2),
where the autocorrelation of f2 over the MCMC draws enters through its ESS instead of
an AR spectral density at zero.  Its square root is the Monte Carlo SE of log p(y).
All arithmetic is on the log scale: log q reaches -1000 for a few hundred rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..errors import EstimationError

LOG_2PI = float(np.log(2 * np.pi))
DEFAULT_PROPOSAL = 10_000


@dataclass(frozen=True)
class BridgeEstimate:
    """log p(y), its Monte Carlo SE, and what the fixed point took."""

    logml: float
    mcse: float
    iterations: int
    n_posterior: int
    n_proposal: int


def _ess(values: np.ndarray) -> float:
    """Effective size of a (chain, draw) array (its length if it does not vary)."""
    import arviz as az

    if np.ptp(values) == 0:
        return float(values.size)
    return float(az.ess(values, method="mean"))


def bridge_sampler(
    log_q: Callable[[np.ndarray], float],
    draws: np.ndarray,
    rng: np.random.Generator,
    n_proposal: int | None = None,
    tol: float = 1e-10,
    maxiter: int = 1000,
) -> BridgeEstimate:
    """log of the integral of exp(log_q), from ``draws`` (chain, draw, dim) of its density.

    ``log_q`` must be the complete log density (constants, Jacobian) on the coordinates
    of ``draws``; -inf where it vanishes.  ``n_proposal`` defaults to the number of
    draws in the second halves or 10,000, whichever is larger: proposal draws cost two
    density evaluations each (well under a millisecond for the integrated Gaussian
    models) and, as s1 shrinks, carry the estimate towards importance sampling with the
    warped proposal, whose error they alone reduce.
    """
    draws = np.asarray(draws, float)
    if draws.ndim != 3 or draws.shape[1] < 20:
        raise EstimationError("bridge sampling needs (chain, draw, dim) draws, 20+ per chain")
    half, dim = draws.shape[1] // 2, draws.shape[2]
    fit, post = draws[:, :half].reshape(-1, dim), draws[:, half:]
    mean, chol = _moments(fit)
    n1 = post.shape[0] * post.shape[1]
    n2 = int(n_proposal or max(n1, DEFAULT_PROPOSAL))
    z1 = np.linalg.solve(chol, (post.reshape(n1, dim) - mean).T).T  # standardized draws
    z2 = rng.standard_normal((n2, dim))
    log_ratio = warped_ratio(log_q, mean, chol)
    l1, l2 = log_ratio(z1), log_ratio(z2)
    if not np.all(np.isfinite(l1)):
        raise EstimationError("the log posterior is not finite at some posterior draws")
    neff = float(np.median([_ess(post[..., k]) for k in range(dim)]))
    logml, iterations = _iterate(l1, l2, min(neff, n1), tol, maxiter)
    re2 = _relative_mse(l1.reshape(post.shape[:2]), l2, logml)
    return BridgeEstimate(float(logml), float(np.sqrt(re2)), iterations, n1, n2)


def _iterate(l1, l2, neff: float, tol: float, maxiter: int) -> tuple[float, int]:
    """The fixed point on the log scale, relative to lstar = median(l1) (as the R package)."""
    lstar = float(np.median(l1))
    a1, a2 = l1 - lstar, l2 - lstar
    n1, n2 = len(l1), len(l2)
    log_s1, log_s2 = np.log(neff / (neff + n2)), np.log(n2 / (neff + n2))
    log_r = 0.0
    for i in range(1, maxiter + 1):
        mix2 = np.logaddexp(log_s1 + a2, log_s2 + log_r)
        mix1 = np.logaddexp(log_s1 + a1, log_s2 + log_r)
        new = np.log(n1 / n2) + logsumexp(a2 - mix2) - logsumexp(-mix1)
        if abs(np.expm1(new - log_r)) < tol:
            return lstar + new, i
        log_r = new
    raise EstimationError(f"bridge sampling did not converge in {maxiter} iterations")


def _relative_mse(l1: np.ndarray, l2: np.ndarray, logml: float) -> float:
    """``bridgesampling``'s error_measures: f1 at proposal draws, f2 at posterior draws."""
    n1, n2 = l1.size, l2.size
    s1, s2 = n1 / (n1 + n2), n2 / (n1 + n2)
    f1 = 1.0 / (s1 + s2 * np.exp(np.clip(logml - l2, -700, 700)))  # p/(s1 p + s2 g)
    f2 = 1.0 / (s1 * np.exp(np.clip(l1 - logml, -700, 700)) + s2)  # g/(s1 p + s2 g)
    term1 = np.var(f1, ddof=1) / (n2 * np.mean(f1) ** 2)
    term2 = np.var(f2, ddof=1) / (_ess(f2) * np.mean(f2) ** 2)
    return float(term1 + term2)


def _moments(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and lower Cholesky factor of the covariance of (n, dim) draws."""
    return draws.mean(axis=0), np.linalg.cholesky(np.atleast_2d(np.cov(draws, rowvar=False)))


def warped_ratio(log_q, mean: np.ndarray, chol: np.ndarray, scale: float = 1.0):
    """z -> log q_w(z) - log N(z; 0, scale^2 I), q_w the warp-III (symmetrized) density
    |L| [q(m + Lz) + q(m - Lz)] / 2 of standardized coordinates z, rows of a matrix."""
    log_det = float(np.sum(np.log(np.diag(chol))))
    dim = len(mean)

    def log_ratio(z: np.ndarray) -> np.ndarray:
        x = z @ chol.T
        up = np.array([log_q(v) for v in mean + x])
        down = np.array([log_q(v) for v in mean - x])
        q_w = np.logaddexp(up, down) - np.log(2.0) + log_det
        log_g = -0.5 * np.sum((z / scale) ** 2, axis=1) - dim * (np.log(scale) + 0.5 * LOG_2PI)
        return q_w - log_g

    return log_ratio


def importance_sampler(
    log_q: Callable[[np.ndarray], float],
    draws: np.ndarray,
    rng: np.random.Generator,
    n_proposal: int | None = None,
    scale: float = 1.2,
) -> BridgeEstimate:
    """log of the integral of exp(log_q) by importance sampling, for draws that are *not*
    from exp(log_q) (a Laplace fit's Gaussian draws): they only place the proposal.

    The target is warped as in :func:`bridge_sampler` and the proposal is N(0, scale^2 I)
    on its standardized coordinates, 1.2 times wider than the draws so that its tails
    cover the posterior's.  The SE is that of the mean weight, relative.  Measured on
    the 10-group random-intercept model of ``tests/postestimation/test_bayestest_model``
    with 10,000 proposal draws: SE 0.003 in log p(y) (0.006 without the warp at twice
    the draws, 0.012 at 4,000) -- coarser than bridge sampling of NUTS draws.
    """
    mean, chol = _moments(np.asarray(draws, float).reshape(-1, np.shape(draws)[-1]))
    n = int(n_proposal or DEFAULT_PROPOSAL)
    z = scale * rng.standard_normal((n, len(mean)))
    logw = warped_ratio(log_q, mean, chol, scale)(z)
    logw = np.where(np.isnan(logw), -np.inf, logw)
    logml = float(logsumexp(logw) - np.log(n))
    w = np.exp(logw - logml)
    return BridgeEstimate(logml, float(np.std(w, ddof=1) / np.sqrt(n)), 0, 0, n)
