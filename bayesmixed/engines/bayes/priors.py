"""Priors of the Bayesian engine: named, documented, replaceable one by one.

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

* *weakly informative, scale-aware* (default): slopes ``normal(0, 2.5 sd(y)/sd(x))``; the
  constant ``normal(mean(y), 2.5 sd(y) + sum |mean(x)| * scale(x))`` so that it stays weak
  however far the covariates are from zero; every standard deviation
  ``halfnormal(2.5 sd(y)/sd(z))`` (``sd(z) = 1`` for constants and ``R.`` effects); LKJ(1).
  Scales come from the data so that the same model is weakly informative in dollars or cents.
  GLMMs work on the link scale, so there sd(y) is replaced by 1 and mean(y) by 0 (rstanarm's
  convention), there is no ``sigma``, and the dispersion of ``menbreg``/gamma models
  (``alpha``/``phi``) is ``halfnormal(2.5)`` in every set (Stata's normal prior on its log is
  not reproduced).
* residual cells (``residuals(independent, by())``) each get the ``sigma`` prior.
* *Stata's* ``bayes:`` defaults: ``normal(0, 10000)`` (a variance) on coefficients,
  ``igamma(0.01, 0.01)`` on variances, ``iwishart(k+1, I)`` on unstructured matrices.
* *flat*: improper uniform on coefficients, standard deviations and (LKJ(1)) correlations, so
  the posterior mode is the ML (or REML) estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...design.types import Design
from ...errors import SpecificationError

# distribution -> number of parameters, and which parameter kinds accept it
_ARITY = {
    "normal": 2,
    "flat": 0,
    "halfnormal": 1,
    "halfstudentt": 2,
    "exponential": 1,
    "igamma": 2,
    "lkj": 1,
    "uniform": 2,
    "iwishart": 1,
}
_ALLOWED = {
    "beta": {"normal", "flat"},
    "sigma": {"halfnormal", "halfstudentt", "exponential", "igamma", "flat"},
    "sd": {"halfnormal", "halfstudentt", "exponential", "igamma", "flat"},
    "corr": {"lkj", "uniform", "flat"},
    "cov": {"iwishart"},
    "alpha": {"halfnormal", "halfstudentt", "exponential", "flat"},
    "phi": {"halfnormal", "halfstudentt", "exponential", "flat"},
}
DISPERSION = {"nbinomial": "alpha", "gamma": "phi"}


@dataclass(frozen=True)
class Prior:
    """One prior: a distribution name and its parameters (Stata's conventions).

    ``normal(m, v)`` takes a *variance* as Stata does; ``halfnormal(s)``,
    ``halfstudentt(nu, s)`` take scales; ``igamma(a, b)`` is on a variance;
    ``iwishart(df)`` uses the identity scale matrix.
    """

    dist: str
    params: tuple[float, ...] = ()

    def __str__(self) -> str:
        if not self.params:
            return self.dist
        return f"{self.dist}({', '.join(f'{p:.4g}' for p in self.params)})"


def as_prior(value: object, name: str) -> Prior:
    """Accept a Prior, ``"flat"``, or a tuple ``("normal", 0, 100)``."""
    if isinstance(value, Prior):
        prior = value
    elif isinstance(value, str):
        prior = Prior(value.lower())
    elif isinstance(value, tuple | list) and value and isinstance(value[0], str):
        prior = Prior(value[0].lower(), tuple(float(v) for v in value[1:]))
    else:
        raise SpecificationError(
            f"prior for {name} must be a Prior, a distribution name or a tuple like "
            f"('normal', 0, 100); got {value!r}"
        )
    kind = name.split("[", 1)[0]
    if prior.dist not in _ARITY:
        raise SpecificationError(f"unknown prior distribution '{prior.dist}' for {name}")
    if prior.dist not in _ALLOWED[kind]:
        allowed = ", ".join(sorted(_ALLOWED[kind]))
        raise SpecificationError(f"prior {prior.dist} cannot be used for {name}: use {allowed}")
    if len(prior.params) != _ARITY[prior.dist]:
        raise SpecificationError(
            f"prior {prior.dist} for {name} takes {_ARITY[prior.dist]} parameter(s), "
            f"got {len(prior.params)}"
        )
    return prior


def block_names(design: Design) -> list[str]:
    """Unique names of the random-effect blocks (a repeated level gets ``#2``)."""
    names: list[str] = []
    for block in design.blocks:
        name, i = block.key, 2
        while name in names:
            name, i = f"{block.key}#{i}", i + 1
        names.append(name)
    return names


def _scale(values: np.ndarray) -> float:
    sd = float(np.std(values))
    return sd if sd > 0 else 1.0


def _gaussian(design: Design) -> bool:
    return design.spec.family == "gaussian"


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
    _residual_default(out, design, Prior("halfnormal", (2.5 * sdy,)))
    for name, block in zip(block_names(design), design.blocks):
        scales = [2.5 * sdy / _scale(block.Z[:, e]) for e in range(block.k)]
        _block_defaults(out, name, block, scales, Prior("lkj", (1.0,)))
    return out


def _residual_default(out: dict[str, Prior], design: Design, prior: Prior) -> None:
    """``sigma`` for Gaussian models, ``alpha``/``phi`` for dispersed GLMMs, else nothing."""
    if _gaussian(design):
        out["sigma"] = prior
        if design.residual is not None and not design.residual.diagonal:
            from .correlated import NAME, default_prior

            out[NAME] = default_prior(design.residual.model.structure)
    elif design.spec.family in DISPERSION:
        out[DISPERSION[design.spec.family]] = Prior("halfnormal", (2.5,))


def _block_defaults(out, name, block, scales, corr_prior) -> None:
    kind = block.structure.name
    if kind in ("identity", "exchangeable"):
        out[f"sd[{name}]"] = Prior("halfnormal", (max(scales),))
    else:
        for eff, s in zip(block.effect_names, scales):
            out[f"sd[{name}:{eff}]"] = Prior("halfnormal", (s,))
    if kind == "unstructured" and block.k > 1:
        out[f"corr[{name}]"] = corr_prior
    elif kind == "exchangeable" and block.k > 1:
        lo = -1.0 / (block.k - 1)
        out[f"corr[{name}]"] = Prior("uniform", (lo, 1.0))


def _stata_priors(design: Design) -> dict[str, Prior]:
    out = {f"beta[{n}]": Prior("normal", (0.0, 10000.0)) for n in design.fixed_names}
    _residual_default(out, design, Prior("igamma", (0.01, 0.01)))
    for name, block in zip(block_names(design), design.blocks):
        kind = block.structure.name
        if kind == "unstructured" and block.k > 1:
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
    defaults; a dict may carry ``"base": "stata"`` to change Stata's set instead.
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
    prior = as_prior(value, name)
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
    if block.structure.name != "unstructured" or block.k < 2:
        raise SpecificationError(
            f"an inverse-Wishart prior needs an unstructured covariance with two or more "
            f"effects; {block_name} is {block.structure.name} with {block.k} effect(s)"
        )


def describe(priors: dict[str, Prior]) -> list[str]:
    """One line per prior, for the note under the results table."""
    width = max(len(k) for k in priors)
    return [f"{k:<{width}} ~ {v}" for k, v in priors.items()]
