"""lme4 formulas -> ModelSpec, and equality with the Stata spelling of the same model."""

from dataclasses import replace

import pytest

from bayesmixed.errors import FormulaError, NotSupportedError, SpecificationError, VariableError
from bayesmixed.spec.model import Component, RandomEquation, Term
from bayesmixed.syntax import formula_to_spec, stata_to_spec


def c(name):
    return Term((Component(name, "c"),))


def same_model(a, b) -> bool:
    return replace(a, source="") == replace(b, source="")


@pytest.mark.parametrize(
    ("formula", "command"),
    [
        ("math5 ~ math3 + (math3 | school)", "mixed math5 math3 || school: math3, cov(uns)"),
        ("math5 ~ math3 + (1 | school)", "mixed math5 math3 || school:"),
        ("math5 ~ math3 + (math3 || school)", "mixed math5 math3 || school: math3"),
        ("math5 ~ math3 + (0 + math3 | school)", "mixed math5 math3 || school: math3, nocons"),
        ("math5 ~ math3 + (math3 - 1 | school)", "mixed math5 math3 || school: math3, nocons"),
        ("gsp ~ private + (1 | region/state)", "mixed gsp private || region: || state:"),
        (
            "gsp ~ private + (1 | region) + (1 | region:state)",
            "mixed gsp private || region: || state:",
        ),
        ("y ~ 0 + x + (1 | id)", "mixed y x, noconstant || id:"),
        ("y ~ x - 1 + (1 | id)", "mixed y x, noconstant || id:"),
        ("y ~ x * z + (1 | id)", "mixed y c.x##c.z || id:"),
        ("y ~ x:z + (1 | id)", "mixed y c.x#c.z || id:"),
        ("y ~ C(dose) + (1 | id)", "mixed y i.dose || id:"),
        ("y ~ label + (1 | id)", "mixed y i.label || id:"),
        ("y ~ (1 | id)", "mixed y || id:"),
    ],
)
def test_formula_equals_stata(frame, formula, command):
    assert same_model(formula_to_spec(formula, frame), stata_to_spec(command, frame))


def test_glmm_formula_equals_melogit(frame):
    f = formula_to_spec("c_use ~ age + (urban | district)", frame, family="binomial")
    s = stata_to_spec("melogit c_use age || district: urban, cov(un)", frame)
    assert same_model(f, s)
    assert f.estimation.intmethod == "laplace"  # glmer's default nAGQ = 1


def test_reml_flag_and_crossed_paths(frame):
    spec = formula_to_spec("y ~ x + (1 | school) + (1 | id)", frame, reml=True)
    assert spec.reml
    assert [eq.path for eq in spec.random] == [("school",), ("id",)]


def test_single_bar_with_one_effect_is_independent(frame):
    spec = formula_to_spec("y ~ x + (0 + x | id)", frame)
    assert spec.random == (RandomEquation(("id",), (c("x"),), False, "independent"),)


def test_nested_slopes_give_two_equations(frame):
    spec = formula_to_spec("y ~ x + (x | school/id)", frame)
    assert spec.random == (
        RandomEquation(("school",), (c("x"),), True, "unstructured"),
        RandomEquation(("school", "id"), (c("x"),), True, "unstructured"),
    )


def test_if_inside_fixed_part_order_kept(frame):
    spec = formula_to_spec("y ~ z + x + (1 | id)", frame)
    assert spec.fixed == (c("z"), c("x"))


@pytest.mark.parametrize(
    ("formula", "column"),
    [
        ("y ~ x + (1 | id", 8),  # unclosed parenthesis
        ("y ~ x + 1 | id", 10),  # bar outside parentheses
        ("y ~ x + ( | id)", 10),  # nothing before the bar
        ("y ~ x + (1 | )", 12),  # no grouping factor
        ("y ~ x + (0 | id)", 11),  # empty random term
        ("y ~ x +", 6),
        ("y ~ x + + z", 8),
        ("y x", 0),
        ("y ~ x ~ z", 6),
        ("y ~ x + (1 | id + g)", 16),
        ("y ~ x + (1 | id | g)", 16),
        ("y ~ x^2 + (1|id)", 5),
        ("y ~ x + @", 8),
        ("y + x ~ z", 0),
    ],
)
def test_formula_errors_have_carets(frame, formula, column):
    with pytest.raises(FormulaError) as info:
        formula_to_spec(formula, frame)
    assert info.value.column == column, str(info.value)


def test_unknown_variable_in_formula_points_at_it(frame):
    with pytest.raises(VariableError) as info:
        formula_to_spec("y ~ x + (1 | shcool)", frame)
    assert "'school'" in str(info.value)
    assert str(info.value).splitlines()[-1].index("^") - 2 == 13


def test_unsupported_transformations(frame):
    with pytest.raises(NotSupportedError, match="log"):
        formula_to_spec("y ~ log(x) + (1 | id)", frame)
    with pytest.raises(NotSupportedError, match="factor"):
        formula_to_spec("y ~ x + (0 + label | id)", frame)


def test_family_and_link_checks(frame):
    assert formula_to_spec("c_use ~ x + (1|id)", frame, family="poisson").command == "mepoisson"
    spec = formula_to_spec("c_use ~ x + (1|id)", frame, family="binomial", link="probit")
    assert (spec.family, spec.link, spec.command) == ("bernoulli", "probit", "meprobit")
    with pytest.raises(SpecificationError):
        formula_to_spec("c_use ~ x + (1|id)", frame, family="binomial", reml=True)
    with pytest.raises(SpecificationError):
        formula_to_spec("c_use ~ x + (1|id)", frame, family="weibull")
    with pytest.raises(SpecificationError):
        formula_to_spec("c_use ~ x + (1|id)", frame, link="sqrt")


def test_parenthesized_fixed_interactions(frame):
    spec = formula_to_spec("y ~ (x + z)^2 + (1 | id)", frame)
    assert spec.fixed == (c("x"), c("z"), Term((Component("x", "c"), Component("z", "c"))))
