"""Property tests: any string gives a ModelSpec or a BayesmixedError, never anything else.

Four generators: a grammar of Stata commands (mostly valid, so the round-trip
checks run), the same commands with random edits, token soup and raw
characters; and the same for lme4 formulas.  Every input runs under a time
limit (a hang fails), every syntax error must carry a caret, and every spec
must survive JSON and re-render to a Stata command that parses to the same
model -- so a front end that silently reads a different model fails here.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayesmixed.syntax import formula_to_spec, stata_to_spec

from .fuzz_support import COUNTS, make_frame, run_one

FRAME = make_frame()


def fast(n: int) -> settings:
    # the per-input limit is fuzz_support.time_limit (a hang fails); hypothesis's own
    # deadline would flag a slow first call (imports) as an error
    return settings(
        max_examples=n, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )


VARS = ["y", "x", "z", "x2", "c_use", "k", "g", "id", "school", "dose", "time", "label", "nope"]
CONT = ["x", "z", "x2", "k"]
GROUPS = ["g", "id", "school", "_all", "dose"]


def _term(factors: bool = True):
    plain = st.sampled_from(CONT + ["x*", "x?", "x-z"])
    if not factors:
        return plain
    factor = st.builds(
        lambda p, v: p + v,
        st.sampled_from(["i.", "ib2.", "ib(last).", "ib(freq).", "ibn.", "c.", "ib(#1)."]),
        st.sampled_from(["dose", "dose", "g", "g", "x", "label"]),
    )
    inter = st.builds(lambda a, op, b: a + op + b, factor, st.sampled_from(["#", "##"]), plain)
    return st.one_of(plain, plain, factor, inter)


_IF = st.builds(
    lambda a, op, b, more: f"{a} {op} {b}{more}",
    st.sampled_from(["x", "z", "k", "dose", "-x", "x^2", "abs(z)", "missing(x)", "label"]),
    st.sampled_from([">", "<", ">=", "<=", "==", "!=", "~="]),
    st.sampled_from(["0", "1", ".5", ".", '"a"', "x2", "2*z"]),
    st.sampled_from(["", " & x < 2", " | !missing(z)", " & inlist(dose, 1, 2)"]),
)
_EQ_OPTS = st.one_of(
    st.just([]),
    st.lists(
        st.sampled_from(["nocons", "cov(un)", "cov(ex)", "cov(id)", "covariance(uns)"]),
        max_size=2,
        unique=True,
    ),
)
_FE_OPTS = {
    "melogit": ["nocons", "or", "intp(3)", "binomial(n)", "offset(z)", "intmethod(laplace)"],
    "mepoisson": ["nocons", "irr", "intp(3)", "exposure(n)", "offset(z)"],
    "meglm": [
        "nocons",
        "family(poisson)",
        "link(log)",
        "family(binomial n)",
        "eform",
        "family(gamma)",
        "family(nbinomial constant)",
    ],
}
_GLOBAL = st.lists(
    st.sampled_from(
        [
            "reml",
            "mle",
            "stddev",
            "var",
            "level(90)",
            "nolog",
            "base",
            "residuals(ar 1, t(time))",
            "res(exchangeable)",
            "res(ind, by(dose))",
            "res(toeplitz 1, t(time))",
        ]
    ),
    max_size=3,
)


@st.composite
def stata_commands(draw) -> str:
    cmd = draw(st.sampled_from(["mixed", "mixed", "xtmixed", "melogit", "mepoisson", "meglm"]))
    dep = {"melogit": "c_use", "mepoisson": "k"}.get(cmd, draw(st.sampled_from(["y", "y", "k"])))
    words = [cmd, dep, *draw(st.lists(_term(), max_size=3))]
    if draw(st.booleans()):
        words.append("if " + draw(_IF))
    if draw(st.integers(0, 4)) == 0:
        words.append(draw(st.sampled_from(["in 1/20", "in 5/l", "in f/10"])))
    choices = _FE_OPTS.get(cmd, ["nocons"])
    fe = draw(st.lists(st.sampled_from(choices), max_size=2, unique=True))
    if fe:
        words.append(", " + " ".join(fe))
    glob = draw(_GLOBAL) if cmd in ("mixed", "xtmixed") else []
    n_eq = draw(st.integers(0, 3))
    for i in range(n_eq):
        level = draw(st.sampled_from(GROUPS))
        body = "R.dose" if level == "_all" else " ".join(draw(st.lists(_term(False), max_size=2)))
        opts = draw(_EQ_OPTS) + (glob if i == n_eq - 1 else [])
        words.append(f"|| {level}: {body}" + (", " + " ".join(opts) if opts else ""))
    if glob and not n_eq:
        words.append(("" if fe else ", ") + " ".join(glob))
    return " ".join(words)


@st.composite
def edited(draw, base) -> str:
    text = draw(base)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "swap"]))
        char = draw(st.sampled_from(list("|:,()#.&!=<>\"'*?-/ ~^[]{}0123456789ixyzR_\t\n")))
        if action == "delete":
            text = text[:i] + text[i + 1 :]
        elif action == "insert":
            text = text[:i] + char + text[i:]
        elif i < len(text):
            text = text[:i] + char + text[i + 1 :]
    return text


SOUP = [
    "mixed ",
    "melogit ",
    "bayes: ",
    "y ",
    "x ",
    "z ",
    "g",
    "id",
    "i.",
    "c.",
    "ib2.",
    "R.",
    "#",
    "##",
    "||",
    "|",
    ":",
    ",",
    " ",
    "(",
    ")",
    "[",
    "]",
    "if ",
    "in ",
    "1/5",
    "-",
    ".",
    ".5",
    '"a"',
    "==",
    "!=",
    "&",
    "!",
    "^",
    "cov(",
    "un",
    "nocons",
    "reml",
    "res(",
    "ar 1",
    "t(",
    "time",
    "by(",
    "family(",
    "link(",
    "logit",
    "_all",
    "=",
    "@",
    "label",
    "`x'",
    "$y",
    "/*",
    "*/",
    "//",
    "\\",
    "\u00e9",
    "\x00",
    "1e999",
    "-1e-999",
]

FORMULA_WORDS = [
    "y",
    "x",
    "z",
    "g",
    "id",
    "school",
    "label",
    "~",
    "+",
    "-",
    "*",
    ":",
    "/",
    "|",
    "||",
    "(",
    ")",
    "0",
    "1",
    " ",
    "C(",
    "log(",
    "^2",
    "`",
    ",",
    "=",
    ".",
    "%",
    "[",
    "]",
    "{",
    "}",
    "I(",
    "x**2",
    "\\",
    "\u00e9",
    "\x00",
    "poly(",
    "scale(",
]


@st.composite
def formulas(draw) -> str:
    fixed = draw(
        st.lists(
            st.sampled_from(["x", "z", "x*z", "C(dose)", "0", "1", "x:z", "x2", "-1", "C(g)"]),
            max_size=3,
            unique=True,
        )
    )
    rand = []
    for _ in range(draw(st.integers(0, 3))):
        expr = draw(st.sampled_from(["1", "x", "0 + x", "1 + x", "x + z", "x*z", "0 + x:z"]))
        bar = draw(st.sampled_from(["|", "|", "||"]))
        grp = draw(st.sampled_from(["g", "id", "school", "g/id", "g:id", "label", "dose"]))
        rand.append(f"({expr} {bar} {grp})")
    rhs = " + ".join(fixed + rand) or "1"
    return f"{draw(st.sampled_from(['y', 'y', 'k', 'c_use']))} ~ {rhs}"


def _stata(text: str):
    return stata_to_spec(text, FRAME)


def _formula(text: str):
    return formula_to_spec(text, FRAME)


@fast(1000)
@given(stata_commands())
def test_stata_grammar(text):
    run_one(_stata, text, FRAME)


@fast(700)
@given(edited(stata_commands()))
def test_stata_grammar_with_edits(text):
    run_one(_stata, text, FRAME)


@fast(300)
@given(st.lists(st.sampled_from(SOUP), max_size=16).map("".join))
def test_stata_token_soup(text):
    run_one(_stata, text, FRAME)


@fast(200)
@given(st.text(max_size=40))
def test_stata_any_unicode(text):
    run_one(_stata, "mixed " + text, FRAME)


@fast(300)
@given(formulas())
def test_formula_grammar(text):
    run_one(_formula, text, FRAME)


@fast(200)
@given(
    st.one_of(
        edited(formulas()), st.lists(st.sampled_from(FORMULA_WORDS), max_size=14).map("".join)
    )
)
def test_formula_soup_and_edits(text):
    run_one(_formula, text, FRAME)


def test_zz_fuzz_totals():
    """Runs last: the generators reached the round-trip checks often enough to matter."""
    if COUNTS["inputs"] < 2000:
        pytest.skip("run with the whole fuzz module to see the totals")
    print(f"\nfuzz totals: {COUNTS}")
    assert COUNTS["specs"] >= 300
    assert COUNTS["rendered"] >= 200
