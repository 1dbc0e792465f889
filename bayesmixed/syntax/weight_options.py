"""Stata's ``vce()``, ``pwscale()``, ``pweight()``, ``fweight()`` and ``[weight=]`` (syntax tree).

The checks that need no data live here, with carets: the vce type and its
abbreviations (``vce(r)``, ``vce(cl school)``), the weight kinds ``mixed`` and
``me*`` take (``fweight`` and ``pweight``; Stata refuses ``aweight`` and
``iweight`` for these commands), and that a weight names one variable.  The
resolver checks the variables against the data and the levels against the
equations.
"""

from __future__ import annotations

from ..spec.options import PWSCALES
from .ast import Option, Weight
from .option_args import Named, OptionError, name_arg, word_arg

#: weight words Stata accepts in ``[...]``, by the kind they mean
WEIGHT_WORDS = {"fweight": "fweight", "fw": "fweight", "pweight": "pweight", "pw": "pweight"}
#: vce types: full name -> shortest abbreviation
VCE_WORDS = {"oim": "oim", "robust": "r", "cluster": "cl"}


def parse_vce(opt: Option) -> tuple[str, Named | None]:
    """``vce(oim)``, ``vce(robust)`` or ``vce(cluster var)`` -> (type, cluster variable)."""
    tokens = opt.args or ()
    if not tokens or tokens[0].kind != "NAME":
        raise OptionError("vce() needs oim, robust or cluster varname", opt.arg_col or opt.col)
    word = tokens[0].text.lower()
    full = next(
        (f for f, m in VCE_WORDS.items() if f.startswith(word) and word.startswith(m)), None
    )
    if full is None:
        raise OptionError(f"vce({word}) is not allowed; use oim, robust or cluster", tokens[0].col)
    if full != "cluster":
        if len(tokens) != 1:
            raise OptionError(f"vce({full}) takes nothing more", tokens[1].col)
        return full, None
    if len(tokens) != 2 or tokens[1].kind != "NAME":
        raise OptionError("vce(cluster) needs one cluster variable", tokens[0].col)
    return full, Named(tokens[1].text, tokens[1].col)


def parse_pwscale(opt: Option) -> str:
    word = word_arg(opt, "pwscale").lower()
    if word not in PWSCALES:
        raise OptionError(f"pwscale() must be one of {', '.join(PWSCALES)}", opt.arg_col)
    return word


def parse_level_weight(opt: Option, kind: str = "pweight") -> Named:
    """``pweight(var)`` or ``fweight(var)`` after a random-effects equation: one variable.

    Stata takes an expression there; we take a variable name, as for ``[fw=]``
    (generate the variable first), so that a saved spec names the data it read.
    """
    return name_arg(opt, kind)


def weight_word(word: str) -> str | None:
    """The weight kind a ``[word=...]`` means (``fw`` -> ``fweight``), or None."""
    return WEIGHT_WORDS.get(word.lower())


def weight_kind(weight: Weight) -> tuple[str, str]:
    """``[fw=w]`` -> ("fweight", "w"); other kinds and expressions are refused with a reason."""
    kind = weight_word(weight.kind)
    if kind is None:
        raise OptionError(
            f"{weight.kind} not allowed: mixed and me* take fweights and pweights", weight.col
        )
    text = weight.text.strip()
    if not text.replace("_", "a").isalnum() or text[0].isdigit():
        raise OptionError(
            f"the weight must be a variable name, got '{text}'; generate the variable first",
            weight.col,
        )
    return kind, text
