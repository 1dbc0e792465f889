"""Stata commands -> ModelSpec, compared with specs written by hand."""

from dataclasses import replace

import pytest

from bayesmixed.errors import NotSupportedError, StataSyntaxError, VariableError
from bayesmixed.spec.model import Component, RandomEquation, ResidualSpec, Term
from bayesmixed.syntax import stata_to_spec
from bayesmixed.syntax.expr import Binary, IfExpr, Num, Var


def same_model(a, b) -> bool:
    """Equal specs apart from the text they were written in."""
    return replace(a, source="") == replace(b, source="")


def c(name):
    return Term((Component(name, "c"),))


def i(name, base="first"):
    return Term((Component(name, "i", base),))


def test_random_slope_unstructured(frame):
    spec = stata_to_spec("mixed math5 math3 || school: math3, cov(unstructured)", frame)
    assert spec.response == "math5"
    assert spec.fixed == (c("math3"),)
    assert spec.constant
    assert spec.random == (RandomEquation(("school",), (c("math3"),), True, "unstructured"),)
    assert spec.command == "mixed" and not spec.reml
    assert not spec.display.stddeviations and spec.display.level == 95.0


def test_crossed_all_then_nested(frame):
    cmd = "mixed gsp private emp hwy water other unemp || _all: R.year || region: || state:"
    spec = stata_to_spec(cmd, frame)
    assert spec.fixed == tuple(c(v) for v in "private emp hwy water other unemp".split())
    assert spec.random == (
        RandomEquation(("_all",), (), False, "identity", factor="year"),
        RandomEquation(("region",)),
        RandomEquation(("region", "state")),
    )
    assert spec.random[0].key == "R.year"


def test_factor_and_residual_by(frame):
    cmd = "mixed weight i.dose size female || litter:, residuals(independent, by(female))"
    spec = stata_to_spec(cmd, frame)
    assert spec.fixed == (i("dose"), c("size"), c("female"))
    assert spec.random == (RandomEquation(("litter",)),)
    assert spec.residual == ResidualSpec("independent", None, None, "female")


def test_melogit_wildcard_and_or(frame):
    cmd = "melogit c_use age urban child* || district: urban, cov(unstructured) or"
    spec = stata_to_spec(cmd, frame)
    assert spec.fixed == tuple(c(v) for v in ("age", "urban", "child1", "child2", "child3"))
    assert spec.random == (RandomEquation(("district",), (c("urban"),), True, "unstructured"),)
    assert (spec.family, spec.link, spec.command) == ("bernoulli", "logit", "melogit")
    assert spec.display.eform == "or"
    # no intmethod() written: None lets the engine apply Stata's default for the design
    # (mvaghermite for one level, Laplace for crossed designs)
    assert spec.estimation.intmethod is None and spec.estimation.intpoints == 7


def test_if_with_reml_after_last_equation(frame):
    spec = stata_to_spec("mixed y x if year > 1975 & region != 3 || id:, reml", frame)
    assert spec.reml
    assert spec.sample_if == IfExpr(
        Binary("&", Binary(">", Var("year"), Num(1975.0)), Binary("!=", Var("region"), Num(3.0)))
    )
    expected = (frame.year > 1975) & (frame.region != 3)
    assert spec.sample_if.evaluate(frame).tolist() == expected.tolist()
    again = stata_to_spec("mixed y x if year>1975&region!=3 || id:, reml", frame)
    assert same_model(spec, again)
    assert hash(replace(spec, source="")) == hash(replace(again, source=""))


def test_factorial_base_and_equation_options(frame):
    spec = stata_to_spec("mixed y ib2.g##c.x || id: x, nocons cov(ind) stddev", frame)
    g2 = Component("g", "i", 2)
    assert spec.fixed == (Term((g2,)), c("x"), Term((g2, Component("x", "c"))))
    assert spec.random == (RandomEquation(("id",), (c("x"),), False, "independent"),)
    assert spec.display.stddeviations


def test_bayes_prefix(frame):
    spec = stata_to_spec("bayes, nchains(2): mixed y x || id:", frame)
    assert spec.estimation.bayes is True
    assert spec.estimation.prefix_options == {"nchains": 2}
    assert spec.random == (RandomEquation(("id",)),)
    bare = stata_to_spec("bayes: mixed y x || id:", frame).estimation
    assert bare.bayes and bare.prefix_options == {}
    assert not stata_to_spec("mixed y x || id:", frame).estimation.bayes


