"""Response families and link functions of generalized linear mixed models.

A :class:`Family` is a likelihood (log density per observation, variance
function, dispersion parameter) and a :class:`Link` maps the linear predictor
to the mean, as bambi separates Likelihood from Link and lme4 keeps
``glmResp`` apart from the predictor.  The GLMM engine only ever asks for
``loglik(y, eta)``, ``score_weights(y, eta)`` (the derivative of the log
density in eta and the Fisher weight), so adding a family touches this module
alone.

Conventions follow Stata's ``meglm``: binomial responses are *counts of
successes* out of ``trials``; the negative binomial has *mean dispersion*,
Var = mu (1 + alpha mu), as ``menbreg``'s default; gamma and gaussian carry
a dispersion (1/shape and sigma^2).  Log densities include every constant
(binomial coefficients, log y!), so log likelihoods match Stata and lme4.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln, log_ndtr, ndtr

from ..errors import DataError, SpecificationError

_TINY = 1e-300


class ResponseWarning(UserWarning):
    """The response was reinterpreted the way Stata does (e.g. nonzero -> 1)."""


@dataclass(frozen=True)
class Link:
    """A link g: mu = g^-1(eta); ``log_pair`` gives log mu and log(1-mu) stably."""

    name: str

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        n = self.name
        if n == "logit":
            return expit(eta)
        if n == "probit":
            return ndtr(eta)
        if n == "cloglog":
            return -np.expm1(-np.exp(np.minimum(eta, 700.0)))
        if n == "log":
            return np.exp(np.minimum(eta, 700.0))
        return np.asarray(eta, float)

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        """d mu / d eta, the factor that turns a mean-scale score into an eta-scale one."""
        n = self.name
        if n == "logit":
            p = expit(eta)
            return p * (1 - p)
        if n == "probit":
            return np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
        if n == "cloglog":
            e = np.minimum(eta, 700.0)
            return np.exp(e - np.exp(e))
        if n == "log":
            return np.exp(np.minimum(eta, 700.0))
        return np.ones_like(eta, dtype=float)

    def log_pair(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log mu, log(1 - mu)) without cancellation, for binomial likelihoods."""
        n = self.name
        if n == "logit":
            return -np.logaddexp(0.0, -eta), -np.logaddexp(0.0, eta)
        if n == "probit":
            return log_ndtr(eta), log_ndtr(-eta)
        if n == "cloglog":
            e = np.exp(np.minimum(eta, 700.0))
            return np.log(np.maximum(-np.expm1(-e), _TINY)), -e
        mu = np.clip(self.inverse(eta), _TINY, 1 - 1e-16)
        return np.log(mu), np.log1p(-mu)

    def link(self, mu: np.ndarray) -> np.ndarray:
        n = self.name
        mu = np.asarray(mu, float)
        if n == "logit":
            return np.log(mu / (1 - mu))
        if n == "probit":
            from scipy.special import ndtri

            return ndtri(mu)
        if n == "cloglog":
            return np.log(-np.log1p(-mu))
        if n == "log":
            return np.log(mu)
        return mu


LINKS = ("logit", "probit", "cloglog", "log", "identity")

# family -> (allowed links, has a dispersion parameter, its name in Stata's output)
_FAMILIES = {
    "bernoulli": (("logit", "probit", "cloglog", "log", "identity"), None),
    "binomial": (("logit", "probit", "cloglog", "log", "identity"), None),
    "poisson": (("log", "identity"), None),
    "nbinomial": (("log", "identity"), "lnalpha"),
    "gamma": (("log", "identity"), "lnphi"),
    "gaussian": (("identity", "log"), "lnsigma2"),
}


