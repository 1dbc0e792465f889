"""Continuous responses under ``meglm``: gamma and Gaussian.

The gamma family has dispersion phi = 1/shape (Var = phi mu^2), printed by
Stata as ``/lnphi``; the Gaussian under ``meglm`` carries ln sigma^2.  A
Gaussian model with the identity link integrates its random effects out
exactly, so the API sends it to the exact ML/REML engine (:attr:`closed_form`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import DataError
from .base import EMPTY, Ancillary, Family, first
from .links import TINY
from .math import NUMPY, Namespace

_LOG2PI = float(np.log(2 * np.pi))


class Gamma(Family):
    name = "gamma"
    abbreviation = "gamma"
    links = ("log", "identity")
    commands = {}
    titles = {}
    eform = {"eform": ("log", "identity")}
    bayes_links = ("log",)
    ancillary = Ancillary(("lnphi",), "phi", "positive", ("halfnormal", (6.25,)))  # scale 2.5

    def loglik(self, y, eta, trials=None, anc=EMPTY, xp: Namespace = NUMPY) -> Any:
        log_phi = first(anc)
        s = xp.exp(-log_phi)
        if xp is NUMPY:
            mu = np.maximum(self.link.inverse(eta), TINY)
            return s * np.log(s * y / mu) - s * y / mu - np.log(y) - xp.gammaln(s)
        # log link: log mu = eta, y / mu = y exp(-eta)
        return s * (-log_phi + xp.log(y) - eta) - s * y * xp.exp(-eta) - xp.log(y) - xp.gammaln(s)

    def variance(self, mu, anc=EMPTY) -> np.ndarray:
        return np.exp(first(anc)) * mu**2

    def simulate(self, rng, eta, trials=None, anc=EMPTY):
        mu = self.link.inverse(eta)
        phi = np.exp(first(anc))
        return rng.gamma(1.0 / phi, phi * mu)

    def check_response(self, y, trials=None, name: str = "y") -> np.ndarray:
        y = np.asarray(y, float)
        if np.any(y <= 0):
            raise DataError(f"{name} has values <= 0; the gamma family needs positive outcomes")
        return y


class Gaussian(Family):
    name = "gaussian"
    abbreviation = "gau"
    links = ("identity", "log")
    commands = {}
    titles = {}
    eform = {"eform": ("identity", "log")}
    bayes_links = ("identity",)
    ancillary = Ancillary(("lnsigma2",), "sigma2", "positive", ("halfnormal", (6.25,)))  # scale 2.5

    @property
    def closed_form(self) -> bool:
        return self.link.name == "identity"

    def loglik(self, y, eta, trials=None, anc=EMPTY, xp: Namespace = NUMPY) -> Any:
        log_s2 = first(anc)
        mu = self.link.inverse(eta) if xp is NUMPY else eta
        return -0.5 * (_LOG2PI + log_s2) - 0.5 * (y - mu) ** 2 * xp.exp(-log_s2)

    def variance(self, mu, anc=EMPTY) -> np.ndarray:
        return np.exp(first(anc)) * np.ones_like(mu)

    def simulate(self, rng, eta, trials=None, anc=EMPTY):
        mu = self.link.inverse(eta)
        return mu + np.sqrt(np.exp(first(anc))) * rng.standard_normal(np.shape(mu))
