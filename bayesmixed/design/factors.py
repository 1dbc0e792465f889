"""Levels, labels and base levels of factor variables (``i.var``).

Stata's factor variables take nonnegative integer values, named by value
(``2.dose``).  Text and categorical columns are accepted by both front ends and
named by label (``Low.dose``): text levels sorted as Stata's ``encode`` (and R's
``factor()``) sorts them -- alphabetically, by code point -- and categorical
levels in category order, so the base level of ``i.x`` is the first.  In Stata
one would ``encode`` the column first; doing it here spares that step, and the
label names say which level is which.  A categorical column with numeric
categories keeps Stata's rules (``ib2.x`` names level 2).  Only levels present
in the estimation sample count, as in both programs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SpecificationError, VariableError
from ..spec.model import Component
from .sample import is_text, numeric_values


@dataclass
class Factor:
    """One factor variable coded on the estimation sample.

    ``codes`` index ``labels`` (0..L-1); ``values`` keeps the original level
    values so that ``ib2.dose`` can find level 2; ``base`` is the index of the
    omitted level, or None for ``ibn.``.
    """

    name: str
    codes: np.ndarray
    labels: list[str]
    values: pd.Index
    base: int | None

    @property
    def n_levels(self) -> int:
        return len(self.labels)


def is_factor_like(series: pd.Series) -> bool:
    """Columns R turns into factors: text and categorical."""
    return isinstance(series.dtype, pd.CategoricalDtype) or is_text(series)


def make_factor(series: pd.Series, comp: Component, formula: bool) -> Factor:
    """Code ``series`` as the factor ``comp`` asks for, checking Stata's rules."""
    codes, values = _levels(series, comp.name, formula)
    labels = [level_key(v) for v in values]
    counts = np.bincount(codes, minlength=len(values))
    base = _base_index(comp, values, counts)
    return Factor(comp.name, codes, labels, values, base)


def _levels(series: pd.Series, name: str, formula: bool) -> tuple[np.ndarray, pd.Index]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        if formula or not pd.api.types.is_numeric_dtype(series.dtype.categories.dtype):
            return _categorical_levels(series)
        series = series.astype(series.dtype.categories.dtype)
    elif is_text(series):
        return _factorize(series.to_numpy(), name)
    values = numeric_values(series, name)
    if not formula:
        _check_stata_levels(values, name)
    return _factorize(values, name)


def _factorize(values: np.ndarray, name: str) -> tuple[np.ndarray, pd.Index]:
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError as exc:
        raise VariableError(
            f"variable {name} mixes numbers and text, so its levels cannot be ordered"
        ) from exc
    return codes.astype(np.intp), pd.Index(uniques)


def _categorical_levels(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    raw = series.cat.codes.to_numpy()
    used = np.unique(raw)
    lookup = np.full(len(series.cat.categories), -1, dtype=np.intp)
    lookup[used] = np.arange(len(used))
    return lookup[raw], series.cat.categories[used]


def _check_stata_levels(values: np.ndarray, name: str) -> None:
    bad = values[values != np.floor(values)]
    if bad.size:
        raise VariableError(
            f"{name}: factor variables may not contain noninteger values (found {bad[0]:g})"
        )
    bad = values[values < 0]
    if bad.size:
        raise VariableError(
            f"{name}: factor variables may not contain negative values (found {bad[0]:g})"
        )


def level_key(value: object) -> str | tuple:
    """The canonical text of a level: what names it and what identifies it.

    Factor columns are named by it (``2.dose``), and new data are matched to
    the estimation sample's factor levels and groups by it, so a level is the
    same whether it arrives as ``1``, ``1.0``, ``np.int64(1)`` or the text
    ``"1"`` (as R matches factor levels by their labels).  A tuple (one
    group of nested or crossed variables) maps element by element.
    """
    if isinstance(value, tuple):
        return tuple(level_key(v) for v in value)
    if isinstance(value, float | np.floating):
        return np.format_float_positional(float(value), trim="-")
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _base_index(comp: Component, values: pd.Index, counts: np.ndarray) -> int | None:
    base = comp.base
    if base == "first":
        return 0
    if base == "last":
        return len(values) - 1
    if base == "freq":
        return int(np.argmax(counts))
    if base == "none":
        return None
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    hits = np.flatnonzero(values == base) if numeric else np.array([], dtype=int)
    if hits.size == 0:
        shown = ", ".join(str(level_key(v)) for v in values[:10])
        raise SpecificationError(
            f"ib{base}.{comp.name}: level {base} of {comp.name} does not occur in the "
            f"estimation sample (levels: {shown}{', ...' if len(values) > 10 else ''})"
        )
    return int(hits[0])
