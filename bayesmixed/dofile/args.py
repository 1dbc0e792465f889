"""Stata's standard command syntax: ``cmd [varlist] [if exp] [in range] [, options]``.

Built on the estimation parser's lexer, expression parser and option reader, so an
``if`` means the same thing after ``summarize`` as after ``mixed`` and a typo gets the
same caret.  Options may be abbreviated as Stata allows (``conn(asc)``), down to the
minimum length each command declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..errors import StataSyntaxError, VariableError
from ..syntax.ast import Option
from ..syntax.diagnostics import suggest
from ..syntax.expr import IfExpr
from ..syntax.expr_parser import parse_if
from ..syntax.lexer import TokenStream, describe
from ..syntax.parser import parse_options
from ..validate import whole_number


@dataclass
class Args:
    """A parsed command: its words, its ``if`` and ``in``, its options by full name."""

    source: str
    words: list[str]
    if_: IfExpr | None = None
    in_: tuple[int, int] | None = None
    options: dict[str, Option] = field(default_factory=dict)

    def option_text(self, name: str) -> str | None:
        opt = self.options.get(name)
        return None if opt is None else (opt.text or "")

    def has(self, name: str) -> bool:
        return name in self.options


def parse_args(text: str, skip: int, options: dict[str, int]) -> Args:
    """Parse ``text`` after its first ``skip`` words.

    ``options`` maps each allowed option's full name to the shortest abbreviation
    Stata accepts; anything else is a syntax error naming the option.
    """
    stream = TokenStream(text)
    for _ in range(skip):
        stream.next()
    words: list[str] = []
    while stream.at("NAME") and stream.peek.text not in ("if", "in"):
        words.append(_word(stream))
    args = Args(text, words)
    while stream.at_word("if") or stream.at_word("in"):
        keyword = stream.next()
        if keyword.text == "if":
            args.if_ = parse_if(stream)
        else:
            args.in_ = _in_range(stream)
    if stream.accept(","):
        for opt in parse_options(stream):
            full = _full_option(opt, options, text)
            args.options[full] = opt
    if not stream.at("EOF"):
        stream.fail(f"unexpected {describe(stream.peek)}")
    return args


def _word(stream: TokenStream) -> str:
    """A name, with wildcard characters joined when they touch it (``math*``)."""
    token = stream.next()
    text = token.text
    while stream.adjacent() and stream.at("NAME", "NUMBER", "*", "?"):
        text += stream.next().text
    return text


def _in_range(stream: TokenStream) -> tuple[int, int]:
    first = stream.expect("NUMBER", "an observation number after 'in'")
    last = first
    if stream.accept("/"):
        last = stream.expect("NUMBER", "the last observation number after '/'")
    what = "an observation number after 'in'"
    begin = whole_number(float(first.text), what, written=first.text)
    return begin, whole_number(float(last.text), what, written=last.text)


def _full_option(opt: Option, allowed: dict[str, int], source: str) -> str:
    for full, minimum in allowed.items():
        if len(opt.name) >= minimum and full.startswith(opt.name):
            return full
    known = ", ".join(allowed) or "none"
    raise StataSyntaxError(f"option '{opt.name}' not allowed (allowed: {known})", source, opt.col)


def expand_varlist(words: list[str], frame: pd.DataFrame) -> list[str]:
    """Variable names with Stata's wildcards and unique abbreviations resolved."""
    import fnmatch

    columns = [str(c) for c in frame.columns]
    out: list[str] = []
    for word in words:
        if any(ch in word for ch in "*?"):
            hits = [c for c in columns if fnmatch.fnmatchcase(c, word)]
            if not hits:
                raise VariableError(f"variable '{word}' not found")
            out += hits
        elif word in columns:
            out.append(word)
        else:
            hits = [c for c in columns if c.startswith(word)]
            if len(hits) != 1:
                what = "ambiguous abbreviation" if hits else "not found"
                raise VariableError(f"variable '{word}' {what}{suggest(word, columns)}")
            out.append(hits[0])
    return list(dict.fromkeys(out))


def select_rows(args: Args, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows an ``if``/``in`` qualifier keeps (1-based ``in``, as Stata)."""
    if args.in_ is not None:
        first, last = args.in_
        if first < 1 or last > len(frame) or first > last:
            raise StataSyntaxError(f"in {first}/{last}: observation numbers out of range")
        frame = frame.iloc[first - 1 : last]
    if args.if_ is not None:
        frame = frame[args.if_.evaluate(frame)]
    return frame
