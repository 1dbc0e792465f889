"""The estimation sample as ``margins`` sets it: factors, over() groups, ``atmeans`` rows.

Helpers shared by :mod:`.margins` and :mod:`.contrast`: the rows of the user's
data the model was fitted on, each factor variable of the fixed part coded on
them (levels and base, by the design stage's own
:func:`~bayesmixed.design.factors.make_factor`), the over() groups, and the X
row of ``atmeans``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..design.factors import level_key, make_factor
from ..design.sample import if_mask, in_mask, is_formula
from ..results.base import ResultKind
from ..spec.model import Component
from .margins_spec import MarginsError


def estimation_frame(result, data: pd.DataFrame | None) -> pd.DataFrame:
    """The estimation-sample rows of ``data`` (the frame the model was fitted on)."""
    if result.kind is ResultKind.BAYES:
        raise MarginsError(
            "margins needs a likelihood fit (mixed, me*): for a Bayesian fit summarize the "
            "posterior of the predictions instead"
        )
    if not isinstance(data, pd.DataFrame):
        raise MarginsError(
            "margins needs the data the model was fitted on (data=...): a result keeps its "
            "design matrices, not the variables margins sets"
        )
    rows = result.design.rows
    missing = rows.difference(data.index)
    if len(missing):
        raise MarginsError(
            f"the data lack {len(missing)} rows of the estimation sample: pass the frame "
            "the model was fitted on"
        )
    return data.loc[rows]


def subsample(result, data: pd.DataFrame, if_, in_) -> np.ndarray:
    """Which estimation-sample rows an ``if``/``in`` keeps (a mask in ``design.rows`` order).

    Both are read on the whole data in memory, as Stata evaluates them (``in``
    counts the data's rows, ``_n`` too), then restricted to the estimation sample:
    ``margins if female == 1`` averages over the estimation rows with female == 1.
    """
    keep = in_mask(in_, len(data)) & if_mask(if_, data)
    mask = pd.Series(keep, index=data.index).loc[result.design.rows].to_numpy(bool)
    if not mask.any():
        where = f"in {in_[0]}/{in_[1]}" if in_ else ""
        what = " ".join(w for w in (f"if {if_}" if if_ else "", where) if w)
        raise MarginsError(f"margins {what}: no observations of the estimation sample qualify")
    return mask


def statistic(series: pd.Series, stat: str, w: np.ndarray) -> float:
    x = pd.to_numeric(series, errors="coerce").to_numpy(float)
    if stat == "mean":
        return float(np.average(x, weights=w))
    return float({"median": np.median, "min": np.min, "max": np.max}[stat](x))


def over_groups(frame: pd.DataFrame, over: tuple[str, ...]) -> tuple[np.ndarray, list[tuple]]:
    if not over:
        return np.zeros(len(frame), np.intp), [()]
    for var in over:
        if var not in frame.columns:
            raise MarginsError(f"over({var}): variable {var} not found")
    keys = [tuple(level_key(v) for v in row) for row in frame[list(over)].itertuples(index=False)]
    labels = sorted(set(keys), key=lambda k: tuple(_sort_key(p) for p in k))
    lookup = {k: i for i, k in enumerate(labels)}
    return np.array([lookup[k] for k in keys], np.intp), labels


def _sort_key(label: str) -> tuple:
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def model_variables(result) -> list[str]:
    spec = result.design.spec
    return [v for t in spec.fixed for v in (c.name for c in t.components)]


def model_factors(result, frame: pd.DataFrame) -> dict:
    """Each factor variable of the fixed part, coded on the estimation sample (levels, base)."""
    out = {}
    formula = is_formula(result.design.spec)
    for term in result.design.spec.fixed:
        for comp in term.components:
            if comp.name in out:
                continue
            if comp.kind == "i":
                out[comp.name] = make_factor(frame[comp.name], comp, formula)
            elif formula and not pd.api.types.is_numeric_dtype(frame[comp.name]):
                out[comp.name] = make_factor(frame[comp.name], Component(comp.name, "i"), formula)
    return out


def column_means(result, frame: pd.DataFrame, w: np.ndarray) -> np.ndarray:
    """The X row of ``atmeans``: each column the product of its components' means.

    Stata sets every covariate to its mean and every factor indicator to its
    proportion, then forms the columns, so ``c.x#c.y`` is mean(x) * mean(y),
    not the mean of the product.
    """
    design = result.design
    means: dict[str, float] = {}
    out = np.ones(design.p)
    for j, name in enumerate(design.fixed_names):
        if name == "_cons":
            continue
        for part in name.split("#"):
            if part not in means:
                means[part] = _part_mean(frame, part, w)
            out[j] *= means[part]
    return out


def _part_mean(frame: pd.DataFrame, part: str, w: np.ndarray) -> float:
    var = part[2:] if part.startswith("c.") else part
    if var in frame.columns:
        return float(np.average(pd.to_numeric(frame[var]).to_numpy(float), weights=w))
    label, _, var = part.partition(".")
    keys = np.array([level_key(v) for v in frame[var]])
    return float(np.average(keys == label, weights=w))
