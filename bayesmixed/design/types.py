"""Numeric design of a model: what the engines read.

The random part is kept *compact*, as MixedModels.jl's ReMat does: for each
random-effects equation, one integer group code per observation and a small
dense n x k matrix of effect values (``[math3, 1]`` for a random slope and
intercept).  The n x q indicator matrix Z is never formed; engines build
cross-products from codes.  ``R.var`` equations with identity covariance are
stored as a scalar intercept on the groups of ``var`` (within the enclosing
levels), which is the same model at a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..spec.covariance import CovStructure
from ..spec.model import ModelSpec, RandomEquation


@dataclass
class REBlock:
    """One random-effects equation in compact form.

    Attributes
    ----------
    equation : the spec equation this block came from.
    codes : (n,) int array, group index (0..n_groups-1) of each observation.
    groups : labels of the groups, in code order (tuples for nested paths).
    Z : (n, k) float array, the effect values (slopes first, ``_cons`` last).
    effect_names : names of the k effects, as Stata prints them.
    structure : the covariance structure shared with every engine.
    """

    equation: RandomEquation
    codes: np.ndarray
    groups: pd.Index
    Z: np.ndarray
    effect_names: tuple[str, ...]
    structure: CovStructure

    @property
    def key(self) -> str:
        return self.equation.key

    @property
    def level(self) -> str:
        return self.equation.level

    @property
    def k(self) -> int:
        return self.Z.shape[1]

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def q(self) -> int:
        return self.k * self.n_groups


@dataclass
class GroupInfo:
    """Stata's "Obs per group" line for one level."""

    level: str
    n_groups: int
    min: int
    avg: float
    max: int


@dataclass
class Design:
    """Everything an engine needs, with the bookkeeping a report needs.

    ``rows`` is the index (in the user's data frame) of the estimation sample;
    ``dropped`` counts rows excluded for missing values (after ``if``/``in``);
    ``omitted`` lists fixed-effect columns dropped for collinearity (Stata
    prints them as ``(omitted)``); ``base_levels`` lists factor base levels
    (printed with ``base``).  Columns of ``X`` follow ``fixed_names``.
    """

    spec: ModelSpec
    y: np.ndarray
    X: np.ndarray
    fixed_names: list[str]
    blocks: list[REBlock]
    rows: pd.Index
    dropped: int = 0
    omitted: list[str] = field(default_factory=list)
    base_levels: list[str] = field(default_factory=list)
    group_info: list[GroupInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    residual: object | None = None  # structured-residual data (issue 3), None = iid errors
    weights: object | None = None  # design.weights.Weights of [fw=]/[pw=]/pweight(), or None
    cluster: np.ndarray | None = None  # (n,) group codes of vce(cluster var), or None

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def nobs(self) -> int:
        """Stata's "Number of obs": the rows, or the rows of the data expanded by the
        frequency weights (``[fw=]`` times the ``fweight()`` of the row's groups)."""
        w = self.weights
        if w is not None and w.kind == "fweight":
            return int(round(float(w.total.sum())))
        return self.n

    @property
    def p(self) -> int:
        return self.X.shape[1]
