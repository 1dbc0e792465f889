"""Recursive-descent parser: Stata command line -> :class:`ast.Command`.

Grammar (``[]`` optional, ``*`` repetition)::

    command   := [prefix] CMD depvar fe_part ("||" equation)* EOF
    prefix    := "bayes" ["," options] ":"
    fe_part   := term* qualifiers ["," options]
    equation  := LEVEL ":" term* qualifiers ["," options]
    qualifiers:= ("if" expr | "in" range | "[" weight "]")*
    term      := part (("#" | "##") part)*
    part      := [fvop "."] (varref | "(" varref+ ")")
    varref    := pattern ["-" NAME]
    options   := (NAME ["(" balanced tokens ")"])*

``||`` is a token of its own, so an ``if`` expression's ``|`` (or) never
splits the command, and every error points at the token where parsing
stopped.
"""

from __future__ import annotations

import re

from ..errors import NotSupportedError
from ..spec.family import glm_commands
from .ast import (
    Command,
    Equation,
    FvPart,
    FvPrefix,
    FvTerm,
    InRange,
    Option,
    Prefix,
    VarRef,
    Weight,
)
from .diagnostics import with_caret
from .expr_parser import parse_if
from .lexer import Token, TokenStream, describe

COMMANDS = ("mixed", "xtmixed", *glm_commands(), "meglm")  # me* commands: the family registry
PREFIXES = ("bayes",)
_TERM_END = ("EOF", ",", "||", "[")
_PATTERN_KINDS = ("NAME", "NUMBER", "*", "?", "~")
_TS_OPERATOR = re.compile(r"^[LFDS]\d*$")


class _Qualifiers:
    """``if``/``in``/weight, which Stata accepts in any equation but applies globally."""

    def __init__(self) -> None:
        self.if_ = None
        self.in_: InRange | None = None
        self.weight: Weight | None = None


def parse_command(text: str) -> Command:
    """Parse a Stata estimation command into a syntax tree (no data needed)."""
    stream = TokenStream(text)
    prefix = _parse_prefix(stream)
    name = _parse_command_name(stream)
    depvar = _parse_depvar(stream)
    quals = _Qualifiers()
    fixed = _parse_terms(stream)
    _parse_qualifiers(stream, quals)
    fe_options = parse_options(stream) if stream.accept(",") else ()
    equations = []
    while stream.accept("||"):
        equations.append(_parse_equation(stream, quals))
    if not stream.at("EOF"):
        stream.fail(f"unexpected {describe(stream.peek)}")
    return Command(
        name=name,
        depvar=depvar,
        fixed=tuple(fixed),
        fe_options=fe_options,
        equations=tuple(equations),
        if_=quals.if_,
        in_=quals.in_,
        weight=quals.weight,
        prefix=prefix,
        source=text,
    )


def _parse_prefix(stream: TokenStream) -> Prefix | None:
    token = stream.peek
    if token.kind != "NAME" or token.text not in PREFIXES:
        return None
    if stream.peek_at(1).kind not in (",", ":"):
        stream.fail(f"expected ':' after the {token.text} prefix", stream.peek_at(1))
    stream.next()
    options = parse_options(stream, stop=(":",)) if stream.accept(",") else ()
    stream.expect(":", f"':' to end the {token.text} prefix")
    return Prefix(token.text, options, token.col)


def _parse_command_name(stream: TokenStream) -> str:
    token = stream.peek
    if token.kind == "EOF":
        stream.fail("empty command: expected mixed, melogit, ... followed by the model")
    if token.kind != "NAME" or token.text not in COMMANDS:
        stream.fail(f"unknown command {describe(token)}; available: {', '.join(COMMANDS)}")
    return stream.next().text


def _parse_depvar(stream: TokenStream) -> VarRef:
    token = stream.peek
    if token.kind not in ("NAME", "*", "?") or token.text in ("if", "in"):
        stream.fail(f"expected the dependent variable, found {describe(token)}")
    if token.kind == "NAME" and _starts_prefix(stream):
        stream.fail("the dependent variable cannot be a factor variable or use an operator")
    ref = _parse_varref(stream)
    if ref.end is not None:
        stream.fail("the dependent variable must be a single variable, not a range", token)
    return ref


# ------------------------------------------------------------------ varlists


def _parse_terms(stream: TokenStream) -> list[FvTerm]:
    terms = []
    while not stream.at(*_TERM_END) and not _at_qualifier(stream):
        terms.append(_parse_term(stream))
    return terms


