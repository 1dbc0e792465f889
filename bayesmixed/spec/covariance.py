"""Covariance structures of a random-effects equation, as shared objects.

A structure is a small frozen instance -- its class is the kind (Stata's
independent, identity, exchangeable, unstructured), its fields the dimension
``k`` and the effect names -- like the residual structures of
:mod:`.residual`, so one design serves both and a structure can carry what its
maps need instead of being handed ``k`` on every call.  Each owns two
parameterizations of the k x k covariance matrix of one level's random effects:

* ``theta`` -- the *relative* Cholesky-like factor used by the profiled
  deviance (lme4's theta): ``lam(theta) @ lam(theta).T == Sigma / sigma2``.
  Box bounds keep the factor valid, and zero on a bound is a boundary fit.
* ``working`` -- an unconstrained vector on the *absolute* scale (log standard
  deviations, transformed correlations).  Standard errors (delta method),
  MAP/Laplace approximations and priors in the Bayesian engine use it.

``entries`` lists what Stata prints for the structure (``var(_cons)``,
``cov(math3,_cons)``...), so every engine and every renderer agrees on names.
Why objects: bambi lost correlated effects when covariance logic lived in a
backend; here the ML engine and the PyMC builder read the same object.

Engines never branch on a structure's name: each keeps a table keyed by the
*class* (as :mod:`bayesmixed.engines.bayes.residual_corr` does for residual
structures).  A new structure is one class here, added to :data:`STRUCTURES`,
plus one line in each of these tables:

* ``engines/bayes/covariance.py`` ``GRAPHS`` -- the PyMC variables of a block;
* ``engines/bayes/priors.py`` ``STRUCTURE_PRIORS`` -- its default priors;
* ``engines/ml/rescale.py`` ``RESCALABLE`` -- whether effect columns may be rescaled.

The name is kept for Stata's syntax, saved results and messages only;
:func:`get_structure` is the one place a name becomes a class.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import SpecificationError


@functools.lru_cache(maxsize=64)
def _tril(k: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``np.tril_indices(k, offset)``, cached and read-only.

    Why: the maps below run on every deviance evaluation and every step of the
    numerical Hessian, where building the indices anew took a third of the time.
    """
    rows, cols = np.tril_indices(k, offset)
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols


class UnknownStructureError(SpecificationError):
    """A covariance structure name (or abbreviation) that no structure has."""


@dataclass(frozen=True)
class Entry:
    """One printed covariance parameter: ``kind`` is ``var`` or ``cov``.

    ``i`` and ``j`` index the effects; an entry standing for several equal
    parameters (identity, exchangeable) uses ``i = j = None``.
    """

    kind: str
    label: str
    i: int | None = None
    j: int | None = None


