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
