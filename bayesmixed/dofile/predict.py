"""``predict newvar(s), KIND``: an adapter to the results' own ``predict``.

Postestimation (``r.predict(kind)``) is the authority; this module only turns its
Series/DataFrame into the new variables of the current dataset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import NotSupportedError
from ..results.base import kind_of

KINDS = ("xb", "fitted", "residuals", "reffects", "reses", "stdp", "rstandard", "mu", "pr", "eta")


def predict_columns(result: object, kind: str, outcome=None) -> list[pd.Series]:
    """The new variables of ``predict ..., kind``, indexed by the estimation sample's rows.

    ``outcome`` (Stata's ``outcome()``) picks one category's probability after a
    categorical model; without it ``pr`` gives one variable per outcome.
    """
    if kind_of(result) is not None:  # a mixed-model fit of any kind: its own predict
        extra = {} if outcome is None else {"outcome": outcome}
        return _as_columns(result.predict(kind, **extra), result.design.rows)
    return _fallback(result, kind)


def _as_columns(value: object, rows: pd.Index) -> list[pd.Series]:
    if isinstance(value, pd.DataFrame):
        return [_align(value[c], rows) for c in value.columns]
    if isinstance(value, pd.Series):
        return [_align(value, rows)]
    return [pd.Series(np.asarray(value, dtype=float), index=rows)]


def _align(series: pd.Series, rows: pd.Index) -> pd.Series:
    if len(series) == len(rows) and not series.index.equals(rows):
        return pd.Series(series.to_numpy(), index=rows, name=series.name)
    return series


def _fallback(result: object, kind: str) -> list[pd.Series]:
    raise NotSupportedError(
        f"predict {kind} is not available after {type(result).__name__}: predict works "
        "after mixed-model fits"
    )
