"""Syntax tree of a Stata estimation command, before any data is seen.

The tree records what was written, with columns, and nothing that needs the
data: ``child*`` is still a pattern and ``x1-x3`` still a range here, because
only the resolver knows the data set's columns and their order.  Columns are
excluded from equality so tests can compare trees built by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .expr import IfExpr
from .lexer import Token


@dataclass(frozen=True)
class VarRef:
    """A variable as written: a name, a wildcard pattern or a range ``a-b``."""

    text: str
    end: str | None = None  # last variable of a range ``text-end``
    col: int | None = field(default=None, compare=False)
    end_col: int | None = field(default=None, compare=False)

    @property
    def is_pattern(self) -> bool:
        return any(ch in self.text for ch in "*?~")


@dataclass(frozen=True)
class FvPrefix:
    """A factor-variable operator: ``i.``, ``c.``, ``ib2.``, ``ibn.``, ``R.``...

    ``base`` is ``"first"``, ``"last"``, ``"freq"``, ``"none"``, an int (a
    level value, ``ib2.``) or a string ``"#2"`` (the second level, ``ib(#2).``),
    which only the resolver can turn into a value.
    """

    kind: str  # "i", "c" or "R"
    base: int | str = "first"
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FvPart:
    """One operand of ``#``: an optional prefix and one or more variables.

    ``i.(a b)`` has two variables; the prefix applies to each.
    """

    prefix: FvPrefix | None
    variables: tuple[VarRef, ...]
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FvTerm:
    """``a``, ``i.a#c.x`` or ``a##b`` (``factorial`` is True for ``##``)."""

    parts: tuple[FvPart, ...]
    factorial: bool = False
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Option:
    """``name`` or ``name(args)``; the arguments stay tokens until interpreted."""

    name: str
    args: tuple[Token, ...] | None = field(default=None, compare=False)
    text: str | None = None  # the argument text as written, without parentheses
    col: int | None = field(default=None, compare=False)
    arg_col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class InRange:
    """``in f/l``: 1-based, negative counts from the end, ``f``/``l`` keywords."""

    first: int | str
    last: int | str
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Weight:
    kind: str
    text: str
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Equation:
    """``|| level: varlist [, options]``."""

    level: str
    terms: tuple[FvTerm, ...] = ()
    options: tuple[Option, ...] = ()
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Prefix:
    """The ``bayes[, options]:`` prefix."""

    name: str
    options: tuple[Option, ...] = ()
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Command:
    """A whole estimation command."""

    name: str
    depvar: VarRef
    fixed: tuple[FvTerm, ...] = ()
    fe_options: tuple[Option, ...] = ()
    equations: tuple[Equation, ...] = ()
    if_: IfExpr | None = None
    in_: InRange | None = None
    weight: Weight | None = None
    prefix: Prefix | None = None
    source: str = field(default="", compare=False)
