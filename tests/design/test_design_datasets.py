"""The design stage on the bundled workshop data (group counts as in Stata's manual)."""

from __future__ import annotations

import numpy as np
import pytest
from design_helpers import i, level, spec, term

from bayesmixed.design import build_design

datasets = pytest.importorskip("bayesmixed.datasets")

PRODUCTIVITY_X = ["private", "emp", "hwy", "water", "other", "unemp"]


@pytest.fixture(scope="module")
def productivity():
    return datasets.load("productivity")


def test_productivity_nested_region_state(productivity):
    # mixed gsp private emp hwy water other unemp || region: || state:
    s = spec("gsp", PRODUCTIVITY_X, [level("region"), level("region", "state")])
    d = build_design(s, productivity)
    assert d.n == 816 and d.dropped == 0 and d.omitted == []
    assert d.fixed_names == [*PRODUCTIVITY_X, "_cons"]
    np.testing.assert_array_equal(d.X[:, 0], productivity["private"])
    rows = [(g.level, g.n_groups, g.min, round(g.avg, 1), g.max) for g in d.group_info]
    assert rows == [("region", 9, 51, 90.7, 136), ("state", 48, 17, 17.0, 17)]


def test_productivity_crossed_all_r_year(productivity):
    # mixed gsp private emp hwy water other unemp || _all: R.state || _all: R.year
    s = spec(
        "gsp",
        PRODUCTIVITY_X,
        [
            level("_all", factor="state", covariance="identity"),
            level("_all", factor="year", covariance="identity"),
        ],
    )
    d = build_design(s, productivity)
    assert [b.key for b in d.blocks] == ["R.state", "R.year"]
    assert [b.n_groups for b in d.blocks] == [48, 17]
    rows = [(g.level, g.n_groups, g.min, g.avg, g.max) for g in d.group_info]
    assert rows == [("_all", 1, 816, 816.0, 816)]


def test_rats_factor_dose():
    rats = datasets.load("rats")
    s = spec("weight", [term(i("dose")), "female", "size"], [level("litter")])
    d = build_design(s, rats)
    assert d.fixed_names == ["1.dose", "2.dose", "female", "size", "_cons"]
    assert d.base_levels == ["0b.dose"]
    assert d.blocks[0].n_groups == 27 and d.n == 322
