"""The NumPy math namespace families write their log densities in.

Each family writes its log density once, as a function of a namespace ``xp``
with the few functions below.  The ML and GLMM engines pass :data:`NUMPY`;
the Bayesian engine passes a PyTensor namespace with the same names
(``bayesmixed.engines.bayes.tensor_math``), so no engine keeps its own copy of
a density and no family imports PyTensor (the spec stage stays NumPy-only,
and frequentist users never import PyMC).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from scipy.special import gammaln, log_ndtr


class Namespace(Protocol):
    """The functions a family's log density may use (NumPy semantics)."""

    def log(self, x: Any) -> Any: ...
    def exp(self, x: Any) -> Any: ...
    def log1p(self, x: Any) -> Any: ...
    def expm1(self, x: Any) -> Any: ...
    def logaddexp(self, a: Any, b: Any) -> Any: ...
    def softplus(self, x: Any) -> Any: ...
    def log1mexp(self, x: Any) -> Any: ...
    def gammaln(self, x: Any) -> Any: ...
    def log_ndtr(self, x: Any) -> Any: ...
    def maximum(self, a: Any, b: Any) -> Any: ...
    def minimum(self, a: Any, b: Any) -> Any: ...


class _NumpyMath:
    """NumPy/SciPy implementations; errors on overflow are silenced by the callers."""

    log = staticmethod(np.log)
    exp = staticmethod(np.exp)
    log1p = staticmethod(np.log1p)
    expm1 = staticmethod(np.expm1)
    logaddexp = staticmethod(np.logaddexp)
    gammaln = staticmethod(gammaln)
    log_ndtr = staticmethod(log_ndtr)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)

    @staticmethod
    def softplus(x):
        return np.logaddexp(0.0, x)

    @staticmethod
    def log1mexp(x):
        """log(1 - exp(x)) for x <= 0, accurate at both ends (Maechler 2012)."""
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            near = np.log(-np.expm1(np.minimum(x, -1e-300)))
            far = np.log1p(-np.exp(np.minimum(x, 0.0)))
        return np.where(x > -0.6931471805599453, near, far)


NUMPY: Namespace = _NumpyMath()
