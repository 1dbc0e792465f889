"""What the project's own plots need, read from fitted results: group effects and draws.

The shrinkage and caterpillar plots take arrays; this module is the one place that
knows how each result type stores them (the ArviZ-drawn diagnostics read the
result's DataTree instead, see :mod:`.diagnostics`).  BLUPs and their conditional SDs
(Henderson; lme4's ``ranef(condVar = TRUE)``): with Lambda a square root of G / sigma^2,

    M = Lambda' Z'Z Lambda + I,   b = Lambda M^-1 Lambda' Z'(y - X beta),
    Var(b | y) = sigma^2 Lambda M^-1 Lambda',

dense q x q algebra (q = number of random effects, small in the workshop).
"""

from __future__ import annotations

import numpy as np

from ..errors import NotSupportedError
from ..results.base import ResultKind, kind_of


def is_bayes(result: object) -> bool:
    return kind_of(result) is ResultKind.BAYES


def ml_effects(result) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per block, (groups, k) arrays of BLUPs (or conditional modes) and their SDs."""
    return conditional_effects(result)


def bayes_effect_draws(result, block: int) -> np.ndarray:
    """(draws, groups, k) posterior draws of one block's random effects."""
    name = result.block_names[block]
    values = result.posterior[f"b[{name}]"].values
    return values.reshape((-1,) + values.shape[2:])


# continuity corrections (added to the group's total, to its size) for the raw rate:
# the empirical logit log((s + 1/2) / (n - s + 1/2)) of Haldane and Anscombe for 0/1
# responses, half a count for counts; none where the mean cannot reach the link's edge.


def raw_group_means(result, block: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each group's no-pooling intercept on the linear-predictor scale, and its size.

    A shrinkage plot compares this with the BLUPs (conditional modes), which live on
    the scale of the linear predictor, so the raw value must too:

    * identity link: the group's mean of y - X beta, exactly the intercept that group
      would get on its own with beta fixed;
    * other links (melogit, mepoisson ...): g(group rate) - g(rate the fixed part
      predicts for the group), i.e. the empirical logit of the group's observed share
      relative to what X beta gives its members (with no covariates: relative to the
      overall intercept).  The continuity correction (s + 1/2) / (n + 1) keeps groups
      with all 0s or all 1s finite -- they are the ones shrunk most, so they must stay
      on the plot.  A raw mean of a 0/1 response beside logit-scale BLUPs would mix
      two scales and exaggerate or hide the shrinkage.

    Offsets and exposures are not part of the result's design and are left out;
    binomial responses with trials are refused (the rate needs the trials).
    """
    from ..spec.family import get_family

    design = result.design
    spec = design.spec
    codes = design.blocks[block].codes
    groups = design.blocks[block].n_groups
    n = np.bincount(codes, minlength=groups)
    fixed = design.X @ np.asarray(result_coef(result))
    if spec.link == "identity":
        sums = np.bincount(codes, weights=design.y - fixed, minlength=groups)
        return sums / np.maximum(n, 1), n
    family = get_family(spec.family, spec.link)
    if family.uses_trials:
        raise NotSupportedError("raw group rates of a binomial response need its trials")
    link = family.link
    add, extra = family.empirical_correction()
    size = np.maximum(n, 1)
    observed = (np.bincount(codes, weights=design.y, minlength=groups) + add) / (size + extra)
    predicted = np.bincount(codes, weights=link.inverse(fixed), minlength=groups)
    predicted = (predicted + add) / (size + extra)
    return link.link(observed) - link.link(predicted), n


def result_coef(result) -> np.ndarray:
    return np.asarray(result.coef, float)


def conditional_effects(result) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """BLUPs (conditional modes for GLMMs) and their conditional SDs, per block.

    Computed by the postestimation package from the engine's blocked Cholesky
    factor, so no n x q matrix is ever formed.
    """
    from ..postestimation.blup import blups

    fitted = blups(result)
    return list(fitted.values), fitted.cond_sd()
