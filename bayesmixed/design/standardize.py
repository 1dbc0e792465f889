"""An affine reparametrisation of the fixed effects that makes the engines scale-free.

Shifting a covariate by a constant (a timestamp, a year, income in cents) does
not change a model with an intercept, but it ruins the algebra: the ML engine
works on the cross-products X'X, where a column x + 1e7 next to the constant
has a condition number near 1e28.  Before this module, ``mixed y x || g:`` with
x shifted by 1e7 reported a slope of 0.74 instead of 0.68 and a log likelihood
1.09 *above* the true maximum, silently (issue 19).

The engines therefore fit on X~ = X M, with every non-constant column centred
(only when the design has a constant, whose span absorbs the shift) and
divided by its root mean square, and the constant column divided by its
absolute value.  Since X beta = X~ beta~ for beta = M beta~, the likelihood is
unchanged; estimates map back by beta = M beta~ and V = M V~ M'.  The REML
criterion's log|X'V^-1 X| moves by the constant -2 log|det M|, which
:attr:`FixedScaling.reml_shift` restores so reported values stay on the user's
scale.  M is the identity plus one row (the constant's), so all of this is
O(p) and exact up to rounding of the data themselves.

Only X is transformed.  The random-effect columns Z keep the user's values:
shifting a random-slope covariate changes the model itself (the intercept
variance and the slope-intercept covariance are defined at x = 0), so it is
not a reparametrisation; badly scaled Z columns are handled separately, by
:mod:`bayesmixed.engines.ml.rescale`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FixedScaling:
    """X~ = (X - center) / scale column-wise, i.e. X~ = X M.

    Attributes
    ----------
    center : (p,) subtracted from each column (zero for the constant, and for
        every column when the design has no constant).
    scale : (p,) positive divisors (root mean square of the centred column;
        the constant's absolute value for the constant).
    const : index of the constant column, or ``None``.
    const_value : the constant column's value (1 for ``_cons``).
    """

    center: np.ndarray
    scale: np.ndarray
    const: int | None = None
    const_value: float = 1.0

    @classmethod
    def of(cls, X: np.ndarray) -> FixedScaling:
        """The scaling of design ``X`` (n, p): centred when a constant column exists."""
        X = np.asarray(X, float)
        p = X.shape[1]
        const = _constant_column(X)
        center = np.zeros(p)
        if const is not None:
            center = X.mean(axis=0)
            center[const] = 0.0
        scale = np.sqrt(np.mean(np.square(X - center), axis=0)) if len(X) else np.ones(p)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        value = float(X[0, const]) if const is not None else 1.0
        return cls(center, scale, const, value)

    @classmethod
    def identity(cls, p: int) -> FixedScaling:
        return cls(np.zeros(p), np.ones(p))

    def apply(self, X: np.ndarray) -> np.ndarray:
        """X~ for rows ``X`` of the same design (any number of rows).

        Subtracting the centres directly (rather than X @ M) keeps the constant
        column exactly constant and the centred values exact to the data's rounding.
        """
        return (np.asarray(X, float) - self.center) / self.scale

    def apply_linear(self, X: np.ndarray) -> np.ndarray:
        """X M for a linear image of the design's rows (whitened panels, W X).

        Whitening turns the constant into a non-constant column, so subtracting
        centres would no longer be X M; the product is, since W X M = W X~.
        """
        return np.asarray(X, float) @ self.matrix

    @property
    def matrix(self) -> np.ndarray:
        """M with X~ = X M (the identity-plus-one-row structure documented above)."""
        m = np.diag(1.0 / self.scale)
        if self.const is not None:
            m[self.const] -= self.center / (self.scale * self.const_value)
        return m

    def to_user(self, beta_t: np.ndarray) -> np.ndarray:
        """beta = M beta~: coefficients on the user's columns."""
        return self.matrix @ np.asarray(beta_t, float)

    def to_internal(self, beta: np.ndarray) -> np.ndarray:
        """beta~ = M^-1 beta (M^-1 = diag(scale) plus the constant's row of centres)."""
        beta = np.asarray(beta, float)
        out = self.scale * beta
        if self.const is not None:
            sign = np.sign(self.const_value)
            out[self.const] += sign * float(self.center @ beta)
        return out

    def vcov_to_user(self, vcov_t: np.ndarray) -> np.ndarray:
        """V = M V~ M' (symmetrized against rounding)."""
        m = self.matrix
        v = m @ vcov_t @ m.T
        return (v + v.T) / 2

    @property
    def reml_shift(self) -> float:
        """-2 log|det M| = 2 sum log(scale): add to a REML criterion computed on X~."""
        return float(2 * np.sum(np.log(self.scale)))


def _constant_column(X: np.ndarray) -> int | None:
    """Index of the first non-zero constant column (the intercept), if any."""
    if not len(X):
        return None
    same = np.all(X == X[0], axis=0) & (X[0] != 0)
    hits = np.flatnonzero(same)
    return int(hits[0]) if hits.size else None
