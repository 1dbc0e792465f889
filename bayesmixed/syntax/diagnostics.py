"""Error-message helpers shared by the Stata and formula front ends."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ..errors import caret_message

MAX_NESTING = 32
"""Deepest nesting of parentheses (and, in ``if`` expressions, of function
calls) that a command or formula may use.

Parsers descend by recursion per level of nesting -- formulae, which reads
lme4 formulas, spends about a dozen Python frames on each -- so an unbounded
depth would end in a RecursionError instead of a syntax error.  32 is far
beyond any real model and leaves most of the interpreter's limit to callers
that are themselves deep (test runners, notebooks, worker threads).
"""


def with_caret(message: str, source: str, column: int | None) -> str:
    """Format ``message`` with the source line and a caret, like StataSyntaxError.

    Used for errors that are not syntax errors (an unknown variable) but still
    have a place in the command the user should look at.
    """
    return caret_message(message, source, column)


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A ``did you mean`` hint, or an empty string when nothing is close.

    Prefix matches come first because Stata users abbreviate names
    (``math`` for ``math5``); near-misses by edit distance come next.
    """
    pool = [str(c) for c in candidates]
    prefix = [c for c in pool if c.lower().startswith(name.lower()) and c != name]
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
    hits = list(dict.fromkeys(prefix[:3] + close))[:3]
    if not hits:
        return ""
    return "; did you mean " + " or ".join(f"'{h}'" for h in hits) + "?"
