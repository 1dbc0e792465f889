"""Expanding Stata variable references against a data set's columns.

Stata's rules (``help varlist``): ``*`` matches zero or more characters,
``?`` exactly one, ``~`` zero or more but the match must be unique, and
``a-b`` means every variable from ``a`` to ``b`` in the data set's column
order.  Matches come back in column order, as Stata lists them.  Names are
case-sensitive, as in Stata.
"""

from __future__ import annotations

import re

import pandas as pd

from ..errors import VariableError
from .ast import VarRef
from .diagnostics import suggest, with_caret


class Columns:
    """The names a command may use: the string-named columns, in order."""

    def __init__(self, data: pd.DataFrame, source: str = "") -> None:
        self.names = [c for c in data.columns if isinstance(c, str)]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.source = source

    def fail(self, message: str, col: int | None) -> VariableError:
        return VariableError(with_caret(message, self.source, col))

    def require(self, name: str, col: int | None, what: str = "variable") -> str:
        """``name`` itself, or a VariableError with a caret and a suggestion."""
        if name not in self.index:
            hint = suggest(name, self.names)
            raise self.fail(f"{what} '{name}' not found in the data{hint}", col)
        return name

    def expand(self, ref: VarRef) -> list[str]:
        """Every column ``ref`` stands for, in column order."""
        if ref.end is not None:
            return self._range(ref)
        if ref.is_pattern:
            return self._pattern(ref)
        return [self.require(ref.text, ref.col)]

    def _range(self, ref: VarRef) -> list[str]:
        first = self.index[self.require(ref.text, ref.col)]
        last = self.index[self.require(ref.end, ref.end_col)]
        if last < first:
            raise self.fail(
                f"range '{ref.text}-{ref.end}' is backwards: '{ref.end}' comes before "
                f"'{ref.text}' in the data",
                ref.col,
            )
        return self.names[first : last + 1]

    def _pattern(self, ref: VarRef) -> list[str]:
        regex = re.compile(_to_regex(ref.text))
        hits = [name for name in self.names if regex.fullmatch(name)]
        if not hits:
            raise self.fail(f"no variables match '{ref.text}'", ref.col)
        if "~" in ref.text and len(hits) > 1:
            raise self.fail(
                f"'{ref.text}' is ambiguous: it matches {', '.join(hits)}; "
                "'~' must match exactly one variable",
                ref.col,
            )
        return hits


def _to_regex(pattern: str) -> str:
    pieces = {"*": ".*", "~": ".*", "?": "."}
    return "".join(pieces.get(ch, re.escape(ch)) for ch in pattern)
