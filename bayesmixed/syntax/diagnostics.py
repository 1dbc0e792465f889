"""Error-message helpers shared by the Stata and formula front ends."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def with_caret(message: str, source: str, column: int | None) -> str:
    """Format ``message`` with the source line and a caret, like StataSyntaxError.

    Used for errors that are not syntax errors (an unknown variable) but still
    have a place in the command the user should look at.
    """
    if not source or column is None:
        return message
    col = max(0, min(column, len(source)))
    return f"{message} (column {col + 1})\n  {source}\n  {' ' * col}^"


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
