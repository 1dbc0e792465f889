"""Residual data: panels, times, by() groups, batches, and Stata's refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed.datasets as ds
from bayesmixed.design import build_design
from bayesmixed.errors import DataError, NotSupportedError
from bayesmixed.syntax import stata_to_spec

FX = "mixed gsp private emp hwy water other unemp"


@pytest.fixture(scope="module")
def prod() -> pd.DataFrame:
    return ds.load("productivity")


def _design(cmd: str, data: pd.DataFrame):
    return build_design(stata_to_spec(cmd, data), data)


def test_plain_model_has_no_residual_data(prod):
    assert _design(f"{FX} || state:", prod).residual is None


def test_batches_partition_rows_in_time_order_with_gaps(prod):
    data = prod[(prod.state * 7 + prod.year) % 5 != 0].iloc[::-1].reset_index(drop=True)
    res = _design(f"{FX} || state:, residuals(ar 1, t(year))", data).residual
    rows = np.concatenate([b.rows.ravel() for b in res.batches])
    assert np.array_equal(np.sort(rows), np.arange(len(data)))
    for b in res.batches:
        assert np.all(np.diff(b.times, axis=1) > 0)  # sorted, gaps kept as lags
        assert np.all(res.panel_codes[b.rows] == res.panel_codes[b.rows[:, :1]])
    assert len({b.size for b in res.batches}) > 1  # unequal panel sizes
    assert res.panel_level == "state" and res.model.title == "Residual: AR(1)"


def test_nested_levels_use_the_lowest_as_panel(prod):
    res = _design(f"{FX} || region: || state:, residuals(exchangeable)", prod).residual
    assert len(res.panels) == 48 and res.batches[0].size == 17


def test_unstructured_levels_follow_time_values(prod):
    data = prod[prod.year <= 1972]
    res = _design(f"{FX} || state:, residuals(unstructured, t(year))", data).residual
    assert res.model.structure.level_labels == (1970, 1971, 1972)
    assert sorted(set(res.levels)) == [0, 1, 2]


def test_independent_by_may_vary_within_panel():
    rats = ds.load("rats")
    res = _design("mixed weight i.dose size female || litter:, residuals(ind, by(female))", rats)
    assert res.residual.diagonal and res.residual.model.by_labels == (0, 1)
    assert np.array_equal(res.residual.groups, rats.female.to_numpy())


def test_correlated_by_must_be_constant_within_panel(prod):
    data = prod.assign(late=(prod.year > 1978).astype(int))
    with pytest.raises(DataError, match="by\\(late\\) changes within state"):
        _design(f"{FX} || state:, residuals(ar 1, t(year) by(late))", data)
    ok = prod.assign(west=(prod.region > 5).astype(int))
    res = _design(f"{FX} || state:, residuals(ar 1, t(year) by(west))", ok).residual
    assert res.model.n_params == 3


def test_non_integer_times_refused_where_lags_must_be_whole(prod):
    data = prod.assign(tq=np.sqrt(prod.year - 1969))
    with pytest.raises(DataError, match="integer valued"):
        _design(f"{FX} || state:, residuals(ar 1, t(tq))", data)
    assert _design(f"{FX} || state:, residuals(exponential, t(tq))", data).residual is not None


def test_duplicate_times_within_panel_refused(prod):
    data = prod.assign(t2=prod.year // 2)
    with pytest.raises(DataError, match="more than once within state"):
        _design(f"{FX} || state:, residuals(toeplitz 1, t(t2))", data)


def test_crossed_effects_that_cut_panels_refused(prod):
    with pytest.raises(NotSupportedError, match="change within the state panels"):
        _design(f"{FX} || _all: R.year || state:, residuals(ar 1, t(year))", prod)
    with pytest.raises(NotSupportedError, match="last random-effects equation is _all"):
        _design(f"{FX} || _all: R.state, residuals(ar 1, t(year))", prod)


def test_toeplitz_without_order_uses_every_observed_lag(prod):
    data = prod[prod.year <= 1973]
    res = _design(f"{FX} || state:, residuals(toeplitz, t(year))", data).residual
    assert res.model.structure.order == 3
