"""The estimation sample: ``if``/``in`` selection, listwise deletion, checks.

Stata decides the estimation sample before it builds anything: first the
``in`` range and the ``if`` condition, then every observation with a missing
value in *any* variable the model reads is dropped (listwise), so that every
part of the model (fixed, random, residual) sees the same rows.  Doing it here,
once, keeps the later builders free of missing-value logic.

Missing means ``NaN``/``None``/``pd.NA`` and, for text columns, the empty
string (Stata's missing string).  Infinite numbers are an error rather than
missing: Stata has no infinity, and silently dropping them would change the
sample without the user knowing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError, SpecificationError, VariableError
from ..spec.model import ModelSpec

_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "boolean", "decimal", "empty"}


@dataclass
class Sample:
    """The rows of the user's frame that enter the model.

    ``frame`` holds only the model's columns, restricted to the sample, with the
    user's index, so later stages never see excluded rows.
    """

    frame: pd.DataFrame
    dropped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> pd.Index:
        return self.frame.index


def is_formula(spec: ModelSpec) -> bool:
    """Whether the spec came from an lme4 formula (R's rules for text columns apply)."""
    return spec.syntax == "formula"


def numeric_roles(spec: ModelSpec) -> set[str]:
    """Variables that must hold numbers whatever the front end.

    Fixed-effect continuous variables are left out on the formula path, where R
    turns a text column into a factor; :mod:`.fixed` checks those itself.
    """
    names = {spec.response}
    if not is_formula(spec):
        names.update(c.name for t in spec.fixed for c in t.components if c.kind == "c")
    for eq in spec.random:
        names.update(c.name for t in eq.terms for c in t.components if c.kind == "c")
    for extra in (spec.residual.t, spec.offset, spec.exposure):
        if extra:
            names.add(extra)
    if isinstance(spec.trials, str):
        names.add(spec.trials)
    return names


def is_text(series: pd.Series) -> bool:
    """Text columns: pandas' string dtype, or object columns holding non-numbers."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        return True
    if pd.api.types.is_object_dtype(series.dtype):
        return pd.api.types.infer_dtype(series, skipna=True) not in _NUMBER_KINDS
    return False


def numeric_values(series: pd.Series, name: str) -> np.ndarray:
    """The column as float64, or a VariableError saying why it is not a number."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if isinstance(dtype, pd.CategoricalDtype):
        raise VariableError(
            f"variable {name} is categorical, but a number is needed here; "
            f"use i.{name} for a factor or convert it to numbers"
        )
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_object_dtype(dtype) and not is_text(series):
        return pd.to_numeric(series).to_numpy(dtype=float, na_value=np.nan)
    example = _example(series)
    raise VariableError(
        f"variable {name} holds {_kind(series)} (e.g. {example!r}), but a number is needed "
        f"here; convert it (pandas.to_numeric) or use it as a factor or grouping variable"
    )


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "dates"
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return "time spans"
    return "text"


def _example(series: pd.Series) -> object:
    """The first non-missing value that is not a number, for error messages."""
    for value in series.dropna().head(1000):
        if not isinstance(value, int | float | np.number | bool):
            return value
    return series.dropna().iloc[0] if series.notna().any() else None


def missing_mask(series: pd.Series) -> np.ndarray:
    """Missing cells: NA of any kind, and the empty string in text columns.

    ``None``, ``np.nan``, ``pd.NA`` and ``NaT`` all count, in object, string and
    categorical columns alike, as does ``""`` (Stata's missing string, also as a
    category).  The empty-string test looks only at the cells that are not NA,
    because ``pd.NA == ""`` is NA, not False.
    """
    missing = series.isna().to_numpy(dtype=bool, copy=True)
    if isinstance(series.dtype, pd.CategoricalDtype):
        if "" in series.cat.categories:
            missing |= (series == "").to_numpy(dtype=bool, na_value=False)
    elif pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
        values = series.to_numpy(dtype=object)
        present = np.flatnonzero(~missing)
        empty = [isinstance(v, str) and v == "" for v in values[present]]
        missing[present] |= np.asarray(empty, dtype=bool)
    return missing


def check_present(spec: ModelSpec, data: pd.DataFrame) -> None:
    """Every model variable is a column of ``data``, exactly once."""
    columns = list(data.columns)
    for name in spec.variables:
        count = columns.count(name)
        if count == 1:
            continue
        if count > 1:
            raise VariableError(f"variable {name} appears {count} times among the data columns")
        close = difflib.get_close_matches(name, [str(c) for c in columns], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise VariableError(f"variable {name} not found in the data{hint}")


def in_mask(sample_in: tuple[int, int] | None, n: int) -> np.ndarray:
    """Stata's ``in f/l``: 1-based, inclusive; negative numbers count from the end."""
    mask = np.ones(n, dtype=bool)
    if sample_in is None:
        return mask
    first, last = (k + n + 1 if k < 0 else k for k in sample_in)
    if not 1 <= first <= last <= n:
        raise DataError(
            f"in {sample_in[0]}/{sample_in[1]}: observation numbers out of range "
            f"(the data have {n} rows)"
        )
    mask[:] = False
    mask[first - 1 : last] = True
    return mask


def if_mask(condition: object | None, data: pd.DataFrame) -> np.ndarray:
    """Evaluate the parsed ``if`` condition; nonzero (and missing) is true, as in Stata."""
    if condition is None:
        return np.ones(len(data), dtype=bool)
    result = np.asarray(condition.evaluate(data))
    if result.shape != (len(data),) or not (
        result.dtype == bool or np.issubdtype(result.dtype, np.number)
    ):
        raise SpecificationError(
            f"the if condition must give one true/false value per row, got shape {result.shape} "
            f"of type {result.dtype}"
        )
    return result.astype(bool)


def _check_finite(frame: pd.DataFrame) -> None:
    for name in frame.columns:
        series = frame[name]
        floats = pd.api.types.is_float_dtype(series.dtype)
        if not (floats or (pd.api.types.is_object_dtype(series.dtype) and not is_text(series))):
            continue
        count = int(np.isinf(numeric_values(series, name)).sum())
        if count:
            raise DataError(
                f"variable {name} has {count} infinite value{'s' * (count > 1)} in the "
                "estimation sample; set them to missing (NaN) or correct them"
            )


def select_sample(spec: ModelSpec, data: pd.DataFrame) -> Sample:
    """Apply ``in``, ``if`` and listwise deletion; check types and values.

    Type errors are raised before any row is dropped, so a text column is
    reported as such rather than as "no observations".
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    check_present(spec, data)
    names = list(spec.variables)
    for name in numeric_roles(spec):
        numeric_values(data[name], name)
    selected = in_mask(spec.sample_in, len(data)) & if_mask(spec.sample_if, data)
    missing = np.zeros(len(data), dtype=bool)
    for name in names:
        missing |= missing_mask(data[name])
    dropped = int((selected & missing).sum())
    keep = selected & ~missing
    if not keep.any():
        raise DataError(_empty_message(spec, int(selected.sum()), dropped))
    frame = data.loc[keep, names]
    _check_finite(frame)
    notes = []
    if dropped:
        word = "observation" if dropped == 1 else "observations"
        notes.append(f"({dropped} {word} deleted due to missing values)")
    return Sample(frame=frame, dropped=dropped, notes=notes)


def _empty_message(spec: ModelSpec, selected: int, dropped: int) -> str:
    if selected == 0:
        return "no observations: the if/in conditions select no rows"
    return (
        f"no observations: all {dropped} selected rows have a missing value in at least one "
        f"of {', '.join(spec.variables)}"
    )