@dataclass(frozen=True)
class CovStructure:
    """Base class: the covariance of ``k`` random effects named ``names``.

    Subclasses give the theta <-> lambda and working <-> Sigma maps and set the
    class attributes ``name`` (Stata's full name, used in saved results),
    ``label`` (the printed header) and ``abbrev`` (the shortest abbreviation
    Stata's ``covariance()`` accepts).  Effect names default to ``0, 1, ...``.
    """

    k: int
    names: tuple[str, ...] = ()

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    abbrev: ClassVar[int] = 0

    def __post_init__(self) -> None:
        if isinstance(self.k, bool):
            raise SpecificationError(f"a covariance structure needs an integer k, got {self.k!r}")
        try:
            k = operator.index(self.k)
        except TypeError:
            raise SpecificationError(
                f"a covariance structure needs an integer k, got {self.k!r}"
            ) from None
        if k < 1:
            raise SpecificationError(f"a covariance structure needs k >= 1 effects, got {k}")
        names = tuple(str(n) for n in self.names) or tuple(str(i) for i in range(k))
        if len(names) != k:
            raise SpecificationError(
                f"{self.name} covariance of {k} effects was given {len(names)} names: "
                f"{', '.join(names)}"
            )
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "names", names)

    @classmethod
    def for_effects(cls, k: int, names: tuple[str, ...] = ()) -> CovStructure:
        """The structure Stata fits when this one is asked for ``k`` effects."""
        return cls(k, tuple(names))

    @property
    def n_theta(self) -> int:
        raise NotImplementedError

    def theta_bounds(self) -> list[tuple[float | None, float | None]]:
        raise NotImplementedError

    def theta_start(self) -> np.ndarray:
        raise NotImplementedError

    def lam(self, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def cov_from_working(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def working_from_cov(self, sigma: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def theta_from_working(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def entries(self) -> list[Entry]:
        raise NotImplementedError

    def rel_cov(self, theta: np.ndarray) -> np.ndarray:
        lam = self.lam(theta)
        return lam @ lam.T

    def theta_from_cov(self, rel: np.ndarray) -> np.ndarray:
        """Relative covariance -> theta, used for starting values and Hessians."""
        return self.theta_from_working(self.working_from_cov(rel))

    def boundary(self, theta: np.ndarray, tol: float = 1e-6) -> list[str]:
        """Names the ways a fitted theta sits on the boundary of the space."""
        k, names = self.k, self.names
        sigma = self.rel_cov(theta)
        sd = np.sqrt(np.clip(np.diag(sigma), 0, None))
        notes = [f"var({names[i]}) is zero" for i in range(k) if sd[i] < tol]
        if k > 1 and np.all(sd > tol):
            corr = sigma / np.outer(sd, sd)
            for i, j in zip(*np.tril_indices(k, -1)):
                if abs(corr[i, j]) > 1 - tol:
                    sign = "+1" if corr[i, j] > 0 else "-1"
                    notes.append(f"corr({names[j]},{names[i]}) is {sign}")
        return notes


def _var_entries(names: tuple[str, ...]) -> list[Entry]:
    return [Entry("var", f"var({n})", i, i) for i, n in enumerate(names)]


class Independent(CovStructure):
    """One variance per effect, no covariances (Stata's default with slopes)."""

    name, label, abbrev = "independent", "Independent", 3

    @property
    def n_theta(self):
        return self.k

    def theta_bounds(self):
        return [(0.0, None)] * self.k

    def theta_start(self):
        return np.ones(self.k)

    def lam(self, theta):
        return np.diag(np.asarray(theta, float))

    def cov_from_working(self, w):
        return np.diag(np.exp(2 * np.asarray(w, float)))

    def working_from_cov(self, sigma):
        return 0.5 * np.log(np.diag(sigma))

    def theta_from_working(self, w):
        return np.exp(np.asarray(w, float))

    def entries(self):
        return _var_entries(self.names)


class Identity(CovStructure):
    """One variance shared by all effects (Stata's default for ``R.var``)."""

    name, label, abbrev = "identity", "Identity", 2

    @property
    def n_theta(self):
        return 1

    def theta_bounds(self):
        return [(0.0, None)]

    def theta_start(self):
        return np.ones(1)

    def lam(self, theta):
        return float(theta[0]) * np.eye(self.k)

    def cov_from_working(self, w):
        return np.exp(2 * float(w[0])) * np.eye(self.k)

    def working_from_cov(self, sigma):
        return np.array([0.5 * np.log(np.mean(np.diag(sigma)))])

    def theta_from_working(self, w):
        return np.exp(np.asarray(w, float))

    def entries(self):
        return [Entry("var", f"var({' '.join(self.names)})", None, None)]

    def boundary(self, theta, tol=1e-6):
        """One shared variance: every effect's zero variance is the same note."""
        if super().boundary(theta, tol):
            return [f"var({' '.join(self.names)}) is zero"]
        return []


class Exchangeable(CovStructure):
    """A common variance and a common correlation rho.

    The factor is the symmetric square root of the equicorrelation matrix,
    which has a closed form valid up to the boundaries rho = 1 and
    rho = -1/(k-1), where a Cholesky factorization would fail.
    """

    name, label, abbrev = "exchangeable", "Exchangeable", 2

    @classmethod
    def for_effects(cls, k, names=()):
        """Stata fits ``|| g:, cov(exchangeable)`` with one effect as Identity.

        A common correlation needs two effects; with one, exchangeable would keep
        a correlation that does not exist (independent and unstructured already
        reduce to one variance at k = 1).
        """
        return Identity(k, tuple(names)) if k == 1 else cls(k, tuple(names))

    @property
    def rho_bounds(self) -> tuple[float, float]:
        """The correlations for which the equicorrelation matrix is positive semidefinite."""
        k = self.k
        return (-1.0 / (k - 1) if k > 1 else -1.0), 1.0

    @property
    def n_theta(self):
        return 2

    def theta_bounds(self):
        lo, hi = self.rho_bounds
        return [(0.0, None), (lo, hi)]

    def theta_start(self):
        return np.array([1.0, 0.0])

    def lam(self, theta):
        k = self.k
        s, rho = float(theta[0]), float(theta[1])
        a = np.sqrt(max(1.0 - rho, 0.0))
        b = np.sqrt(max(1.0 + (k - 1) * rho, 0.0))
        return s * (a * np.eye(k) + (b - a) / k * np.ones((k, k)))

    def _rho(self, z):
        lo, hi = self.rho_bounds
        return lo + (hi - lo) / (1.0 + np.exp(-z))

    def cov_from_working(self, w):
        k = self.k
        v = np.exp(2 * float(w[0]))
        rho = self._rho(float(w[1]))
        return v * ((1 - rho) * np.eye(k) + rho * np.ones((k, k)))

    def working_from_cov(self, sigma):
        k = sigma.shape[0]
        v = float(np.mean(np.diag(sigma)))
        off = sigma[_tril(k, -1)]
        rho = float(np.mean(off)) / v if off.size else 0.0
        lo, hi = self.rho_bounds
        p = np.clip((rho - lo) / (hi - lo), 1e-12, 1 - 1e-12)
        return np.array([0.5 * np.log(v), np.log(p / (1 - p))])

    def theta_from_working(self, w):
        return np.array([np.exp(float(w[0])), self._rho(float(w[1]))])

    def entries(self):
        joined = " ".join(self.names)
        return [Entry("var", f"var({joined})"), Entry("cov", f"cov({joined})")]


class Unstructured(CovStructure):
    """Every variance and covariance free; theta is a lower Cholesky factor."""

    name, label, abbrev = "unstructured", "Unstructured", 2

    @property
    def n_theta(self):
        return self.k * (self.k + 1) // 2

    def _diag_mask(self):
        rows, cols = _tril(self.k)
        return rows == cols

    def theta_bounds(self):
        return [(0.0, None) if d else (None, None) for d in self._diag_mask()]

    def theta_start(self):
        return self._diag_mask().astype(float)

    def lam(self, theta):
        k = self.k
        lam = np.zeros((k, k))
        lam[_tril(k)] = theta
        return lam

    def cov_from_working(self, w):
        k = self.k
        w = np.asarray(w, float)
        sd = np.exp(w[:k])
        corr = np.eye(k)
        lower = _tril(k, -1)
        corr[lower] = np.tanh(w[k:])
        corr[lower[::-1]] = corr[lower]
        return corr * np.outer(sd, sd)

    def working_from_cov(self, sigma):
        k = sigma.shape[0]
        sd = np.sqrt(np.diag(sigma))
        corr = sigma / np.outer(sd, sd)
        r = np.clip(corr[_tril(k, -1)], -1 + 1e-15, 1 - 1e-15)
        return np.concatenate([np.log(sd), np.arctanh(r)])

    def theta_from_working(self, w):
        sigma = self.cov_from_working(w)
        return np.linalg.cholesky(sigma)[_tril(self.k)]

    def entries(self):
        names = self.names
        out = _var_entries(names)
        k = len(names)
        for i in range(k):
            for j in range(i + 1, k):
                out.append(Entry("cov", f"cov({names[i]},{names[j]})", i, j))
        return out


# the registry: Stata's full name -> class, in the order error messages list them
STRUCTURES: dict[str, type[CovStructure]] = {
    cls.name: cls for cls in (Independent, Identity, Exchangeable, Unstructured)
}


def resolve_name(text: str) -> str:
    """Expand Stata's abbreviations: ``ind``, ``id``, ``ex``, ``un``/``uns``..."""
    word = text.strip().lower()
    for full, cls in STRUCTURES.items():
        if len(word) >= cls.abbrev and full.startswith(word):
            return full
    *rest, last = STRUCTURES
    raise UnknownStructureError(
        f"unknown covariance structure '{text}': use {', '.join(rest)} or {last}"
    )


def get_structure(name: str, k: int, names: tuple[str, ...] = ()) -> CovStructure:
    """The structure called ``name`` (or a Stata abbreviation) for ``k`` effects.

    The one place a name becomes a class; ``exchangeable`` with one effect is
    Identity, as Stata fits it (see :meth:`Exchangeable.for_effects`).
    """
    return STRUCTURES[resolve_name(name)].for_effects(k, tuple(names))
