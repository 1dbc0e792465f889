"""Covariance structures of a random-effects equation, as shared objects.

Each structure owns two parameterizations of the k x k covariance matrix of
one level's random effects:

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError


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


class CovStructure:
    """Base class: subclasses give theta <-> lambda and working <-> Sigma maps."""

    name = ""
    label = ""

    def n_theta(self, k: int) -> int:
        raise NotImplementedError

    def theta_bounds(self, k: int) -> list[tuple[float | None, float | None]]:
        raise NotImplementedError

    def theta_start(self, k: int) -> np.ndarray:
        raise NotImplementedError

    def lam(self, theta: np.ndarray, k: int) -> np.ndarray:
        raise NotImplementedError

    def cov_from_working(self, w: np.ndarray, k: int) -> np.ndarray:
        raise NotImplementedError

    def working_from_cov(self, sigma: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def entries(self, names: tuple[str, ...]) -> list[Entry]:
        raise NotImplementedError

    def rel_cov(self, theta: np.ndarray, k: int) -> np.ndarray:
        lam = self.lam(theta, k)
        return lam @ lam.T

    def theta_from_cov(self, rel: np.ndarray) -> np.ndarray:
        """Relative covariance -> theta, used for starting values and Hessians."""
        return self.theta_from_working(self.working_from_cov(rel), rel.shape[0])

    def theta_from_working(self, w: np.ndarray, k: int) -> np.ndarray:
        raise NotImplementedError

    def boundary(
        self, theta: np.ndarray, k: int, names: tuple[str, ...] = (), tol: float = 1e-6
    ) -> list[str]:
        """Names the ways a fitted theta sits on the boundary of the space."""
        names = tuple(names) or tuple(str(i) for i in range(k))
        sigma = self.rel_cov(theta, k)
        sd = np.sqrt(np.clip(np.diag(sigma), 0, None))
        notes = [f"var({names[i]}) is zero" for i in range(k) if sd[i] < tol]
        if k > 1 and np.all(sd > tol):
            corr = sigma / np.outer(sd, sd)
            for i, j in zip(*np.tril_indices(k, -1)):
                if abs(corr[i, j]) > 1 - tol:
                    sign = "+1" if corr[i, j] > 0 else "-1"
                    notes.append(f"corr({names[j]},{names[i]}) is {sign}")
        if notes and self.name == "identity":
            return [f"var({' '.join(names)}) is zero"]
        return notes


def _var_entries(names: tuple[str, ...]) -> list[Entry]:
    return [Entry("var", f"var({n})", i, i) for i, n in enumerate(names)]


class Independent(CovStructure):
    """One variance per effect, no covariances (Stata's default with slopes)."""

    name, label = "independent", "Independent"

    def n_theta(self, k):
        return k

    def theta_bounds(self, k):
        return [(0.0, None)] * k

    def theta_start(self, k):
        return np.ones(k)

    def lam(self, theta, k):
        return np.diag(np.asarray(theta, float))

    def cov_from_working(self, w, k):
        return np.diag(np.exp(2 * np.asarray(w, float)))

    def working_from_cov(self, sigma):
        return 0.5 * np.log(np.diag(sigma))

    def theta_from_working(self, w, k):
        return np.exp(np.asarray(w, float))

    def entries(self, names):
        return _var_entries(names)


class Identity(CovStructure):
    """One variance shared by all effects (Stata's default for ``R.var``)."""

    name, label = "identity", "Identity"

    def n_theta(self, k):
        return 1

    def theta_bounds(self, k):
        return [(0.0, None)]

    def theta_start(self, k):
        return np.ones(1)

    def lam(self, theta, k):
        return float(theta[0]) * np.eye(k)

    def cov_from_working(self, w, k):
        return np.exp(2 * float(w[0])) * np.eye(k)

    def working_from_cov(self, sigma):
        return np.array([0.5 * np.log(np.mean(np.diag(sigma)))])

    def theta_from_working(self, w, k):
        return np.exp(np.asarray(w, float))

    def entries(self, names):
        return [Entry("var", f"var({' '.join(names)})", None, None)]


class Exchangeable(CovStructure):
    """A common variance and a common correlation rho.

    The factor is the symmetric square root of the equicorrelation matrix,
    which has a closed form valid up to the boundaries rho = 1 and
    rho = -1/(k-1), where a Cholesky factorization would fail.
    """

    name, label = "exchangeable", "Exchangeable"

    def n_theta(self, k):
        return 2

    def _rho_bounds(self, k):
        return (-1.0 / (k - 1) if k > 1 else -1.0), 1.0

    def theta_bounds(self, k):
        lo, hi = self._rho_bounds(k)
        return [(0.0, None), (lo, hi)]

    def theta_start(self, k):
        return np.array([1.0, 0.0])

    def lam(self, theta, k):
        s, rho = float(theta[0]), float(theta[1])
        a = np.sqrt(max(1.0 - rho, 0.0))
        b = np.sqrt(max(1.0 + (k - 1) * rho, 0.0))
        return s * (a * np.eye(k) + (b - a) / k * np.ones((k, k)))

    def _rho(self, z, k):
        lo, hi = self._rho_bounds(k)
        return lo + (hi - lo) / (1.0 + np.exp(-z))

    def cov_from_working(self, w, k):
        v = np.exp(2 * float(w[0]))
        rho = self._rho(float(w[1]), k)
        return v * ((1 - rho) * np.eye(k) + rho * np.ones((k, k)))

    def working_from_cov(self, sigma):
        k = sigma.shape[0]
        v = float(np.mean(np.diag(sigma)))
        off = sigma[np.tril_indices(k, -1)]
        rho = float(np.mean(off)) / v if off.size else 0.0
        lo, hi = self._rho_bounds(k)
        p = np.clip((rho - lo) / (hi - lo), 1e-12, 1 - 1e-12)
        return np.array([0.5 * np.log(v), np.log(p / (1 - p))])

    def theta_from_working(self, w, k):
        return np.array([np.exp(float(w[0])), self._rho(float(w[1]), k)])

    def entries(self, names):
        joined = " ".join(names)
        return [Entry("var", f"var({joined})"), Entry("cov", f"cov({joined})")]


class Unstructured(CovStructure):
    """Every variance and covariance free; theta is a lower Cholesky factor."""

    name, label = "unstructured", "Unstructured"

    def n_theta(self, k):
        return k * (k + 1) // 2

    def _diag_mask(self, k):
        rows, cols = np.tril_indices(k)
        return rows == cols

    def theta_bounds(self, k):
        return [(0.0, None) if d else (None, None) for d in self._diag_mask(k)]

    def theta_start(self, k):
        return self._diag_mask(k).astype(float)

    def lam(self, theta, k):
        lam = np.zeros((k, k))
        lam[np.tril_indices(k)] = theta
        return lam

    def cov_from_working(self, w, k):
        w = np.asarray(w, float)
        sd = np.exp(w[:k])
        corr = np.eye(k)
        corr[np.tril_indices(k, -1)] = np.tanh(w[k:])
        corr = np.tril(corr) + np.tril(corr, -1).T
        return corr * np.outer(sd, sd)

    def working_from_cov(self, sigma):
        k = sigma.shape[0]
        sd = np.sqrt(np.diag(sigma))
        corr = sigma / np.outer(sd, sd)
        r = np.clip(corr[np.tril_indices(k, -1)], -1 + 1e-15, 1 - 1e-15)
        return np.concatenate([np.log(sd), np.arctanh(r)])

    def theta_from_working(self, w, k):
        sigma = self.cov_from_working(w, k)
        return np.linalg.cholesky(sigma)[np.tril_indices(k)]

    def entries(self, names):
        out = _var_entries(names)
        k = len(names)
        for i in range(k):
            for j in range(i + 1, k):
                out.append(Entry("cov", f"cov({names[i]},{names[j]})", i, j))
        return out


_STRUCTURES = {s.name: s for s in (Independent(), Identity(), Exchangeable(), Unstructured())}


def resolve_name(text: str) -> str:
    """Expand Stata's abbreviations: ``ind``, ``id``, ``ex``, ``un``/``uns``..."""
    word = text.strip().lower()
    minimum = {"independent": 3, "identity": 2, "exchangeable": 2, "unstructured": 2}
    for full, n in minimum.items():
        if len(word) >= n and full.startswith(word):
            return full
    raise SpecificationError(
        f"unknown covariance structure '{text}': use independent, identity, "
        "exchangeable or unstructured"
    )


def get_structure(name: str) -> CovStructure:
    return _STRUCTURES[resolve_name(name)]
