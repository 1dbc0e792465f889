import numpy as np
import pandas as pd
import pytest

from bayesmixed.errors import DataError, StataSyntaxError
from bayesmixed.syntax.expr import Binary, Func, IfExpr, Missing, Num, Unary, Var
from bayesmixed.syntax.expr_parser import parse_if
from bayesmixed.syntax.lexer import TokenStream

DATA = pd.DataFrame(
    {
        "x": [1.0, 6.0, np.nan, 3.0],
        "y": [0.0, 1.0, 1.0, np.nan],
        "s": ["a", "b", None, "a"],
        "k": [1, 2, 3, 4],
    }
)


def parse(text: str) -> IfExpr:
    stream = TokenStream(text)
    expr = parse_if(stream)
    assert stream.at("EOF"), f"unparsed rest: {stream.peek}"
    return expr


def mask(text: str) -> list[bool]:
    return parse(text).evaluate(DATA).tolist()


def test_or_is_lowest_and_single_bar_is_or():
    assert parse("x > 1 | y < 2 & k == 3").root == Binary(
        "|",
        Binary(">", Var("x"), Num(1.0)),
        Binary("&", Binary("<", Var("y"), Num(2.0)), Binary("==", Var("k"), Num(3.0))),
    )


def test_power_before_negation_as_stata_documents():
    # Stata: "-2^2" is -4 ([U] 13.2.5: ^ is evaluated before negation)
    assert parse("-2^2").root == Unary("-", Binary("^", Num(2.0), Num(2.0)))


def test_not_binds_tightest():
    assert parse("!x == 1").root == Binary("==", Unary("!", Var("x")), Num(1.0))


def test_equality_looser_than_order():
    assert parse("k == x > 2").root == Binary("==", Var("k"), Binary(">", Var("x"), Num(2.0)))


def test_arithmetic_precedence():
    assert parse("1 + 2 * k").root == Binary("+", Num(1.0), Binary("*", Num(2.0), Var("k")))


def test_missing_is_greater_than_every_number():
    assert mask("x > 5") == [False, True, True, False]
    assert mask("x < 5") == [True, False, False, True]
    assert mask("x > 5 & x != .") == [False, True, False, False]
    assert mask("x == .") == [False, False, True, False]


def test_missing_counts_as_true_and_arithmetic_propagates():
    assert mask("y") == [False, True, True, True]
    assert mask("x + 1 > 100") == [False, False, True, False]
    assert mask("k / 0 == .") == [True] * 4


def test_strings_and_missing_string():
    assert mask('s == "a"') == [True, False, False, True]
    assert mask("missing(s)") == [False, False, True, False]
    assert mask('s + "z" == "az"') == [True, False, False, True]


def test_functions():
    assert mask("inlist(k, 1, 4)") == [True, False, False, True]
    assert mask("inrange(x, 2, 7)") == [False, True, False, True]
    assert mask("mi(x, y)") == [False, False, True, True]
    assert mask("abs(-k) == k & sqrt(k^2) == k") == [True] * 4
    assert mask("round(x / 2) == 1") == [True, False, False, False]  # round(1.5) is 2
    assert mask("round(2.5) == 3 & round(7, 5) == 5") == [True] * 4
    assert mask("log(0) == .") == [True] * 4
    assert mask("int(-1.5) == -1 & floor(-1.5) == -2 & ceil(1.2) == 2") == [True] * 4


def test_not_equal_spellings_and_not():
    assert mask("k ~= 2") == mask("k != 2") == [True, False, True, True]
    assert mask("~(k > 2)") == mask("!(k > 2)") == [True, True, False, False]


def test_system_variables():
    assert mask("_n <= 2") == [True, True, False, False]
    assert mask("_n == _N") == [False, False, False, True]


def test_variables_and_hashable():
    expr = parse('x > 1 | missing(y) | s == "a"')
    assert expr.variables == ("x", "y", "s")
    assert hash(expr) == hash(parse('x>1|missing(y)|s=="a"'))


def test_extended_missing():
    assert parse("x == .a").root == Binary("==", Var("x"), Missing("a"))


def test_type_mismatch_is_data_error():
    with pytest.raises(DataError):
        parse('x == "a"').evaluate(DATA)


@pytest.mark.parametrize(
    ("text", "column"),
    [("x >", 3), ("x = 1", 2), ("(x > 1", 6), ("foo(x)", 0), ("abs(x, y)", 0), ("x > 1 )", None)],
)
def test_errors_point_at_the_problem(text, column):
    stream = TokenStream(text)
    if column is None:
        parse_if(stream)
        assert stream.peek.kind == ")"  # left for the caller to reject
        return
    with pytest.raises(StataSyntaxError) as info:
        parse_if(stream)
    assert info.value.column == column


def test_call_node():
    assert parse("inrange(x, 1, .)").root == Func("inrange", (Var("x"), Num(1.0), Missing()))
