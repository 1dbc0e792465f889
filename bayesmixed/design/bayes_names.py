"""Stata's names of a Bayesian mixed model's parameters, and the engine's behind them.

Stata's ``bayes: mixed`` names its parameters in braces; this module maps those names
to the Bayesian engine's prior names (:mod:`bayesmixed.engines.bayes.priors`) and to
posterior draws, so that ``prior()``, the ``priors=`` dict, ``bayesstats`` and
``bayestest`` all speak Stata.  For ``mixed math5 math3 || school: math3, cov(un)``:

=====================================  ==============================================
``{math5:math3}``, ``{math5:_cons}``   coefficients (``{math5:}`` is all of them,
                                       ``{math5:math3 _cons}`` a list)
``{U0:sigma2}``, ``{U1:sigma2}``       variance of the level's random intercept (``U0``)
                                       and of its slopes (``U1``, ``U2``... in order);
                                       ``{var_U0}`` (bayesmh's spelling) and ``{U0}``
                                       (the effects themselves can only be
                                       ``normal(0, {U0:sigma2})``) mean the same
``{U:sigma2}``                         the one variance of an identity or exchangeable
                                       level; ``{U:rho}`` its exchangeable correlation
``{U:Sigma,m}``                        an unstructured level's covariance matrix
                                       (``iwishart``); ``{U:Rho,m}`` its correlation
                                       matrix (``lkj``)
``{e.math5:sigma2}``                   the residual variance
=====================================  ==============================================

Levels take the stubs ``U``, ``UU``, ``UUU``... from the first ``||`` equation on, as
Stata's do.  In draws (``bayesstats summary``) an unstructured matrix's elements are
``{U:Sigma_i_j}`` (i >= j, the effects in ``mixed``'s order: slopes first, ``_cons``
last), and, our addition, its correlations ``{U:Rho_i_j}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from ..spec.family import get_family
from .types import Design


@dataclass(frozen=True)
class Target:
    """The engine prior a Stata name sets: its name, and whether it names a variance."""

    engine: str
    variance: bool = False


def block_names(design: Design) -> list[str]:
    """Unique names of the random-effect blocks (a repeated level gets ``#2``).

    The Bayesian engine names its variables with these (``sd[school:_cons]``); they
    live here, below the engine, so Stata names map to them without importing PyMC.
    """
    names: list[str] = []
    for block in design.blocks:
        name, i = block.key, 2
        while name in names:
            name, i = f"{block.key}#{i}", i + 1
        names.append(name)
    return names


def stubs(design: Design) -> list[str]:
    """Stata's stub of each random-effects level: ``U``, ``UU``, ``UUU``..."""
    return ["U" * (i + 1) for i in range(len(design.blocks))]


def effect_labels(effects: tuple[str, ...], stub: str) -> list[str]:
    """``U0`` for ``_cons``, ``U1``, ``U2``... for the other effects in order."""
    out, j = [], 1
    for name in effects:
        if name == "_cons":
            out.append(f"{stub}0")
        else:
            out.append(f"{stub}{j}")
            j += 1
    return out


def _shared(block) -> bool:
    return type(block.structure).__name__ in ("Identity", "Exchangeable")


def _unstructured(block) -> bool:
    return type(block.structure).__name__ == "Unstructured" and block.k > 1


def _residual_variance(design: Design) -> bool:
    """A Gaussian model whose residuals have one variance (per cell): ``{e.y:sigma2}``."""
    gaussian = get_family(design.spec.family, design.spec.link).closed_form
    return gaussian and (design.residual is None or design.residual.diagonal)


def prior_names(design: Design) -> dict[str, Target]:
    """Every single Stata parameter name (without braces) -> its engine prior."""
    dep = design.spec.response
    out = {f"{dep}:{n}": Target(f"beta[{n}]") for n in design.fixed_names}
    for name, stub, block in zip(block_names(design), stubs(design), design.blocks):
        for label, eff in zip(effect_labels(block.effect_names, stub), block.effect_names):
            engine = f"sd[{name}]" if _shared(block) else f"sd[{name}:{eff}]"
            for alias in (f"{label}:sigma2", f"var_{label}", label):
                out[alias] = Target(engine, variance=True)
        if _shared(block):
            out[f"{stub}:sigma2"] = Target(f"sd[{name}]", variance=True)
            if block.k > 1:
                out[f"{stub}:rho"] = Target(f"corr[{name}]")
        if _unstructured(block):
            for alias in ("Sigma,m", "Sigma,matrix", "Sigma"):
                out[f"{stub}:{alias}"] = Target(f"cov[{name}]")
            for alias in ("Rho,m", "Rho,matrix", "Rho"):
                out[f"{stub}:{alias}"] = Target(f"corr[{name}]")
    if _residual_variance(design):
        for alias in (f"e.{dep}:sigma2", "sigma2", f"e.{dep}:"):
            out[alias] = Target("sigma", variance=True)
    return out


def canonical_names(design: Design) -> dict[str, str]:
    """Engine prior name -> the Stata name a listing shows for it (in braces, no alias)."""
    dep = design.spec.response
    out = {f"beta[{n}]": f"{{{dep}:{n}}}" for n in design.fixed_names}
    for name, stub, block in zip(block_names(design), stubs(design), design.blocks):
        if _shared(block):
            out[f"sd[{name}]"] = f"{{{stub}:sigma2}}"
            if block.k > 1:
                out[f"corr[{name}]"] = f"{{{stub}:rho}}"
            continue
        for label, eff in zip(effect_labels(block.effect_names, stub), block.effect_names):
            out[f"sd[{name}:{eff}]"] = f"{{{label}:sigma2}}"
        if _unstructured(block):
            out[f"cov[{name}]"] = f"{{{stub}:Sigma,m}}"
            out[f"corr[{name}]"] = f"{{{stub}:Rho,m}}"
    if _residual_variance(design):
        out["sigma"] = f"{{e.{dep}:sigma2}}"
    return out


def split_reference(ref: str) -> list[str]:
    """``{math5:math3 _cons}`` -> ``["math5:math3", "math5:_cons"]``; ``{math5:}`` stays."""
    body = ref.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise SpecificationError(f"a parameter is written in braces, like {{math5:math3}}: {ref}")
    body = body[1:-1].strip()
    eq, colon, rest = body.partition(":")
    if not colon or "," in rest or not rest.split():
        return [body.replace(" ", "")]
    return [f"{eq.strip()}:{word}" for word in rest.split()]


def targets(design: Design, ref: str) -> list[Target]:
    """The engine priors that ``prior({ref}, ...)`` sets; unknown names list the known."""
    table = prior_names(design)
    out: list[Target] = []
    for name in split_reference(ref):
        if name.endswith(":") and name != f"e.{design.spec.response}:":
            eq = name[:-1]
            found = [t for n, t in table.items() if n.startswith(f"{eq}:") and "sigma2" not in n]
        else:
            found = [table[name]] if name in table else []
        if not found:
            raise SpecificationError(
                f"no parameter {{{name}}} in this model; its parameters are "
                f"{', '.join(canonical_names(design).values())}"
            )
        out += found
    return out


def stata_listing(design: Design, priors: dict) -> list[str]:
    """The ``Priors:`` listing by Stata's names, each with the engine name it sets."""
    names = canonical_names(design)
    sizes = {f"cov[{n}]": b.k for n, b in zip(block_names(design), design.blocks)}
    rows = [(names.get(k, k), k, _stata_form(v, sizes.get(k))) for k, v in priors.items()]
    width = max(len(r[0]) for r in rows)
    lines = []
    for stata, engine, prior in rows:
        note = "" if stata == engine else f"  ({engine})"
        lines.append(f"{stata:>{width}} ~ {_shown(stata, engine, prior)}{note}")
    return lines


def _stata_form(prior, k: int | None):
    """``iwishart(m)`` as Stata writes it, ``iwishart(k, m, I(k))``; other priors as they are."""
    if k is None or getattr(prior, "dist", None) != "iwishart":
        return prior
    return f"iwishart({k}, {prior.params[0]:.6g}, I({k}))"


def _shown(stata: str, engine: str, prior) -> str:
    """A prior as the listed name reads it: say so where a variance's prior is on its sd."""
    text = str(prior)
    scale = engine.startswith(("sd[", "sigma")) and stata != engine
    return f"{text} on the sd" if scale and not getattr(prior, "on_variance", True) else text


def parameter_draws(result) -> dict[str, np.ndarray]:
    """Stata name (in braces) -> (chain, draw) array of every parameter of a Bayesian fit."""
    design, post = result.design, result.posterior
    dep = design.spec.response
    out: dict[str, np.ndarray] = {}
    beta = post["beta"].values
    for j, name in enumerate(design.fixed_names):
        out[f"{{{dep}:{name}}}"] = beta[..., j]
    for name, stub, block in zip(result.block_names, stubs(design), design.blocks):
        out.update(_block_draws(post[f"cov[{name}]"].values, stub, block))
    if "sigma" in post and "sigma_e" not in post and "residual" not in post:
        out[f"{{e.{dep}:sigma2}}"] = post["sigma"].values ** 2
    out.update(_ancillary_draws(design, post))
    return out


def _ancillary_draws(design: Design, post) -> dict[str, np.ndarray]:
    """A GLMM's extra parameters as Stata's ``bayes: me*`` names them: ``{cut1}``...,
    ``{lnalpha}``, on the scale Stata prints (cutpoints natural, dispersions logged)."""
    family = get_family(design.spec.family, design.spec.link)
    anc = None if family.closed_form else family.bound(design.y).ancillary
    if anc is None or anc.bayes_name not in post:
        return {}
    family = family.bound(design.y)
    values = post[anc.bayes_name].values
    natural = values.reshape(values.shape[:2] + (len(anc.labels),))
    columns = [natural[..., j] for j in range(len(anc.labels))]
    shown = columns if anc.shown == "natural" else family.anc_working(columns)
    return {f"{{{label}}}": np.asarray(v, float) for label, v in zip(anc.labels, shown)}


def _block_draws(cov: np.ndarray, stub: str, block) -> dict[str, np.ndarray]:
    out = {}
    labels = effect_labels(block.effect_names, stub)
    if _shared(block):
        out[f"{{{stub}:sigma2}}"] = cov[..., 0, 0]
        if block.k > 1:
            out[f"{{{stub}:rho}}"] = cov[..., 0, 1] / cov[..., 0, 0]
        return out
    for i, label in enumerate(labels):
        out[f"{{{label}:sigma2}}"] = cov[..., i, i]
    if _unstructured(block):
        for i in range(block.k):
            for j in range(i + 1):
                out[f"{{{stub}:Sigma_{i + 1}_{j + 1}}}"] = cov[..., i, j]
        for i in range(block.k):
            for j in range(i):
                sd = np.sqrt(cov[..., i, i] * cov[..., j, j])
                out[f"{{{stub}:Rho_{i + 1}_{j + 1}}}"] = cov[..., i, j] / sd
    return out
