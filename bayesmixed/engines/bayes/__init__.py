"""The Bayesian engine: the only package that imports PyMC.

``fit_bayes(design, method="nuts"|"laplace", ...)`` turns a Design into a
:class:`~bayesmixed.results.bayes.BayesResult`.
"""

from .fit import fit_bayes
from .priors import Prior, resolve_priors

__all__ = ["Prior", "fit_bayes", "resolve_priors"]
