"""Macros and scalar expressions: ``local``, ``global``, ``display``, `` `name' ``, ``$name``.

Stata substitutes macros in a command's text before it parses the command; so do we
(:func:`expand`).  Local and global macros are both session-wide here (a ``do`` file
called from another sees the caller's locals, where Stata gives it its own).  Scalar
expressions (``local n = 2*3``, ``display _b[math3]``) go through the estimation
parser's expression evaluator; a variable name in one means its first observation,
as in Stata, and ``_b[]``, ``_se[]``, ``e()``, ``r()``, ``_rc`` are replaced by their
values first.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ..errors import StataSyntaxError
from ..results.base import kind_of
from ..syntax.expr import eval_node
from ..syntax.expr_parser import parse_if
from ..syntax.lexer import TokenStream
from .errors import CommandError
from .regress import OLSResult
from .session import Session

_LOCAL = re.compile(r"`([^`']*)'")
_GLOBAL = re.compile(r"\$\{(\w+)\}|\$([A-Za-z_]\w*)")
_NAME = re.compile(r"[A-Za-z_]\w{0,31}$")


def expand(session: Session, text: str) -> str:
    """``text`` with every `` `local' ``, ``$global`` and `` `=expr' `` substituted."""
    text = _GLOBAL.sub(lambda m: session.globals.get(m.group(1) or m.group(2), ""), text)
    for _ in range(1000):  # innermost first: `x`i'' is `x1' after one pass
        match = _LOCAL.search(text)
        if match is None:
            return text
        name = match.group(1)
        if name.startswith("="):
            value = format_value(scalar(session, name[1:]))
        else:
            value = session.locals.get(name.strip(), "")
        text = text[: match.start()] + value + text[match.end() :]
    raise CommandError("macro expansion does not end (a macro that contains itself?)")


# ------------------------------------------------------------------ scalar values
def format_value(value: object) -> str:
    """A scalar as a macro holds it: ``3`` not ``3.0``, ``.5`` not ``0.5``, ``.`` for missing."""
    if isinstance(value, str):
        return value
    x = float(value)
    if math.isnan(x):
        return "."
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    text = repr(x)
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def format_display(value: object) -> str:
    """A scalar as ``display`` prints it (Stata's ``%10.0g``, without padding)."""
    if isinstance(value, str):
        return value
    x = float(value)
    if math.isnan(x):
        return "."
    if x.is_integer() and abs(x) < 1e10:
        return str(int(x))
    text = f"{x:.8g}" if abs(x) >= 1e-5 else f"{x:.3e}"
    if "e" not in text:
        text = text.rstrip("0") if "." in text else text
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def scalar(session: Session, text: str) -> float | str:
    """The value of a scalar expression (first observation for variables)."""
    text = _substitute_results(session, text)
    stream = TokenStream(text)
    expr = parse_if(stream)
    if not stream.at("EOF"):
        stream.fail("unexpected text after the expression")
    frame = session.data if session.data is not None and len(session.data) else None
    if frame is None:
        frame = pd.DataFrame(index=[0])
    value = np.asarray(eval_node(expr.root, frame))
    first = value.reshape(-1)[0] if value.size else np.nan
    if value.dtype == object:
        return str(first)
    return float(first)


_B = re.compile(r"\b(_b|_se|_coef)\[([^\]]+)\]")
_E = re.compile(r"\b([er])\((\w+)\)")
_RC = re.compile(r"(?<![\w.])_rc\b")


def _substitute_results(session: Session, text: str) -> str:
    """Replace ``_b[x]``, ``_se[x]``, ``e(name)``, ``r(name)``, ``_rc`` outside strings."""
    parts = re.split(r'("[^"]*")', text)
    for i in range(0, len(parts), 2):
        part = _B.sub(lambda m: _num(_coefficient(session, m.group(1), m.group(2))), parts[i])
        part = _E.sub(lambda m: _num(_result(session, m.group(1), m.group(2))), part)
        parts[i] = _RC.sub(str(session.rc), part)
    return "".join(parts)


