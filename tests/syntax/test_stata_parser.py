"""Syntax trees of Stata commands (no data involved)."""

import pytest

from bayesmixed.errors import NotSupportedError, StataSyntaxError
from bayesmixed.syntax import parse_command
from bayesmixed.syntax.ast import (
    Command,
    Equation,
    FvPart,
    FvPrefix,
    FvTerm,
    InRange,
    Option,
    Prefix,
    VarRef,
)
from bayesmixed.syntax.expr import Binary, IfExpr, Num, Var


def plain(*names):
    return tuple(FvTerm((FvPart(None, (VarRef(n),)),)) for n in names)


def test_tree_of_random_slope_command():
    tree = parse_command("mixed math5 math3 || school: math3, cov(unstructured)")
    assert tree == Command(
        name="mixed",
        depvar=VarRef("math5"),
        fixed=plain("math3"),
        equations=(Equation("school", plain("math3"), (Option("cov", text="unstructured"),)),),
    )


def test_tree_keeps_patterns_ranges_and_prefixes():
    tree = parse_command("melogit c_use age child* x1-x3 ib2.g##c.x R.z || d:")
    r_part = FvPart(FvPrefix("R"), (VarRef("z"),))
    assert tree.fixed == (
        *plain("age", "child*"),
        FvTerm((FvPart(None, (VarRef("x1", "x3"),)),)),
        FvTerm(
            (FvPart(FvPrefix("i", 2), (VarRef("g"),)), FvPart(FvPrefix("c"), (VarRef("x"),))), True
        ),
        FvTerm((r_part,)),
    )


def test_if_with_single_bar_is_not_an_equation_separator():
    tree = parse_command("mixed y x if x > 1 | y < 2 || id:")
    assert tree.if_ == IfExpr(
        Binary("|", Binary(">", Var("x"), Num(1.0)), Binary("<", Var("y"), Num(2.0)))
    )
    assert [eq.level for eq in tree.equations] == ["id"]


def test_qualifiers_in_any_order_and_in_last_equation():
    tree = parse_command("mixed y x in 1/10 if x > 0 || id:")
    assert tree.in_ == InRange(1, 10) and tree.if_ is not None
    tree = parse_command("mixed y x || id: if x > 0, reml")
    assert tree.if_ is not None and tree.equations[0].options == (Option("reml"),)


def test_bayes_prefix_with_options():
    tree = parse_command(
        "bayes, nchains(2) rseed(17) prior({y:}, normal(0, 100)): mixed y x || id:"
    )
    assert tree.prefix == Prefix(
        "bayes",
        (
            Option("nchains", text="2"),
            Option("rseed", text="17"),
            Option("prior", text="{y:}, normal(0, 100)"),
        ),
    )


def test_empty_fixed_part_and_group_prefix():
    tree = parse_command("mixed y || id:")
    assert tree.fixed == () and tree.equations == (Equation("id"),)
    tree = parse_command("mixed y i.(a b) || id:")
    assert tree.fixed == (FvTerm((FvPart(FvPrefix("i"), (VarRef("a"), VarRef("b"))),)),)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("mixed y x || id:, cov(un", 21),  # unclosed parenthesis: at the '('
        ("mixed y i.(a b || id:", 10),  # unclosed group
        ("mixed y x || : x", 13),  # || with no level
        ("mixed y x ||", 12),  # || at the end
        ("mixed y x || || id:", 13),
        ("mixed y x || id x", 16),  # missing colon
        ("mixed y x || id:, foo", 18),  # unknown option
        ("mixed y x, foo || id:", 11),
        ("mixed y x || id:, cov(foo)", 22),  # unknown covariance structure
        ("mixed y x || id:, nocons", 18),  # empty equation
        ("mixed y x if x > || id:", 17),  # bad if
        ("mixed y x if x = 1 || id:", 15),
        ("mixed y x if (x > 1 || id:", 20),
        ("mixed y x, level(5) || id:", 17),
        ("mixed y x || id:, reml || g:", 18),  # global option on a middle equation
        ("mixed y x || id:, reml mle", 23),
        ("melogit y x || id:, reml", 20),
        ("mixed y x || id:, or", 18),
        ("mixed y x || id:, residuals(ar 1)", 28),  # ar needs t()
        ("mixed y x || id:, residuals(foo)", 28),
        ("mixpd y x", 0),
        ("", 0),
        ("mixed", 5),
        ("mixed y x || id: x, cov(ex) cov(un)", 28),
        ("mixed y x in 0/5", 13),
        ("mixed y foo.x", 8),
        ("bayes, nchains(2) mixed y x", 18),
        ("bayes, foo: mixed y x", 7),
    ],
)
def test_syntax_errors_point_at_the_right_column(text, column):
    with pytest.raises(StataSyntaxError) as info:
        parse_command(text)
    assert info.value.column == column, str(info.value)
    if text:
        assert str(info.value).splitlines()[-1].index("^") == column + 2


def test_time_series_operators_and_known_options_not_supported():
    with pytest.raises(NotSupportedError, match=r"L\."):
        parse_command("mixed y L.x || id:")
    with pytest.raises(NotSupportedError, match="emiterate"):  # vce() is supported (issue 15)
        parse_command("mixed y x || id:, emiterate(5)")


def test_option_abbreviations():
    for text in (
        "mixed y x, noconstant || id:",
        "mixed y x, nocons || id:",
        "mixed y x, noconst || id:",
    ):
        assert parse_command(text).fe_options[0].name.startswith("nocons")
    with pytest.raises(StataSyntaxError):
        parse_command("mixed y x, noco || id:")  # shorter than Stata's nocons
