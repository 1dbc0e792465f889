"""The ``if`` qualifier: an expression tree with Stata's semantics.

Nodes are frozen dataclasses so a parsed qualifier is hashable and can sit
in a frozen :class:`~bayesmixed.spec.model.ModelSpec`; columns are kept for
error messages but excluded from equality, so two parses of the same
expression compare equal.

Stata semantics that differ from NumPy's and are implemented here:

* a numeric missing value (NaN) sorts *above* every number, so ``x > 5`` is
  true for missing ``x`` and ``x != .`` is how users drop missing values;
* a missing value is "true" in ``&``, ``|`` and ``!`` (it is not zero);
* arithmetic with a missing operand, or an impossible one (``1/0``,
  ``log(-1)``), gives missing rather than an error or infinity;
* a missing string is the empty string ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError, VariableError
from .diagnostics import suggest

# Function name -> (min args, max args or None for unlimited).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "missing": (1, None),
    "mi": (1, None),
    "inlist": (2, None),
    "inrange": (3, 3),
    "abs": (1, 1),
    "log": (1, 1),
    "ln": (1, 1),
    "exp": (1, 1),
    "sqrt": (1, 1),
    "int": (1, 1),
    "round": (1, 2),
    "floor": (1, 1),
    "ceil": (1, 1),
}
SYSTEM_VARIABLES = ("_n", "_N")


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Missing:
    """``.`` or an extended missing value ``.a`` ... ``.z`` (all NaN here)."""

    code: str = ""


@dataclass(frozen=True)
class Var:
    name: str
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "!"
    operand: object


@dataclass(frozen=True)
class Binary:
    op: str  # "|", "&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "^"
    left: object
    right: object


@dataclass(frozen=True)
class Func:
    name: str
    args: tuple


@dataclass(frozen=True)
class IfExpr:
    """A parsed ``if`` qualifier, applied by the design stage to choose rows."""

    root: object
    text: str = field(default="", compare=False)

    @property
    def variables(self) -> tuple[str, ...]:
        """Data columns the expression reads, in first-use order."""
        return tuple(dict.fromkeys(v.name for v in walk_vars(self.root)))

    def evaluate(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows that satisfy the expression."""
        value = eval_node(self.root, frame)
        if value.dtype == object:
            raise DataError(f"type mismatch: 'if {self.text}' is a string, not a condition")
        return np.broadcast_to(value != 0, (len(frame),)).copy()

    def __str__(self) -> str:
        return self.text


def children(node: object) -> tuple:
    """The operand nodes of ``node`` (empty for a leaf)."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Func):
        return node.args
    return ()


def walk_vars(node: object):
    """Yield every :class:`Var` node (system variables excluded), left to right.

    Iterative, with an explicit stack, because a long chain such as
    ``x + x + ... + x`` is a tree as deep as the chain is long and must not
    exhaust Python's recursion limit.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Var):
            if current.name not in SYSTEM_VARIABLES:
                yield current
        else:
            stack.extend(reversed(children(current)))


def tree_depth(node: object) -> int:
    """Operators on the longest root-to-leaf path (0 for a single operand)."""
    deepest, stack = 0, [(node, 0)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children(current))
    return deepest


# ---------------------------------------------------------------- evaluation


def eval_node(node: object, frame: pd.DataFrame) -> np.ndarray:
    """Evaluate to a float array (NaN = missing) or an object array of str.

    A post-order walk with an explicit stack (operands left to right, so the
    first bad variable is the one reported), for the same reason as
    :func:`walk_vars`: the tree of a long chain is deep.
    """
    stack: list[tuple[object, bool]] = [(node, False)]
    values: list[np.ndarray] = []
    while stack:
        current, ready = stack.pop()
        operands = children(current)
        if not operands:
            values.append(_leaf(current, frame))
        elif ready:
            args = values[len(values) - len(operands) :]
            del values[len(values) - len(operands) :]
            values.append(_apply(current, args))
        else:
            stack.append((current, True))
            stack.extend((child, False) for child in reversed(operands))
    return values[0]


def _leaf(node: object, frame: pd.DataFrame) -> np.ndarray:
    if isinstance(node, Num):
        return np.array(node.value, dtype=float)
    if isinstance(node, Missing):
        return np.array(np.nan)
    if isinstance(node, Str):
        return np.array(node.value, dtype=object)
    if isinstance(node, Var):
        return _column(node.name, frame)
    if isinstance(node, Func):  # a call without arguments
        return _call(node.name, [])
    raise TypeError(f"not an expression node: {node!r}")


def _apply(node: object, args: list[np.ndarray]) -> np.ndarray:
    if isinstance(node, Unary):
        return _unary(node.op, args[0])
    if isinstance(node, Binary):
        return _binary(node.op, args[0], args[1])
    return _call(node.name, args)