def _at_qualifier(stream: TokenStream) -> bool:
    return stream.at_word("if") or stream.at_word("in")


def _parse_term(stream: TokenStream) -> FvTerm:
    start = stream.peek
    parts = [_parse_part(stream)]
    ops = set()
    while stream.at("#", "##"):
        op = stream.next()
        ops.add(op.kind)
        if len(ops) > 1:
            stream.fail("'#' and '##' cannot be mixed in one term; write the terms out", op)
        parts.append(_parse_part(stream))
    return FvTerm(tuple(parts), factorial="##" in ops, col=start.col)


def _parse_part(stream: TokenStream) -> FvPart:
    start = stream.peek
    prefix = _parse_fv_prefix(stream) if _starts_prefix(stream) else None
    if stream.at("("):
        if prefix is None:
            stream.fail("a parenthesized varlist needs an operator such as 'i.(a b)'")
        return FvPart(prefix, _parse_group(stream), start.col)
    if not stream.at(*_PATTERN_KINDS[:1], "*", "?"):
        stream.fail(f"expected a variable name, found {describe(stream.peek)}")
    return FvPart(prefix, (_parse_varref(stream),), start.col)


def _parse_group(stream: TokenStream) -> tuple[VarRef, ...]:
    opening = stream.next()
    refs = []
    while not stream.at(")"):
        if stream.at("EOF", "||", ",", "[") or _at_qualifier(stream):
            stream.fail("unclosed parenthesis: missing ')'", opening)
        if not stream.at("NAME", "*", "?"):
            stream.fail(f"expected a variable name, found {describe(stream.peek)}")
        refs.append(_parse_varref(stream))
    if not refs:
        stream.fail("empty parentheses: name at least one variable", opening)
    stream.next()
    return tuple(refs)


def _starts_prefix(stream: TokenStream) -> bool:
    """A name glued to '.' (``i.x``) or ``ib(...)`` starts a factor-variable operator."""
    token, nxt = stream.peek, stream.peek_at(1)
    if token.kind != "NAME" or nxt.col != token.end:
        return False
    return nxt.kind == "." or (token.text == "ib" and nxt.kind == "(")


def _parse_fv_prefix(stream: TokenStream) -> FvPrefix:
    token = stream.next()
    op = token.text
    if op == "ib" and stream.at("("):
        base = _parse_ib_paren(stream)
    elif op in ("i", "c", "R"):
        base = "first"
    elif op == "ibn":
        base = "none"
    elif re.fullmatch(r"ib\d+", op):
        base = int(op[2:])
    elif _TS_OPERATOR.match(op):
        raise NotSupportedError(
            with_caret(f"time-series operator '{op}.' is not supported", stream.source, token.col)
        )
    else:
        stream.fail(f"unknown factor-variable operator '{op}.'; use i., c., ib#. or R.", token)
    dot = stream.expect(".", f"'.' after '{op}'")
    if stream.peek.col != dot.end:
        stream.fail("no space is allowed after the '.' of a factor-variable operator")
    kind = "i" if op.startswith("i") else op
    return FvPrefix(kind, base, token.col)


def _parse_ib_paren(stream: TokenStream) -> int | str:
    opening = stream.next()
    if stream.accept("#"):
        num = stream.expect("NUMBER", "a level number after '#'")
        base: int | str = f"#{_int_text(stream, num)}"
    else:
        word = stream.expect("NAME", "first, last, freq or #n inside ib()")
        if word.text not in ("first", "last", "freq"):
            stream.fail(f"unknown base '{word.text}'; use first, last, freq or #n", word)
        base = word.text
    if not stream.at(")"):
        stream.fail("unclosed parenthesis: missing ')'", opening)
    stream.next()
    return base


def _int_text(stream: TokenStream, token: Token) -> int:
    if not token.text.isdigit():
        stream.fail(f"expected a whole number, found '{token.text}'", token)
    return int(token.text)


def _parse_varref(stream: TokenStream) -> VarRef:
    """A name, possibly with wildcards glued to it, possibly a range ``a-b``."""
    first = stream.next()
    text = first.text
    while stream.adjacent() and _pattern_piece(stream.peek):
        text += stream.next().text
    ref = VarRef(text, None, first.col)
    if stream.at("-") and stream.peek_at(1).kind == "NAME":
        if ref.is_pattern:
            stream.fail("a variable range cannot contain wildcards", first)
        stream.next()
        end = stream.next()
        if stream.adjacent() and _pattern_piece(stream.peek):
            stream.fail("a variable range cannot contain wildcards", end)
        ref = VarRef(text, end.text, first.col, end.col)
    return ref


