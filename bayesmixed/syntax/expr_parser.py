"""Parser for ``if`` expressions, in Stata's precedence.

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

Binary operators are read with explicit stacks, so a chain of any length
costs no recursion; ``&`` and ``|`` chains are built as balanced trees (both
are associative, so the value is the same) to keep the tree shallow.  Runs
of prefix signs (``- -x``, ``!!x``) are read in loops too.  Parentheses,
function calls and a sign after ``!`` (``!-x``) recurse, and more than
:data:`~bayesmixed.syntax.diagnostics.MAX_NESTING` levels of them is a
syntax error pointing at the token that opens the level.  The tree itself
may be at most :data:`MAX_TREE_DEPTH` operators deep (a chain of 300 ``+``):
evaluation walks it without recursion, but comparing, hashing and pickling
a specification recurse through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .diagnostics import MAX_NESTING
from .expr import FUNCTIONS, Binary, Func, IfExpr, Missing, Num, Str, Unary, Var, tree_depth
from .lexer import Token, TokenStream, describe

_ORDER_OPS = (">", "<", "<=", ">=", "!=", "~=")
# Binary operators, loosest first; '^' binds tighter than unary minus and
# is read with the operands.
_PRECEDENCE = {
    "|": 1,
    "&": 2,
    "==": 3,
    **dict.fromkeys(_ORDER_OPS, 4),
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
}
_ASSOCIATIVE = ("&", "|")
MAX_TREE_DEPTH = 256


def parse_if(stream: TokenStream) -> IfExpr:
    """Parse one expression from ``stream`` and wrap it with its source text."""
    start = stream.peek
    if start.kind in ("EOF", ",", "||", "["):
        stream.fail("'if' needs an expression")
    root = _parse_or(stream)
    end = stream.tokens[stream.pos - 1].end
    if tree_depth(root) > MAX_TREE_DEPTH:
        stream.fail(
            f"the expression is too complex: it chains more than {MAX_TREE_DEPTH} operators; "
            "use inlist() or inrange(), or create a variable first",
            start,
        )
    if stream.at("="):
        stream.fail("'=' cannot be used in an expression; use '==' to test equality")
    return IfExpr(root, stream.source[start.col : end])


@contextmanager
def _nested(stream: TokenStream, token: Token) -> Iterator[None]:
    """One more level of nesting opened at ``token``, refused past the limit."""
    if stream.depth >= MAX_NESTING:
        stream.fail(f"the expression is nested more than {MAX_NESTING} levels deep", token)
    stream.depth += 1
    try:
        yield
    finally:
        stream.depth -= 1


class _Chain:
    """An ``&`` or ``|`` chain being read; becomes a balanced tree when done."""

    def __init__(self, op: str, items: list[object]) -> None:
        self.op = op
        self.items = items

    def tree(self) -> object:
        items = self.items
        while len(items) > 1:
            pairs = [Binary(self.op, a, b) for a, b in zip(items[::2], items[1::2], strict=False)]
            items = pairs + items[len(pairs) * 2 :]
        return items[0]


def _done(node: object) -> object:
    return node.tree() if isinstance(node, _Chain) else node


def _reduce(operands: list[object], op: str) -> None:
    right = _done(operands.pop())
    left = operands.pop()
    if op in _ASSOCIATIVE and isinstance(left, _Chain) and left.op == op:
        left.items.append(right)
        operands.append(left)
    elif op in _ASSOCIATIVE:
        operands.append(_Chain(op, [_done(left), right]))
    else:
        operands.append(Binary("!=" if op == "~=" else op, _done(left), right))


def _parse_or(stream: TokenStream) -> object:
    """A whole expression: operands joined by binary operators.

    Operator precedence parsing with explicit stacks (left-associative at
    every level), so only parentheses, calls and signs recurse.
    """
    operands = [_parse_negation(stream)]
    pending: list[str] = []
    while stream.peek.kind in _PRECEDENCE:
        op = stream.next().kind
        while pending and _PRECEDENCE[pending[-1]] >= _PRECEDENCE[op]:
            _reduce(operands, pending.pop())
        pending.append(op)
        operands.append(_parse_negation(stream))
    while pending:
        _reduce(operands, pending.pop())
    return _done(operands[0])


def _parse_negation(stream: TokenStream) -> object:
    signs = []
    while stream.at("-", "+"):
        signs.append(stream.next().kind)
    node = _parse_power(stream)
    for sign in reversed(signs):
        node = Unary("-", node) if sign == "-" else node
    return node


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
    bangs = 0
    while stream.at("!", "~"):
        stream.next()
        bangs += 1
    if not bangs:
        return _parse_primary(stream)
    if stream.at("-"):  # '!-x' negates the whole power: recursion, so it nests
        with _nested(stream, stream.peek):
            node = _parse_negation(stream)
    else:
        node = _parse_primary(stream)
    for _ in range(bangs):
        node = Unary("!", node)
    return node


def _parse_primary(stream: TokenStream) -> object:
    token = stream.peek
    if token.kind == "NUMBER":
        return Num(float(stream.next().text))
    if token.kind == "STRING":
        return Str(str(stream.next().value))
    if token.kind == ".":
        return _parse_missing(stream)
    if token.kind == "(":
        with _nested(stream, stream.next()):
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
    with _nested(stream, name):
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
