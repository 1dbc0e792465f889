"""Reading the arguments of an option: abbreviations, numbers, names, rspec."""

from __future__ import annotations

from typing import NamedTuple

from ..spec.residual import NEEDS_T
from .ast import Option
from .lexer import Token, TokenStream
from .parser import parse_options


class Named(NamedTuple):
    """A variable named inside an option, with its column for error messages."""

    name: str
    col: int | None


class OptionError(Exception):
    """Raised inside option handling; turned into a StataSyntaxError with the source."""

    def __init__(self, message: str, col: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.col = col


RESIDUAL_TYPES = {
    "independent": "ind",
    "exchangeable": "ex",
    "ar": "ar",
    "ma": "ma",
    "unstructured": "un",
    "banded": "ba",
    "toeplitz": "toe",
    "exponential": "exp",
}
_ORDERED = ("ar", "ma", "banded", "toeplitz")


def match(word: str, table: dict[str, str]) -> str | None:
    """The full name ``word`` abbreviates in ``table`` (full -> minimum), or None."""
    for full, minimum in table.items():
        if len(word) >= len(minimum) and full.startswith(word) and word.startswith(minimum):
            return full
    return None


def require_no_arg(opt: Option, full: str) -> None:
    if opt.args is not None:
        raise OptionError(f"option '{full}' takes no argument", opt.arg_col)


def _single(opt: Option, full: str, kinds: tuple[str, ...], what: str) -> Token:
    if opt.args is None:
        raise OptionError(f"option '{full}()' needs {what}", opt.col)
    if len(opt.args) != 1 or opt.args[0].kind not in kinds:
        raise OptionError(f"option '{full}()' needs {what}, got '{opt.text}'", opt.arg_col)
    return opt.args[0]


def word_arg(opt: Option, full: str) -> str:
    return _single(opt, full, ("NAME",), "a single word").text


def name_arg(opt: Option, full: str) -> Named:
    token = _single(opt, full, ("NAME",), "a variable name")
    return Named(token.text, token.col)


def number_arg(opt: Option, full: str) -> float:
    return float(_single(opt, full, ("NUMBER",), "a number").text)


def int_arg(opt: Option, full: str, minimum: int = 1) -> int:
    token = _single(opt, full, ("NUMBER",), "a whole number")
    if not token.text.isdigit() or int(token.text) < minimum:
        raise OptionError(f"option '{full}()' needs a whole number >= {minimum}", token.col)
    return int(token.text)


def sub_stream(opt: Option, source: str) -> TokenStream:
    """A stream over an option's argument tokens, keeping their columns."""
    args = list(opt.args or ())
    end = args[-1].end if args else (opt.arg_col or 0)
    return TokenStream(source, args + [Token("EOF", "", end, end)])


def parse_residuals(opt: Option, source: str) -> dict:
    """``residuals(type [#] [, t(var) by(var)])`` -> dict for ResidualSpec."""
    if not opt.args:
        raise OptionError("residuals() needs a residual structure", opt.col)
    stream = sub_stream(opt, source)
    kind_tok = stream.next()
    full = match(kind_tok.text, RESIDUAL_TYPES) if kind_tok.kind == "NAME" else None
    if full is None:
        names = ", ".join(RESIDUAL_TYPES)
        raise OptionError(
            f"unknown residual structure '{kind_tok.text}'; use {names}", kind_tok.col
        )
    out: dict = {"type": full, "order": None, "t": None, "by": None}
    if stream.at("NUMBER"):
        out["order"] = _order(stream.next(), full)
    elif full in ("ar", "ma"):
        out["order"] = 1
    if stream.accept(","):
        for sub in _sub_options(stream):
            key = sub.name
            out[key] = name_arg(sub, key)
    if not stream.at("EOF"):
        raise OptionError(f"unexpected '{stream.peek.text}' in residuals()", stream.peek.col)
    if full in NEEDS_T and out["t"] is None:
        raise OptionError(f"residuals({full}) needs t(timevar)", kind_tok.col)
    return out


def _order(token: Token, full: str) -> int:
    if full not in _ORDERED:
        raise OptionError(f"residuals({full}) takes no order", token.col)
    if not token.text.isdigit() or int(token.text) < 1:
        raise OptionError("the order must be a whole number >= 1", token.col)
    return int(token.text)


def _sub_options(stream: TokenStream) -> tuple[Option, ...]:
    subs = parse_options(stream)
    seen = set()
    for sub in subs:
        if sub.name not in ("t", "by"):
            raise OptionError(
                f"unknown residuals() suboption '{sub.name}'; use t() or by()", sub.col
            )
        if sub.name in seen:
            raise OptionError(f"suboption '{sub.name}()' given twice", sub.col)
        seen.add(sub.name)
    return subs
