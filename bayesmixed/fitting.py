"""Engine -> result: the one place where an engine's estimates become a result object.

The pipeline's data flow one way (syntax -> spec -> design -> engines ->
results -> postestimation ...), so an engine may not import the result
classes.  Each engine therefore returns *estimates*, plain dataclasses defined
at the engine stage (:mod:`bayesmixed.engines.estimates`,
:mod:`bayesmixed.engines.bayes_estimates`), and this module, which sits after
the results stage, builds the result from them.

Decision, and why it was the least disruptive of the designs that obey the rule:

* the result classes *extend* their engine's estimates dataclass
  (``MixedResult(LikelihoodAccessors, LMMEstimates)``), so every field keeps
  its name on the result and nothing that reads results -- renderers,
  postestimation, resampling, saved files (:mod:`bayesmixed.io` writes and
  reads a result field by field, so files saved by earlier versions still
  load) -- had to change;
* the public names ``fit_lmm``, ``fit_glmm`` and ``fit_bayes`` keep their
  signatures and return types and live here; the engines' own entry points
  are ``estimate_lmm``, ``estimate_glmm`` and ``estimate_bayes``, which
  return estimates (the Bayesian engine's convergence checks, which it needs
  for ``until_converged`` and its warnings, live on the estimates for that
  reason);
* display settings (``level()``, ``or``, ``stddeviations``...) are not an
  engine's business: :func:`bayesmixed.api.fit_spec` attaches them to the
  result these functions return.

Engines are imported inside the functions, so ``import bayesmixed`` stays
cheap and frequentist fits never import PyMC.
"""

from __future__ import annotations

from .design.types import Design
from .results.bayes import BayesResult
from .results.glmm import GLMMResult
from .results.mixed import MixedResult


def fit_lmm(design: Design, reml: bool = False) -> MixedResult:
    """Fit a Gaussian mixed model by ML (or REML).

    See :func:`~bayesmixed.engines.ml.fit.estimate_lmm`, which does the work.
    """
    from .engines.ml.fit import estimate_lmm

    return MixedResult.from_estimates(estimate_lmm(design, reml))


def fit_glmm(design: Design, **options: object) -> GLMMResult:
    """Fit a GLMM by Laplace or adaptive quadrature.

    ``options`` (``intmethod``, ``intpoints``, ``offset``, ``trials``) are those of
    :func:`~bayesmixed.engines.glmm.fit.estimate_glmm`.
    """
    from .engines.glmm.fit import estimate_glmm

    return GLMMResult.from_estimates(estimate_glmm(design, **options))


def fit_bayes(design: Design, **options: object) -> BayesResult:
    """Fit by NUTS or MAP/Laplace: ``options`` are those of
    :func:`~bayesmixed.engines.bayes.fit.estimate_bayes` (``method``, ``draws``, ``seed``...)."""
    from .engines.bayes import estimate_bayes

    return BayesResult.from_estimates(estimate_bayes(design, **options))
