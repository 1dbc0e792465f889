"""Count responses: Poisson (``mepoisson``) and negative binomial (``menbreg``).

The negative binomial has *mean dispersion*, Var = mu (1 + alpha mu), as
``menbreg``'s default; its working ancillary parameter is ln alpha, the row
Stata prints as ``/lnalpha``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import EMPTY, Ancillary, Family, check_counts, first
from .links import TINY
from .math import NUMPY, Namespace


class CountFamily(Family):
    """What every count family shares: links, ``irr``, the response check, group rates."""

    links = ("log", "identity")
    eform = {"irr": ("log",), "eform": ("log", "identity")}
    bayes_links = ("log",)

    def empirical_correction(self) -> tuple[float, float]:
        return 0.5, 0.0  # log((y + 1/2) / n): a group with no events stays finite

    def check_response(self, y, trials=None, name: str = "y") -> np.ndarray:
        y = np.asarray(y, float)
        check_counts(y, name, self.name)
        return y


class Poisson(CountFamily):
    name = "poisson"
    abbreviation = "poi"
    commands = {"mepoisson": "log"}
    titles = {"log": ("Poisson regression", "Poisson model")}

    def loglik(self, y, eta, trials=None, anc=EMPTY, xp: Namespace = NUMPY) -> Any:
        if xp is not NUMPY and self.link.name == "log":
            return y * eta - xp.exp(eta) - xp.gammaln(y + 1.0)
        mu = self.link.inverse(eta)
        return y * np.log(np.maximum(mu, TINY)) - mu - xp.gammaln(y + 1.0)

    @property
    def cumulant(self) -> str | None:
        return "exp" if self.link.name == "log" else None

    def loglik_score(self, y, eta, trials=None, anc=EMPTY) -> tuple[float, Any]:
        """Under the log link: mu = e^eta once for both (score y - mu, exact)."""
        if self.link.name != "log":
            return super().loglik_score(y, eta, trials, anc)
        mu = np.exp(eta)
        return float(y @ eta - mu.sum() - np.sum(NUMPY.gammaln(y + 1.0))), y - mu

    def variance(self, mu, anc=EMPTY) -> np.ndarray:
        return mu

    def simulate(self, rng, eta, trials=None, anc=EMPTY):
        return rng.poisson(self.link.inverse(eta)).astype(float)


class NegativeBinomial(CountFamily):
    name = "nbinomial"
    abbreviation = "nb"
    commands = {"menbreg": "log"}
    titles = {"log": ("negative binomial regression", "nbinomial model")}
    ancillary = Ancillary(("lnalpha",), "alpha", "positive", ("halfnormal", (6.25,)))  # scale 2.5

    def loglik(self, y, eta, trials=None, anc=EMPTY, xp: Namespace = NUMPY) -> Any:
        log_alpha = first(anc)
        m = xp.exp(-log_alpha)
        if xp is NUMPY:
            mu = self.link.inverse(eta)
            log_mu, log_sum = np.log(np.maximum(mu, TINY)), np.log(m + mu)
        else:  # log link: log mu = eta, log(m + mu) without overflow
            log_mu = eta
            log_sum = xp.logaddexp(-log_alpha, eta)
        return (
            xp.gammaln(y + m)
            - xp.gammaln(m)
            - xp.gammaln(y + 1.0)
            + m * (-log_alpha - log_sum)
            + y * (log_mu - log_sum)
        )

    def variance(self, mu, anc=EMPTY) -> np.ndarray:
        return mu * (1 + np.exp(first(anc)) * mu)

    def simulate(self, rng, eta, trials=None, anc=EMPTY):
        mu = self.link.inverse(eta)
        alpha = np.exp(first(anc))
        lam = rng.gamma(1.0 / alpha, alpha * mu)  # a gamma-Poisson mixture: Var = mu (1 + alpha mu)
        return rng.poisson(lam).astype(float)
