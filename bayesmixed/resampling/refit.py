"""Refit one design to many responses, reusing everything that does not involve y.

A = [Z X y]'[Z X y] is built once; a new response changes only its y row and
column (:func:`~bayesmixed.engines.ml.crossprod.update_response`), so the
per-group Z'Z, the sparse off-diagonal blocks, their Gram map and X'X are
shared by every refit.  Each refit starts the optimizer at the original
estimate (as MixedModels.jl's ``parametricbootstrap``), where simulated
optima lie nearby, and skips the observed-information Hessian, which a
bootstrap replaces.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..design.types import Design
from ..engines.ml.criterion import make_deviance, to_design_order
from ..engines.ml.crossprod import with_response
from ..engines.ml.optimize import minimize_theta
from ..errors import EstimationError, NotSupportedError
from ..results.mixed import MixedResult


@dataclass
class Estimate:
    """The numbers of one refit (the parts of a MixedResult a bootstrap needs)."""

    beta: np.ndarray
    se: np.ndarray
    theta: np.ndarray  # design order
    sigma2: float
    cov_blocks: list[np.ndarray]
    loglik: float
    converged: bool
    evaluations: int


class Refitter:
    """theta-optimizer for one fixed design; call :meth:`fit` with each new response.

    Parameters
    ----------
    design : the design whose X and random-effect blocks are kept.
    reml : maximize the restricted likelihood instead.
    start : starting theta in *design* order (default: the structures' starts).
    """

    def __init__(self, design: Design, reml: bool, start: np.ndarray | None = None) -> None:
        if design.residual is not None:
            raise NotSupportedError(
                "refitting models with a residuals() structure is not supported yet"
            )
        self.design = design
        self.reml = reml
        self.dev = make_deviance(design, reml)
        default = np.concatenate([s.theta_start() for s in self.dev.structures])
        self.bounds = [b for s in self.dev.structures for b in s.theta_bounds()]
        self.start = default if start is None else self._to_eval_order(start)

    @classmethod
    def from_result(cls, result: MixedResult) -> Refitter:
        """Refit ``result``'s model, starting at its estimate."""
        return cls(result.design, result.reml, start=result.theta)

    def _to_eval_order(self, theta: np.ndarray) -> np.ndarray:
        blocks = self.design.blocks
        sizes = [b.structure.n_theta for b in blocks]
        parts = np.split(np.asarray(theta, float), np.cumsum(sizes)[:-1])
        return np.concatenate([parts[i] for i in self.dev.cp.order])

    def fit(self, y: np.ndarray) -> Estimate:
        """Maximize the likelihood for response ``y`` (same rows as the design)."""
        dev = copy.copy(self.dev)  # shares the Gram map; fit-local y parts keep threads apart
        dev.cp = with_response(self.dev.cp, self.design, y)
        if not np.isfinite(dev(self.start)):
            raise EstimationError("the likelihood cannot be evaluated at the starting values")
        theta, opt = minimize_theta(dev, self.start, self.bounds)
        fac = dev.factor(theta)
        sigma2 = dev.sigma2(fac)
        order = dev.cp.order
        vcov = fac.vcov_beta(sigma2)
        return Estimate(
            beta=fac.beta(),
            se=np.sqrt(np.diag(vcov)),
            theta=np.concatenate(to_design_order(dev.split(theta), order)),
            sigma2=float(sigma2),
            cov_blocks=to_design_order([sigma2 * (lam @ lam.T) for lam in fac.lam], order),
            loglik=float(-0.5 * dev.criterion(fac)),
            converged=bool(opt.converged),
            evaluations=int(opt.evaluations),
        )
