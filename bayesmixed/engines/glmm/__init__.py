"""Generalized linear mixed models: PIRLS, Laplace and adaptive Gauss-Hermite quadrature."""

from .fit import default_method, estimate_glmm
from .response import glm_extras

__all__ = ["default_method", "estimate_glmm", "glm_extras"]