def _column(name: str, frame: pd.DataFrame) -> np.ndarray:
    if name == "_n":
        return np.arange(1, len(frame) + 1, dtype=float)
    if name == "_N":
        return np.array(float(len(frame)))
    if name not in frame.columns:
        raise VariableError(f"variable '{name}' not found{suggest(name, frame.columns)}")
    col = frame[name]
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col.astype("float64").to_numpy(na_value=np.nan)
    values = col.astype(object).to_numpy()
    return np.array(["" if _is_na(v) else str(v) for v in values], dtype=object)


def _is_na(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _is_string(a: np.ndarray) -> bool:
    return a.dtype == object


def _numeric(*arrays: np.ndarray, op: str) -> None:
    if any(_is_string(a) for a in arrays):
        raise DataError(f"type mismatch: operator '{op}' needs numbers, not strings")


def _clean(result: np.ndarray) -> np.ndarray:
    """Impossible arithmetic gives missing in Stata, never +/-inf."""
    result = np.asarray(result, dtype=float)
    return np.where(np.isfinite(result), result, np.nan)


def _truth(a: np.ndarray, op: str) -> np.ndarray:
    _numeric(a, op=op)
    return a != 0  # NaN != 0 is True: missing counts as true


def _unary(op: str, a: np.ndarray) -> np.ndarray:
    if op == "!":
        return (~_truth(a, "!")).astype(float)
    _numeric(a, op="-")
    return -a


def _binary(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if op in ("|", "&"):
        ta, tb = _truth(a, op), _truth(b, op)
        return (ta | tb if op == "|" else ta & tb).astype(float)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        return _compare(op, a, b).astype(float)
    if op == "+" and _is_string(a) and _is_string(b):
        return np.char.add(a.astype(str), b.astype(str)).astype(object)
    _numeric(a, b, op=op)
    with np.errstate(all="ignore"):
        if op == "+":
            return _clean(a + b)
        if op == "-":
            return _clean(a - b)
        if op == "*":
            return _clean(a * b)
        if op == "/":
            return _clean(a / b)
        return _clean(np.power(a, b))


def _compare(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if _is_string(a) != _is_string(b):
        raise DataError(f"type mismatch: cannot compare a string and a number with '{op}'")
    if _is_string(a):
        return _string_compare(op, a, b)
    lt = _less(a, b)
    eq = _equal(a, b)
    results = {
        "==": eq,
        "!=": ~eq,
        "<": lt,
        "<=": lt | eq,
        ">": ~(lt | eq),
        ">=": ~lt,
    }
    return results[op]


def _string_compare(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.broadcast_arrays(a, b)
    pairs = zip(a.ravel(), b.ravel(), strict=True)
    funcs = {
        "==": lambda x, y: x == y,
        "!=": lambda x, y: x != y,
        "<": lambda x, y: x < y,
        "<=": lambda x, y: x <= y,
        ">": lambda x, y: x > y,
        ">=": lambda x, y: x >= y,
    }
    fn = funcs[op]
    return np.array([fn(x, y) for x, y in pairs], dtype=bool).reshape(a.shape)


def _less(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Stata's order: every number is below missing; missings are equal."""
    na, nb = np.isnan(a), np.isnan(b)
    with np.errstate(invalid="ignore"):
        return (~na & nb) | (~na & ~nb & (a < b))


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na, nb = np.isnan(a), np.isnan(b)
    with np.errstate(invalid="ignore"):
        return (na & nb) | (~na & ~nb & (a == b))


def _call(name: str, args: list[np.ndarray]) -> np.ndarray:
    if name in ("missing", "mi"):
        flags = [(a == "") if _is_string(a) else np.isnan(a) for a in args]
        return np.logical_or.reduce(np.broadcast_arrays(*flags)).astype(float)
    if name == "inlist":
        hits = [_compare("==", args[0], other) for other in args[1:]]
        return np.logical_or.reduce(np.broadcast_arrays(*hits)).astype(float)
    if name == "inrange":
        return _inrange(*args)
    _numeric(*args, op=f"{name}()")
    with np.errstate(all="ignore"):
        return _clean(_math(name, args))


def _inrange(z: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Stata's inrange(): a missing bound is open (lower -inf, upper missing)."""
    if _is_string(z):
        return (_compare(">=", z, lo) & _compare("<=", z, hi)).astype(float)
    _numeric(lo, hi, op="inrange()")
    above = np.isnan(lo) | _compare(">=", z, lo)
    below = _compare("<=", z, hi)
    return (above & below).astype(float)


def _math(name: str, args: list[np.ndarray]) -> np.ndarray:
    x = args[0]
    if name in ("log", "ln"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)
    if name == "sqrt":
        return np.where(x >= 0, np.sqrt(np.abs(x)), np.nan)
    if name == "round":
        unit = args[1] if len(args) > 1 else np.array(1.0)
        return unit * np.floor(x / unit + 0.5)
    simple = {"abs": np.abs, "exp": np.exp, "int": np.trunc, "floor": np.floor, "ceil": np.ceil}
    return simple[name](x)
