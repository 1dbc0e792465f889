"""Text and categorical columns through the Stata front end (issue 17).

``Group`` as a continuous variable is refused with "write i.Group"; that advice
must then work, and missing text (pd.NA, None, NaN, "") must drop rows as Stata
drops missing values rather than crash.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.errors import VariableError


@pytest.fixture(scope="module")
def jsp():
    data = bm.datasets.load("jsp2")
    data["sex"] = np.where(data["gender"] == 1, "girl", "boy")
    return data


def test_text_factor_matches_the_integer_coding(jsp):
    coded = bm.mixed("math5 math3 i.gender || school:", data=jsp)
    text = bm.mixed("math5 math3 i.sex || school:", data=jsp)
    assert text.loglik == pytest.approx(coded.loglik, abs=1e-8)
    base = "boy" if (jsp["gender"] == 0).any() else "girl"
    other = {"boy": "girl", "girl": "boy"}[base]
    assert f"{other}.sex" in text.coef.index
    assert text.coef[f"{other}.sex"] == pytest.approx(coded.coef["1.gender"], rel=1e-6)


def test_the_advice_in_the_error_works(jsp):
    with pytest.raises(VariableError, match="write i.sex"):
        bm.mixed("math5 math3 sex || school:", data=jsp)
    assert "girl.sex" in bm.mixed("math5 math3 i.sex || school:", data=jsp).coef.index


def test_categorical_factor_keeps_category_order(jsp):
    data = jsp.assign(sex=pd.Categorical(jsp["sex"], categories=["girl", "boy"]))
    r = bm.mixed("math5 math3 i.sex || school:", data=data)
    assert "boy.sex" in r.coef.index and "girl.sex" not in r.coef.index


@pytest.mark.parametrize("dtype", [object, "string", "category"])
def test_missing_text_drops_rows_and_says_so(jsp, dtype):
    sex = jsp["sex"].astype(object)
    sex.iloc[:4] = [pd.NA, None, np.nan, ""]
    data = jsp.assign(sex=sex.astype(dtype))
    r = bm.mixed("math5 math3 i.sex || school:", data=data)
    assert r.nobs == len(jsp) - 4
    assert "(4 observations deleted due to missing values)" in str(r)
