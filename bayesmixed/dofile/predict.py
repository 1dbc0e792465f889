"""``predict newvar(s), KIND``: an adapter to the results' own ``predict``.

Postestimation (``r.predict(kind)``) is the authority: when a result has it, its values
are used as they come.  Until then the adapter computes the few kinds the workshop
needs from the fitted quantities, by the textbook formulas (Henderson; lme4's
``ranef(condVar = TRUE)``): with Lambda a square root of G / sigma^2,

    M = Lambda' Z'Z Lambda + I,   b = Lambda M^-1 Lambda' Z'(y - X beta),
    Var(b | y) = sigma^2 Lambda M^-1 Lambda'.

Only dense q x q algebra is needed (q = random effects, small in the workshop).
Structured residuals, GLMM kinds other than ``xb``/``reffects`` and Bayesian ``reses``
wait for postestimation and say so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..design.types import Design
from ..errors import NotSupportedError
from ..plot.from_results import conditional_effects

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
    from ..results.glmm import GLMMResult
    from ..results.mixed import MixedResult
    from .regress import OLSResult

    if isinstance(result, OLSResult):
        return _ols(result, kind)
    if isinstance(result, MixedResult):
        return _mixed(result, kind)
    if isinstance(result, GLMMResult) and kind in ("xb", "reffects"):
        return _xb_reffects(result.design, result.beta, result.modes, kind)
    raise NotSupportedError(
        f"predict {kind} after {type(result).__name__} is not available yet "
        "(it arrives with the postestimation package)"
    )


def _ols(result, kind: str) -> list[pd.Series]:
    raise NotSupportedError(
        f"predict {kind} after regress is not available: predict works after mixed-model fits"
    )


def _xb_reffects(design: Design, beta, modes, kind: str) -> list[pd.Series]:
    if kind == "xb":
        return [pd.Series(design.X @ beta, index=design.rows)]
    return _effect_columns(design, modes)


def _effect_columns(design: Design, per_block: list[np.ndarray]) -> list[pd.Series]:
    """One column per effect (block order, slopes before ``_cons``), observation-level."""
    out = []
    for block, values in zip(design.blocks, per_block, strict=True):
        for j, name in enumerate(block.effect_names):
            series = pd.Series(values[block.codes, j], index=design.rows)
            series.name = f"{block.key}: {name}"
            out.append(series)
    return out


def _mixed(result, kind: str) -> list[pd.Series]:
    design = result.design
    if design.residual is not None:
        raise NotSupportedError(
            f"predict {kind} after a residuals() structure is not available yet "
            "(it arrives with the postestimation package)"
        )
    xb = design.X @ result.beta
    if kind == "xb":
        return [pd.Series(xb, index=design.rows)]
    if kind not in ("fitted", "residuals", "reffects", "reses"):
        raise NotSupportedError(f"predict {kind} is not available yet for mixed")
    means, sds = conditional_effects(result)
    if kind == "reffects":
        return _effect_columns(design, means)
    if kind == "reses":
        return _effect_columns(design, sds)
    fitted = xb + sum(
        (b.Z * m[b.codes]).sum(axis=1) for b, m in zip(design.blocks, means, strict=True)
    )
    values = fitted if kind == "fitted" else design.y - fitted
    return [pd.Series(values, index=design.rows)]
