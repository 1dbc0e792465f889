"""The Laplace approximation to the marginal log likelihood.

At the conditional mode u_hat with curvature H = L L',

    log L ~= sum_i loglik_i(u_hat) - |u_hat|^2 / 2 - log|L|,

which is lme4's Laplace deviance divided by -2 (Bates et al. 2015, eq. 62)
and the one-point case of mode-curvature adaptive quadrature.  It needs no
per-group separation, so it is the method for crossed and nested designs.
"""

from __future__ import annotations

import numpy as np

from .pirls import GroupModes, SparseModes


def grouped_laplace(modes: GroupModes) -> float:
    """Laplace log likelihood of a one-factor model from its batched modes."""
    logdet = np.sum(np.log(np.diagonal(modes.chol, axis1=1, axis2=2)))
    return float(np.sum(modes.loglik) - 0.5 * np.sum(modes.u**2) - logdet)


def sparse_laplace(modes: SparseModes) -> float:
    """Laplace log likelihood of a multi-block model from its sparse modes."""
    return float(modes.loglik - 0.5 * modes.u @ modes.u - 0.5 * modes.logdet)
