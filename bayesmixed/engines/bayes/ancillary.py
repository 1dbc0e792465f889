"""A family's ancillary parameters (dispersion, cutpoints) as PyMC variables.

The family (:mod:`bayesmixed.spec.families`) says what its ancillary block
is -- a name, a support, a default prior -- and how natural values map to the
working vector its log density takes.  This module keys the PyMC builders by
that *support*, as :mod:`.residual_corr` keys builders by structure class, so
no code here knows a family's name:

* ``positive`` -- one scale (negative binomial alpha, gamma phi) built like
  every other scale (:func:`.covariance.scale_variable`); working = log.
* ``ordered`` -- a vector (ordinal cutpoints) with PyMC's ordered transform and
  a normal or flat prior on each element; working = the family's own map.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...design.types import Design
from ...spec.family import Family, get_family
from .covariance import scale_variable
from .lazy import pm, pt
from .priors import SUPPORT_PRIORS, Prior

__all__ = ["SUPPORT_PRIORS", "ancillary_variable", "bound_family", "coords", "working_draws"]


def bound_family(design: Design, trials) -> tuple[Family, np.ndarray, np.ndarray | None]:
    """The family bound to the data, the response it models (checked as Stata does), trials."""
    spec = design.spec
    family = get_family(spec.family, spec.link)
    tr = None
    if family.uses_trials:
        tr = np.broadcast_to(np.asarray(1.0 if trials is None else trials, float), (design.n,))
        tr = tr.copy()
    family, y = family.prepare(design.y, tr, spec.response)
    return family, y, tr


def _positive(family: Family, prior: Prior, y: np.ndarray):
    natural = scale_variable(family.ancillary.bayes_name, prior)
    return natural, [pt.log(natural)]


def _ordered(family: Family, prior: Prior, y: np.ndarray):
    from pymc.distributions.transforms import ordered

    from .tensor_math import TENSOR

    anc = family.ancillary
    m = len(anc.labels)
    start = np.asarray(family.anc_natural(list(family.anc_start(y))), float)
    dims = f"{anc.bayes_name}_index"
    if prior.dist == "normal":
        mu, var = prior.params
        natural = pm.Normal(
            anc.bayes_name, mu, np.sqrt(var), transform=ordered, initval=start, dims=dims
        )
    else:
        natural = pm.Flat(anc.bayes_name, transform=ordered, initval=start, dims=dims)
    return natural, family.anc_working([natural[i] for i in range(m)], TENSOR)


BUILDERS: dict[str, Callable] = {"positive": _positive, "ordered": _ordered}


def ancillary_variable(family: Family, priors: dict[str, Prior], y: np.ndarray):
    """(natural tensor, working list) of the family's ancillary block, or (None, [])."""
    anc = family.ancillary
    if anc is None:
        return None, []
    return BUILDERS[anc.support](family, priors[anc.bayes_name], y)


def coords(family: Family) -> dict[str, list[str]]:
    """Coordinates of a vector ancillary block (the cutpoints' labels)."""
    anc = family.ancillary
    if anc is None or anc.support == "positive":
        return {}
    return {f"{anc.bayes_name}_index": list(anc.labels)}


def working_draws(family: Family, natural: np.ndarray) -> list:
    """Draws (S,) or (S, m) of the natural values -> the working list, each (S, 1)."""
    nat = np.asarray(natural, float).reshape(len(natural), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return [w[:, None] for w in family.anc_working(list(nat.T))]
