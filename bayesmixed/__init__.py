"""bayesmixed: multilevel and mixed models from Stata syntax, fitted by ML/REML and Bayes."""

from .errors import BayesmixedError

__all__ = ["BayesmixedError"]
__version__ = "0.1.0"
