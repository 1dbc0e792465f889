"""Compact random-effect blocks and Stata's group table.

Each equation becomes integer group codes plus a small dense Z (slopes, then
``_cons``), as MixedModels.jl's ReMat stores a term; the n x q indicator matrix
is never formed.  Groups of a nested level are the combinations of its path
(``region``-by-``state``), coded by successive ``pandas.factorize`` calls so
the labels come out sorted and no step loops over rows or groups.

``R.var`` with identity covariance is stored as a scalar intercept on the
groups of (enclosing path) x ``var``: one effect per level of ``var`` with a
shared variance, independent across levels, is exactly a random intercept on
those cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, NotSupportedError, SpecificationError, VariableError
from ..spec.covariance import resolve_name
from ..spec.model import ModelSpec, RandomEquation
from .factors import level_key
from .sample import numeric_values
from .types import GroupInfo, REBlock

ALL = "_all"


def group_codes(frame: pd.DataFrame, variables: tuple[str, ...]) -> tuple[np.ndarray, pd.Index]:
    """Sorted group codes of the combinations of ``variables`` (none: one group).

    Returns the (n,) codes and the labels in code order: scalars for one
    variable, tuples (a MultiIndex) for several, ``["_all"]`` for none.
    """
    n = len(frame)
    if not variables:
        return np.zeros(n, dtype=np.intp), pd.Index([ALL])
    codes, labels = _factorize(frame[variables[0]], variables[0])
    if len(variables) == 1:
        return codes, labels.rename(variables[0])
    parts = [np.arange(len(labels))]
    uniques = [labels]
    for name in variables[1:]:
        inner, inner_labels = _factorize(frame[name], name)
        width = len(inner_labels)
        codes, keys = pd.factorize(codes.astype(np.int64) * width + inner, sort=True)
        parts = [p[keys // width] for p in parts] + [keys % width]
        uniques.append(inner_labels)
    arrays = [u[p] for u, p in zip(uniques, parts, strict=True)]
    return codes.astype(np.intp), pd.MultiIndex.from_arrays(arrays, names=list(variables))


def _factorize(series: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    """Sorted codes of one grouping variable.

    A text column that also holds numbers (``1`` and ``"1"``, as a merged or
    hand-edited frame can) is coded by :func:`level_key`, so ``1`` and ``"1"``
    are one group, as prediction on new data matches them.
    """
    if pd.api.types.is_object_dtype(series.dtype) and pd.api.types.infer_dtype(
        series, skipna=True
    ) in ("mixed", "mixed-integer"):
        series = series.map(level_key, na_action="ignore")
    try:
        codes, uniques = pd.factorize(series, sort=True)
    except TypeError as exc:
        raise VariableError(
            f"grouping variable {name} mixes numbers and text, so its groups cannot be ordered"
        ) from exc
    return codes.astype(np.intp), pd.Index(uniques)


def build_blocks(spec: ModelSpec, frame: pd.DataFrame) -> list[REBlock]:
    """One REBlock per random equation, in the spec's order."""
    cache: dict[tuple[str, ...], tuple[np.ndarray, pd.Index]] = {}
    blocks = []
    for eq in spec.random:
        path = _grouping(eq.path)
        if path not in cache:
            cache[path] = group_codes(frame, path)
        _check_identified(eq, cache[path][1])
        blocks.append(_factor_block(eq, frame) if eq.factor else _block(eq, frame, cache[path]))
    return blocks


def _grouping(path: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in path if v != ALL)


def _check_identified(eq: RandomEquation, groups: pd.Index) -> None:
    if eq.level != ALL and len(groups) == 1:
        raise DataError(
            f"random effects at level {eq.level}: the estimation sample has a single "
            f"{eq.level} group ({eq.level} = {_label(groups[0])}), so their variance is "
            "not identified"
        )


def _label(value: object) -> str:
    """A group label as the user wrote it (numpy scalars print as plain numbers)."""
    return str(value.item() if hasattr(value, "item") else value)


def _block(eq: RandomEquation, frame: pd.DataFrame, grouping) -> REBlock:
    codes, groups = grouping
    columns = [_slope(term, frame) for term in eq.terms]
    if eq.constant:
        columns.append(np.ones(len(frame)))
    if not columns:
        raise SpecificationError(
            f"the random-effects equation for {eq.level} has no effects (no variables and "
            "noconstant)"
        )
    Z = np.column_stack(columns)
    return REBlock(eq, codes, groups, Z, eq.effect_names, eq.structure)


def _slope(term, frame: pd.DataFrame) -> np.ndarray:
    if any(c.kind == "i" for c in term.components):
        raise NotSupportedError(
            f"factor variables in random-effects equations ({term}) are not supported yet; "
            "use R.var for crossed effects or create indicator variables"
        )
    out = np.ones(len(frame))
    for comp in term.components:
        out = out * numeric_values(frame[comp.name], comp.name)
    return out


def _factor_block(eq: RandomEquation, frame: pd.DataFrame) -> REBlock:
    label = f"R.{eq.factor}"
    if resolve_name(eq.covariance) != "identity":
        raise NotSupportedError(
            f"{label} with {resolve_name(eq.covariance)} covariance is not supported; "
            f"{label} effects are fitted with identity covariance (one shared variance)"
        )
    if eq.terms:
        raise NotSupportedError(
            f"{label} must be alone in its random-effects equation; put "
            f"{', '.join(str(t) for t in eq.terms)} in a separate equation"
        )
    path = _grouping(eq.path) + (eq.factor,)
    codes, groups = group_codes(frame, path)
    if len(groups) == 1:
        raise DataError(
            f"{label}: {eq.factor} takes a single value in the estimation sample, so the "
            "variance of its effects is not identified"
        )
    Z = np.ones((len(frame), 1))
    return REBlock(eq, codes, groups, Z, eq.effect_names, eq.structure)


def group_info(spec: ModelSpec, frame: pd.DataFrame, blocks: list[REBlock]) -> list[GroupInfo]:
    """Stata's "Obs per group" table: one row per distinct level, highest first."""
    seen: dict[str, GroupInfo] = {}
    for eq, block in zip(spec.random, blocks, strict=True):
        if eq.level in seen:
            continue
        path = _grouping(eq.path)
        if eq.factor:
            codes, groups = group_codes(frame, path)
        else:
            codes, groups = block.codes, block.groups
        counts = np.bincount(codes, minlength=len(groups))
        seen[eq.level] = GroupInfo(
            level=eq.level,
            n_groups=len(groups),
            min=int(counts.min()),
            avg=float(len(codes) / len(groups)),
            max=int(counts.max()),
        )
    return list(seen.values())