def _pattern_piece(token: Token) -> bool:
    if token.kind == "NUMBER":
        return token.text.isdigit()
    return token.kind in _PATTERN_KINDS


# ------------------------------------------------------------ qualifiers


def _parse_qualifiers(stream: TokenStream, quals: _Qualifiers) -> None:
    while True:
        token = stream.peek
        if stream.at_word("if"):
            if quals.if_ is not None:
                stream.fail("'if' may be given only once", token)
            stream.next()
            quals.if_ = parse_if(stream)
        elif stream.at_word("in"):
            if quals.in_ is not None:
                stream.fail("'in' may be given only once", token)
            stream.next()
            quals.in_ = _parse_in(stream, token)
        elif stream.at("["):
            if quals.weight is not None:
                stream.fail("weights may be given only once", token)
            quals.weight = _parse_weight(stream)
        else:
            return


def _parse_in(stream: TokenStream, keyword: Token) -> InRange:
    first = _parse_obs(stream)
    last = _parse_obs(stream) if stream.accept("/") else first
    return InRange(first, last, keyword.col)


def _parse_obs(stream: TokenStream) -> int | str:
    sign = -1 if stream.accept("-") else 1
    token = stream.peek
    if token.kind == "NAME" and token.text.lower() in ("f", "l") and sign == 1:
        return stream.next().text.lower()
    if token.kind != "NUMBER" or not token.text.isdigit():
        stream.fail(
            f"expected an observation number, 'f' or 'l' after 'in', found {describe(token)}"
        )
    value = sign * int(stream.next().text)
    if value == 0:
        stream.fail("observation numbers start at 1", token)
    return value


def _parse_weight(stream: TokenStream) -> Weight:
    opening = stream.next()
    kind = stream.expect("NAME", "a weight type such as fweight or pweight")
    stream.expect("=", "'=' after the weight type")
    depth, start = 1, stream.peek.col
    while depth:
        token = stream.next()
        if token.kind == "EOF":
            stream.fail("unclosed bracket: missing ']'", opening)
        depth += {"[": 1, "]": -1}.get(token.kind, 0)
    text = stream.source[start : stream.tokens[stream.pos - 1].col].strip()
    return Weight(kind.text, text, opening.col)


# ---------------------------------------------------------------- equations


def _parse_equation(stream: TokenStream, quals: _Qualifiers) -> Equation:
    level = stream.peek
    if level.kind != "NAME" or level.text in ("if", "in"):
        stream.fail(f"expected a level variable after '||', found {describe(level)}")
    stream.next()
    if stream.adjacent() and _pattern_piece(stream.peek):
        stream.fail("the level variable must be named in full, without wildcards")
    if not stream.at(":"):
        stream.fail(f"expected ':' after the level variable '{level.text}'")
    stream.next()
    terms = _parse_terms(stream)
    _parse_qualifiers(stream, quals)
    options = parse_options(stream) if stream.accept(",") else ()
    if not stream.at("||", "EOF"):
        stream.fail(f"unexpected {describe(stream.peek)}")
    return Equation(level.text, tuple(terms), options, level.col)


# ------------------------------------------------------------------ options


def parse_options(stream: TokenStream, stop: tuple[str, ...] = ()) -> tuple[Option, ...]:
    options = []
    while not stream.at("EOF", "||", *stop):
        if not stream.at("NAME"):
            stream.fail(f"expected an option name, found {describe(stream.peek)}")
        if ":" in stop and stream.peek.text in COMMANDS:
            stream.fail(f"expected ':' before the command '{stream.peek.text}'")
        options.append(_parse_option(stream))
    return tuple(options)


def _parse_option(stream: TokenStream) -> Option:
    name = stream.next()
    if not stream.at("("):
        return Option(name.text, None, None, name.col, None)
    opening = stream.next()
    args: list[Token] = []
    depth = 1
    while True:
        token = stream.next()
        if token.kind == "EOF":
            stream.fail("unclosed parenthesis: missing ')'", opening)
        depth += {"(": 1, ")": -1}.get(token.kind, 0)
        if depth == 0:
            break
        args.append(token)
    text = stream.source[opening.end : token.col].strip()
    return Option(name.text, tuple(args), text, name.col, opening.end)
