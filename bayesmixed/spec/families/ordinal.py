"""Ordered categorical responses: Stata's ``meologit`` and ``meoprobit``.

Pr(y <= k) = F(cut_k - eta) with F the inverse link as a CDF (logistic,
standard normal or complementary log-log) and no constant in eta: the
cutpoints ``/cut1 ... /cut(K-1)`` absorb it.  This is Stata's ``meologit``
and R's ``ordinal::clmm`` threshold model, sign for sign.

The cutpoints travel as a working vector (cut1, log(cut2 - cut1), ...), so
the optimizer and the sampler move freely while the cutpoints stay ordered;
Stata prints the natural values.  The curvature handed to PIRLS is the
*observed* one, -d^2 log Pr / d eta^2, not a Fisher weight: this link is not
canonical, and the Laplace approximation of Stata and clmm uses the exact
Hessian of the conditional log likelihood.  It is positive because the three
densities are log-concave (Pratt 1981), so Newton's method stays well posed.

The family is bound to the data's categories by :meth:`Ordinal.prepare`;
the model's response is the category code 0 .. K-1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from ...errors import DataError, NotSupportedError
from .base import EMPTY, Ancillary, Family
from .binary import LATENT_VARIANCE
from .math import NUMPY, Namespace

BIG = 1e10  # stands for +-infinity as an outer cutpoint (finite, so gradients stay finite)
CLIP = 50.0  # beyond it every density here is 0 in double precision
_LOG_SQRT_2PI = 0.5 * float(np.log(2 * np.pi))


class Ordinal(Family):
    """Ordered outcomes with K categories; ``levels`` are the observed values in order."""

    name = "ordinal"
    abbreviation = "ord"
    links = ("logit", "probit", "cloglog")
    commands = {"meologit": "logit", "meoprobit": "probit"}
    titles = {
        "logit": ("ologit regression", "ologit model"),
        "probit": ("oprobit regression", "oprobit model"),
    }
    eform = {"or": ("logit",)}
    has_constant = False
    data_bound = True
    outcomes = True

    def __init__(self, link: str | None = None, levels: tuple[float, ...] = ()) -> None:
        super().__init__(link)
        self.levels = tuple(levels)

    def state(self) -> tuple[float, ...]:
        return self.levels

    def restore(self, state: tuple[float, ...]) -> Ordinal:
        return Ordinal(self.link.name, tuple(float(v) for v in state))

    @property
    def ancillary(self) -> Ancillary | None:  # type: ignore[override]
        k = len(self.levels)
        if k < 2:
            return None
        labels = tuple(f"cut{j}" for j in range(1, k))
        return Ancillary(labels, "cut", "ordered", ("normal", (0.0, 25.0)), shown="natural")

    # -- the response -----------------------------------------------------------------
    def prepare(self, y, trials=None, name: str = "y") -> tuple[Ordinal, np.ndarray]:
        y = np.asarray(y, float)
        levels = np.unique(y)
        if len(levels) < 2:
            raise DataError(f"{name} does not vary: every outcome is {y[0]:g}")
        return Ordinal(self.link.name, tuple(float(v) for v in levels)), np.searchsorted(
            levels, y
        ).astype(float)

    def check_response(self, y, trials=None, name: str = "y") -> np.ndarray:
        return self.prepare(y, trials, name)[1]

    # -- cutpoints --------------------------------------------------------------------
    def anc_natural(self, anc, xp: Namespace = NUMPY) -> list:
        cuts = [anc[0]]
        for w in list(anc)[1:]:
            cuts.append(cuts[-1] + xp.exp(w))
        return cuts

    def anc_working(self, natural, xp: Namespace = NUMPY) -> list:
        nat = list(natural)
        return [nat[0]] + [xp.log(b - a) for a, b in zip(nat[:-1], nat[1:])]

    def anc_start(self, y, trials=None) -> np.ndarray:
        """Cutpoints at F^-1 of the cumulative proportions (eta = 0)."""
        k = len(self.levels)
        cum = np.cumsum(np.bincount(np.asarray(y, int), minlength=k))[:-1] / len(y)
        cuts = self.link.link(np.clip(cum, 1e-4, 1 - 1e-4))
        cuts = np.maximum.accumulate(cuts + np.arange(k - 1) * 1e-3)
        return np.asarray(self.anc_working(list(cuts)), float)

    def _bounds(self, y, eta, anc, xp: Namespace):
        """(cut_y - eta, cut_(y-1) - eta) per observation, with +-BIG at the ends."""
        ext = [-BIG] + self.anc_natural(anc, xp) + [BIG]
        codes = np.asarray(y)
        upper = sum(ext[k + 1] * (codes == k).astype(float) for k in range(len(self.levels)))
        lower = sum(ext[k] * (codes == k).astype(float) for k in range(len(self.levels)))
        return upper - eta, lower - eta

    # -- likelihood -------------------------------------------------------------------
    def loglik(self, y, eta, trials=None, anc=EMPTY, xp: Namespace = NUMPY) -> Any:
        """log(F(a) - F(b)) = log F(a) + log(1 - exp(log F(b) - log F(a))), stably."""
        a, b = self._bounds(y, eta, anc, xp)
        la, lb = self.link.log_cdf(a, xp), self.link.log_cdf(b, xp)
        return la + xp.log1mexp(lb - la)

    def _log_density(self, x: np.ndarray) -> np.ndarray:
        n = self.link.name
        if n == "logit":
            return -np.logaddexp(0.0, -x) - np.logaddexp(0.0, x)
        if n == "probit":
            return -0.5 * x * x - _LOG_SQRT_2PI
        return x - np.exp(x)

    def _slope(self, x: np.ndarray) -> np.ndarray:
        """f'(x) / f(x) of the link's density."""
        n = self.link.name
        if n == "logit":
            return 1.0 - 2.0 * expit(x)
        if n == "probit":
            return -x
        return 1.0 - np.exp(x)

    def score_weights(self, y, eta, trials=None, anc=EMPTY):
        """Score and *observed* curvature in eta (see the module docstring)."""
        a, b = self._bounds(y, eta, anc, NUMPY)
        log_p = self.loglik(y, eta, trials, anc)
        a, b = np.clip(a, -CLIP, CLIP), np.clip(b, -CLIP, CLIP)
        qa = np.exp(self._log_density(a) - log_p)
        qb = np.exp(self._log_density(b) - log_p)
        score = -(qa - qb)
        weight = (qa - qb) ** 2 - (qa * self._slope(a) - qb * self._slope(b))
        return score, np.maximum(weight, 1e-300)

    def probabilities(self, eta, anc) -> np.ndarray:
        """Pr(y = k | eta) for every category, on a new last axis.

        ``anc`` entries may be arrays broadcasting against ``eta`` (posterior draws).
        """
        eta = np.asarray(eta, float)
        cdf = [self.link.inverse(np.asarray(c, float) - eta) for c in self.anc_natural(list(anc))]
        shape = np.broadcast_shapes(*(c.shape for c in cdf))
        cdf = [np.zeros(shape)] + [np.broadcast_to(c, shape) for c in cdf] + [np.ones(shape)]
        return np.diff(np.stack(cdf, axis=-1), axis=-1)

    def latent_variance(self) -> float | None:
        return LATENT_VARIANCE.get(self.link.name)

    def variance(self, mu, anc=EMPTY) -> np.ndarray:
        raise NotSupportedError("an ordinal response has no variance function; use probabilities")

    def mean(self, eta, trials=None, anc=EMPTY) -> np.ndarray:
        raise NotSupportedError(
            "an ordinal model has no mean response: predict the probability of each outcome (pr)"
        )

    def simulate(self, rng, eta, trials=None, anc=EMPTY):
        p = self.probabilities(eta, anc)
        u = rng.random(p.shape[:-1] + (1,))
        codes = np.sum(np.cumsum(p, axis=-1)[..., :-1] < u, axis=-1)
        return np.asarray(self.levels, float)[codes]

    def deviance_residuals(self, y, eta, trials=None, anc=EMPTY) -> np.ndarray:
        raise NotSupportedError("deviance residuals are not defined for an ordinal response")
