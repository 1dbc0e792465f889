"""Frequency and sampling weights of the estimation sample, checked as Stata checks them.

Stata's ``mixed`` and ``me*`` take ``[fweight=]`` (each row stands for that many
identical rows) and ``[pweight=]`` with ``pweight(var)`` on the higher levels
(inverse selection probabilities, fitted by pseudo-likelihood).  The rules:

* fweights are whole numbers >= 0; pweights are numbers >= 0;
* a row of weight zero leaves the sample (it stands for no observation), so
  the design, the group counts and ``nobs`` are those of the expanded data;
* a higher-level weight is one number per group of its level.

The weights are read here, once, in the design's row order; the engines read
:class:`Weights` and never the data frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import DataError
from ..spec.model import ModelSpec
from .random import group_codes
from .types import GroupInfo


@dataclass
class Weights:
    """The weights of the design's rows.

    Attributes
    ----------
    kind : ``"fweight"`` or ``"pweight"``.
    obs : (n,) level-one weight of each row (ones when only levels are weighted).
    levels : level name -> (n,) weight of the row's group at that level, for the
        levels given ``pweight()``; unscaled (``pwscale()`` is applied by the engine
        that fits the pseudo-likelihood).
    """

    kind: str
    obs: np.ndarray
    levels: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def frequency(self) -> bool:
        return self.kind == "fweight"


def read_weights(spec: ModelSpec, frame: pd.DataFrame) -> tuple[np.ndarray, Weights | None]:
    """(rows to keep, the weights of the kept rows) for ``spec`` on its sample ``frame``."""
    est = spec.estimation
    if est.weight is None and not est.level_weights:
        return np.ones(len(frame), bool), None
    kind = est.weight[0] if est.weight is not None else "pweight"
    obs = np.ones(len(frame))
    if est.weight is not None:
        obs = _values(frame, est.weight[1], kind)
    levels = {}
    for level, var in est.level_weights:
        levels[level] = _values(frame, var, "pweight")
        _check_constant(spec, frame, level, var, levels[level])
    keep = obs > 0
    for values in levels.values():
        keep &= values > 0
    if not keep.any():
        raise DataError("every observation has weight zero")
    return keep, Weights(kind, obs[keep], {k: v[keep] for k, v in levels.items()})


def _values(frame: pd.DataFrame, name: str, kind: str) -> np.ndarray:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(values)):
        raise DataError(f"weight variable {name} must hold finite numbers")
    if np.any(values < 0):
        raise DataError(f"negative weights encountered in {name}")
    if kind == "fweight" and np.any(values != np.round(values)):
        raise DataError(f"{name}: frequency weights must be whole numbers (may not be fractional)")
    return values


def _check_constant(
    spec: ModelSpec, frame: pd.DataFrame, level: str, var: str, values: np.ndarray
) -> None:
    """A level's weight is one number per group (groups as nested in the higher levels)."""
    path = next(eq.path for eq in spec.random if eq.level == level)
    codes, groups = group_codes(frame, tuple(v for v in path if v != "_all"))
    low = np.full(len(groups), np.inf)
    high = np.full(len(groups), -np.inf)
    np.minimum.at(low, codes, values)
    np.maximum.at(high, codes, values)
    if np.any(low != high):
        raise DataError(f"pweight({var}) is not constant within the groups of {level}")


def expanded_group_info(
    spec: ModelSpec, frame: pd.DataFrame, info: list[GroupInfo], obs: np.ndarray
) -> list[GroupInfo]:
    """Stata's "Obs per group" of the data expanded by frequency weights."""
    out = []
    for row in info:
        path = next(eq.path for eq in spec.random if eq.level == row.level)
        codes, groups = group_codes(frame, tuple(v for v in path if v != "_all"))
        counts = np.bincount(codes, weights=obs, minlength=len(groups))
        out.append(
            replace(
                row,
                min=int(counts.min()),
                avg=float(counts.sum() / len(groups)),
                max=int(counts.max()),
            )
        )
    return out
