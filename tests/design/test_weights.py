"""Weights in the design stage (issue 15, item 3): Stata's rules for [fw=], [pw=], pweight()."""

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.errors import BayesmixedError, DataError
from bayesmixed.syntax import stata_to_spec


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(6), 5)
    return pd.DataFrame(
        {
            "y": rng.normal(size=30),
            "x": rng.normal(size=30),
            "g": g,
            "f": rng.integers(1, 4, 30).astype(float),
            "w2": np.linspace(1, 2, 6)[g],
        }
    )


def _design(cmd, data):
    return build_design(stata_to_spec(cmd, data), data)


def test_fweights_are_read_in_row_order(data):
    d = _design("mixed y x [fw=f] || g:", data)
    np.testing.assert_array_equal(d.weights.obs, data["f"].to_numpy(float))
    assert d.weights.frequency and d.nobs == data["f"].sum() and d.n == 30


@pytest.mark.parametrize("value, message", [(1.5, "whole numbers"), (-1, "negative")])
def test_fweights_must_be_whole_and_nonnegative(data, value, message):
    data.loc[3, "f"] = value
    with pytest.raises(DataError, match=message):
        _design("mixed y x [fw=f] || g:", data)


def test_zero_weight_rows_leave_the_sample(data):
    data.loc[[0, 1], "f"] = 0
    d = _design("mixed y x [fw=f] || g:", data)
    assert d.n == 28 and list(d.rows[:2]) == [2, 3]


def test_missing_weights_drop_the_row_listwise(data):
    data.loc[4, "f"] = np.nan
    assert _design("mixed y x [fw=f] || g:", data).n == 29


def test_level_weights_must_be_constant_within_groups(data):
    data.loc[0, "w2"] = 9.0
    with pytest.raises(DataError, match="not constant within the groups of g"):
        _design("mixed y x [pw=f] || g:, pweight(w2)", data)


def test_sampling_weights_keep_the_row_count(data):
    d = _design("mixed y x [pw=f] || g:, pweight(w2)", data)
    assert not d.weights.frequency and d.nobs == 30
    np.testing.assert_array_equal(d.weights.levels["g"], data["w2"].to_numpy())


def test_weights_are_refused_by_the_bayesian_engine(data):
    with pytest.raises(BayesmixedError, match="does not take vce\\(\\) or weights"):
        bm.stata("bayes: mixed y x [fw=f] || g:", data)


def test_vce_cluster_codes(data):
    data["c"] = data["g"] // 2
    d = _design("mixed y x || g:, vce(cluster c)", data)
    np.testing.assert_array_equal(d.cluster, (data["g"] // 2).to_numpy())


# -- fweight() at higher levels ------------------------------------------------------------
@pytest.fixture
def nested(data):
    data["c"] = data["g"] // 2  # three pairs of g groups
    data["w3"] = np.array([2.0, 0.0, 1.0])[data["c"]]
    data["w2"] = np.array([1.0, 3.0, 2.0, 1.0, 2.0, 2.0])[data["g"]]
    return data


def test_level_fweights_count_the_expanded_rows_and_groups(nested):
    d = _design("mixed y x [fw=f] || c:, fweight(w3) || g:, fweight(w2)", nested)
    assert d.weights.frequency and set(d.weights.levels) == {"c", "g"}
    total = nested["f"] * nested["w3"] * nested["w2"]
    assert d.n == int((nested["w3"] > 0).sum())  # the c group of weight 0 leaves the sample
    assert d.nobs == total.sum()
    c_info, g_info = d.group_info
    assert c_info.n_groups == 3  # 2 copies of c = 0, none of c = 1, 1 of c = 2
    assert g_info.n_groups == 2 * (1 + 3) + 1 * (2 + 2)  # every copy of c copies its g
    per_g = (nested["f"] * (nested["w3"] > 0)).groupby(nested["g"]).sum()  # rows of a g copy
    assert (g_info.min, g_info.max) == (per_g[per_g > 0].min(), per_g.max())
    assert g_info.avg == pytest.approx(total.sum() / 12)
    per_c = (nested["f"] * nested["w2"]).groupby(nested["c"]).sum()  # rows of a c copy
    assert (c_info.min, c_info.max) == (per_c[[0, 2]].min(), per_c[[0, 2]].max())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"w2": 1.5}, "w2: frequency weights must be whole numbers"),
        ({"w2": -1.0}, "negative weights encountered in w2"),
    ],
)
def test_level_fweights_must_be_whole_and_nonnegative(nested, change, message):
    for var, value in change.items():
        nested.loc[nested["g"] == 1, var] = value
    with pytest.raises(DataError, match=message):
        _design("mixed y x || c: || g:, fweight(w2)", nested)


def test_level_fweights_must_be_constant_within_groups(nested):
    nested.loc[0, "w2"] = 9.0
    with pytest.raises(DataError, match="fweight\\(w2\\) is not constant within the groups of g"):
        _design("mixed y x || c: || g:, fweight(w2)", nested)


def test_level_fweights_need_nested_levels(nested):
    with pytest.raises(BayesmixedError, match="needs nested levels"):
        _design("mixed y x || _all: R.c || g:, fweight(w2)", nested)


def test_level_fweights_are_refused_by_the_bayesian_engine(nested):
    with pytest.raises(BayesmixedError, match="does not take vce\\(\\) or weights"):
        bm.stata("bayes: mixed y x || g:, fweight(w2)", nested)
