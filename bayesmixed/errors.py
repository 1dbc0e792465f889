"""User-facing exceptions.

Every mistake a user can make (a typo in a command, an unknown variable, data
that cannot support the model) raises a subclass of :class:`BayesmixedError`,
so callers can catch one class and the message always says what is wrong and
where.  Programming errors inside the package are left as ordinary exceptions.
"""

from __future__ import annotations


class BayesmixedError(Exception):
    """Base class of every error caused by user input."""


class StataSyntaxError(BayesmixedError):
    """A command that cannot be parsed.

    The message repeats the command with a caret under the offending column,
    as a compiler would, because a Stata command line can be long and the
    user needs to see exactly where the parser stopped.
    """

    def __init__(self, message: str, source: str = "", column: int | None = None) -> None:
        self.reason = message
        self.source = source
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        return caret_message(self.reason, self.source, self.column)


_LONG = 160  # a command longer than this is shown cut around the caret
_WINDOW = 70  # characters shown on each side of the caret when cut


def caret_message(reason: str, source: str, column: int | None) -> str:
    """``reason (column n)``, the source line and a caret under column ``n``.

    A very long command (2,000 regressors) is cut to the stretch around the
    caret, marked with ``...``, so the message stays readable.
    """
    if not source or column is None:
        return reason
    col = max(0, min(column, len(source)))
    first, last = 0, len(source)
    if len(source) > _LONG:
        first, last = max(0, col - _WINDOW), min(len(source), col + _WINDOW)
    head = "..." if first > 0 else ""
    tail = "..." if last < len(source) else ""
    line = head + source[first:last] + tail
    return f"{reason} (column {col + 1})\n  {line}\n  {' ' * (col - first + len(head))}^"


class FormulaError(StataSyntaxError):
    """An lme4-style formula that cannot be parsed or translated."""


class VariableError(BayesmixedError):
    """A variable named in the command is absent or of the wrong type."""


class DataError(BayesmixedError):
    """The data cannot support the requested model (empty sample, one group...)."""


class SpecificationError(BayesmixedError):
    """A syntactically valid command that asks for an impossible model."""


class EstimationError(BayesmixedError):
    """The estimation could not be carried out (e.g. a singular design)."""


class NotSupportedError(BayesmixedError):
    """A valid request that this version of bayesmixed cannot fit yet.

    Raised rather than silently fitting a different model than written.
    """
