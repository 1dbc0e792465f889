"""The design stage: a ModelSpec and a data frame become numbers.

``build_design`` composes the steps in Stata's order: choose the estimation
sample (``in``, ``if``, listwise deletion), build y and X with Stata's names,
then the compact random-effect blocks and the group table.  Each step is its
own module so engines and tests can use them alone.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import DataError
from ..spec.model import ModelSpec
from .fixed import FixedPart, build_fixed
from .random import build_blocks, group_codes, group_info
from .residual import build_residual
from .sample import Sample, is_formula, numeric_values, select_sample
from .types import Design, GroupInfo, REBlock
from .weights import Weights, expanded_group_info, read_weights

__all__ = [
    "Design",
    "FixedPart",
    "GroupInfo",
    "REBlock",
    "Sample",
    "Weights",
    "build_blocks",
    "build_design",
    "build_fixed",
    "group_codes",
    "group_info",
    "select_sample",
]


def build_design(spec: ModelSpec, data: pd.DataFrame) -> Design:
    """Build the numeric design of ``spec`` on ``data``.

    Raises a :class:`~bayesmixed.errors.BayesmixedError` subclass for every
    problem with the data (missing or mistyped variables, an empty sample, a
    constant response, a level with a single group), so the model that is
    fitted is always the model that was written.
    """
    sample = select_sample(spec, data)
    keep, weights = read_weights(spec, sample.frame)
    if not keep.all():  # a row of weight zero stands for no observation
        sample = replace(sample, frame=sample.frame.loc[keep])
    frame = sample.frame
    y = numeric_values(frame[spec.response], spec.response)
    if np.ptp(y) == 0:
        raise DataError(
            f"the response {spec.response} is constant ({y[0]:g}) in the estimation sample"
        )
    fixed = build_fixed(spec, frame, is_formula(spec))
    blocks = build_blocks(spec, frame)
    design = Design(
        spec=spec,
        y=y,
        X=fixed.X,
        fixed_names=fixed.names,
        blocks=blocks,
        rows=sample.rows,
        dropped=sample.dropped,
        omitted=fixed.omitted,
        base_levels=fixed.base_levels,
        group_info=group_info(spec, frame, blocks),
        notes=sample.notes + fixed.notes,
    )
    design.residual = build_residual(spec, frame, design)
    design.weights = weights
    if spec.estimation.cluster is not None:
        design.cluster = group_codes(frame, (spec.estimation.cluster,))[0]
    if weights is not None and weights.frequency:
        design.group_info = expanded_group_info(spec, frame, design.group_info, weights)
    return design
