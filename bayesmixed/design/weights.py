"""Frequency and sampling weights of the estimation sample, checked as Stata checks them.

Stata's ``mixed`` and ``me*`` take ``[fweight=]`` (each row stands for that many
identical rows) and ``[pweight=]`` with ``pweight(var)`` on the higher levels
(inverse selection probabilities, fitted by pseudo-likelihood).  The rules:

* fweights are whole numbers >= 0; pweights are numbers >= 0;
* a row of weight zero leaves the sample (it stands for no observation), so
  the design, the group counts and ``nobs`` are those of the expanded data;
* a higher-level weight is one number per group of its level;
* ``fweight(var)`` on a level (``|| school:, fweight(w2)``) makes each group
  stand for that many *independent* groups (the expanded data hold copies
  with new ids), so a row then stands for ``[fw=]`` times the product of the
  fweights of its groups (:attr:`Weights.total`), and a group of level l for
  the product of the fweights at l and above (:func:`group_copies`).

The weights are read here, once, in the design's row order; the engines read
:class:`Weights` and never the data frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import DataError, NotSupportedError
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
        levels given ``pweight()`` or ``fweight()`` (of the same ``kind``); unscaled
        (``pwscale()`` is applied by the engine that fits the pseudo-likelihood).
    """

    kind: str
    obs: np.ndarray
    levels: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def frequency(self) -> bool:
        return self.kind == "fweight"

    @property
    def total(self) -> np.ndarray:
        """(n,) how many rows of the expanded data each row stands for (fweights only)."""
        out = np.asarray(self.obs, float)
        for values in self.levels.values():
            out = out * values
        return out


def read_weights(spec: ModelSpec, frame: pd.DataFrame) -> tuple[np.ndarray, Weights | None]:
    """(rows to keep, the weights of the kept rows) for ``spec`` on its sample ``frame``."""
    est = spec.estimation
    if est.weight is None and not est.level_weights:
        return np.ones(len(frame), bool), None
    kind = est.weight[0] if est.weight is not None else est.level_weight_kind
    obs = np.ones(len(frame))
    if est.weight is not None:
        obs = _values(frame, est.weight[1], kind)
    if est.level_fweighted:
        _check_nested(spec)
    levels = {}
    for level, var in est.level_weights:
        levels[level] = _values(frame, var, est.level_weight_kind)
        _check_constant(spec, frame, level, var, levels[level], est.level_weight_kind)
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


def _check_nested(spec: ModelSpec) -> None:
    """fweight() replicates a group with everything under it: the levels must nest.

    With crossed effects (``_all:``) a copy of a group would share the crossed
    effects with the original, which is not what the expanded data of Stata hold.
    """
    if any(eq.path and eq.path[0] == "_all" for eq in spec.random):
        raise NotSupportedError(
            "fweight() at higher levels needs nested levels; this model has crossed effects (_all:)"
        )


def _check_constant(
    spec: ModelSpec,
    frame: pd.DataFrame,
    level: str,
    var: str,
    values: np.ndarray,
    kind: str = "pweight",
) -> None:
    """A level's weight is one number per group (groups as nested in the higher levels)."""
    path = next(eq.path for eq in spec.random if eq.level == level)
    codes, groups = group_codes(frame, tuple(v for v in path if v != "_all"))
    low = np.full(len(groups), np.inf)
    high = np.full(len(groups), -np.inf)
    np.minimum.at(low, codes, values)
    np.maximum.at(high, codes, values)
    if np.any(low != high):
        raise DataError(f"{kind}({var}) is not constant within the groups of {level}")


def group_copies(spec: ModelSpec, weights: Weights, path: tuple[str, ...]) -> np.ndarray:
    """(n,) how many copies of each row's group (of the equation with ``path``) the
    expanded data hold: the product of the ``fweight()`` of that level and the levels
    above it (the levels whose path starts that one's).  Ones without level fweights."""
    out = np.ones(len(weights.obs))
    if not weights.frequency:
        return out
    for eq in spec.random:
        if eq.level in weights.levels and path[: len(eq.path)] == eq.path:
            out = out * weights.levels[eq.level]
    return out


def expanded_group_info(
    spec: ModelSpec, frame: pd.DataFrame, info: list[GroupInfo], weights: Weights
) -> list[GroupInfo]:
    """Stata's group counts and "Obs per group" of the data expanded by frequency weights.

    A group of level l appears c times (c: :func:`group_copies`), each copy with
    sum(total / c) rows over the group's rows.
    """
    total = weights.total
    out = []
    for row in info:
        path = next(eq.path for eq in spec.random if eq.level == row.level)
        codes, groups = group_codes(frame, tuple(v for v in path if v != "_all"))
        copies = group_copies(spec, weights, path)
        counts = np.bincount(codes, weights=total / copies, minlength=len(groups))
        n_copies = np.zeros(len(groups))
        n_copies[codes] = copies
        n_groups = int(round(float(n_copies.sum())))
        out.append(
            replace(
                row,
                n_groups=n_groups,
                min=int(round(counts.min())),
                avg=float(total.sum() / n_groups),
                max=int(round(counts.max())),
            )
        )
    return out
