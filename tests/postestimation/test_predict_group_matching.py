"""New data are matched to training groups by label, and new groups are announced.

Issue 19, item 10: predicting on a copy of jsp2 whose ``school`` is text
(``"1"``) silently returned xb (every random effect dropped), because the
integer training groups were looked up by value and dtype.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design.factors import level_key
from bayesmixed.postestimation.newdata import NewGroupWarning


@pytest.fixture(scope="module")
def jsp() -> pd.DataFrame:
    return bm.datasets.load("jsp2")


@pytest.fixture(scope="module")
def fit(jsp):
    return bm.mixed("math5 math3 || school:", data=jsp)


@pytest.mark.parametrize("convert", [str, float, lambda s: np.str_(s)])
def test_school_as_text_or_float_keeps_the_school_effects(jsp, fit, convert):
    new = jsp.copy()
    new["school"] = new["school"].map(convert).astype(object if convert is not float else float)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NewGroupWarning)
        got = fit.predict("fitted", data=new)
    np.testing.assert_allclose(got, fit.predict("fitted"), rtol=1e-12)
    assert got.attrs["new_groups"] == {"school": ()}


def test_new_schools_get_zero_effects_and_a_warning_naming_them(jsp, fit):
    new = jsp.iloc[:40].copy()
    new["school"] = new["school"].astype(object)
    new.iloc[:7, new.columns.get_loc("school")] = ["901", "902", "903", "904", "905", "906", "906"]
    with pytest.warns(NewGroupWarning, match=r"7 rows in 6 school groups .*\(901, 902, 903"):
        got = fit.predict("fitted", data=new)
    xb = fit.predict("xb", data=new)
    np.testing.assert_allclose(got.iloc[:7], xb.iloc[:7])
    np.testing.assert_allclose(got.iloc[7:], fit.predict("fitted").iloc[7:40], rtol=1e-12)
    assert set(got.attrs["new_groups"]["school"]) == set(new.index[:7])


def test_xb_on_new_groups_does_not_warn(jsp, fit):
    new = jsp.iloc[:5].assign(school=999)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NewGroupWarning)
        fit.predict("xb", data=new)


def test_fitting_codes_1_and_text_1_as_one_group(jsp, fit):
    mixed = jsp.copy()
    mixed["school"] = mixed["school"].astype(object)
    mixed.loc[mixed.index[::2], "school"] = mixed.loc[mixed.index[::2], "school"].map(str)
    again = bm.mixed("math5 math3 || school:", data=mixed)
    assert len(again.design.blocks[0].groups) == 48
    assert again.loglik == pytest.approx(fit.loglik, rel=1e-10)


def test_level_key_is_the_label_of_a_level():
    assert level_key(1) == level_key(np.int64(1)) == level_key(1.0) == level_key("1") == "1"
    assert level_key(2.5) == "2.5"
    assert level_key((1, "a")) == ("1", "a")
