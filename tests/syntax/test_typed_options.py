"""The Stata and formula front ends write typed options, with the defaults in one place."""

from dataclasses import replace

import pytest

from bayesmixed.errors import StataSyntaxError
from bayesmixed.spec.model import ModelSpec
from bayesmixed.spec.options import (
    DEFAULT_INTPOINTS,
    DEFAULT_LEVEL,
    DisplayOptions,
    EstimationOptions,
)
from bayesmixed.syntax import formula_to_spec, stata_to_spec


def test_defaults_are_stata_defaults_and_shared_by_every_front_end(frame):
    assert (DEFAULT_LEVEL, DEFAULT_INTPOINTS) == (95.0, 7)
    by_hand = ModelSpec("y", (), ())
    stata = stata_to_spec("mixed y x || id:", frame)
    formula = formula_to_spec("y ~ x + (1 | id)", frame)
    for spec in (by_hand, stata, formula):
        assert spec.display == DisplayOptions()
        assert spec.estimation == EstimationOptions()
        assert spec.display.level == 95.0 and spec.estimation.intpoints == 7
    assert not stata.estimation.bayes and stata.estimation.prefix_options == {}


def test_glmm_commands_write_estimation_and_display_apart(frame):
    spec = stata_to_spec("melogit c_use x || id:, or intmethod(ghermite) intp(12) level(90)", frame)
    assert spec.estimation == EstimationOptions(intmethod="ghermite", intpoints=12)
    assert spec.display == DisplayOptions(level=90.0, eform="or")
    assert stata_to_spec("menbreg c_use x || id:", frame).estimation.dispersion == "mean"


def test_display_flags_from_stata_options(frame):
    spec = stata_to_spec("mixed y x || id:, stddev baselevels nolog level(99.5)", frame)
    assert spec.display == DisplayOptions(level=99.5, stddeviations=True, base=True, log=False)
    assert spec.display.component_scale == "stddeviations"
    assert DisplayOptions().component_scale == "variance"


def test_bayes_prefix_keeps_stata_names_in_order_and_hashes(frame):
    spec = stata_to_spec("bayes, rseed(3) nchains(2): mixed y x || id:", frame)
    assert spec.estimation.bayes_prefix == (("rseed", 3), ("nchains", 2))
    assert spec.estimation.prefix_options == {"rseed": 3, "nchains": 2}
    with_list = EstimationOptions.with_prefix({"prior": ["{a}, normal(0, 1)"]})
    assert with_list.prefix_options == {"prior": ("{a}, normal(0, 1)",)}
    assert hash(with_list) == hash(EstimationOptions.with_prefix({"prior": ("{a}, normal(0, 1)",)}))


def test_parser_points_at_a_level_out_of_range(frame):
    with pytest.raises(StataSyntaxError, match="between 10 and 99.99") as info:
        stata_to_spec("mixed y x || id:, level(5)", frame)
    assert info.value.column == len("mixed y x || id:, level(")


def test_options_do_not_make_specs_different_models(frame):
    plain = stata_to_spec("melogit c_use x || id:", frame)
    other = stata_to_spec("melogit c_use x || id:, or level(90) intmethod(laplace)", frame)
    assert replace(plain, source="") == replace(other, source="")
    assert plain.estimation != other.estimation and plain.display != other.display


def test_nbinomial_constant_dispersion_is_refused_not_fitted_as_mean(frame):
    with pytest.raises(StataSyntaxError, match=r"nbinomial constant\) is not supported"):
        stata_to_spec("meglm c_use x || id:, family(nbinomial constant)", frame)
    spec = stata_to_spec("meglm c_use x || id:, family(nbinomial mean)", frame)
    assert spec.estimation.dispersion == "mean"
