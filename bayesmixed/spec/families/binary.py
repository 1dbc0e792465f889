"""Bernoulli and binomial responses (``melogit``, ``meprobit``, ``mecloglog``).

As Stata's ``meglm``, binomial responses are *counts of successes* out of
``trials``; Bernoulli is binomial with one trial, and (as ``melogit``) any
nonzero outcome is a success, with a warning when values other than 0/1 occur.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...errors import DataError, SpecificationError
from .base import EMPTY, Family, ResponseWarning
from .links import TINY, softplus
from .math import NUMPY, Namespace

_BINARY_LINKS = ("logit", "probit", "cloglog", "log", "identity")
LATENT_VARIANCE = {"logit": float(np.pi**2 / 3), "probit": 1.0}
_TITLES = {
    "logit": ("logistic regression", "logistic model"),
    "probit": ("probit regression", "probit model"),
    "cloglog": ("complementary log-log regression", "cloglog model"),
}


class Bernoulli(Family):
    """One trial per observation: y in {0, 1}."""

    name = "bernoulli"
    abbreviation = "bern"
    links = _BINARY_LINKS
    commands = {"melogit": "logit", "meprobit": "probit", "mecloglog": "cloglog"}
    titles = _TITLES
    eform = {"or": ("logit",), "eform": _BINARY_LINKS}
    binary = True
    bayes_links = ("logit", "probit", "cloglog")

    def loglik(self, y, eta, trials=None, anc=EMPTY, xp: Namespace = NUMPY) -> Any:
        # float64 arrays: a Python float would enter a PyTensor graph as a float32 constant
        n = 1.0 if trials is None else np.asarray(trials, dtype=np.float64)
        if xp is NUMPY and self.link.name == "logit":  # y log mu + (n-y) log(1-mu), one softplus
            out = y * eta - n * softplus(eta)
        else:
            lp, lq = self.link.log_pair(eta, xp)
            out = y * lp + (n - y) * lq
        if trials is not None:
            out = out + xp.gammaln(n + 1.0) - xp.gammaln(y + 1.0) - xp.gammaln(n - y + 1.0)
        return out

    @property
    def cumulant(self) -> str | None:
        return "logistic" if self.link.name == "logit" else None

    def loglik_score(self, y, eta, trials=None, anc=EMPTY) -> tuple[float, Any]:
        """Under the logit link from one exp(-|eta|): log(1 + e^eta) and the mean, exact
        at any eta (the score y - n mu is not clipped, as :meth:`score_weights` must be)."""
        if self.link.name != "logit":
            return super().loglik_score(y, eta, trials, anc)
        e = np.exp(-np.abs(eta))
        softplus = np.maximum(eta, 0.0) + np.log1p(e)
        mu = np.where(eta >= 0.0, 1.0, e) / (1.0 + e)
        if trials is None:
            return float(y @ eta - softplus.sum()), y - mu
        n = np.asarray(trials, dtype=np.float64)
        const = np.sum(NUMPY.gammaln(n + 1.0) - NUMPY.gammaln(y + 1.0) - NUMPY.gammaln(n - y + 1.0))
        return float(y @ eta - n @ softplus + const), y - n * mu

    def variance(self, mu, anc=EMPTY) -> np.ndarray:
        return mu * (1 - mu)

    def latent_variance(self) -> float | None:
        """pi^2/3 (logistic) or 1 (normal) for a latent-variable reading of the outcome."""
        return LATENT_VARIANCE.get(self.link.name)

    def empirical_correction(self) -> tuple[float, float]:
        return 0.5, 1.0  # the empirical logit (y + 1/2) / (n + 1)

    def score_weights(self, y, eta, trials=None, anc=EMPTY):
        mu, dmu = self.link.inverse_and_mu_eta(eta)
        mu = np.clip(mu, 1e-15, 1 - 1e-15)
        var = np.maximum(self.variance(mu), TINY)
        n = 1.0 if trials is None else trials
        return (y - n * mu) * dmu / var, n * dmu**2 / var

    def mean(self, eta, trials=None, anc=EMPTY) -> np.ndarray:
        mu = self.link.inverse(eta)
        return mu if trials is None else trials * mu

    def saturated_eta(self, y, trials=None) -> np.ndarray:
        n = 1.0 if trials is None else trials
        return self.link.link(np.clip(y / n, 1e-12, 1 - 1e-12))

    def simulate(self, rng, eta, trials=None, anc=EMPTY):
        p = self.link.inverse(eta)
        if trials is None:
            return (rng.random(np.shape(p)) < p).astype(float)
        return rng.binomial(np.broadcast_to(trials, np.shape(p)).astype(int), p).astype(float)

    def check_response(self, y, trials=None, name: str = "y") -> np.ndarray:
        y = np.asarray(y, float)
        if not np.isin(y, (0.0, 1.0)).all():
            warnings.warn(
                f"{name} takes values other than 0 and 1; as Stata does, every nonzero "
                "value is treated as a positive outcome",
                ResponseWarning,
                stacklevel=4,
            )
            y = (y != 0).astype(float)
        if np.ptp(y) == 0:
            raise DataError(f"{name} does not vary: every outcome is {int(y[0])}")
        return y


class Binomial(Bernoulli):
    """Counts of successes out of ``trials`` (a number or a variable)."""

    name = "binomial"
    abbreviation = "bi"
    commands = {}
    uses_trials = True

    def check_response(self, y, trials=None, name: str = "y") -> np.ndarray:
        y = np.asarray(y, float)
        if trials is None:
            raise SpecificationError("the binomial family needs the number of trials")
        t = np.broadcast_to(np.asarray(trials, float), y.shape)
        if np.any(t < 1) or np.any(t != np.round(t)):
            raise DataError("the number of trials must be a whole number >= 1 in every observation")
        if np.any(y < 0) or np.any(y > t) or np.any(y != np.round(y)):
            raise DataError(f"{name} must be a whole number of successes between 0 and the trials")
        return y
