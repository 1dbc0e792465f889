"""Front ends: Stata command lines and lme4 formulas -> :class:`ModelSpec`.

The Stata path is a compiler pipeline (lexer -> recursive-descent parser ->
syntax tree -> resolver against the data); the formula path leans on
formulae for the fixed part and reads the ``(expr | group)`` terms itself.
Both produce the same :class:`~bayesmixed.spec.model.ModelSpec` for the
same model.
"""

from __future__ import annotations

import pandas as pd

from ..errors import StataSyntaxError
from ..spec.model import ModelSpec
from . import ast
from .expr import IfExpr
from .formula import formula_to_spec
from .options import interpret
from .parser import parse_command as _parse_tree
from .resolver import resolve

__all__ = ["IfExpr", "ast", "formula_to_spec", "parse_command", "resolve", "stata_to_spec"]


def parse_command(text: str) -> ast.Command:
    """Parse a Stata estimation command (no data needed).

    Options are checked here too, so an unknown option or a bad
    ``covariance()`` is reported with a caret before any data is loaded.
    """
    if not isinstance(text, str):
        raise StataSyntaxError("the command must be a string")
    command = _parse_tree(text)
    interpret(command)
    return command


def stata_to_spec(text: str, data: pd.DataFrame) -> ModelSpec:
    """Parse a Stata command and resolve it against ``data``."""
    return resolve(parse_command(text), data)
