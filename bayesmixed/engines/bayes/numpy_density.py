"""Prior log densities and unconstraining transforms of the PyMC model, in NumPy.

The NumPy Laplace path (:mod:`.laplace_numpy`) must maximize exactly the density the
PyMC model of :mod:`.build` defines, so this module mirrors, prior by prior, the
distributions :func:`.covariance.positive_variable` and :func:`.covariance.beta_variable`
build (the parametrizations of :mod:`.priors`' table: ``normal(m, v)`` and
``halfnormal(v)`` take a *variance*, ``halft(s2, df)`` a squared scale, ``gamma(a, b)``
and ``igamma(a, b)`` a scale) and the transforms PyMC unconstrains them with: ``log`` for
every positive variable, the interval (logit) transform for a uniform correlation, and
the tanh'd canonical partial correlations of :mod:`.cpc` for an LKJ factor.  Densities are
normalized as PyMC's are, so the log posterior at the mode is comparable across paths;
``tests/engines/bayes/test_laplace_numpy.py`` checks the whole log density against the
compiled PyMC one at random points.

A prior not listed here (:data:`SCALE_LOGPDF`, :data:`COEF_LOGPDF`) is simply not
covered: the Laplace mode then falls back to the PyMC model.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from scipy.special import gammaln

from .priors import Prior

LOG2 = float(np.log(2.0))
LOG_PI = float(np.log(np.pi))
LOG_2PI = float(np.log(2 * np.pi))


def _halft(v: float, p) -> float:
    s2, nu = p
    return (
        LOG2
        + gammaln(0.5 * (nu + 1))
        - gammaln(0.5 * nu)
        - 0.5 * np.log(nu * np.pi * s2)
        - 0.5 * (nu + 1) * np.log1p(v * v / (nu * s2))
    )


#: log density of a positive variable v (a standard deviation or a variance) by prior name
SCALE_LOGPDF: dict[str, Callable[[float, tuple], float]] = {
    "halfnormal": lambda v, p: 0.5 * (LOG2 - LOG_PI - np.log(p[0])) - 0.5 * v * v / p[0],
    "halfcauchy": lambda v, p: LOG2 - LOG_PI - np.log(p[0]) - np.log1p((v / p[0]) ** 2),
    "halft": _halft,
    "exponential": lambda v, p: -np.log(p[0]) - v / p[0],
    "gamma": lambda v, p: -gammaln(p[0]) - p[0] * np.log(p[1]) + (p[0] - 1) * np.log(v) - v / p[1],
    "lognormal": lambda v, p: (
        -np.log(v) - 0.5 * (LOG_2PI + np.log(p[1])) - (np.log(v) - p[0]) ** 2 / (2 * p[1])
    ),
    "igamma": lambda v, p: p[0] * np.log(p[1]) - gammaln(p[0]) - (p[0] + 1) * np.log(v) - p[1] / v,
    "flat": lambda v, p: 0.0,
}


def _coef_t(b: np.ndarray, p) -> np.ndarray:
    m, s2, nu = p
    return (
        gammaln(0.5 * (nu + 1))
        - gammaln(0.5 * nu)
        - 0.5 * np.log(nu * np.pi * s2)
        - 0.5 * (nu + 1) * np.log1p((b - m) ** 2 / (nu * s2))
    )


#: log density of one fixed-effect coefficient by prior name
COEF_LOGPDF: dict[str, Callable[[float, tuple], float]] = {
    "normal": lambda b, p: -0.5 * (LOG_2PI + np.log(p[1])) - (b - p[0]) ** 2 / (2 * p[1]),
    "t": _coef_t,
    "cauchy": lambda b, p: -LOG_PI - np.log(p[1]) - np.log1p(((b - p[0]) / p[1]) ** 2),
    "laplace": lambda b, p: -np.log(2 * p[1]) - np.abs(b - p[0]) / p[1],
    "flat": lambda b, p: 0.0,
}


class PositiveScale:
    """A standard deviation whose prior sits on it or on its variance; working = log v.

    ``v`` is the variable PyMC samples (the variance when :attr:`Prior.on_variance`), and
    ``log`` is its default transform, with log-Jacobian ``w`` itself.
    """

    size = 1

    def __init__(self, prior: Prior):
        self.prior = prior
        self.logpdf = SCALE_LOGPDF[prior.dist]
        self.on_variance = prior.on_variance

    def sd(self, w: float) -> float:
        return math.exp(0.5 * w if self.on_variance else w)  # math: NUTS asks every step

    def logp(self, w: float, jacobian: bool) -> float:
        return self.logpdf(math.exp(w), self.prior.params) + (w if jacobian else 0.0)

    def working(self, sd: float) -> float:
        return float(2 * np.log(sd) if self.on_variance else np.log(sd))


def covered_scale(prior: Prior) -> bool:
    return prior.dist in SCALE_LOGPDF


# -- correlations ------------------------------------------------------------------------
def log_sech(y: np.ndarray) -> np.ndarray:
    """log(1 / cosh y), stable for large |y| (as :func:`.cpc.log_sech`)."""
    a = np.abs(y)
    return LOG2 - a - np.log1p(np.exp(-2.0 * a))


def log_sech_scalar(y: float) -> float:
    """:func:`log_sech` of one float, without NumPy's per-call cost."""
    a = abs(y)
    return LOG2 - a - math.log1p(math.exp(-2.0 * a))