@dataclass(frozen=True)
class Family:
    """A response distribution with its link.

    ``dispersion`` names the extra parameter (working scale: a log) or is
    ``None`` for Bernoulli, binomial and Poisson responses.
    """

    name: str
    link: Link

    @property
    def dispersion(self) -> str | None:
        return _FAMILIES[self.name][1]

    @property
    def has_dispersion(self) -> bool:
        return self.dispersion is not None

    # -- likelihood ---------------------------------------------------------------
    def loglik(self, y, eta, trials=None, log_phi: float = 0.0) -> np.ndarray:
        """Log density of each observation at linear predictor ``eta``.

        ``y`` and ``trials`` broadcast against ``eta`` (which may carry extra
        trailing axes, e.g. quadrature nodes); ``log_phi`` is the dispersion
        on the log scale (alpha, 1/shape or sigma^2).
        """
        name = self.name
        if name in ("bernoulli", "binomial"):
            n = 1.0 if trials is None else trials
            if self.link.name == "logit":  # y log mu + (n-y) log(1-mu), one logaddexp
                out = y * eta - n * np.logaddexp(0.0, eta)
            else:
                lp, lq = self.link.log_pair(eta)
                out = y * lp + (n - y) * lq
            if trials is not None:
                out = out + _log_choose(trials, y)
            return out
        mu = self.link.inverse(eta)
        if name == "poisson":
            return y * np.log(np.maximum(mu, _TINY)) - mu - gammaln(y + 1.0)
        if name == "nbinomial":
            m = np.exp(-log_phi)
            return (
                gammaln(y + m)
                - gammaln(m)
                - gammaln(y + 1.0)
                + m * (np.log(m) - np.log(m + mu))
                + y * (np.log(np.maximum(mu, _TINY)) - np.log(m + mu))
            )
        if name == "gamma":
            s = np.exp(-log_phi)
            mu = np.maximum(mu, _TINY)
            return s * np.log(s * y / mu) - s * y / mu - np.log(y) - gammaln(s)
        return -0.5 * (np.log(2 * np.pi) + log_phi) - 0.5 * (y - mu) ** 2 * np.exp(-log_phi)

    def variance(self, mu, log_phi: float = 0.0) -> np.ndarray:
        """Var(y) / (trials) as a function of the mean (times dispersion)."""
        name = self.name
        if name in ("bernoulli", "binomial"):
            return mu * (1 - mu)
        if name == "poisson":
            return mu
        if name == "nbinomial":
            return mu * (1 + np.exp(log_phi) * mu)
        if name == "gamma":
            return np.exp(log_phi) * mu**2
        return np.exp(log_phi) * np.ones_like(mu)

    def score_weights(self, y, eta, trials=None, log_phi: float = 0.0):
        """d loglik / d eta and the Fisher weight E[-d^2 loglik / d eta^2].

        Fisher weights are what lme4's PIRLS uses; for canonical links they
        equal the observed curvature, so Laplace's log-determinant agrees.
        """
        mu = self.link.inverse(eta)
        if self.name in ("bernoulli", "binomial"):
            mu = np.clip(mu, 1e-15, 1 - 1e-15)
        dmu = self.link.mu_eta(eta)
        var = np.maximum(self.variance(mu, log_phi), _TINY)
        n = 1.0 if (trials is None or self.name not in ("bernoulli", "binomial")) else trials
        mean = n * mu
        score = (y - mean) * dmu / var
        weight = n * dmu**2 / var
        return score, weight

    def deviance_residuals(self, y, eta, trials=None, log_phi: float = 0.0) -> np.ndarray:
        """sign(y - mu) sqrt(2 (loglik_saturated - loglik)), as glm's residuals."""
        mu = self.link.inverse(eta)
        n = 1.0 if trials is None else trials
        fitted = n * mu if self.name in ("bernoulli", "binomial") else mu
        sat_eta = (
            self.link.link(np.clip(y / n, 1e-12, 1 - 1e-12))
            if self.name
            in (
                "bernoulli",
                "binomial",
            )
            else self.link.link(np.maximum(y, 1e-12) if self.link.name == "log" else y)
        )
        ll_sat = self.loglik(y, sat_eta, trials, log_phi)
        ll = self.loglik(y, eta, trials, log_phi)
        return np.sign(y - fitted) * np.sqrt(np.maximum(2 * (ll_sat - ll), 0.0))

    # -- checks -------------------------------------------------------------------
    def check_response(self, y: np.ndarray, trials=None, name: str = "y") -> np.ndarray:
        """Validate ``y`` for this family; return the response the model uses.

        Bernoulli: as Stata's ``melogit``, any nonzero value is a positive
        outcome -- we do the same and warn when values other than 0/1 occur.
        """
        y = np.asarray(y, float)
        fam = self.name
        if fam == "bernoulli":
            if not np.isin(y, (0.0, 1.0)).all():
                warnings.warn(
                    f"{name} takes values other than 0 and 1; as Stata does, every nonzero "
                    "value is treated as a positive outcome",
                    ResponseWarning,
                    stacklevel=3,
                )
                y = (y != 0).astype(float)
            if np.ptp(y) == 0:
                raise DataError(f"{name} does not vary: every outcome is {int(y[0])}")
        elif fam == "binomial":
            _check_binomial(y, trials, name)
        elif fam in ("poisson", "nbinomial"):
            if np.any(y < 0):
                raise DataError(f"{name} has negative values; a count model needs counts >= 0")
            if np.any(y != np.round(y)):
                warnings.warn(
                    f"{name} has non-integer values; the {fam} log likelihood is evaluated "
                    "as if they were counts",
                    ResponseWarning,
                    stacklevel=3,
                )
        elif fam == "gamma" and np.any(y <= 0):
            raise DataError(f"{name} has values <= 0; the gamma family needs positive outcomes")
        return y


def _log_choose(n, k):
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def _check_binomial(y: np.ndarray, trials, name: str) -> None:
    if trials is None:
        raise SpecificationError("the binomial family needs the number of trials")
    t = np.broadcast_to(np.asarray(trials, float), y.shape)
    if np.any(t < 1) or np.any(t != np.round(t)):
        raise DataError("the number of trials must be a whole number >= 1 in every observation")
    if np.any(y < 0) or np.any(y > t) or np.any(y != np.round(y)):
        raise DataError(f"{name} must be a whole number of successes between 0 and the trials")


def get_family(name: str, link: str | None = None) -> Family:
    """Family ``name`` with ``link`` (its default when ``None``), checked."""
    if name not in _FAMILIES:
        raise SpecificationError(f"unknown family '{name}': use {', '.join(_FAMILIES)}")
    allowed = _FAMILIES[name][0]
    link = link or allowed[0]
    if link not in LINKS:
        raise SpecificationError(f"unknown link '{link}': use {', '.join(LINKS)}")
    if link not in allowed:
        raise SpecificationError(
            f"the {link} link is not available for the {name} family (use {', '.join(allowed)})"
        )
    return Family(name, Link(link))
