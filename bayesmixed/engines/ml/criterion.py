"""The profiled criterion of a design, and reading its optimum back in the design's order.

Shared by the iid fit (:mod:`.fit`), the structured-residual fit (:mod:`.residual`),
refits during resampling and BLUPs after a fit, none of which needs the others: it
used to live in ``fit.py``, which imported ``residual`` inside a function while
``residual`` imported a private helper from ``fit`` at module level.
"""

from __future__ import annotations

import numpy as np

from ...design.standardize import FixedScaling
from ...design.types import Design
from ...errors import NotSupportedError
from .components import ComponentDeviance, blocked_cost, component_layout
from .crossprod import build_crossproducts
from .deviance import ProfiledCriterion, ProfiledDeviance
from .tree import detect_tree

#: estimated microseconds of one evaluation of the layout's own factor above which a
#: nested design's criterion is eliminated level by level instead (:mod:`.tree` says why)
TREE_FROM_US = 2000.0


def make_deviance(
    design: Design, reml: bool, fixed: FixedScaling | None = None
) -> ProfiledCriterion:
    """theta -> ML deviance or REML criterion for ``design`` (evaluation order).

    ``fixed`` (default: that of ``design.X``) is the internal scaling of the fixed
    effects; whitened designs pass the scaling of their unwhitened X.  Designs whose
    random effects split into many small independent components (nested factors)
    are factored one component at a time (:mod:`.components`), others in the
    blocked layout (:class:`ProfiledDeviance`).
    """
    if not design.blocks:
        raise NotSupportedError("a mixed model needs at least one random-effects equation")
    cp = build_crossproducts(design, fixed)
    structures = [design.blocks[i].structure for i in cp.order]
    layout = component_layout(design, cp)
    if layout is not None:
        dev: ProfiledCriterion = ComponentDeviance(cp, structures, reml, layout)
        cost = layout.cost(cp.p)
    else:
        dev = ProfiledDeviance(cp, structures, reml)
        cost = blocked_cost(cp)
    if cost >= TREE_FROM_US:  # nested levels: the criterion level by level (tree.py)
        dev.tree = detect_tree(design, cp.order)
    return dev


def to_design_order(parts: list, order: list[int]) -> list:
    """Reorder per-block items from evaluation order to the design's order."""
    out = [None] * len(order)
    for pos, idx in enumerate(order):
        out[idx] = parts[pos]
    return out


def boundary_notes(design: Design, dev: ProfiledCriterion, theta: np.ndarray) -> list[str]:
    """One note per covariance parameter that the optimum puts on its boundary."""
    notes = []
    for pos, part in enumerate(dev.split(theta)):
        block = design.blocks[dev.cp.order[pos]]
        for note in block.structure.boundary(part):
            notes.append(f"{block.key}: {note} (estimate on the boundary of the parameter space)")
    return notes
