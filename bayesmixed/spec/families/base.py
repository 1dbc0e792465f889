"""The response-family protocol every engine reads.

A :class:`Family` is one class per response distribution (support, allowed
links, log density, score and curvature, mean and variance, simulation, the
Stata commands and words that name it), instantiated with a :class:`Link`.
Engines never branch on a family's name: the ML/GLMM engine calls
``loglik``/``score_weights`` with NumPy, the Bayesian engine calls the same
``loglik`` with a PyTensor namespace, postestimation calls ``mean`` and
``simulate``, the renderers read ``titles`` and ``ancillary``.  A new family
is one module with one class plus a line in the registry
(:mod:`bayesmixed.spec.family`) -- the ordinal family was added that way.

Ancillary parameters (a dispersion, the cutpoints of an ordinal model) travel
as one unconstrained *working* vector ``anc`` (a sequence; each entry a
scalar or an array broadcasting against ``eta``): the optimizer and the
sampler both move in it, and :class:`Ancillary` says how it maps to what
Stata prints and what the Bayesian priors are put on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...errors import DataError, SpecificationError
from .links import LINKS, TINY, Link
from .math import NUMPY, Namespace

EMPTY: tuple = ()


class ResponseWarning(UserWarning):
    """The response was reinterpreted the way Stata does (e.g. nonzero -> 1)."""


@dataclass(frozen=True)
class Ancillary:
    """The extra parameters of a family beside the linear predictor.

    Attributes
    ----------
    labels : the rows Stata prints (``lnalpha``; ``cut1``, ``cut2``...).
    bayes_name : the posterior variable (``alpha``, ``phi``, ``cut``).
    support : ``"positive"`` (natural = exp(working), a scalar dispersion) or
        ``"ordered"`` (natural values strictly increasing: cutpoints).  The
        Bayesian engine keys its variable builders by this word.
    prior : default prior on the natural scale, ``(distribution, args)`` in the
        Bayesian engine's prior vocabulary.
    shown : ``"working"`` when Stata prints the working value (``/lnalpha``),
        ``"natural"`` when it prints the natural one (``/cut1``).
    """

    labels: tuple[str, ...]
    bayes_name: str
    support: str
    prior: tuple[str, tuple[float, ...]]
    shown: str = "working"


class Family:
    """A response distribution with its link; subclasses fill the class attributes.

    Class attributes
    ----------------
    name : the registry key and Stata's ``family()`` word.
    abbreviation : the shortest abbreviation of that word Stata accepts.
    links : allowed links, the default first.
    commands : Stata commands that fit this family, each with its link.
    titles : link -> (title after "Mixed-effects ", name of the comparison model).
    eform : Stata's exponentiated-display options allowed with each link.
    has_constant : False for models whose cutpoints absorb the intercept.
    binary : the mean is a probability (separation checks, ``predict pr``).
    uses_trials : the response counts successes out of a number of trials.
    data_bound : :meth:`prepare` binds the family to the data (an ordinal model's categories).
    outcomes : categorical: ``predict pr`` gives one probability per outcome
        (:meth:`probabilities`), and there is no mean response.
    bayes_links : links the Bayesian engine samples (all of ``links`` by default).
    """

    name: ClassVar[str] = ""
    abbreviation: ClassVar[str] = ""
    links: ClassVar[tuple[str, ...]] = ()
    commands: ClassVar[dict[str, str]] = {}
    titles: ClassVar[dict[str, tuple[str, str]]] = {}
    eform: ClassVar[dict[str, tuple[str, ...]]] = {}
    has_constant: ClassVar[bool] = True
    binary: ClassVar[bool] = False
    uses_trials: ClassVar[bool] = False
    data_bound: ClassVar[bool] = False
    outcomes: ClassVar[bool] = False
    bayes_links: ClassVar[tuple[str, ...] | None] = None
    ancillary: ClassVar[Ancillary | None] = None

    def __init__(self, link: str | None = None) -> None:
        link = link or self.links[0]
        if link not in LINKS:
            raise SpecificationError(f"unknown link '{link}': use {', '.join(LINKS)}")
        if link not in self.links:
            raise SpecificationError(
                f"the {link} link is not available for the {self.name} family "
                f"(use {', '.join(self.links)})"
            )
        self.link = Link(link)

    # -- identity -------------------------------------------------------------------
    def state(self) -> tuple[float, ...]:
        """What besides the class and link a data-bound family carries (saved with results)."""
        return ()

    def restore(self, state: tuple[float, ...]) -> Family:
        """This family bound again to a saved :meth:`state`."""
        return self

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self) and other.link == self.link and other.state() == self.state()
        )  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.link, self.state()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(link={self.link.name!r})"

    @property
    def closed_form(self) -> bool:
        """True when the random effects integrate out exactly (Gaussian, identity link)."""
        return False

    @property
    def dispersion(self) -> str | None:
        """Stata's label of a scalar dispersion (``lnalpha``), or ``None``."""
        anc = self.ancillary
        return anc.labels[0] if anc is not None and anc.support == "positive" else None

    @property
    def has_dispersion(self) -> bool:
        return self.dispersion is not None

    @property
    def n_anc(self) -> int:
        return 0 if self.ancillary is None else len(self.ancillary.labels)

    def supports_bayes(self) -> bool:
        links = self.links if self.bayes_links is None else self.bayes_links
        return self.link.name in links

    # -- ancillary parameters -----------------------------------------------------
    def latent_variance(self) -> float | None:
        """Variance of the latent error a threshold model implies (``estat icc``), or None."""
        return None

    def empirical_correction(self) -> tuple[float, float]:
        """(added to the sum, added to the count) of a group's empirical link value."""
        return 0.0, 0.0

    def anc_start(self, y: np.ndarray, trials=None) -> np.ndarray:
        """Working-scale starting values of the ancillary parameters."""
        return np.zeros(self.n_anc)

    def anc_natural(self, anc: Sequence, xp: Namespace = NUMPY) -> list:
        """Working -> natural values (exp of a log dispersion)."""
        return [xp.exp(a) for a in anc]

    def anc_working(self, natural: Sequence, xp: Namespace = NUMPY) -> list:
        """Natural -> working values, the inverse of :meth:`anc_natural`."""
        return [xp.log(v) for v in natural]

    def anc_shown(self, anc: np.ndarray) -> np.ndarray:
        """The values Stata prints in the ancillary rows."""
        anc = np.asarray(anc, float)
        if self.ancillary is not None and self.ancillary.shown == "natural":
            return np.asarray(self.anc_natural(list(anc)), float)
        return anc

    # -- the response -----------------------------------------------------------------
    def bound(self, y: np.ndarray) -> Family:
        """This family bound to the response ``y`` (itself unless :attr:`data_bound`)."""
        return self.prepare(y)[0] if self.data_bound else self

    def prepare(self, y: np.ndarray, trials=None, name: str = "y") -> tuple[Family, np.ndarray]:
        """(the family bound to these data, the response the model uses)."""
        return self, self.check_response(y, trials, name)

    def check_response(self, y: np.ndarray, trials=None, name: str = "y") -> np.ndarray:
        return np.asarray(y, float)

    # -- likelihood -------------------------------------------------------------------
    def loglik(self, y, eta, trials=None, anc: Sequence = EMPTY, xp: Namespace = NUMPY) -> Any:
        """Log density of each observation at linear predictor ``eta``, constants included."""
        raise NotImplementedError

    @property
    def cumulant(self) -> str | None:
        """The canonical link's cumulant c, when the log density is y eta - n c(eta) +
        const(y): ``"logistic"`` (c = log(1 + e^eta)) or ``"exp"``; None otherwise.
        Compiled densities need no more of the family than this."""
        return None

    def loglik_score(self, y, eta, trials=None, anc: Sequence = EMPTY) -> tuple[float, Any]:
        """The summed log density and d loglik / d eta of each row, as a sampler needs them
        at every step; families override it where one pass over eta gives both."""
        total = float(np.sum(self.loglik(y, eta, trials, anc)))
        return total, self.score_weights(y, eta, trials, anc)[0]

    def variance(self, mu, anc: Sequence = EMPTY) -> np.ndarray:
        """Var(y) / trials as a function of the mean (times dispersion)."""
        raise NotImplementedError

    def mean(self, eta, trials=None, anc: Sequence = EMPTY) -> np.ndarray:
        """E[y | eta]: the mean response (counts of successes for binomial)."""
        return self.link.inverse(eta)

    def score_weights(self, y, eta, trials=None, anc: Sequence = EMPTY):
        """d loglik / d eta and the Fisher weight E[-d^2 loglik / d eta^2].

        Fisher weights are what lme4's PIRLS uses; for canonical links they
        equal the observed curvature, so Laplace's log-determinant agrees.
        """
        mu, dmu = self.link.inverse_and_mu_eta(eta)
        var = np.maximum(self.variance(mu, anc), TINY)
        return (y - mu) * dmu / var, dmu**2 / var

    def probabilities(self, eta, anc: Sequence = EMPTY) -> np.ndarray:
        """Pr(y = each outcome | eta) on a new last axis (categorical families only)."""
        raise NotImplementedError

    def simulate(self, rng: np.random.Generator, eta, trials=None, anc: Sequence = EMPTY):
        """Draws of the response at ``eta`` (posterior predictive and parametric bootstrap)."""
        raise NotImplementedError

    def saturated_eta(self, y, trials=None) -> np.ndarray:
        """The linear predictor at which the mean equals ``y`` (deviance residuals)."""
        return self.link.link(np.maximum(y, 1e-12) if self.link.name == "log" else y)

    def deviance_residuals(self, y, eta, trials=None, anc: Sequence = EMPTY) -> np.ndarray:
        """sign(y - mu) sqrt(2 (loglik_saturated - loglik)), as glm's residuals."""
        fitted = self.mean(eta, trials, anc)
        ll_sat = self.loglik(y, self.saturated_eta(y, trials), trials, anc)
        ll = self.loglik(y, eta, trials, anc)
        return np.sign(y - fitted) * np.sqrt(np.maximum(2 * (ll_sat - ll), 0.0))


def first(anc: Sequence | float) -> Any:
    """The single ancillary value of a one-parameter family (a float is accepted as is)."""
    if isinstance(anc, int | float | np.floating):
        return anc
    return anc[0] if len(anc) else 0.0


def check_counts(y: np.ndarray, name: str, family: str) -> None:
    """Counts must be >= 0; non-integers are evaluated as counts, with a warning."""
    import warnings

    if np.any(y < 0):
        raise DataError(f"{name} has negative values; a count model needs counts >= 0")
    if np.any(y != np.round(y)):
        warnings.warn(
            f"{name} has non-integer values; the {family} log likelihood is evaluated "
            "as if they were counts",
            ResponseWarning,
            stacklevel=4,
        )
