"""``predict newvar(s), KIND``: an adapter to the results' own ``predict``.

Postestimation (``r.predict(kind)``) is the authority; this module only turns its
Series/DataFrame into the new variables of the current dataset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import NotSupportedError

KINDS = ("xb", "fitted", "residuals", "reffects", "reses", "stdp", "rstandard", "mu", "pr", "eta")


def predict_columns(result: object, kind: str) -> list[pd.Series]:
    """The new variables of ``predict ..., kind``, indexed by the estimation sample's rows."""
    native = getattr(result, "predict", None)
    if callable(native):
        return _as_columns(native(kind), _rows(result))
    return _fallback(result, kind)


def _rows(result: object) -> pd.Index:
    design = getattr(result, "design", None)
    return design.rows if design is not None else result.rows


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
