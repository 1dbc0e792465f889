"""The PyTensor math namespace families write their log densities in.

:mod:`bayesmixed.spec.families.math` explains the idea: a family's log
density is written once against a namespace; this is the PyTensor one, so the
Bayesian engine evaluates the very expression the ML engine maximizes.
Python floats would enter graphs as float32 constants, so constants are
float64 arrays.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pymc.distributions.dist_math import normal_lcdf

_ZERO, _ONE = np.float64(0.0), np.float64(1.0)


class _TensorMath:
    log = staticmethod(pt.log)
    exp = staticmethod(pt.exp)
    log1p = staticmethod(pt.log1p)
    expm1 = staticmethod(pt.expm1)
    gammaln = staticmethod(pt.gammaln)
    softplus = staticmethod(pt.softplus)
    log1mexp = staticmethod(pt.log1mexp)
    maximum = staticmethod(pt.maximum)
    minimum = staticmethod(pt.minimum)

    @staticmethod
    def logaddexp(a, b):
        return pt.logaddexp(a, b)

    @staticmethod
    def log_ndtr(x):
        return normal_lcdf(_ZERO, _ONE, x)


TENSOR = _TensorMath()
