"""The Bayesian engine: the only package that imports PyMC.

``estimate_bayes(design, method="nuts"|"laplace", ...)`` turns a Design into
:class:`~bayesmixed.engines.bayes_estimates.BayesEstimates`; the result users
see, :class:`~bayesmixed.results.bayes.BayesResult`, is built from them by
:func:`bayesmixed.fitting.fit_bayes`.
"""

from .fit import estimate_bayes
from .priors import Prior, resolve_priors

__all__ = ["Prior", "estimate_bayes", "resolve_priors"]
