"""Recursive-descent parser for ``if`` expressions, in Stata's precedence.

Stata's manual ([U] 13.2.5, ``help operators``) evaluates, from first to
last: ``!`` (or ``~``), ``^``, unary ``-``, ``/``, ``*``, ``-``, ``+``,
``!=``, ``>``, ``<``, ``<=``, ``>=``, ``==``, ``&``, ``|``.  So ``-2^2`` is
-4 and ``!x == 1`` means ``(!x) == 1``.  Multiplication/division and
addition/subtraction are left-associative pairs here, which gives the same
values as Stata's finer order; ``==`` binds more loosely than the other
comparisons, as in Stata.

Parsing stops before a token that cannot continue an expression (``in``,
``,``, ``||``, ``[``, end of command); the caller decides whether that token
is valid there.
"""

from __future__ import annotations

from .expr import FUNCTIONS, Binary, Func, IfExpr, Missing, Num, Str, Unary, Var
from .lexer import TokenStream, describe

_ORDER_OPS = (">", "<", "<=", ">=", "!=", "~=")
_MULT_OPS = ("*", "/")
_ADD_OPS = ("+", "-")


def parse_if(stream: TokenStream) -> IfExpr:
    """Parse one expression from ``stream`` and wrap it with its source text."""
    start = stream.peek
    if start.kind in ("EOF", ",", "||", "["):
        stream.fail("'if' needs an expression")
    root = _parse_or(stream)
    end = stream.tokens[stream.pos - 1].end
    if stream.at("="):
        stream.fail("'=' cannot be used in an expression; use '==' to test equality")
    return IfExpr(root, stream.source[start.col : end])


def _left_assoc(stream: TokenStream, ops: tuple[str, ...], operand) -> object:
    left = operand(stream)
    while stream.peek.kind in ops:
        op = stream.next().kind
        left = Binary("!=" if op == "~=" else op, left, operand(stream))
    return left


def _parse_or(stream: TokenStream) -> object:
    return _left_assoc(stream, ("|",), _parse_and)


def _parse_and(stream: TokenStream) -> object:
    return _left_assoc(stream, ("&",), _parse_equal)


def _parse_equal(stream: TokenStream) -> object:
    return _left_assoc(stream, ("==",), _parse_order)


def _parse_order(stream: TokenStream) -> object:
    return _left_assoc(stream, _ORDER_OPS, _parse_add)


def _parse_add(stream: TokenStream) -> object:
    return _left_assoc(stream, _ADD_OPS, _parse_mult)


def _parse_mult(stream: TokenStream) -> object:
    return _left_assoc(stream, _MULT_OPS, _parse_negation)


def _parse_negation(stream: TokenStream) -> object:
    if stream.accept("-"):
        return Unary("-", _parse_negation(stream))
    if stream.accept("+"):
        return _parse_negation(stream)
    return _parse_power(stream)


def _parse_power(stream: TokenStream) -> object:
    left = _parse_not(stream)
    while stream.accept("^"):
        if stream.accept("-"):
            right: object = Unary("-", _parse_not(stream))
        else:
            right = _parse_not(stream)
        left = Binary("^", left, right)
    return left


def _parse_not(stream: TokenStream) -> object:
    if stream.at("!", "~"):
        stream.next()
        operand = _parse_negation(stream) if stream.at("-") else _parse_not(stream)
        return Unary("!", operand)
    return _parse_primary(stream)


def _parse_primary(stream: TokenStream) -> object:
    token = stream.peek
    if token.kind == "NUMBER":
        return Num(float(stream.next().text))
    if token.kind == "STRING":
        return Str(str(stream.next().value))
    if token.kind == ".":
        return _parse_missing(stream)
    if token.kind == "(":
        stream.next()
        inner = _parse_or(stream)
        stream.expect(")", "')' to close the parenthesis")
        return inner
    if token.kind == "NAME":
        return _parse_name(stream)
    if token.kind == "=":
        stream.fail("'=' cannot be used in an expression; use '==' to test equality")
    stream.fail(f"expected a number, variable or '(' in the expression, found {describe(token)}")


def _parse_missing(stream: TokenStream) -> object:
    stream.next()
    nxt = stream.peek
    if nxt.kind == "NAME" and stream.adjacent() and len(nxt.text) == 1 and nxt.text.islower():
        stream.next()
        return Missing(nxt.text)
    return Missing()


def _parse_name(stream: TokenStream) -> object:
    token = stream.next()
    if token.text in ("if", "in"):
        stream.fail(f"'{token.text}' is a reserved word, not a variable", token)
    if stream.at("("):
        return _parse_call(stream, token)
    if stream.at("*", "?") and stream.adjacent():
        stream.fail("wildcards are not allowed in an expression; name the variable in full")
    return Var(token.text, token.col)


def _parse_call(stream: TokenStream, name) -> object:
    if name.text not in FUNCTIONS:
        known = ", ".join(f"{f}()" for f in FUNCTIONS)
        stream.fail(f"unknown function '{name.text}()'; available: {known}", name)
    stream.next()
    args: list[object] = []
    if not stream.at(")"):
        args.append(_parse_or(stream))
        while stream.accept(","):
            args.append(_parse_or(stream))
    stream.expect(")", f"')' to close {name.text}()")
    low, high = FUNCTIONS[name.text]
    if len(args) < low or (high is not None and len(args) > high):
        need = str(low) if low == high else f"at least {low}" if high is None else f"{low}-{high}"
        stream.fail(f"{name.text}() takes {need} argument(s), got {len(args)}", name)
    return Func(name.text, tuple(args))
