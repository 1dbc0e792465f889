"""An unconstraining transform for Cholesky factors of correlation matrices: tanh'd CPCs.

PyMC 6's default for ``pm.LKJCorr`` (TensorFlow Probability's bijector) maps a 2 x 2
correlation to ``x = rho / sqrt(1 - rho^2)``.  A posterior that piles up against
``rho = -1`` -- jsp's school intercept and slope, whose ML estimate is the boundary --
then has an algebraic tail, density ~ ``|x|^-3``: NUTS needs tiny steps and long
trajectories to cover it (45 leapfrog steps a draw at step size 0.07).  Stan's transform
instead writes the factor through canonical partial correlations ``z = tanh(y)``
(Lewandowski, Kurowicka & Joe 2009), so that tail becomes exponential, ``~ e^(2 eta y)``,
which the sampler crosses in a few steps.

Row ``i`` of the factor is built from its CPCs ``z_i0 .. z_i,i-1`` as
``L_ij = z_ij prod_{t<j} sech(y_it)`` and ``L_ii = prod_{t<i} sech(y_it)``: products of
``sech`` rather than ``sqrt(1 - sum L^2)``, so nothing cancels near the boundary.  The
log Jacobian (with respect to the strictly-lower entries of L, the coordinates in which
``pm.LKJCorr``'s density is written) is ``sum_ij [2 log sech y_ij + sum_{t<j} log sech y_it]``.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pymc.logprob.transforms import Transform

LOG2 = float(np.log(2.0))


def log_sech(y):
    """log(1 / cosh y), stable for large |y|."""
    a = pt.abs(y)
    return LOG2 - a - pt.log1p(pt.exp(-2.0 * a))


class CPCTransform(Transform):
    """Unconstrained vector (length k(k-1)/2, row-major below the diagonal) <-> L."""

    name = "cpc_tanh"
    ndim_supp = 1

    def __init__(self, n: int):
        self.n = int(n)
        self.rows, self.cols = np.tril_indices(self.n, -1)

    def _log_sech_matrix(self, y):
        """k x k matrix S with S[i, j] = log sech y_ij below the diagonal, 0 elsewhere."""
        out = pt.zeros((self.n, self.n), dtype=y.dtype)
        return pt.set_subtensor(out[self.rows, self.cols], log_sech(y))

    def backward(self, value, *inputs):
        y = pt.as_tensor(value)
        ls = self._log_sech_matrix(y)
        # exclusive cumulative sum along each row: log prod_{t<j} sech y_it
        before = pt.cumsum(ls, axis=1) - ls
        z = pt.zeros((self.n, self.n), dtype=y.dtype)
        z = pt.set_subtensor(z[self.rows, self.cols], pt.tanh(y))
        z = z + pt.eye(self.n, dtype=y.dtype)  # L_ii = prod_{t<i} sech y_it
        return z * pt.exp(before)

    def forward(self, value, *inputs):
        low = pt.as_tensor(value)
        sq = low**2
        # remaining squared norm before column j: 1 - sum_{t<j} L_it^2
        remaining = 1.0 - (pt.cumsum(sq, axis=1) - sq)
        z = low[self.rows, self.cols] / pt.sqrt(remaining[self.rows, self.cols])
        return pt.arctanh(z)

    def log_jac_det(self, value, *inputs):
        y = pt.as_tensor(value)
        ls = self._log_sech_matrix(y)
        before = pt.cumsum(ls, axis=1) - ls
        return pt.sum(2.0 * ls) + pt.sum(before[self.rows, self.cols])
