"""Tokens of a Stata command line, each with its column.

The lexer is context-free on purpose: ``*``, ``?`` and ``~`` are separate
tokens, and the parser joins them to an adjacent name when it reads a
varlist (``child*``) but treats them as operators inside an ``if``
expression.  Adjacency is decided from the columns, which is why every token
carries its start and end: Stata's ``child *`` (two things) and ``child*``
(one wildcard) differ only by a space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from ..errors import StataSyntaxError

# Longest operators first so that "||" wins over "|" and "##" over "#".
_OPERATORS = (
    "||",
    "##",
    "==",
    "!=",
    "~=",
    "<=",
    ">=",
    "|",
    "#",
    "&",
    "!",
    "~",
    "<",
    ">",
    "=",
    "+",
    "-",
    "*",
    "/",
    "^",
    "?",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
)


@dataclass(frozen=True)
class Token:
    """One lexeme: ``kind`` is NAME, NUMBER, STRING, EOF or the operator itself."""

    kind: str
    text: str
    col: int
    end: int

    @property
    def value(self) -> float | str:
        """The literal value of a NUMBER or STRING token."""
        if self.kind == "NUMBER":
            return float(self.text)
        if self.kind == "STRING":
            return self.text[1:-1]
        return self.text


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens ending with an EOF token at ``len(source)``."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char.isspace():
            pos += 1
            continue
        skipped = _skip_comment(source, pos)
        if skipped != pos:
            pos = skipped
            continue
        end = _scan_one(source, pos)
        tokens.append(_make(source, pos, end))
        pos = end
    tokens.append(Token("EOF", "", len(source), len(source)))
    return tokens


def _skip_comment(source: str, pos: int) -> int:
    """Skip ``/* ... */`` and the ``///`` line continuation of do-files."""
    if source.startswith("///", pos):
        end = source.find("\n", pos)
        return len(source) if end < 0 else end + 1
    if source.startswith("/*", pos):
        end = source.find("*/", pos + 2)
        if end < 0:
            raise StataSyntaxError("unterminated comment: missing '*/'", source, pos)
        return end + 2
    return pos


def _make(source: str, start: int, end: int) -> Token:
    text = source[start:end]
    first = text[0]
    if first.isalpha() or first == "_":
        kind = "NAME"
    elif first.isdigit() or (first == "." and len(text) > 1):
        kind = "NUMBER"
    elif first == '"':
        kind = "STRING"
    else:
        kind = text
    return Token(kind, text, start, end)


def _scan_one(source: str, pos: int) -> int:
    """Return the end of the token starting at ``pos``."""
    char = source[pos]
    if char.isalpha() or char == "_":
        return _scan_name(source, pos)
    if char.isdigit() or (char == "." and _digit_at(source, pos + 1)):
        return _scan_number(source, pos)
    if char == '"':
        return _scan_string(source, pos)
    for op in _OPERATORS:
        if source.startswith(op, pos):
            return pos + len(op)
    raise StataSyntaxError(f"unexpected character '{char}'", source, pos)


def _digit_at(source: str, pos: int) -> bool:
    return pos < len(source) and source[pos].isdigit()


def _scan_name(source: str, pos: int) -> int:
    end = pos + 1
    while end < len(source) and (source[end].isalnum() or source[end] == "_"):
        end += 1
    return end


def _scan_digits(source: str, pos: int) -> int:
    while _digit_at(source, pos):
        pos += 1
    return pos


def _scan_number(source: str, pos: int) -> int:
    """Numbers as Stata writes them: ``12``, ``1.5``, ``.5``, ``1e3``, ``2.5e-2``."""
    end = _scan_digits(source, pos)
    if end < len(source) and source[end] == "." and _digit_at(source, end + 1):
        end = _scan_digits(source, end + 1)
    if end < len(source) and source[end] in "eE":
        exp = end + 1
        if exp < len(source) and source[exp] in "+-":
            exp += 1
        if _digit_at(source, exp):
            end = _scan_digits(source, exp)
    if end < len(source) and (source[end].isalpha() or source[end] == "_"):
        raise StataSyntaxError(
            f"invalid number '{source[pos : _scan_name(source, end)]}'", source, pos
        )
    return end


def _scan_string(source: str, pos: int) -> int:
    end = source.find('"', pos + 1)
    if end < 0:
        raise StataSyntaxError("unterminated string: missing closing '\"'", source, pos)
    return end + 1


class TokenStream:
    """A cursor over tokens with the error helpers every parser needs."""

    def __init__(self, source: str, tokens: list[Token] | None = None) -> None:
        self.source = source
        self.tokens = tokens if tokens is not None else tokenize(source)
        self.pos = 0
        self.depth = 0  # nesting level, kept by parsers that recurse

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def peek_at(self, offset: int) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "EOF":
            self.pos += 1
        return token

    def at(self, *kinds: str) -> bool:
        return self.peek.kind in kinds

    def at_word(self, word: str) -> bool:
        return self.peek.kind == "NAME" and self.peek.text == word

    def accept(self, kind: str) -> Token | None:
        return self.next() if self.peek.kind == kind else None

    def expect(self, kind: str, what: str) -> Token:
        if self.peek.kind != kind:
            self.fail(f"expected {what}, found {describe(self.peek)}")
        return self.next()

    def adjacent(self) -> bool:
        """Whether the next token touches the previous one (no space between)."""
        return self.pos > 0 and self.tokens[self.pos - 1].end == self.peek.col

    def fail(self, message: str, token: Token | None = None) -> NoReturn:
        token = token or self.peek
        raise StataSyntaxError(message, self.source, token.col)


def describe(token: Token) -> str:
    """How an error message names a token."""
    if token.kind == "EOF":
        return "end of command"
    return f"'{token.text}'"
