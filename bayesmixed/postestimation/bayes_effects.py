"""The posterior of each random effect, by Stata's names: ``{U0[school]}``, ``{U0[3.school]}``.

Stata's ``bayes: mixed`` calls the random intercepts of the first level ``U0`` and its
slopes ``U1``, ``U2``... (the second level ``UU0``...; :func:`~bayesmixed.design.
bayes_names.effect_labels`), and refers to them in ``bayesstats`` and ``bayesgraph``
as ``{U0[school]}`` (all of that level's intercepts, or ``{U0}`` alone) or
``{U0[3.school]}`` (school 3's).  A nested level's groups are written with ``>``,
as Stata writes the level: ``{UU0[school>class]}`` for all, ``{UU0[1.school>2.class]}``
for class 2 of school 1.

The draws are the engine's ``b[<block>]`` variables (chain, draw, group, effect):
NUTS draws, or for integrated-out Gaussian models exact draws from the effects'
conditional posterior given each draw of the parameters.  This module only names
them; :mod:`.bayesstats` summarises them and :mod:`bayesmixed.plot.bayes_graphs`
draws them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..design.bayes_names import effect_labels, stubs
from ..errors import BayesmixedError

_EFFECT = re.compile(r"^\{\s*(U+\d+)\s*(?:\[\s*([^\]]*?)\s*\])?\s*\}$")


def level_label(block) -> str:
    """How Stata writes a block's level inside brackets: ``school``, ``school>class``."""
    path = [p for p in block.equation.path if p != "_all"]
    return ">".join(path) if path and not block.equation.factor else block.key


def group_labels(block) -> list[str]:
    """One label per group: ``3.school``, or ``1.school>2.class`` for a nested level."""
    groups = block.groups
    if isinstance(groups, pd.MultiIndex):
        names = list(groups.names)
        return [">".join(f"{v}.{n}" for v, n in zip(g, names, strict=True)) for g in groups]
    return [f"{g}.{block.level}" for g in groups]


def effect_draws(result) -> dict[str, np.ndarray]:
    """``{U0[3.school]}`` -> (chain, draw) draws, for every group and effect of every level."""
    post = result.posterior
    out: dict[str, np.ndarray] = {}
    for name, stub, block in zip(result.block_names, stubs(result.design), result.design.blocks):
        if f"b[{name}]" not in post:
            raise BayesmixedError(
                f"the posterior holds no draws of the random effects of {name} (a result "
                "saved or built without them), so {U0[...]}-style names cannot be summarised"
            )
        values = post[f"b[{name}]"].values  # (chain, draw, group, effect)
        for j, label in enumerate(effect_labels(block.effect_names, stub)):
            for g, group in enumerate(group_labels(block)):
                out[f"{{{label}[{group}]}}"] = values[..., g, j]
    return out


def is_effect_reference(ref: str) -> bool:
    """Whether ``ref`` names random effects (``{U0}``, ``{U1[school]}``, ``{UU0[1.s>2.c]}``)."""
    return _EFFECT.match(ref.strip()) is not None


def expand_effects(result, ref: str) -> list[str]:
    """The single-effect names a reference stands for, in group order.

    ``{U0}`` and ``{U0[school]}`` are every group's ``U0``; ``{U0[3.school]}`` is one.
    """
    match = _EFFECT.match(ref.strip())
    if match is None:
        raise BayesmixedError(f"{ref} does not name random effects (write {{U0[school]}})")
    label, inside = match.group(1), (match.group(2) or "").replace(" ", "")
    for stub, block in zip(stubs(result.design), result.design.blocks):
        labels = effect_labels(block.effect_names, stub)
        if label not in labels:
            continue
        groups = group_labels(block)
        if inside in ("", level_label(block)):
            return [f"{{{label}[{g}]}}" for g in groups]
        if inside in groups:
            return [f"{{{label}[{inside}]}}"]
        raise BayesmixedError(
            f"{ref}: no group {inside} at this level; write {{{label}[{level_label(block)}]}} "
            f"for all of them or one of {{{label}[{groups[0]}]}} ... {{{label}[{groups[-1]}]}}"
        )
    known = [
        f"{{{lab}[{level_label(b)}]}}"
        for s, b in zip(stubs(result.design), result.design.blocks)
        for lab in effect_labels(b.effect_names, s)
    ]
    raise BayesmixedError(f"no random effects {ref} in this model; it has {', '.join(known)}")


def effect_block(result, ref: str) -> tuple[int, int]:
    """(block index, effect index) of a reference such as ``{U0}`` or ``{U1[school]}``."""
    match = _EFFECT.match(ref.strip())
    if match is None:
        raise BayesmixedError(f"{ref} does not name random effects (write {{U0[school]}})")
    for i, (stub, block) in enumerate(zip(stubs(result.design), result.design.blocks)):
        labels = effect_labels(block.effect_names, stub)
        if match.group(1) in labels:
            return i, labels.index(match.group(1))
    expand_effects(result, ref)  # raises, listing the model's effects
    raise AssertionError("unreachable")
