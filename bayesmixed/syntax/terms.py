"""Factor-variable terms: ``ast.FvTerm`` -> ``spec.Term`` with data checks.

Stata's rules, applied here because they need the data:

* a bare name is continuous on its own but a factor inside ``#``/``##``
  (``x#z`` means ``i.x#i.z``);
* ``a##b`` is ``a b a#b`` (all lower-order terms, by degree);
* ``i.(a b)`` distributes the operator over the group, and ``#`` between
  groups forms every combination, in the order written;
* a factor must take nonnegative whole-number values (or be a string or
  categorical column, which bayesmixed accepts where Stata needs ``encode``)
  and ``ib#.`` must name a level that exists.
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pandas as pd

from ..errors import NotSupportedError, StataSyntaxError
from ..spec.model import Component, Term
from .ast import FvPart, FvTerm
from .diagnostics import with_caret
from .varlist import Columns


def expand_terms(terms: tuple[FvTerm, ...], cols: Columns, data: pd.DataFrame) -> list[Term]:
    """Every spec Term the written terms stand for, in Stata's order."""
    out: list[Term] = []
    for term in terms:
        out.extend(expand_term(term, cols, data))
    return out


def expand_term(term: FvTerm, cols: Columns, data: pd.DataFrame) -> list[Term]:
    interaction = len(term.parts) > 1
    choices = [_part_components(p, interaction, cols, data) for p in term.parts]
    if not term.factorial:
        return [Term(tuple(combo)) for combo in product(*choices)]
    out: dict[Term, None] = {}
    for degree in range(1, len(choices) + 1):
        for subset in combinations(range(len(choices)), degree):
            for combo in product(*(choices[i] for i in subset)):
                out[Term(_unique(combo))] = None
    return list(out)


def _unique(components: tuple[Component, ...]) -> tuple[Component, ...]:
    """``c.x##c.x`` yields ``x`` once as a main effect, as in Stata."""
    if len(set(components)) == 1 and len(components) > 1:
        return components if components[0].kind == "c" else components[:1]
    return components


def _part_components(
    part: FvPart, interaction: bool, cols: Columns, data: pd.DataFrame
) -> list[Component]:
    prefix = part.prefix
    if prefix is not None and prefix.kind == "R":
        raise StataSyntaxError(
            "R.varname is only allowed alone in a random-effects equation",
            cols.source,
            prefix.col,
        )
    if prefix is None:
        kind, base = ("i" if interaction else "c"), "first"
    else:
        kind, base = prefix.kind, prefix.base
    out = []
    for ref in part.variables:
        for name in cols.expand(ref):
            out.append(_component(name, kind, base, ref.col, cols, data))
    return out


def _component(
    name: str, kind: str, base: int | str, col: int | None, cols: Columns, data: pd.DataFrame
) -> Component:
    series = data[name]
    if kind == "c":
        check_continuous(name, series, col, cols)
        return Component(name, "c")
    return Component(name, "i", _check_factor(name, series, base, col, cols))


def check_continuous(name: str, series: pd.Series, col: int | None, cols: Columns) -> None:
    """A continuous variable must be numeric (bools count as 0/1)."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return
    raise cols.fail(f"variable '{name}' is not numeric; write i.{name} to use it as a factor", col)


def _check_factor(
    name: str, series: pd.Series, base: int | str, col: int | None, cols: Columns
) -> int | str:
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    values = series.dropna()
    if numeric:
        arr = values.to_numpy(dtype=float)
        if np.any(arr < 0) or np.any(arr != np.round(arr)):
            raise cols.fail(
                f"factor variable '{name}' must take nonnegative whole-number values", col
            )
    if isinstance(base, int):
        if not numeric or not np.any(values.to_numpy(dtype=float) == base):
            raise cols.fail(f"base level {base} of '{name}' does not occur in the data", col)
        return base
    if isinstance(base, str) and base.startswith("#"):
        return _nth_level(name, values, int(base[1:]), numeric, col, cols)
    return base


def _nth_level(
    name: str, values: pd.Series, n: int, numeric: bool, col: int | None, cols: Columns
) -> int:
    """``ib(#n).x``: the n-th smallest level, as the level value the spec stores."""
    if not numeric:
        raise NotSupportedError(
            with_caret(f"ib(#{n}). needs a numeric factor; '{name}' is not", cols.source, col)
        )
    levels = np.unique(values.to_numpy(dtype=float))
    if not 1 <= n <= len(levels):
        raise cols.fail(f"'{name}' has {len(levels)} levels, so ib(#{n}) does not exist", col)
    return int(levels[n - 1])