def _num(value: float) -> str:
    return "." if math.isnan(value) else repr(float(value))


def _coefficient(session: Session, kind: str, name: str) -> float:
    from .model_cmds import coef_se

    est = session.require_estimate(f"{kind}[{name}]")
    coef, se = coef_se(est.result)
    values = se if kind == "_se" else coef
    name = name.strip()
    if name not in values.index:
        known = ", ".join(map(str, values.index))
        raise CommandError(f"{kind}[{name}] not found (coefficients: {known})")
    return float(values[name])


# e() results -> attribute, for each kind of fit the session can hold
_E_LIKELIHOOD = {"N": "nobs", "ll": "loglik", "aic": "aic", "bic": "bic"}
_E_REGRESS = {"N": "nobs", "r2": "r2", "rmse": "root_mse", "N_clust": "n_clusters"}
_E_POSTERIOR = {"N": "nobs"}  # a Bayesian fit maximized no likelihood


def _e_names(result: object) -> dict[str, str]:
    """The ``e()`` results ``result`` stores, chosen by its kind."""
    if isinstance(result, OLSResult):
        return _E_REGRESS
    kind = kind_of(result)
    if kind is None:
        return {}
    return _E_LIKELIHOOD if kind.likelihood else _E_POSTERIOR


def _result(session: Session, kind: str, name: str) -> float:
    if kind == "r":
        if name not in session.results:
            return float("nan")  # Stata: a missing r() is missing
        return float(session.results[name])
    est = session.require_estimate(f"e({name})")
    names = _e_names(est.result)
    attr = names.get(name)
    value = getattr(est.result, attr) if attr else None
    if value is None:
        known = ", ".join(names)
        raise CommandError(f"e({name}) is not available here (available: {known})")
    return float(value() if callable(value) else value)


# ------------------------------------------------------------------ commands
def cmd_local(session: Session, text: str, line: int) -> str:
    _define(session, text, session.locals)
    return ""


def cmd_global(session: Session, text: str, line: int) -> str:
    _define(session, text, session.globals)
    return ""


def _define(session: Session, text: str, store: dict[str, str]) -> None:
    word, _, rest = text.partition(" ")
    rest = rest.strip()
    if rest.startswith(("++", "--")):  # local ++i
        name = rest[2:].strip()
        step = 1 if rest.startswith("++") else -1
        store[name] = format_value(_number(store.get(name, "0"), name) + step)
        return
    match = re.match(r"([A-Za-z_]\w*)\s*(.*)$", rest, re.S)
    if match is None or not _NAME.match(match.group(1)):
        raise CommandError(f"{word}: give a macro name, e.g. '{word} n = 5' or '{word} vars a b'")
    name, value = match.group(1), match.group(2).strip()
    if value.startswith("="):
        store[name] = format_value(scalar(session, value[1:].strip()))
    elif value.startswith(":"):
        store[name] = _extended(session, value[1:].strip())
    else:
        store[name] = _unquote(value)


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError as err:
        raise CommandError(f"macro '{name}' is not a number ('{text}')") from err


def _unquote(value: str) -> str:
    """``"a b"`` -> ``a b``; compound quotes `` `"a "b""' `` likewise; else as written."""
    if value.startswith('`"') and value.endswith("\"'"):
        return value[2:-2]
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"' and '"' not in value[1:-1]:
        return value[1:-1]
    return value


def _extended(session: Session, text: str) -> str:
    """``local n : word count a b c``, ``: word 2 of a b c``, ``: list sizeof``."""
    match = re.match(r"word\s+count\s*(.*)$", text, re.S)
    if match:
        return str(len(split_words(match.group(1))))
    match = re.match(r"word\s+(\d+)\s+of\s*(.*)$", text, re.S)
    if match:
        words = split_words(match.group(2))
        k = int(match.group(1))
        return words[k - 1] if 1 <= k <= len(words) else ""
    match = re.match(r"var(?:iable)?\s+l(?:abel)?\s+(\w+)$", text)
    if match:
        return session.var_labels.get(match.group(1), "")
    raise CommandError(
        f"extended macro function ': {text}' is not supported "
        "(supported: word count, word # of, variable label)"
    )


