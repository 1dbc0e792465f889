"""Estimation sample: if/in, listwise deletion, type and value checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_helpers import i, level, spec, term

from bayesmixed.design import build_design, select_sample
from bayesmixed.errors import BayesmixedError, DataError, SpecificationError, VariableError


class Above:
    """A stand-in for the parser's if-expression object."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def evaluate(self, frame):
        return (frame[self.name] > self.value).to_numpy()


@pytest.fixture
def frame():
    rng = np.random.default_rng(1)
    n = 40
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "g": np.repeat(np.arange(8), 5),
            "s": np.tile(["a", "b", "c", "d"], 10),
        },
        index=pd.RangeIndex(100, 100 + n),
    )


def test_listwise_deletion_counts_rows_missing_anywhere(frame):
    frame.loc[[101, 105], "x"] = np.nan
    frame.loc[[105, 110], "y"] = np.nan
    frame["g"] = frame["g"].astype(float)
    frame.loc[120, "g"] = np.nan
    d = build_design(spec(fixed=["x"], random=[level("g")]), frame)
    assert d.dropped == 4
    assert d.n == 36
    assert list(d.rows) == [r for r in frame.index if r not in (101, 105, 110, 120)]
    assert "(4 observations deleted due to missing values)" in d.notes
    np.testing.assert_array_equal(d.y, frame.loc[d.rows, "y"].to_numpy())


def test_unused_columns_do_not_drop_rows(frame):
    frame["unused"] = np.nan
    d = build_design(spec(fixed=["x"], random=[level("g")]), frame)
    assert d.dropped == 0 and d.n == len(frame)
    assert not any("deleted" in note for note in d.notes)


def test_empty_string_and_none_are_missing_in_text_groups(frame):
    frame["s"] = frame["s"].astype(object)
    frame.loc[100, "s"] = ""
    frame.loc[103, "s"] = None
    d = build_design(spec(fixed=["x"], random=[level("s")]), frame)
    assert d.dropped == 2
    assert "(2 observations deleted due to missing values)" in d.notes
    assert list(d.blocks[0].groups) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("dtype", [object, "string", "category"])
def test_every_kind_of_missing_text_is_dropped(frame, dtype):
    """pd.NA, None, np.nan and "" are missing in object, string and categorical columns."""
    values = frame["s"].astype(object)
    values[[100, 101, 102, 103]] = [pd.NA, None, np.nan, ""]
    frame["s"] = values.astype(dtype)
    d = build_design(spec(fixed=[term(i("s"))], random=[level("g")]), frame)
    assert d.dropped == 4 and d.n == 36
    assert "(4 observations deleted due to missing values)" in d.notes
    assert d.base_levels == ["ab.s"] and d.fixed_names == ["b.s", "c.s", "d.s", "_cons"]


def test_pd_na_in_a_text_grouping_variable_is_missing(frame):
    frame["s"] = frame["s"].astype(object)
    frame.loc[107, "s"] = pd.NA
    d = build_design(spec(fixed=["x"], random=[level("s")]), frame)
    assert d.dropped == 1
    assert list(d.blocks[0].groups) == ["a", "b", "c", "d"]


def test_in_range_is_one_based_inclusive_on_the_frame_as_given(frame):
    d = build_design(spec(fixed=["x"], random=[level("g")], sample_in=(3, 22)), frame)
    assert list(d.rows) == list(frame.index[2:22])


def test_in_range_counts_negative_numbers_from_the_end(frame):
    d = build_design(spec(fixed=["x"], random=[level("g")], sample_in=(-10, -1)), frame)
    assert list(d.rows) == list(frame.index[-10:])


def test_if_and_in_combine_and_missing_counted_after_them(frame):
    frame.loc[[100, 139], "x"] = np.nan  # 100 is outside the in range, 139 inside
    s = spec(fixed=["x"], random=[level("g")], sample_in=(2, 40), sample_if=Above("y", 0.0))
    d = build_design(s, frame)
    chosen = frame.iloc[1:40]
    chosen = chosen[(chosen["y"] > 0) & chosen["x"].notna()]
    assert list(d.rows) == list(chosen.index)
    assert d.dropped == int(frame.loc[139, "y"] > 0)


