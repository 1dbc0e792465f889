"""vce(), [fweight=]/[pweight=], pweight() and pwscale() in Stata syntax (issue 15, items 2-3)."""

import json

import numpy as np
import pandas as pd
import pytest

from bayesmixed.errors import (
    NotSupportedError,
    SpecificationError,
    StataSyntaxError,
    VariableError,
)
from bayesmixed.io.command import spec_to_stata
from bayesmixed.io.spec_json import spec_from_dict, spec_to_dict
from bayesmixed.spec.options import EstimationOptions
from bayesmixed.syntax import stata_to_spec


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(8), 5)
    return pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "b": rng.integers(0, 2, 40),
            "x": rng.normal(size=40),
            "g": g,
            "c": g // 2,
            "w": rng.integers(1, 4, 40),
            "w2": np.linspace(1, 2, 8)[g],
        }
    )


@pytest.mark.parametrize(
    "text, vce, cluster",
    [
        ("vce(robust)", "robust", None),
        ("vce(r)", "robust", None),
        ("vce(rob)", "robust", None),
        ("vce(oim)", "oim", None),
        ("vce(cluster c)", "cluster", "c"),
        ("vce(cl c)", "cluster", "c"),
    ],
)
def test_vce_forms(data, text, vce, cluster):
    est = stata_to_spec(f"mixed y x || g:, {text}", data).estimation
    assert (est.vce, est.cluster) == (vce, cluster)
    assert est.robust == (vce != "oim")


def test_vce_for_me_commands(data):
    assert stata_to_spec("melogit b x || g:, vce(robust)", data).estimation.vce == "robust"


@pytest.mark.parametrize(
    "cmd, message",
    [
        ("mixed y x || g:, vce(jackknife)", "vce\\(jackknife\\) is not allowed"),
        ("mixed y x || g:, vce(cluster)", "one cluster variable"),
        ("mixed y x || g:, vce(robust extra)", "takes nothing more"),
        ("mixed y x || g:, vce(robust) reml", "not allowed with reml"),
        ("mixed y x [fw=w] || g:, reml", "weights not allowed with reml"),
        ("mixed y x || g:, reml dfmethod(kroger) vce(robust)", "dfmethod"),
        ("mixed y x [aw=w] || g:", "aw not allowed"),
        ("mixed y x [iweight=w] || g:", "iweight not allowed"),
        ("mixed y x [fw=2*w] || g:", "must be a variable name"),
        ("mixed y x || g:, pwscale(size)", "needs sampling weights"),
        ("mixed y x [pw=w] || g:, pwscale(mean)", "pwscale\\(\\) must be one of"),
        ("melogit b x [pw=w] || g:, pwscale(size)", "only allowed with mixed"),
    ],
)
def test_refusals_point_at_the_option(data, cmd, message):
    with pytest.raises(StataSyntaxError, match=message) as info:
        stata_to_spec(cmd, data)
    assert "^" in str(info.value)


def test_unknown_variables(data):
    with pytest.raises(VariableError, match="weight variable 'zz'"):
        stata_to_spec("mixed y x [pw=zz] || g:", data)
    with pytest.raises(VariableError, match="'zz' not found"):
        stata_to_spec("mixed y x || g:, vce(cluster zz)", data)
    with pytest.raises(VariableError, match="weight variable 'zz'"):
        stata_to_spec("mixed y x || g:, pweight(zz)", data)


def test_weights_and_level_weights_are_recorded(data):
    spec = stata_to_spec("mixed y x [pweight=w] || g:, pweight(w2) pwscale(gk)", data)
    est = spec.estimation
    assert est.weight == ("pweight", "w") and est.level_weights == (("g", "w2"),)
    assert est.pwscale == "gk" and est.pweighted and est.robust
    assert spec.variables == ("y", "x", "g", "w", "w2")
    spec = stata_to_spec("mixed y x [fw=w] || g:, vce(cl c)", data)
    assert spec.estimation.weight == ("fweight", "w") and not spec.estimation.pweighted
    assert spec.variables[-2:] == ("w", "c")


