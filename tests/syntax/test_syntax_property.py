"""Random input never escapes as anything but a BayesmixedError."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayesmixed.errors import BayesmixedError
from bayesmixed.syntax import formula_to_spec, parse_command, resolve

WORDS = [
    "mixed ",
    "melogit ",
    "meglm ",
    "bayes",
    "y ",
    "x ",
    "z ",
    "id",
    "g",
    "child*",
    "x?",
    "priv~",
    "i.",
    "c.",
    "ib2.",
    "ib(#2).",
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
    "1e3",
    '"a"',
    "==",
    "!=",
    "~=",
    ">",
    "<=",
    "&",
    "!",
    "~",
    "^",
    "*",
    "/",
    "+",
    "cov(",
    "un",
    "nocons",
    "reml",
    "var",
    "level(",
    "95",
    "res(",
    "ar 1",
    "t(",
    "time",
    "by(",
    "family(",
    "binomial",
    "link(",
    "logit",
    "or",
    "_all",
    "missing(",
    "=",
    "@",
    "mi(x)",
    "inlist(",
    "school",
    "label",
    "f",
    "l",
]
FORMULA_WORDS = [
    "y",
    "x",
    "z",
    "id",
    "g",
    "label",
    "school",
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
    "'",
    ",",
    "=",
    ".",
    "%",
    "[",
    "]",
    "{",
    "}",
]


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(["", "mixed y ", "melogit c_use ", "meglm y x ", "bayes, "]),
    st.lists(st.sampled_from(WORDS), max_size=14).map("".join),
)
def test_stata_parse_and_resolve_only_raise_bayesmixed_errors(frame, start, text):
    try:
        resolve(parse_command(start + text), frame)
    except BayesmixedError:
        pass


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet='mixed yx|:,()#.i&!~=<>"*?-1/ ', max_size=30))
def test_stata_on_raw_characters(frame, text):
    try:
        resolve(parse_command("mixed " + text), frame)
    except BayesmixedError:
        pass


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(["", "y ~ ", "y ~ x + ("]),
    st.lists(st.sampled_from(FORMULA_WORDS), max_size=14).map("".join),
)
def test_formula_only_raises_bayesmixed_errors(frame, start, text):
    try:
        formula_to_spec(start + text, frame)
    except BayesmixedError:
        pass