@pytest.mark.parametrize("rng_in", [(0, 5), (5, 41), (10, 3)])
def test_in_range_out_of_bounds(frame, rng_in):
    with pytest.raises(DataError, match="out of range"):
        select_sample(spec(fixed=["x"], sample_in=rng_in), frame)


def test_if_result_of_wrong_length_is_an_error(frame):
    class Bad:
        def evaluate(self, f):
            return np.ones(3, dtype=bool)

    with pytest.raises(SpecificationError, match="one true/false value per row"):
        select_sample(spec(fixed=["x"], sample_if=Bad()), frame)


def test_missing_variable_names_it_and_suggests(frame):
    with pytest.raises(VariableError, match="variable xx not found.*did you mean x"):
        build_design(spec(fixed=["xx"]), frame)
    with pytest.raises(VariableError, match="variable school not found"):
        build_design(spec(fixed=["x"], random=[level("school")]), frame)


def test_duplicated_column_is_an_error(frame):
    dup = pd.concat([frame, frame[["x"]]], axis=1)
    with pytest.raises(VariableError, match="x appears 2 times"):
        build_design(spec(fixed=["x"]), dup)


@pytest.mark.parametrize("as_object", [False, True])
def test_text_where_number_needed_names_column_and_example(frame, as_object):
    frame["x"] = frame["x"].round(2).astype(str)
    frame.loc[104, "x"] = "n/a"
    if as_object:
        frame["x"] = frame["x"].astype(object)
    with pytest.raises(VariableError, match=r"variable x holds text \(e.g. '"):
        build_design(spec(fixed=["x"]), frame)


def test_text_response_is_an_error(frame):
    with pytest.raises(VariableError, match="variable s holds text.*'a'"):
        build_design(spec(response="s", fixed=["x"]), frame)


def test_object_column_of_numbers_is_accepted(frame):
    frame["x"] = frame["x"].astype(object)
    frame.loc[102, "x"] = None
    d = build_design(spec(fixed=["x"]), frame)
    assert d.dropped == 1 and d.X.dtype == float


def test_boolean_variable_is_numeric(frame):
    frame["flag"] = frame["x"] > 0
    d = build_design(spec(fixed=["flag"]), frame)
    np.testing.assert_array_equal(d.X[:, 0], (frame["x"] > 0).astype(float))


def test_infinite_values_are_an_error(frame):
    frame.loc[107, "x"] = np.inf
    frame.loc[108, "x"] = -np.inf
    with pytest.raises(DataError, match="x has 2 infinite values"):
        build_design(spec(fixed=["x"]), frame)


def test_infinite_value_outside_the_sample_is_ignored(frame):
    frame.loc[139, "x"] = np.inf
    d = build_design(spec(fixed=["x"], sample_in=(1, 39)), frame)
    assert d.n == 39


def test_empty_sample_after_if(frame):
    with pytest.raises(DataError, match="no observations"):
        build_design(spec(fixed=["x"], sample_if=Above("y", 1e9)), frame)


def test_empty_sample_after_missing(frame):
    frame["x"] = np.nan
    with pytest.raises(DataError, match="no observations.*missing"):
        build_design(spec(fixed=["x"]), frame)


def test_constant_response_is_an_error(frame):
    frame["y"] = 3.0
    with pytest.raises(DataError, match="response y is constant"):
        build_design(spec(fixed=["x"]), frame)


def test_not_a_dataframe():
    with pytest.raises(DataError, match="DataFrame"):
        build_design(spec(fixed=["x"]), {"y": [1, 2], "x": [1, 2]})


def test_every_error_is_a_bayesmixed_error(frame):
    frame.loc[100, "x"] = np.inf
    for s in (spec(fixed=["nope"]), spec(fixed=["x"]), spec(fixed=[term(i("y"))])):
        with pytest.raises(BayesmixedError):
            build_design(s, frame)