def cpc_factor(y: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """The correlation Cholesky factor from tanh'd CPCs, and the transform's log-Jacobian.

    The NumPy twin of :class:`.cpc.CPCTransform`'s ``backward`` and ``log_jac_det``.
    """
    if k == 2:  # the common case, written out: L = [[1, 0], [tanh y, sech y]]
        ls = log_sech_scalar(float(y[0]))
        return np.array([[1.0, 0.0], [math.tanh(y[0]), math.exp(ls)]]), 2.0 * ls
    rows, cols = np.tril_indices(k, -1)
    ls = np.zeros((k, k))
    ls[rows, cols] = log_sech(y)
    before = np.cumsum(ls, axis=1) - ls
    z = np.eye(k)
    z[rows, cols] = np.tanh(y)
    log_jac = float(np.sum(2.0 * ls) + np.sum(before[rows, cols]))
    return z * np.exp(before), log_jac


def cpc_working(chol: np.ndarray) -> np.ndarray:
    """CPC coordinates of a correlation Cholesky factor (``CPCTransform.forward``)."""
    k = len(chol)
    rows, cols = np.tril_indices(k, -1)
    sq = chol**2
    remaining = 1.0 - (np.cumsum(sq, axis=1) - sq)
    return np.arctanh(chol[rows, cols] / np.sqrt(remaining[rows, cols]))


@functools.lru_cache(maxsize=64)
def _lkj_terms(n: int, eta: float) -> tuple[float, np.ndarray]:
    """The LKJ normalizing constant and exponents (cached: NUTS asks at every step)."""
    k = np.arange(1, n)
    const = (n - 1) * gammaln(eta + 0.5 * (n - 1)) - np.sum(
        0.5 * k * LOG_PI + gammaln(eta + 0.5 * (n - 1 - k))
    )
    return float(const), 2 * eta - 2 + n - np.arange(1, n + 1)


def lkj_logp(chol: np.ndarray, eta: float) -> float:
    """``pm.LKJCorr``'s log density of a Cholesky factor (normalized as PyMC's)."""
    const, exponents = _lkj_terms(len(chol), float(eta))
    # |corr| = 1 on a search's edge gives log 0 = -inf; a zero exponent (eta = 1) leaves
    # its factor out there, where 0 * log 0 would give nan
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(exponents != 0, exponents * np.log(np.diag(chol)), 0.0)
    return float(const + np.sum(terms))


def interval(x: float, lo: float, hi: float) -> tuple[float, float]:
    """PyMC's interval transform: the value in (lo, hi) and the log-Jacobian."""
    s = 1.0 / (1.0 + np.exp(-x))
    log_jac = np.log(hi - lo) - np.logaddexp(0.0, -x) - np.logaddexp(0.0, x)
    return lo + (hi - lo) * s, float(log_jac)


def interval_working(value: float, lo: float, hi: float) -> float:
    u = (value - lo) / (hi - lo)
    return float(np.log(u) - np.log1p(-u))
