"""Split a do-file into commands, each with the line it starts on.

Stata's rules, as [U] 16.1.2 states them:

* ``*`` as the first non-blank character of a command makes the whole line a comment;
* ``//`` (at the start of a line or after a blank) starts a comment to the end of the line;
* ``///`` (same placement) ends the physical line *and joins the next one* to this command;
* ``/* ... */`` is a comment that may span lines and may nest.

Quotes protect their content (``"a // b"`` is a string, not a comment).  A ``*``
comment whose text starts with ``#`` (``* # Random slopes``) is kept as a *heading*,
which the report turns into a section title; that is our convention, Stata ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import StataSyntaxError


@dataclass(frozen=True)
class DoCommand:
    """One logical command: ``text`` with comments removed, ``line`` where it starts."""

    text: str
    line: int
    kind: str = "command"  # or "heading"


def split_commands(source: str) -> list[DoCommand]:
    """Commands and headings of ``source``, in order (blank commands dropped)."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[DoCommand] = []
    state = _State()
    for number, raw in enumerate(lines, start=1):
        _feed(state, raw, number, out)
    if state.depth:
        raise StataSyntaxError(f"line {state.comment_line}: '/*' comment is never closed")
    if state.parts:
        _flush(state, out)
    return out


@dataclass
class _State:
    parts: list[str] = None  # pieces of the command being joined by ///
    start: int = 0
    depth: int = 0  # nesting of /* */
    comment_line: int = 0
    star_comment: bool = False  # a '*' comment continued by ///

    def __post_init__(self) -> None:
        self.parts = []


def _feed(state: _State, raw: str, number: int, out: list[DoCommand]) -> None:
    if state.star_comment:
        state.star_comment = _ends_with_continuation(raw)
        return
    if not state.parts and state.depth == 0:
        stripped = raw.lstrip()
        if stripped.startswith("*"):
            _star_comment(state, stripped, number, out)
            return
    text, joined = _strip_comments(state, raw, number)
    if not state.parts:
        state.start = number
    state.parts.append(text)
    if not joined and state.depth == 0:
        _flush(state, out)


def _star_comment(state: _State, stripped: str, number: int, out: list[DoCommand]) -> None:
    body = stripped.lstrip("*").strip()
    state.star_comment = _ends_with_continuation(stripped)
    if body.startswith("#") and not state.star_comment:
        title = body.lstrip("#").strip()
        if title:
            out.append(DoCommand(title, number, "heading"))


def _ends_with_continuation(raw: str) -> bool:
    stripped = raw.rstrip()
    return stripped.endswith("///") and (len(stripped) == 3 or stripped[-4] in " \t")


def _flush(state: _State, out: list[DoCommand]) -> None:
    text = " ".join(p.strip() for p in state.parts if p.strip())
    state.parts = []
    if text:
        out.append(DoCommand(text, state.start))


def _strip_comments(state: _State, raw: str, number: int) -> tuple[str, bool]:
    """The line without comments, and whether it ends with ``///``."""
    buf: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        if state.depth:
            i = _inside_block(state, raw, i)
            continue
        ch = raw[i]
        if ch == '"':
            end = raw.find('"', i + 1)
            if end < 0:
                raise StataSyntaxError(f"line {number}: unterminated string: missing closing '\"'")
            buf.append(raw[i : end + 1])
            i = end + 1
        elif raw.startswith("/*", i):
            state.depth, state.comment_line = 1, number
            buf.append(" ")
            i += 2
        elif raw.startswith("//", i) and (i == 0 or raw[i - 1] in " \t"):
            return "".join(buf), raw.startswith("///", i)
        else:
            buf.append(ch)
            i += 1
    return "".join(buf), False


def _inside_block(state: _State, raw: str, i: int) -> int:
    if raw.startswith("*/", i):
        state.depth -= 1
        return i + 2
    if raw.startswith("/*", i):
        state.depth += 1
        return i + 2
    return i + 1
