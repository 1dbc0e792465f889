"""The Laplace objective of a model with residual cells or AR(1) panels, without PyMC.

Why: ``method="laplace"`` on ``residuals(ar 1, ...)`` or ``residuals(independent,
by(...))`` built and compiled the PyMC graph (tens of seconds on a fresh install) only to
optimize a density that :class:`.fast_residual_posterior.ResidualPosterior` already
evaluates in NumPy, on the same working coordinates, for nutpie.  Here that density,
without the change-of-variables terms unless ``jacobian=True``, is the objective
:func:`.laplace.find_mode` maximizes: its mode under flat priors is then the ML (REML
when beta is integrated) fit of the structured-residual engine, which the tests check.

The gradient is the density's own analytic one (what nutpie uses) less the gradient of
the change-of-variables terms, which are prior-free functions of one coordinate each and
are differenced centrally; the Hessian is :func:`.laplace.fd_hessian` of that gradient.
Finite differences of the value alone stopped 7e-6 short on productivity's AR(1) model
(rho = 0.98 and var(state) at its boundary), the analytic gradient reaches ML's beta.
"""

from __future__ import annotations

import numpy as np

from .fast_posterior import coef_logp
from .fast_residual_posterior import ResidualPosterior, residual_covers
from .laplace_numpy import NumpyObjective


def covers_residual(built) -> bool:
    """Whether ``built`` is a residual-structure model :class:`ResidualObjective` takes."""
    return built.model is None and built.cells is not None and residual_covers(built)


class ResidualObjective:
    """-log posterior (natural scale unless ``jacobian``) of a residual-structure model."""

    gtol = 1e-8
    f = NumpyObjective.f

    def __init__(self, built, jacobian: bool = False):
        self.built, self.jacobian = built, jacobian
        self.post = ResidualPosterior(built)
        self.names = [name for name, _ in self.post.shapes()]

    def logp(self, x: np.ndarray) -> float:
        sds, lams, rhos, _, logp, lp_rho, beta = self.post.natural(x, self.jacobian)
        if beta is not None:
            logp += sum(float(coef_logp(p, b)) for p, b in zip(self.post.coefs, beta))
        return float(logp + lp_rho + self.post.dens(sds, rhos, lams, beta)[0])

    def g(self, x: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`f`: the density's analytic one, less the Jacobian terms'."""
        x = np.asarray(x, float)
        try:
            _, grad = self.post.logp_grad(x)  # Jacobian terms included (NUTS's density)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError, OverflowError):
            return np.zeros_like(x)
        if not self.jacobian:
            grad = grad - _central(self._log_jacobian, x)
        return -grad if np.all(np.isfinite(grad)) else np.zeros_like(x)

    def _log_jacobian(self, x: np.ndarray) -> float:
        """log |d natural / d working| summed: what the NUTS density adds to the prior."""
        with_jac, without = self.post.natural(x, True), self.post.natural(x, False)
        return float(sum(with_jac[4:6]) - sum(without[4:6]))

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return self.post.values(x)

    def initial(self) -> np.ndarray:
        return self.post.initial()


def _central(fun, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    out = np.empty(len(x))
    for i in range(len(x)):
        step = h * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        out[i] = (fun(up) - fun(down)) / (2 * step)
    return out
