"""Warnings of the GLMM engine: the fit is returned, but the user is told why to doubt it."""

from __future__ import annotations


class GLMMWarning(UserWarning):
    """Base class of the GLMM engine's warnings."""


class BoundaryWarning(GLMMWarning):
    """A variance is estimated at zero (or a correlation at +-1)."""


class SeparationWarning(GLMMWarning):
    """Fitted probabilities of 0 or 1: a covariate separates the outcome."""


class ConvergenceWarning(GLMMWarning):
    """The optimizer stopped without meeting its convergence criteria."""
