"""Priors of the Bayesian engine: named, documented, replaceable one by one.

Distributions and their parameters follow one table, Stata's parametrization, in
:mod:`.distributions`; which parameter a prior sits on (sd or variance) is said there too.

Every prior has a *name* so a user can change exactly one of them:

``beta[<coef>]``
    one fixed-effect coefficient (``beta`` sets all of them at once).
``sigma``
    the residual standard deviation (``igamma`` applies to the variance, as in Stata).
``sd[<key>:<effect>]``
    the standard deviation of one random effect (``sd[<key>]`` sets all of a level's);
    identity and exchangeable structures have one shared ``sd[<key>]``.
``corr[<key>]``
    LKJ(eta) for unstructured, uniform on the admissible range for exchangeable.
``cov[<key>]``
    an inverse-Wishart prior on a whole unstructured matrix (replaces its sd and corr priors).
``corr[e]``
    the correlation parameters of a correlated ``residuals()`` structure, on their natural
    scale: uniform on the admissible range (AR/MA partial autocorrelations, Toeplitz and
    banded correlations in (-1, 1), exponential's rho in (0, 1), exchangeable's in
    (-1/(M-1), 1)), LKJ(1) for unstructured; the same in every set.

Three sets of defaults (``priors=None`` / ``"stata"`` / ``"flat"``):

* *weakly informative, scale-aware* (default): slopes ``normal(0, (2.5 sd(y)/sd(x))^2)``;
  the constant ``normal(mean(y), (2.5 sd(y) + sum |mean(x)| * scale(x))^2)`` so it stays weak
  however far the covariates are from zero; every standard deviation
  ``halfnormal((2.5 sd(y)/sd(z))^2)`` (``sd(z) = 1`` for constants and ``R.`` effects), a
  half-normal of scale ``2.5 sd(y)/sd(z)``; LKJ(1).
  Scales come from the data so that the same model is weakly informative in dollars or cents.
  GLMMs work on the link scale, so there sd(y) is replaced by 1 and mean(y) by 0 (rstanarm's
  convention), there is no ``sigma``, and the dispersion of ``menbreg``/gamma models
  (``alpha``/``phi``) is ``halfnormal(6.25)`` (scale 2.5) in every set (Stata's normal prior
  on its log is not reproduced).
* residual cells (``residuals(independent, by())``) each get the ``sigma`` prior.
* *Stata's* ``bayes:`` defaults: ``normal(0, 10000)`` (a variance) on coefficients,
  ``igamma(0.01, 0.01)`` on variances, ``iwishart(k+1, I)`` on unstructured matrices.
* *flat*: improper uniform on coefficients, standard deviations and (LKJ(1)) correlations, so
  the posterior mode is the ML (or REML) estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ...design.bayes_names import block_names
from ...design.bayes_names import targets as stata_targets
from ...design.types import Design
from ...errors import NotSupportedError, SpecificationError
from ...spec import covariance as re_cov
from ...spec.family import get_family
from ...spec.residual import Exchangeable, Exponential, Unstructured
from .distributions import (
    ARITY,
    COEF_PRIORS,
    HALF,
    RENAMED,
    SCALE_PRIORS,
    Prior,
    check_values,
    parse_prior_text,
)

_ALLOWED = {
    "beta": COEF_PRIORS,
    "sigma": SCALE_PRIORS,
    "sd": SCALE_PRIORS,
    "corr": {"lkj", "uniform", "flat"},
    "cov": {"iwishart"},
}
# priors a family's ancillary block accepts, by its support (see .ancillary)
# (a dispersion's prior is on the parameter itself: no igamma-on-the-square reading there)
SUPPORT_PRIORS = {
    "positive": HALF | {"exponential", "gamma", "lognormal", "flat"},
    "ordered": {"normal", "flat"},
}


def as_prior(value: object, name: str, allowed: set[str] | None = None) -> Prior:
    """Accept a Prior, ``"flat"``, or a tuple ``("normal", 0, 100)``.

    ``allowed`` overrides the distributions allowed for ``name``'s kind (a
    family's ancillary block: :data:`SUPPORT_PRIORS`).
    """
    if isinstance(value, Prior):
        prior = value
    elif isinstance(value, str):
        prior = parse_prior_text(value)
    elif isinstance(value, tuple | list) and value and isinstance(value[0], str):
        prior = Prior(value[0].lower(), tuple(float(v) for v in value[1:]))
    else:
        raise SpecificationError(
            f"prior for {name} must be a Prior, a distribution name or a tuple like "
            f"('normal', 0, 100); got {value!r}"
        )
    kind = name.split("[", 1)[0]
    if prior.dist in RENAMED:
        raise SpecificationError(f"prior for {name}: {RENAMED[prior.dist]}")
    if prior.dist not in ARITY:
        raise SpecificationError(f"unknown prior distribution '{prior.dist}' for {name}")
    allowed = _ALLOWED.get(kind, set()) if allowed is None else allowed
    if prior.dist not in allowed:
        raise SpecificationError(
            f"prior {prior.dist} cannot be used for {name}: use {', '.join(sorted(allowed))}"
        )
    if len(prior.params) not in ARITY[prior.dist]:
        counts = " or ".join(str(n) for n in ARITY[prior.dist])
        raise SpecificationError(
            f"prior {prior.dist} for {name} takes {counts} parameter(s), got {len(prior.params)}"
        )
    check_values(prior, name)
    return prior


# -- corr[e]: the correlation parameters of a correlated residuals() structure ---------
RESIDUAL_CORR = "corr[e]"


def natural_range(structure) -> tuple[float, float]:
    """The admissible interval of each natural parameter (before the LKJ case)."""
    if isinstance(structure, Exponential):
        return 0.0, 1.0
    if isinstance(structure, Exchangeable):
        return structure.lower, 1.0
    return -1.0, 1.0


def lkj_structure(structure) -> bool:
    """True where ``corr[e]`` is an LKJ prior on a whole (unbanded) unstructured matrix."""
    return isinstance(structure, Unstructured) and structure.order is None


def residual_corr_default(structure) -> Prior:
    """``corr[e]``'s default in every set: LKJ(1), or uniform on the natural range.

    It lives with the other defaults (not in :mod:`.correlated`, which builds the
    variables from it) so that neither module needs the other both ways.
    """
    if lkj_structure(structure):
        return Prior("lkj", (1.0,))
    return Prior("uniform", natural_range(structure))


# -- sd[<key>], corr[<key>], cov[<key>]: one rule per random-effect structure class -----


def _no_corr(structure: re_cov.CovStructure, lkj: Prior) -> Prior | None:
    return None


def _lkj_corr(structure: re_cov.CovStructure, lkj: Prior) -> Prior | None:
    return lkj if structure.k > 1 else None


def _uniform_rho(structure: re_cov.Exchangeable, lkj: Prior) -> Prior | None:
    return Prior("uniform", structure.rho_bounds) if structure.k > 1 else None


@dataclass(frozen=True)
class StructurePriors:
    """The scale and correlation priors of a block with one class of structure.

    Attributes
    ----------
    shared_sd : bool
        One ``sd[<key>]`` for every effect, else ``sd[<key>:<effect>]`` for each.
    corr : callable
        ``(structure, lkj) -> Prior | None``: the default ``corr[<key>]`` (``lkj`` is the
        set's LKJ prior), or ``None`` where the block has no correlation variable.
    iwishart : bool
        Whether an inverse-Wishart ``cov[<key>]`` may replace the sd and corr priors
        (with two or more effects); Stata's set uses it there by default.
    """

    shared_sd: bool
    corr: Callable[[re_cov.CovStructure, Prior], Prior | None] = _no_corr
    iwishart: bool = False


# a new structure adds one line here (and one in .covariance.GRAPHS)
STRUCTURE_PRIORS: dict[type[re_cov.CovStructure], StructurePriors] = {
    re_cov.Independent: StructurePriors(shared_sd=False),
    re_cov.Identity: StructurePriors(shared_sd=True),
    re_cov.Exchangeable: StructurePriors(shared_sd=True, corr=_uniform_rho),
    re_cov.Unstructured: StructurePriors(shared_sd=False, corr=_lkj_corr, iwishart=True),
}


def structure_priors(structure: re_cov.CovStructure) -> StructurePriors:
    """The :data:`STRUCTURE_PRIORS` rule of ``structure``'s class."""
    rule = STRUCTURE_PRIORS.get(type(structure))
    if rule is None:
        raise NotSupportedError(
            f"the Bayesian engine has no priors for random-effect covariances of type "
            f"{type(structure).__name__} ('{structure.name}')"
        )
    return rule


def _iwishart_allowed(block) -> bool:
    return structure_priors(block.structure).iwishart and block.k > 1


def _scale(values: np.ndarray) -> float:
    sd = float(np.std(values))
    return sd if sd > 0 else 1.0


def _gaussian(design: Design) -> bool:
    return get_family(design.spec.family, design.spec.link).closed_form


def _default_priors(design: Design) -> dict[str, Prior]:
    # GLMMs: the linear predictor is on the link scale, where unit scale is the reference
    sdy = _scale(design.y) if _gaussian(design) else 1.0
    ymean = float(np.mean(design.y)) if _gaussian(design) else 0.0
    out: dict[str, Prior] = {}
    const_scale = 2.5 * sdy
    constants = []
    for j, name in enumerate(design.fixed_names):
        col = design.X[:, j]
        if np.ptp(col) == 0:
            constants.append((name, float(col[0]) if col[0] != 0 else 1.0))
            continue
        s = 2.5 * sdy / _scale(col)
        out[f"beta[{name}]"] = Prior("normal", (0.0, s * s))
        const_scale += abs(float(np.mean(col))) * s
    for name, value in constants:
        out[f"beta[{name}]"] = Prior("normal", (ymean / value, (const_scale / abs(value)) ** 2))
    _residual_default(out, design, Prior("halfnormal", ((2.5 * sdy) ** 2,)))
    for name, block in zip(block_names(design), design.blocks):
        scales = [2.5 * sdy / _scale(block.Z[:, e]) for e in range(block.k)]
        _block_defaults(out, name, block, scales, Prior("lkj", (1.0,)))
    return out


def _residual_default(out: dict[str, Prior], design: Design, prior: Prior) -> None:
    """``sigma`` for Gaussian models, ``alpha``/``phi`` for dispersed GLMMs, else nothing."""
    if _gaussian(design):
        out["sigma"] = prior
        if design.residual is not None and not design.residual.diagonal:
            out[RESIDUAL_CORR] = residual_corr_default(design.residual.model.structure)
    else:  # the family's ancillary block (alpha, phi, cutpoints): its default in every set
        out.update(_ancillary_default(design))


def _ancillary_default(design: Design) -> dict[str, Prior]:
    """The bound family's ancillary prior by its posterior name (none for most families)."""
    # bound to the data: an ordinal model's cutpoints depend on its categories
    anc = get_family(design.spec.family, design.spec.link).bound(design.y).ancillary
    return {} if anc is None else {anc.bayes_name: Prior(anc.prior[0], tuple(anc.prior[1]))}


def ancillary_support(design: Design, name: str) -> str | None:
    """The support of the family's ancillary block when ``name`` is its posterior name."""
    anc = get_family(design.spec.family, design.spec.link).bound(design.y).ancillary
    return anc.support if anc is not None and anc.bayes_name == name else None


def _block_defaults(out, name, block, scales, corr_prior) -> None:
    rule = structure_priors(block.structure)
    if rule.shared_sd:
        out[f"sd[{name}]"] = Prior("halfnormal", (max(scales) ** 2,))
    else:
        for eff, s in zip(block.effect_names, scales):
            out[f"sd[{name}:{eff}]"] = Prior("halfnormal", (s * s,))
    corr = rule.corr(block.structure, corr_prior)
    if corr is not None:
        out[f"corr[{name}]"] = corr


def _stata_priors(design: Design) -> dict[str, Prior]:
    out = {f"beta[{n}]": Prior("normal", (0.0, 10000.0)) for n in design.fixed_names}
    _residual_default(out, design, Prior("igamma", (0.01, 0.01)))
    for name, block in zip(block_names(design), design.blocks):
        if _iwishart_allowed(block):
            out[f"cov[{name}]"] = Prior("iwishart", (block.k + 1.0,))
            continue
        _block_defaults(out, name, block, [1.0] * block.k, Prior("lkj", (1.0,)))
        for key in [k for k in out if k.startswith(f"sd[{name}")]:
            out[key] = Prior("igamma", (0.01, 0.01))
    return out


def _flat_priors(design: Design) -> dict[str, Prior]:
    out = _default_priors(design)
    for key in out:
        if not key.startswith("corr["):
            out[key] = Prior("flat")
        elif out[key].dist == "lkj":
            out[key] = Prior("lkj", (1.0,))
    return out


def resolve_priors(design: Design, priors: str | dict | None = None) -> dict[str, Prior]:
    """The complete prior of a model: a base set, then the user's changes by name.

    ``priors`` is ``None`` (defaults), ``"stata"``, ``"flat"``, or a dict of changes to the
    defaults; a dict may carry ``"base": "stata"`` to change Stata's set instead.  Keys are
    the engine's names (``beta[x]``, ``sd[school:_cons]``) or Stata's in braces
    (``{math5:x}``, ``{U0:sigma2}``: :mod:`bayesmixed.design.bayes_names`); values are a Prior,
    ``"normal(0, 100)"`` or ``("normal", 0, 100)``, read by the module docstring's table.
    """
    base, changes = "default", {}
    if isinstance(priors, str):
        base = priors.lower()
    elif isinstance(priors, dict):
        changes = dict(priors)
        base = str(changes.pop("base", "default")).lower()
    elif priors is not None:
        raise SpecificationError(
            f"priors must be None, 'stata', 'flat' or a dict, got {type(priors).__name__}"
        )
    makers = {"default": _default_priors, "stata": _stata_priors, "flat": _flat_priors}
    if base not in makers:
        raise SpecificationError(f"unknown prior set '{base}': use 'default', 'stata' or 'flat'")
    out = makers[base](design)
    for name, value in changes.items():
        _apply_change(out, design, name, value)
    return out


def _apply_change(out: dict[str, Prior], design: Design, name: str, value: object) -> None:
    if name.startswith("{"):  # Stata's name: one or several engine priors
        for target in stata_targets(design, name):
            prior = as_prior(value, target.engine)
            _apply_change(out, design, target.engine, replace(prior, variance=target.variance))
        return
    support = ancillary_support(design, name)
    prior = as_prior(value, name, None if support is None else SUPPORT_PRIORS[support])
    prior = _drop_dimension(design, name, prior)
    if name.startswith(("sd[", "corr[")):
        block = name.split("[", 1)[1].split(":")[0].rstrip("]")
        if out.pop(f"cov[{block}]", None) is not None:
            _restore_sd_corr(out, design, block)
    if name == "beta":
        targets = [k for k in out if k.startswith("beta[")]
    elif name.startswith("sd[") and ":" not in name:
        block = name[3:-1]
        targets = [k for k in out if k == name or k.startswith(f"sd[{block}:")]
    elif name.startswith("cov["):
        block = name[4:-1]
        _check_cov_target(design, block)
        for k in [k for k in out if k.startswith((f"sd[{block}:", f"corr[{block}]"))]:
            del out[k]
        targets = [name]
    else:
        targets = [name] if name in out else []
    if not targets:
        raise SpecificationError(
            f"no prior is named '{name}'; this model's priors are: {', '.join(out)}"
        )
    for key in targets:
        out[key] = prior


def _drop_dimension(design: Design, name: str, prior: Prior) -> Prior:
    """Stata's ``iwishart(d, m)``/``lkj(d, eta)`` -> ``(m,)``/``(eta,)``, checking ``d``."""
    if prior.dist not in ("iwishart", "lkj") or len(prior.params) == 1:
        return prior
    block = name.split("[", 1)[1].rstrip("]")
    names = block_names(design)
    k = design.blocks[names.index(block)].k if block in names else None
    if k is not None and prior.params[0] != k:
        raise SpecificationError(
            f"prior {prior} for {name}: the dimension is {prior.params[0]:g}, but {block} "
            f"has {k} random effects"
        )
    return Prior(prior.dist, prior.params[1:], prior.variance)


def _restore_sd_corr(out: dict[str, Prior], design: Design, block_name: str) -> None:
    """After replacing an inverse-Wishart by sd/corr priors, fill in the defaults."""
    for k, v in _default_priors(design).items():
        if k.startswith((f"sd[{block_name}:", f"corr[{block_name}]")):
            out[k] = v


def _check_cov_target(design: Design, block_name: str) -> None:
    names = block_names(design)
    if block_name not in names:
        raise SpecificationError(f"no random-effects level is named '{block_name}'")
    block = design.blocks[names.index(block_name)]
    if not _iwishart_allowed(block):
        raise SpecificationError(
            f"an inverse-Wishart prior needs an unstructured covariance with two or more "
            f"effects; {block_name} is {block.structure.name} with {block.k} effect(s)"
        )


def describe(priors: dict[str, Prior]) -> list[str]:
    """One line per prior, for the note under the results table."""
    width = max(len(k) for k in priors)
    return [f"{k:<{width}} ~ {v}{on_what(k, v)}" for k, v in priors.items()]


def on_what(name: str, prior: Prior) -> str:
    """`` (on the variance)`` where an engine ``sd``/``sigma`` name's prior is on its square."""
    scale = name.startswith(("sd[", "sigma"))
    squared = prior.on_variance and prior.dist != "igamma"  # igamma: always, as in Stata
    return " (on the variance)" if scale and squared else ""
