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

import math

import numpy as np

from .fast_posterior import coef_logp
from .fast_residual_posterior import ResidualPosterior, residual_covers
from .laplace_numpy import NumpyObjective
from .numpy_density import interval


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
        post, jac = self.post, self.jacobian
        w_sd, w_blocks, w_rho, beta = post.split(x)
        sds = np.array([s.sd(float(w)) for s, w in zip(post.scales, w_sd)])
        logp = sum(s.logp(float(w), jac) for s, w in zip(post.scales, w_sd))
        lams = []
        for blk, w in zip(post.blocks, w_blocks):
            lam, lp = blk.lam(w, jac)
            lams.append(lam)
            logp += lp
        rhos = np.zeros(len(post.dens.groups))
        for i, w in zip(post.rho_of, w_rho):
            lo, hi = post.bounds  # rho's uniform prior on (lo, hi)
            rhos[i], log_jac = interval(float(w), lo, hi)
            logp += (log_jac if jac else 0.0) - math.log(hi - lo)
        if beta is not None:
            logp += sum(float(coef_logp(p, b)) for p, b in zip(post.coefs, beta))
        return float(logp + post.dens(sds, rhos, lams, beta)[0])

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
        post = self.post
        w_sd, w_blocks, w_rho, _ = post.split(x)
        out = sum(s.logp(float(w), True) - s.logp(float(w), False)
                  for s, w in zip(post.scales, w_sd))  # fmt: skip
        for blk, w in zip(post.blocks, w_blocks):
            out += blk.lam(w, True)[1] - blk.lam(w, False)[1]
        for w in w_rho:
            out += interval(float(w), *post.bounds)[1]
        return float(out)

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
