"""Where to predict: the rows of the estimation sample or of new data, as arrays.

Shared by ``predict`` after ML/REML and GLMM fits (:mod:`.predict`) and after Bayesian
fits (:mod:`.bayes_predict`): the fixed-effects matrix, each level's group codes (-1 for
a group not in the sample) and random-effect columns, the response, offsets and
binomial trials, plus the levels ``relevel()`` keeps and the new groups to report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError, SpecificationError
from ..spec.family import get_family
from .blup import glmm_extras
from .newdata import new_rows


@dataclass
class PredictRows:
    """Where to predict: X, random-effect codes and values, response, labels."""

    index: pd.Index
    valid: np.ndarray
    X: np.ndarray
    codes: list[np.ndarray]
    Z: list[np.ndarray]
    y: np.ndarray | None
    offset: np.ndarray
    trials: np.ndarray | float | None
    new_data: bool
    unseen: list[pd.Index] = field(default_factory=list)


def included_levels(result, relevel: str | None) -> set[str]:
    """The levels whose random effects enter: all, or the top down to ``relevel``."""
    levels = list(result.design.spec.levels)
    if relevel is None:
        return set(levels)
    if relevel not in levels:
        raise SpecificationError(
            f"relevel({relevel}): {relevel} is not a level of the model "
            f"(levels: {', '.join(levels)})"
        )
    return set(levels[: levels.index(relevel) + 1])


def prediction_rows(result, data, glmm: bool) -> PredictRows:
    """The estimation sample (``data=None``) or ``data``'s rows, matched to the fit."""
    design = result.design
    if data is None:
        extras = glmm_extras(result) if glmm else {}
        return PredictRows(
            index=design.rows,
            valid=np.ones(design.n, dtype=bool),
            X=design.X,
            codes=[b.codes for b in design.blocks],
            Z=[b.Z for b in design.blocks],
            y=np.asarray(design.y, float),
            offset=np.asarray(extras.get("offset", np.zeros(design.n)), float),
            trials=extras.get("trials"),
            new_data=False,
        )
    new = new_rows(design, data)
    spec = design.spec
    y = None
    if spec.response in data.columns:
        y = pd.to_numeric(data.loc[new.valid, spec.response], errors="coerce").to_numpy(float)
    offset, trials = _new_extras(spec, new.frame)
    return PredictRows(
        new.index, new.valid, new.X, new.codes, new.Z, y, offset, trials, True, new.unseen
    )


def _new_extras(spec, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | float | None]:
    offset = np.zeros(len(frame))
    if spec.offset:
        offset = offset + frame[spec.offset].to_numpy(float)
    if spec.exposure:
        exposure = frame[spec.exposure].to_numpy(float)
        if np.any(exposure <= 0):
            raise DataError(f"exposure variable {spec.exposure} must be positive")
        offset = offset + np.log(exposure)
    trials = None
    if get_family(spec.family, spec.link).uses_trials:
        t = spec.trials
        trials = frame[t].to_numpy(float) if isinstance(t, str) else float(t or 1)
    return offset, trials


def new_group_labels(result, rows: PredictRows) -> dict[str, tuple]:
    """Level -> labels of the rows whose group at that level was not in the sample."""
    valid_labels = rows.index[rows.valid]
    out: dict[str, tuple] = {}
    for block, codes in zip(result.design.blocks, rows.codes):
        labels = tuple(valid_labels[codes < 0])
        out[block.key] = tuple(sorted(set(out.get(block.key, ())) | set(labels), key=str))
    return out
