"""Tokens of an lme4 formula with columns, and its top-level structure.

formulae's own scanner keeps no positions and drops what it does not
understand (``y ~ x | g`` silently loses ``| g``), so the formula is first
scanned here: this finds the ``~``, splits the right-hand side at top-level
``+``/``-`` and recognises each ``(expr | group)`` / ``(expr || group)`` term
by its bar at depth one, respecting strings and backquoted names.  Only the
pieces are handed to formulae.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FormulaError
from .diagnostics import MAX_NESTING

_SINGLE = "+-*/:~()[]{},=^<>!"


@dataclass(frozen=True)
class FTok:
    kind: str  # NAME, NUMBER, STRING, EOF, or the operator text
    text: str
    col: int
    end: int


@dataclass(frozen=True)
class Piece:
    """One ``+``/``-`` separated term of the right-hand side."""

    sign: str  # "+" or "-"
    start: int  # column of the first character
    end: int
    tokens: tuple[FTok, ...]


def scan(formula: str) -> list[FTok]:
    tokens = []
    pos = 0
    while pos < len(formula):
        if formula[pos].isspace():
            pos += 1
            continue
        end, kind = _one(formula, pos)
        tokens.append(FTok(kind, formula[pos:end], pos, end))
        pos = end
    tokens.append(FTok("EOF", "", len(formula), len(formula)))
    return tokens


def _one(src: str, pos: int) -> tuple[int, str]:
    char = src[pos]
    if char.isalpha() or char in "_.":
        end = pos + 1
        while end < len(src) and (src[end].isalnum() or src[end] in "_."):
            end += 1
        return end, "NAME"
    if char.isdigit():
        end = pos + 1
        while end < len(src) and (src[end].isdigit() or src[end] == "."):
            end += 1
        return end, "NUMBER"
    if char in "'\"`":
        close = src.find(char, pos + 1)
        if close < 0:
            raise FormulaError(f"unterminated quote {char}", src, pos)
        return close + 1, "NAME" if char == "`" else "STRING"
    for op in ("||", "**", "==", "!=", "<=", ">="):
        if src.startswith(op, pos):
            return pos + 2, op
    if char == "|" or char in _SINGLE:
        return pos + 1, char
    raise FormulaError(f"unexpected character '{char}' in formula", src, pos)


def split_tilde(formula: str, tokens: list[FTok]) -> tuple[list[FTok], list[FTok]]:
    """Left- and right-hand side tokens (EOF kept on the right)."""
    check_parens(formula, tokens)
    tildes = [i for i, t in enumerate(tokens) if t.kind == "~"]
    if len(tildes) != 1:
        col = tokens[tildes[1]].col if len(tildes) > 1 else 0
        raise FormulaError("a formula needs exactly one '~', as in y ~ x + (1 | g)", formula, col)
    i = tildes[0]
    return tokens[:i], tokens[i + 1 :]


def check_parens(formula: str, tokens: list[FTok]) -> None:
    """Brackets must match and nest at most ``MAX_NESTING`` deep.

    formulae parses a group by recursion (about a dozen Python frames per
    level), so deeper nesting would end in a RecursionError.
    """
    stack: list[FTok] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for tok in tokens:
        if tok.kind in ("(", "[", "{"):
            stack.append(tok)
            if len(stack) > MAX_NESTING:
                raise FormulaError(
                    f"the formula is nested more than {MAX_NESTING} levels deep", formula, tok.col
                )
        elif tok.kind in pairs:
            if not stack or stack[-1].kind != pairs[tok.kind]:
                raise FormulaError(f"unmatched '{tok.kind}'", formula, tok.col)
            stack.pop()
    if stack:
        raise FormulaError(f"unclosed '{stack[-1].kind}'", formula, stack[-1].col)


def split_pieces(formula: str, rhs: list[FTok]) -> list[Piece]:
    """Split at depth-0 ``+``/``-``; an empty piece (``x + + z``) is an error."""
    pieces: list[Piece] = []
    depth, sign, current, sep = 0, "+", [], None
    for tok in rhs:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(tok.kind, 0)
        if depth > 0 or tok.kind not in ("+", "-", "EOF"):
            current.append(tok)
            continue
        if current:
            pieces.append(Piece(sign, current[0].col, current[-1].end, tuple(current)))
        elif not (sep is None and tok.kind == "-"):
            where = sep.col if tok.kind == "EOF" and sep is not None else tok.col
            raise FormulaError("missing term in formula", formula, where)
        sign, current, sep = tok.kind, [], tok
    return pieces


def random_bar(formula: str, piece: Piece) -> FTok | None:
    """The bar of an ``(expr | group)`` piece, or None for a fixed-effects piece."""
    toks = piece.tokens
    if len(toks) < 2 or toks[0].kind != "(" or toks[-1].kind != ")":
        return None
    depth, bars = 0, []
    for i, tok in enumerate(toks):
        depth += {"(": 1, ")": -1}.get(tok.kind, 0)
        if depth == 0 and i < len(toks) - 1:
            return None  # "(a) : b" closes early: not one parenthesized group
        if depth == 1 and tok.kind in ("|", "||"):
            bars.append(tok)
    if len(bars) > 1:
        raise FormulaError(
            "a random-effects term has one bar: (expr | group)", formula, bars[1].col
        )
    return bars[0] if bars else None
