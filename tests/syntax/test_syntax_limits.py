"""Deep nesting and long term lists: a clean syntax error or a working model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmixed.errors import FormulaError, StataSyntaxError, VariableError
from bayesmixed.syntax import formula_to_spec, parse_command, stata_to_spec
from bayesmixed.syntax.diagnostics import MAX_NESTING
from bayesmixed.syntax.expr import Binary, Num, Var, tree_depth
from bayesmixed.syntax.expr_parser import MAX_TREE_DEPTH

N_TERMS = 2000


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    cols = {"y": rng.normal(size=30), "x": rng.normal(size=30), "g": np.arange(30) % 5}
    cols.update({f"x{i}": rng.normal(size=30) for i in range(1, N_TERMS + 1)})
    return pd.DataFrame(cols)


def _parens(depth: int, inner: str = "x > 0") -> str:
    return "(" * depth + inner + ")" * depth


def _caret_column(message: str) -> int:
    """The 0-based column the caret line points at, read back from the message."""
    lines = message.splitlines()
    return lines[-1].index("^") - 2


# ------------------------------------------------------------- if expressions


def test_parentheses_up_to_the_limit_parse(wide):
    spec = stata_to_spec(f"mixed y x if {_parens(MAX_NESTING)} || g:", wide)
    assert spec.sample_if.evaluate(wide).sum() == (wide.x > 0).sum()


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 100, 5000])
def test_too_many_parentheses_is_a_syntax_error_with_a_caret(depth):
    command = f"mixed y x if {_parens(depth)} || g:"
    with pytest.raises(StataSyntaxError, match=f"more than {MAX_NESTING} levels") as info:
        parse_command(command)
    column = info.value.column
    assert command[column] == "("
    assert command[:column].count("(") == MAX_NESTING  # the first parenthesis too many
    assert "^" in str(info.value).splitlines()[-1]


def test_nested_function_calls_count_as_nesting():
    inner = "x"
    for _ in range(MAX_NESTING + 1):
        inner = f"abs({inner})"
    with pytest.raises(StataSyntaxError, match="levels deep"):
        parse_command(f"mixed y x if {inner} > 0 || g:")


@pytest.mark.parametrize("sign", ["-", "!", "+"])
def test_long_runs_of_signs_are_read_without_recursion(sign, wide):
    expr = sign * 201 + "x"
    spec = stata_to_spec(f"mixed y x if {expr} > 0 || g:", wide)
    values = {"-": -wide.x, "+": wide.x, "!": (wide.x == 0).astype(float)}[sign]
    assert np.array_equal(spec.sample_if.evaluate(wide), (values > 0).to_numpy())
    if sign != "+":  # '+' adds no node
        with pytest.raises(StataSyntaxError, match="too complex"):
            parse_command(f"mixed y x if {sign * 5000}x > 0 || g:")


def test_long_and_chain_is_balanced_and_evaluates(wide):
    conds = [f"x{i} > -10" for i in range(1, N_TERMS + 1)] + ["x > 0"]
    spec = stata_to_spec(f"mixed y x if {' & '.join(conds)} || g:", wide)
    assert tree_depth(spec.sample_if.root) <= 2 * int(np.log2(len(conds)) + 1)
    assert np.array_equal(spec.sample_if.evaluate(wide), (wide.x > 0).to_numpy())
    assert len(spec.sample_if.variables) == N_TERMS + 1


def test_or_chain_keeps_its_value(wide):
    spec = stata_to_spec("mixed y x if x > 1 | x < -1 | x == 0 | y > 0 || g:", wide)
    expected = (wide.x > 1) | (wide.x < -1) | (wide.x == 0) | (wide.y > 0)
    assert np.array_equal(spec.sample_if.evaluate(wide), expected.to_numpy())


def test_arithmetic_chains_stay_left_associative():
    root = parse_command("mixed y x if x - 1 - 2 > 0 || g:").if_.root
    diff = Binary("-", Binary("-", Var("x"), Num(1.0)), Num(2.0))
    assert root == Binary(">", diff, Num(0.0))


def test_arithmetic_chain_beyond_the_tree_limit_is_a_clean_error(wide):
    ok = " + ".join(["x"] * MAX_TREE_DEPTH)
    spec = stata_to_spec(f"mixed y x if {ok} > 0 || g:", wide)
    assert spec == spec and hash(spec.sample_if)  # deep but still comparable
    too_long = " + ".join(["x"] * 2 * MAX_TREE_DEPTH)
    with pytest.raises(StataSyntaxError, match="too complex"):
        parse_command(f"mixed y x if {too_long} > 0 || g:")


# ------------------------------------------------------------- term lists


def test_two_thousand_regressors_resolve(wide):
    names = " ".join(f"x{i}" for i in range(1, N_TERMS + 1))
    spec = stata_to_spec(f"mixed y {names} || g:", wide)
    assert len(spec.fixed) == N_TERMS


def test_two_thousand_regressors_with_one_missing_is_a_clean_error(wide):
    names = " ".join(f"x{i}" for i in range(1, N_TERMS + 1))
    data = wide.drop(columns="x1717")
    command = f"mixed y {names} || g:"
    with pytest.raises(VariableError, match="'x1717' not found") as info:
        stata_to_spec(command, data)
    message = str(info.value)
    assert f"(column {command.index(' x1717 ') + 2})" in message
    assert len(message) < 400  # the long command is cut around the caret
    caret_line, source_line = message.splitlines()[-1], message.splitlines()[-2]
    caret = caret_line.index("^")
    assert source_line[caret : caret + 5] == "x1717"


def test_lme4_two_thousand_terms(wide):
    rhs = " + ".join(f"x{i}" for i in range(1, N_TERMS + 1))
    spec = formula_to_spec(f"y ~ {rhs} + (1 | g)", wide)
    assert [t.variables[0] for t in spec.fixed] == [f"x{i}" for i in range(1, N_TERMS + 1)]
    assert spec.constant


def test_lme4_long_sum_keeps_subtraction_and_intercept_removal(wide):
    rhs = " + ".join(f"x{i}" for i in range(1, 41))
    spec = formula_to_spec(f"y ~ 0 + {rhs} - x7 + x:x3 + (1 | g)", wide)
    names = [":".join(t.variables) for t in spec.fixed]
    assert not spec.constant
    assert "x7" not in names and names[-1] == "x:x3" and len(names) == 40


def test_lme4_two_thousand_random_slopes(wide):
    rhs = " + ".join(f"x{i}" for i in range(1, 101))
    spec = formula_to_spec(f"y ~ x + ({rhs} || g)", wide)
    assert len(spec.random[0].terms) == 100


def test_lme4_missing_variable_among_many(wide):
    rhs = " + ".join(f"x{i}" for i in range(1, N_TERMS + 1))
    with pytest.raises(VariableError, match="'x1717' not found"):
        formula_to_spec(f"y ~ {rhs} + (1 | g)", wide.drop(columns="x1717"))


@pytest.mark.parametrize(
    "template", ["y ~ {} + (1 | g)", "y ~ x + ({} | g)", "y ~ x + (1 | g) + {}"]
)
def test_lme4_deep_parentheses_are_a_formula_error(template, wide):
    formula = template.format("(" * 100 + "x" + ")" * 100)
    with pytest.raises(FormulaError, match=f"more than {MAX_NESTING} levels") as info:
        formula_to_spec(formula, wide)
    assert formula[info.value.column] == "("


def test_lme4_nesting_at_the_limit_works(wide):
    spec = formula_to_spec("y ~ " + "(" * MAX_NESTING + "x" + ")" * MAX_NESTING + " + (1|g)", wide)
    assert spec.fixed[0].variables == ("x",)