def test_bare_continuous_in_interaction_is_refused(frame):
    with pytest.raises(VariableError, match="nonnegative whole-number"):
        stata_to_spec("mixed y x##z || id:", frame)
    spec = stata_to_spec("mixed y g#id c.x#c.x || id:", frame)
    assert spec.fixed == (
        Term((Component("g", "i"), Component("id", "i"))),
        Term((Component("x", "c"), Component("x", "c"))),
    )


def test_group_operator_and_factor_bases(frame):
    spec = stata_to_spec("mixed y i.(dose g) ibn.school ib(last).region ib(#2).g || id:", frame)
    assert spec.fixed == (i("dose"), i("g"), i("school", "none"), i("region", "last"), i("g", 2))


def test_string_column_as_factor(frame):
    assert stata_to_spec("mixed y i.label || id:", frame).fixed == (i("label"),)
    with pytest.raises(VariableError, match="write i.label"):
        stata_to_spec("mixed y label || id:", frame)


def test_range_and_question_wildcard(frame):
    spec = stata_to_spec("mixed y private-water child? || id:", frame)
    assert spec.fixed == tuple(c(v) for v in "private emp hwy water child1 child2 child3".split())


def test_tilde_wildcard_must_be_unique(frame):
    assert stata_to_spec("mixed y priv~ || id:", frame).fixed == (c("private"),)
    with pytest.raises(VariableError, match="ambiguous"):
        stata_to_spec("mixed y child~ || id:", frame)


def test_fixed_options_before_bars_equal_options_after(frame):
    a = stata_to_spec("mixed y x, reml noconstant || id:", frame)
    b = stata_to_spec("mixed y x, nocons || id:, reml", frame)
    assert same_model(a, b)
    assert not a.constant and a.random[0].constant


def test_two_equations_same_level_and_r_under_level(frame):
    spec = stata_to_spec("mixed y || school: x || school: z || id: R.g", frame)
    assert spec.random == (
        RandomEquation(("school",), (c("x"),)),
        RandomEquation(("school",), (c("z"),)),
        RandomEquation(("school", "id"), (), False, "identity", factor="g"),
    )


def test_in_range_and_negative(frame):
    assert stata_to_spec("mixed y x in 3/l || id:", frame).sample_in == (3, len(frame))
    assert stata_to_spec("mixed y x in -5/-1 || id:", frame).sample_in == (20, 24)
    assert stata_to_spec("mixed y x in f/10 || id:", frame).sample_in == (1, 10)


def test_meglm_family_link_and_poisson_exposure(frame):
    spec = stata_to_spec("meglm c_use x || id:, family(binomial) link(probit)", frame)
    assert (spec.family, spec.link, spec.command) == ("bernoulli", "probit", "meglm")
    spec = stata_to_spec("mepoisson c_use x, exposure(size) irr || id:", frame)
    assert (spec.family, spec.link, spec.exposure, spec.display.eform) == (
        "poisson",
        "log",
        "size",
        "irr",
    )
    spec = stata_to_spec("melogit c_use x || id:, binomial(litter) intmethod(lap)", frame)
    assert (spec.family, spec.trials, spec.estimation.intmethod) == (
        "binomial",
        "litter",
        "laplace",
    )


def test_residual_ar_with_time(frame):
    spec = stata_to_spec("mixed y x || id:, residuals(ar 2, t(time))", frame)
    assert spec.residual == ResidualSpec("ar", 2, "time", None)
    spec = stata_to_spec("mixed y x || id:, res(exp, t(time) by(female))", frame)
    assert spec.residual == ResidualSpec("exponential", None, "time", "female")


def test_xtmixed_is_mixed(frame):
    assert stata_to_spec("xtmixed y x || id:", frame).command == "mixed"


def test_random_factor_variables_refused(frame):
    with pytest.raises(NotSupportedError, match="random-effects"):
        stata_to_spec("mixed y x || id: i.g", frame)


def test_all_after_level_refused(frame):
    with pytest.raises(StataSyntaxError, match="_all"):
        stata_to_spec("mixed y x || id: || _all: R.g", frame)


def test_variables_property_reads_everything(frame):
    spec = stata_to_spec("mixed y x if z > 0 || school: || id: math3, res(ar 1, t(time))", frame)
    assert spec.variables == ("y", "x", "school", "id", "math3", "time")


def test_front_end_recorded_on_the_spec(frame):
    from bayesmixed.syntax import formula_to_spec

    assert stata_to_spec("mixed y priv~ if x ~= 1 || id:", frame).syntax == "stata"
    assert formula_to_spec("y ~ x + (1 | id)", frame).syntax == "formula"