@pytest.mark.parametrize(
    "cmd",
    [
        "mixed y x [fw=w] || g:",
        "mixed y x [pw=w] || g:, pweight(w2) pwscale(effective)",
        "mixed y x || g:, vce(cluster c)",
        "melogit b x [fw=w] || g:, vce(robust)",
    ],
)
def test_command_and_json_round_trips(data, cmd):
    spec = stata_to_spec(cmd, data)
    again = stata_to_spec(spec_to_stata(spec), data)
    assert again == spec and again.estimation == spec.estimation
    loaded = spec_from_dict(json.loads(json.dumps(spec_to_dict(spec))))
    assert loaded.estimation == spec.estimation


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"vce": "bootstrap"}, "vce"),
        ({"vce": "cluster"}, "exactly one cluster"),
        ({"cluster": "c"}, "exactly one cluster"),
        ({"weight": ("aweight", "w")}, "weights must be"),
        ({"pwscale": "size"}, "needs sampling weights"),
        ({"weight": ("fweight", "w"), "level_weights": (("g", "w2"),)}, "fweights"),
        ({"level_weights": (("g", "a"), ("g", "b"))}, "twice"),
    ],
)
def test_estimation_options_validate(fields, message):
    with pytest.raises(SpecificationError, match=message):
        EstimationOptions(**fields)


# -- fweight() at higher levels --------------------------------------------------------------
def test_level_fweights_are_recorded(data):
    spec = stata_to_spec("mixed y x [fw=w] || c:, fweight(w2) || g:, fw(w)", data)
    est = spec.estimation
    assert est.level_weights == (("c", "w2"), ("g", "w")) and est.level_weight_kind == "fweight"
    assert est.level_fweighted and est.weighted and not est.pweighted and not est.robust
    assert "w2" in spec.variables
    assert not stata_to_spec("mixed y x || g:, pweight(w2)", data).estimation.level_fweighted
    assert stata_to_spec("mixed y x || g:, fweight(w2) vce(robust)", data).estimation.robust


@pytest.mark.parametrize(
    "cmd",
    [
        "mixed y x || g:, fweight(w2)",
        "mixed y x [fw=w] || c:, fweight(w2) || g:, fweight(w)",
        "mixed y x || c: || g:, fweight(w) stddev",
    ],
)
def test_level_fweight_round_trips(data, cmd):
    spec = stata_to_spec(cmd, data)
    assert "fweight(" in spec_to_stata(spec)
    again = stata_to_spec(spec_to_stata(spec), data)
    assert again == spec and again.estimation == spec.estimation
    loaded = spec_from_dict(json.loads(json.dumps(spec_to_dict(spec))))
    assert loaded.estimation == spec.estimation


@pytest.mark.parametrize(
    "cmd, message",
    [
        ("mixed y x || g:, fweight(w2) pweight(w2)", "given twice for one equation"),
        ("mixed y x || c:, pweight(w2) || g:, fweight(w)", "may not be mixed"),
        ("mixed y x || g:, fweight(w2) vce(cluster c)", "not available with fweight"),
        ("mixed y x || g:, fweight(w2) dfmethod(residual)", "not available with fweight"),
        ("mixed y x || g:, fweight(w2) reml", "weights not allowed with reml"),
        ("mixed y x || g:, fweight(w2) pwscale(size)", "needs sampling weights"),
        ("mixed y x || g:, fweight(2*w2)", "variable name"),
    ],
)
def test_level_fweight_refusals_point_at_the_option(data, cmd, message):
    with pytest.raises(StataSyntaxError, match=message) as info:
        stata_to_spec(cmd, data)
    assert "^" in str(info.value)


def test_level_fweights_do_not_mix_with_sampling_weights(data):
    with pytest.raises(StataSyntaxError, match="may not be mixed"):
        stata_to_spec("mixed y x [pw=w] || g:, fweight(w2)", data)
    with pytest.raises(SpecificationError, match="level weights must be one of"):
        EstimationOptions(level_weights=(("g", "w"),), level_weight_kind="aweight")


def test_level_fweights_are_for_mixed_only(data):
    with pytest.raises(NotSupportedError, match="fweight\\(\\) at higher levels is not supported"):
        stata_to_spec("melogit b x || g:, fweight(w2)", data)
