"""What a ``margins`` command asks for, parsed from Stata's syntax.

``margins [marginlist] [if] [in] [, at(atspec) atmeans over(varlist) dydx(varlist)
predict(statistic) level(#)]`` becomes a :class:`MarginsRequest`; the
computation (:mod:`.margins`) reads only the request, so the do-file command
and the Python method (``result.margins("dose, at(size=(5 10))", data)``)
reach the same numbers.

An ``atspec`` is a list of ``var = value``, ``var = (numlist)`` and
``(stat) varlist`` items, as Stata writes them; several variables with
number lists are crossed (``at(a=(1 2) b=(3 4))`` gives four scenarios), and
each ``at()`` option adds its own scenarios, in order.  Number lists take
Stata's forms ``1 2 3``, ``-10(5)10`` and ``1/4``.

``if`` and ``in`` restrict the rows averaged over (within the estimation
sample, as Stata's ``margins``): they are parsed here with the estimation
parser's expression reader, so ``if`` means what it means after ``mixed``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import BayesmixedError
from ..spec.options import DEFAULT_LEVEL
from ..syntax.expr import IfExpr
from ..syntax.expr_parser import parse_if
from ..syntax.lexer import TokenStream, describe

AT_STATS = ("mean", "median", "min", "max", "asobserved")
_NUMLIST_STEP = re.compile(r"^(-?[0-9.eE+-]+)\((-?[0-9.eE+-]+)\)(-?[0-9.eE+-]+)$")
_NUMLIST_RANGE = re.compile(r"^(-?\d+)/(-?\d+)$")


class MarginsError(BayesmixedError):
    """A ``margins``, ``marginsplot``, ``contrast`` or ``pwcompare`` request that cannot be met."""


@dataclass(frozen=True)
class AtItem:
    """One element of an ``at()``: ``var`` set to ``values`` or to a statistic."""

    var: str
    values: tuple[float, ...] = ()
    stat: str | None = None  # "mean", "median"... or None for explicit values


@dataclass(frozen=True)
class MarginsRequest:
    """A parsed ``margins`` command.

    Attributes
    ----------
    marginlist : factor-variable terms whose levels (cells, for ``a#b``) get a margin each.
    at : the ``at()`` options, each a list of :class:`AtItem`.
    atmeans : every covariate not set otherwise at its estimation-sample mean.
    over : variables whose observed groups each get their own average.
    dydx : variables whose (average) marginal effect is wanted instead of a prediction.
    predict : the prediction (``xb``, ``mu``, ``mu fixedonly``, ``pr``...), ``None``
        for the model's default.
    level : confidence level in percent.
    if_, in_ : the ``if`` condition and the ``in`` range (1-based, inclusive; negative
        counts from the end) restricting the rows averaged over, or ``None``.
    """

    marginlist: tuple[tuple[str, ...], ...] = ()
    at: tuple[tuple[AtItem, ...], ...] = ()
    atmeans: bool = False
    over: tuple[str, ...] = ()
    dydx: tuple[str, ...] = ()
    predict: str | None = None
    level: float = DEFAULT_LEVEL
    if_: IfExpr | None = None
    in_: tuple[int, int] | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def at_scenarios(self) -> list[tuple[AtItem, ...]]:
        """The ``at()`` scenarios, crossed within each ``at()``: a list of item tuples."""
        out: list[tuple[AtItem, ...]] = []
        for spec in self.at:  # items keep their order: a later one overrides an earlier one
            choices = [[i] if i.stat else [AtItem(i.var, (v,)) for v in i.values] for i in spec]
            out += list(itertools.product(*choices))
        return out or [()]


def numlist(text: str) -> tuple[float, ...]:
    """Stata's numlist: ``5 10``, ``-10(5)10``, ``1/4`` (and mixtures)."""
    out: list[float] = []
    for word in text.replace(",", " ").split():
        step = _NUMLIST_STEP.match(word)
        rng = _NUMLIST_RANGE.match(word)
        if step:
            a, d, b = (float(g) for g in step.groups())
            if d == 0 or (b - a) / d < 0:
                raise MarginsError(f"invalid numlist '{word}'")
            out += list(np.round(np.arange(a, b + d * 1e-9, d), 12))
        elif rng:
            a, b = int(rng.group(1)), int(rng.group(2))
            out += [float(v) for v in range(a, b + 1)] if a <= b else []
        else:
            try:
                out.append(float(word))
            except ValueError:
                raise MarginsError(f"invalid number '{word}' in numlist '{text}'") from None
    if not out:
        raise MarginsError(f"empty numlist '{text}'")
    return tuple(float(v) for v in out)


_AT_ITEM = re.compile(
    r"\s*(?:\((?P<stat>[a-z0-9]+)\)|(?P<var>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*"
    r"(?P<num>-?[0-9.eE+-]+(?![(/]))?|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)


def parse_at(text: str) -> tuple[AtItem, ...]:
    """``size=(5 10) female=1 (mean) _all`` -> at items."""
    items: list[AtItem] = []
    src = text.strip()
    pos, stat = 0, None
    while src[pos:].strip():
        match = _AT_ITEM.match(src, pos)
        if not match or match.end() == pos:
            raise MarginsError(f"at(): cannot read '{src[pos:]}'")
        pos = match.end()
        if match.group("stat"):
            stat = match.group("stat")
            if stat not in AT_STATS:
                raise MarginsError(
                    f"at(): statistic ({stat}) not supported ({', '.join(AT_STATS)})"
                )
        elif match.group("var"):
            values_text = match.group("num")
            if values_text is None:
                if pos >= len(src) or src[pos] != "(":
                    raise MarginsError(f"at(): give {match.group('var')}=# or =(numlist)")
                end = _closing(src, pos)
                values_text, pos = src[pos + 1 : end], end + 1
            items.append(AtItem(match.group("var"), numlist(values_text)))
            stat = None
        else:
            if stat is None:
                raise MarginsError(f"at(): give a value for {match.group('name')} (name=#)")
            items.append(AtItem(match.group("name"), (), stat))
    return tuple(items)


_WORD = re.compile(r"[A-Za-z]+")


def split_options(text: str) -> tuple[str, list[tuple[str, str | None]]]:
    """``dose, at(size=(5 10)) atmeans`` -> ("dose", [("at", "size=(5 10)"), ("atmeans", None)])."""
    body, _, opts = text.partition(",")
    out: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(opts):
        if opts[pos].isspace():
            pos += 1
            continue
        word = _WORD.match(opts, pos)
        if not word:
            raise MarginsError(f"cannot read the options at '{opts[pos:]}'")
        pos = word.end()
        arg = None
        if pos < len(opts) and opts[pos] == "(":
            end = _closing(opts, pos)
            arg, pos = opts[pos + 1 : end].strip(), end + 1
        out.append((word.group(), arg))
    return body.strip(), out


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise MarginsError(f"unbalanced parentheses in '{text[start:]}'")


def _abbrev(word: str, full: str, minimum: int) -> bool:
    return len(word) >= minimum and full.startswith(word)


def parse_margins(text: str) -> MarginsRequest:
    """The text after ``margins`` (``"dose if female == 1, at(size=(5 10))"``)."""
    text, qualifiers = take_qualifiers(text)
    body, options = split_options(text)
    marginlist = tuple(_term(w) for w in body.split())
    at: list[tuple[AtItem, ...]] = []
    values: dict = {"marginlist": marginlist, **qualifiers}
    for name, arg in options:
        if name == "at":
            at.append(parse_at(_need(name, arg)))
        elif _abbrev(name, "atmeans", 6):
            values["atmeans"] = True
        elif name == "over":
            values["over"] = tuple(_strip_i(w) for w in _need(name, arg).split())
        elif name == "dydx":
            values["dydx"] = tuple(_strip_i(w) for w in _need(name, arg).split())
        elif _abbrev(name, "predict", 2):
            values["predict"] = " ".join(_need(name, arg).split())
        elif _abbrev(name, "level", 1):
            values["level"] = _level(_need(name, arg))
        elif name in ("noatlegend", "vsquish", "nofvlabel", "cformat", "pformat", "sformat"):
            continue  # display-only options
        else:
            raise MarginsError(
                f"margins: option {name} not supported (at, atmeans, over, dydx, predict, level)"
            )
    return MarginsRequest(at=tuple(at), **values)


def _need(name: str, arg: str | None) -> str:
    if not arg:
        raise MarginsError(f"option {name}() needs an argument")
    return arg


def _level(text: str) -> float:
    try:
        level = float(text)
    except ValueError:
        raise MarginsError(f"level({text}) must be a number") from None
    if not 10 <= level <= 99.99:
        raise MarginsError(f"level({text}) must be between 10 and 99.99")
    return level


def _strip_i(word: str) -> str:
    return word[2:] if word.startswith(("i.", "c.")) else word


def _term(word: str) -> tuple[str, ...]:
    """``i.dose#i.female`` -> ("dose", "female"); ``dose##female`` is not supported."""
    if "##" in word:
        raise MarginsError(f"margins {word}: write the terms out (a b a#b) instead of ##")
    return tuple(_strip_i(part) for part in word.split("#"))


# -- if and in -------------------------------------------------------------------------------
_QUALIFIER = re.compile(r"(?:^|(?<=\s))(?:if|in)(?=[\s(])")


def take_qualifiers(text: str) -> tuple[str, dict]:
    """``dose if female == 1 in 1/50, at(...)`` -> (``"dose , at(...)"``, {if_, in_}).

    The qualifiers end at the first comma outside parentheses and quotes (an
    ``if`` may hold ``inlist(x, 1, 2)``); the options are left to :func:`split_options`.
    """
    cut = _top_level_comma(text)
    head, tail = text[:cut], text[cut:]
    found = _QUALIFIER.search(head)
    if not found:
        return text, {}
    stream = TokenStream(head[found.start() :])
    out: dict = {}
    while stream.at_word("if") or stream.at_word("in"):
        keyword = stream.next().text
        key = "if_" if keyword == "if" else "in_"
        if key in out:
            stream.fail(f"'{keyword}' may be given only once")
        out[key] = parse_if(stream) if keyword == "if" else _in_range(stream)
    if not stream.at("EOF"):
        stream.fail(f"unexpected {describe(stream.peek)} after the if/in qualifiers")
    return f"{head[: found.start()]} {tail}", out


def _top_level_comma(text: str) -> int:
    depth, quoted = 0, False
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif not quoted:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == "," and depth == 0:
                return i
    return len(text)


def _in_range(stream: TokenStream) -> tuple[int, int]:
    """``in 5``, ``in 10/20``, ``in -5/l``: 1-based, negative counting from the end."""
    first = _observation(stream)
    return (first, _observation(stream)) if stream.accept("/") else (first, first)


def _observation(stream: TokenStream) -> int:
    sign = -1 if stream.accept("-") else 1
    token = stream.peek
    if token.kind == "NAME" and token.text.lower() in ("f", "l") and sign == 1:
        return 1 if stream.next().text.lower() == "f" else -1
    if token.kind != "NUMBER" or not token.text.isdigit() or int(token.text) == 0:
        stream.fail(f"expected an observation number, f or l after 'in', found {describe(token)}")
    return sign * int(stream.next().text)