def split_words(text: str) -> list[str]:
    """Words as Stata's lists see them: blanks separate, ``"a b"`` is one word."""
    return [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', text)]


_DIRECTIVE = re.compile(
    r"(?<![\w.])(?:(as\s+(?:text|txt|result|res|error|err|input|inp))\b"
    r"|(_newline|_n)(?:\((\d+)\))?(?![\w(])"
    r"|(_col|_column|_skip)\((\d+)\)"
    r"|(%-?\d*\.\d+[fge]c?))"
)


def cmd_display(session: Session, text: str, line: int) -> str:
    """``display [%fmt] "text" expr ...``: strings as written, expressions evaluated.

    The directives ``as text|result|error``, ``_n``/``_newline[(#)]``, ``_col(#)``,
    ``_skip(#)`` and a ``%w.d[fge]`` format for the next expression are understood.
    """
    parts = text.split(None, 1)
    rest = parts[1] if len(parts) > 1 else ""
    out: list[str] = []
    fmt: str | None = None
    for piece in re.split(r'("[^"]*")', rest):
        if piece.startswith('"') and piece.endswith('"') and len(piece) >= 2:
            out.append(piece[1:-1])
            continue
        pos = 0
        for match in [*_DIRECTIVE.finditer(piece), None]:
            expr = piece[pos : match.start() if match else len(piece)].strip()
            if expr:
                out.append(_formatted(scalar(session, expr), fmt))
                fmt = None
            if match is None:
                break
            pos = match.end()
            if match.group(2):
                out.append("\n" * int(match.group(3) or 1))
            elif match.group(4):
                width = int(match.group(5))
                current = len("".join(out).rsplit("\n", 1)[-1])
                pad = width - 1 - current if match.group(4) != "_skip" else width
                out.append(" " * max(pad, 0))
            elif match.group(6):
                fmt = match.group(6)
    return "".join(out)


def _formatted(value: float | str, fmt: str | None) -> str:
    if fmt is None or isinstance(value, str):
        return format_display(value)
    if math.isnan(float(value)):
        return "."
    left = fmt.startswith("%-")
    spec = fmt.lstrip("%-").rstrip("c")
    kind = spec[-1]
    width, _, digits = spec[:-1].partition(".")
    if kind == "g":
        body = f"{value:.{max(int(digits or 0), 1)}g}" if digits != "0" else format_display(value)
    else:
        body = f"{value:,.{int(digits)}{kind}}" if fmt.endswith("c") else f"{value:.{digits}{kind}}"
    return body.ljust(int(width or 0)) if left else body.rjust(int(width or 0))


def numlist(text: str) -> list[float]:
    """Stata's numlist: ``1 2 3``, ``1/5``, ``0(5)20``, ``10(-2)0``."""
    values: list[float] = []
    for item in text.replace(",", " ").split():
        match = re.fullmatch(r"(-?[\d.]+)(?:/(-?[\d.]+)|\((-?[\d.]+)\)(-?[\d.]+))?", item)
        if match is None:
            raise StataSyntaxError(f"invalid numlist element '{item}'")
        first = float(match.group(1))
        if match.group(2) is not None:
            last = float(match.group(2))
            step = 1.0 if last >= first else -1.0
        elif match.group(3) is not None:
            step, last = float(match.group(3)), float(match.group(4))
            if step == 0:
                raise StataSyntaxError(f"invalid numlist element '{item}': step 0")
        else:
            values.append(first)
            continue
        count = int(math.floor((last - first) / step + 1e-9)) + 1
        if count < 0:
            raise StataSyntaxError(f"invalid numlist element '{item}': empty range")
        values += [first + k * step for k in range(count)]
    return values
