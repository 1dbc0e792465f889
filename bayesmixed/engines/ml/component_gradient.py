"""The analytic gradient of the profiled criterion, one connected component at a time.

Why: nested designs factor one small dense block per component (:mod:`.components`), so an
evaluation is cheap and the fit's cost is the number of evaluations: statsmodels' vcomp2
(5 covariance parameters) took 143 BOBYQA evaluations and 63 more for the finite-difference
Newton polish, at ~0.3 ms each, where lme4 fits the model in 0.10-0.15 s.  With the exact
gradient, L-BFGS-B (:func:`.optimize.minimize_theta_gradient`) needs a few dozen.

Per component c (M = Lambda'A Lambda + I, B = Lambda'A_xy with A_xy = Z_c'[X y],
C = M^-1 B, F = A_xy - A Lambda C, S = A_xyxy - sum_c B'C the Schur complement of [X y],
v = (-beta, 1)), for a change dLambda of the component's Lambda:

* d log|M| = 2 tr(A Lambda M^-1 dLambda');
* dS = -(F' dLambda C + C' dLambda' F), so d r^2 = v'dS v = -2 (F v)' dLambda (C v)
  (the envelope theorem: r^2 = min over beta), where C v = u, the spherical modes, and
  F v = Z'e, the residuals' cross-product with Z;
* REML: d log|S_XX| = tr(S_XX^-1 dS_XX) = -2 tr(F_X S_XX^-1 C_X' dLambda').

The criterion is log|M| (+ log|S_XX| for REML) + dof log r^2 + constants, so its gradient
in the entries of each component's Lambda is the weight matrix
2 A Lambda M^-1 - (2 dof / r^2) (F v)(C v)' [- 2 F_X S_XX^-1 C_X'], summed over the entries
that carry the same template element and chained to theta through each structure's
Lambda(theta) (:func:`.gradient.lam_derivatives`).  The same arithmetic as
:class:`.gradient.DenseGradient`, on the component layout's blocks instead of a dense q x q
matrix (vcomp2: 100 components of 14 against one of 1,400).
"""

from __future__ import annotations

import numpy as np

from .components import ComponentDeviance, lower_inverse
from .gradient import lam_derivatives


class ComponentGradient:
    """theta -> (criterion, gradient) for a :class:`.components.ComponentDeviance`.

    The value is the deviance's own (the same factor), so the optimizer may use the pair
    while the rest of the fit keeps reading the deviance.
    """

    def __init__(self, dev: ComponentDeviance) -> None:
        self.dev = dev
        self.size = sum(int(np.prod(s.lam(np.zeros(s.n_theta)).shape)) for s in dev.structures)

    @classmethod
    def build(cls, dev) -> ComponentGradient | None:
        """The gradient for ``dev`` when it is factored by components, else None.

        Not for frequency-weighted levels (each pivot then counts once per copy of its
        group, which the log-determinant term here does not weigh), and not when the
        criterion is taken level by level (:mod:`.tree`): those designs are large and
        their factor here would be the slower one.
        """
        if not isinstance(dev, ComponentDeviance) or dev.cp.copies is not None:
            return None
        if dev.tree is not None:
            return None
        return cls(dev)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.asarray(theta, float)
        dev = self.dev
        try:
            f = dev.factor(theta)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros_like(theta)
        value = dev.criterion(f)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(theta)
        return value, self._chain(theta, self._flat_gradient(f))

    def _flat_gradient(self, f) -> np.ndarray:
        """d criterion / d (each element of each block's Lambda template), concatenated."""
        dev, p = self.dev, self.dev.cp.p
        r2 = f.r2
        v = np.append(-f.beta_internal(), 1.0)
        l_inv = np.linalg.inv(f.l_xx)
        sxx_inv = l_inv.T @ l_inv
        out = np.zeros(self.size)
        for n, (bk, (a, xy)) in enumerate(zip(dev.layout.buckets, dev._gathered())):
            low, lam, w = f.chol[n], f.lam_c[n], f.w[n]
            linv = lower_inverse(low)
            c = linv.transpose(0, 2, 1) @ w  # M^-1 B = L^-T (L^-1 B)
            al = a @ lam
            fm = xy - al @ c
            weight = 2.0 * (al @ linv.transpose(0, 2, 1)) @ linv  # 2 A Lambda M^-1
            weight -= (2.0 * dev.dof / r2) * (fm @ v)[:, :, None] * (c @ v)[:, None, :]
            if dev.reml:
                weight -= 2.0 * (fm[:, :, :p] @ sxx_inv) @ c[:, :, :p].transpose(0, 2, 1)
            out += np.bincount(bk.lam_src, weights=weight[bk.lam_at], minlength=self.size)
        return out

    def _chain(self, theta: np.ndarray, flat: np.ndarray) -> np.ndarray:
        """From the templates' elements to theta, block by block."""
        dev = self.dev
        grad = np.empty_like(theta)
        start = 0
        parts = np.split(np.arange(len(theta)), dev.splits)
        for part, structure, t in zip(parts, dev.structures, dev.split(theta)):
            derivs = lam_derivatives(structure, t)
            size = derivs[0].size if derivs else int(np.prod(structure.lam(t).shape))
            g = flat[start : start + size]
            for i, d_lam in zip(part, derivs):
                grad[i] = float(g @ d_lam.ravel())
            start += size
        return grad
