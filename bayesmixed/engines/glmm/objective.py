"""The approximate log likelihood as a function of one parameter vector.

x = [theta of each block (design order), beta, the family's working ancillary
parameters (log dispersion, cutpoints; none for Bernoulli and Poisson)].
theta is each structure's Cholesky-like factor of the *absolute* covariance
of that block's effects (a GLMM has no residual variance to scale by), so
b = Lambda(theta) u with u ~ N(0, I).  Like lme4's ``mkGlmerDevfun`` this is
a closure over the data that the optimizer calls; the conditional modes are
warm-started from the previous call, which halves PIRLS iterations.
"""

from __future__ import annotations

import numpy as np

from ...errors import EstimationError, NotSupportedError
from ...spec.covariance import CovStructure
from . import schur
from .laplace import grouped_laplace, sparse_laplace
from .pirls import GroupModes, grouped_modes, lambda_matrix, sparse_modes, z_matrix
from .quadrature import MeanVariance, ghermite, mcaghermite
from .response import Response

METHODS = ("mvaghermite", "mcaghermite", "ghermite", "laplace")


class ApproxLoglik:
    """x -> approximate marginal log likelihood of a GLMM.

    Parameters
    ----------
    resp : the sorted response and design.
    structures, ks : covariance structure and effect count of each block.
    method, points : integration method (one of :data:`METHODS`) and points.
    """

    def __init__(
        self,
        resp: Response,
        structures: list[CovStructure],
        ks: list[int],
        method: str,
        points: int,
    ) -> None:
        if method not in METHODS:
            raise NotSupportedError(f"unknown integration method '{method}'")
        if method != "laplace" and len(ks) > 1:
            raise NotSupportedError(
                f"intmethod({method}) is available for one grouping level only; "
                "use intmethod(laplace) for models with several random-effects levels"
            )
        self.resp, self.structures, self.ks = resp, structures, ks
        self.method, self.points = method, points
        self.sizes = [s.n_theta for s in structures]
        self.n_theta = int(sum(self.sizes))
        self.p = resp.p
        self.n_anc = resp.family.n_anc
        self.evaluations = 0
        self._u = self._zero_u()
        self._mv = MeanVariance(points, ks[0]) if method == "mvaghermite" else None
        self._schur = schur.build(resp.codes, resp.Z, resp.n_groups)
        self._z = z_matrix(resp) if len(ks) > 1 and self._schur is None else None
        self.frozen = False
        self.polish = False  # exact modes (one more Newton step): set for the Hessian

    def adapt(self, x: np.ndarray) -> float:
        """Re-adapt the mean-variance rule at ``x`` and freeze it there; return log L(x)."""
        self.frozen = False
        value = self(x)
        self.frozen = self._mv is not None and np.isfinite(value)
        return value

    @property
    def schur_layout(self) -> bool:
        """Whether H is factored with its largest block eliminated first (:mod:`.schur`)."""
        return self._schur is not None

    @property
    def size(self) -> int:
        return self.n_theta + self.p + self.n_anc

    def _zero_u(self) -> np.ndarray:
        if len(self.ks) == 1:
            return np.zeros((self.resp.n_groups[0], self.ks[0]))
        return np.zeros(sum(k * g for k, g in zip(self.ks, self.resp.n_groups)))

    # -- parameter layout -----------------------------------------------------
    def unpack(self, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """(theta of each block, beta, working ancillary vector)."""
        x = np.asarray(x, float)
        thetas = np.split(x[: self.n_theta], np.cumsum(self.sizes)[:-1])
        beta = x[self.n_theta : self.n_theta + self.p]
        return thetas, beta, x[self.n_theta + self.p :]

    def lambdas(self, thetas: list[np.ndarray]) -> list[np.ndarray]:
        return [s.lam(t) for s, t in zip(self.structures, thetas)]

    def eta0(self, beta: np.ndarray) -> np.ndarray:
        return self.resp.X @ beta + self.resp.offset

    # -- evaluation ---------------------------------------------------------------
    def __call__(self, x: np.ndarray) -> float:
        self.evaluations += 1
        try:
            with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                value = self._evaluate(x)
        except (np.linalg.LinAlgError, EstimationError, ValueError, RuntimeError):
            self._u = self._zero_u()
            return -np.inf
        return value if np.isfinite(value) else -np.inf

    def _evaluate(self, x: np.ndarray) -> float:
        thetas, beta, anc = self.unpack(x)
        lams = self.lambdas(thetas)
        eta0 = self.eta0(beta)
        if len(self.ks) > 1:
            zl, curvature = self._products(lams)
            modes = sparse_modes(self.resp, zl, eta0, self._u, anc, self.polish, curvature)
            self._u = modes.u
            return sparse_laplace(modes)
        lam = lams[0]
        if self.frozen:
            return self._mv.frozen_loglik(self.resp, eta0, lam, anc)
        if self.method == "ghermite":
            return ghermite(self.resp, eta0, lam, self.points, anc)
        modes = grouped_modes(self.resp, eta0, lam, self._u, anc, self.polish)
        self._u = modes.u
        if self.method == "laplace":
            return grouped_laplace(modes)
        if self.method == "mcaghermite":
            return mcaghermite(self.resp, eta0, lam, modes, self.points, anc)
        return self._mv.loglik(self.resp, eta0, lam, modes, anc)

    def _products(self, lams: list[np.ndarray]) -> tuple:
        """(Z Lambda as a sparse matrix, None), or (None, the Schur curvature at Lambda)."""
        if self._schur is not None:
            return None, self._schur.at(lams)
        return self._z @ lambda_matrix(lams, self.resp.n_groups), None

    def modes(self, x: np.ndarray) -> list[np.ndarray]:
        """Conditional modes b = Lambda u of each block, (groups, k), at ``x``."""
        thetas, beta, anc = self.unpack(x)
        lams = self.lambdas(thetas)
        eta0 = self.eta0(beta)
        if len(self.ks) == 1:
            m: GroupModes = grouped_modes(self.resp, eta0, lams[0], self._zero_u(), anc)
            return [m.u @ lams[0].T]
        zl, curvature = self._products(lams)
        u = sparse_modes(self.resp, zl, eta0, self._zero_u(), anc, curvature=curvature).u
        out, start = [], 0
        for lam, k, g in zip(lams, self.ks, self.resp.n_groups):
            out.append(u[start : start + k * g].reshape(g, k) @ lam.T)
            start += k * g
        return out
