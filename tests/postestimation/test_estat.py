"""estat ic / estat group: numbers and Stata's table layout."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from mixed_result_builders import build, pig_spec

from bayesmixed.design.types import GroupInfo
from bayesmixed.errors import BayesmixedError
from bayesmixed.postestimation.estat import (
    estat_group,
    estat_ic,
    format_estat_group,
    format_estat_ic,
)


def test_estat_ic_numbers_for_the_pig_model():
    result = build(pig_spec())
    frame = estat_ic(result)
    row = frame.loc["."]
    assert row["N"] == 432 and row["df"] == 4  # 2 fixed + var(_cons) + var(Residual)
    assert math.isnan(row["ll(null)"])
    assert row["AIC"] == pytest.approx(-2 * -1014.926803 + 2 * 4)
    assert row["BIC"] == pytest.approx(-2 * -1014.926803 + math.log(432) * 4)


def test_estat_ic_table_matches_stata_row_layout():
    # A Stata 16 log prints: "m2 |     38,677  -10903.26  -9452.086      14   18932.17   19052.05"
    # (ll(null) is "." for mixed models).  ll chosen inside the rounding of every printed value.
    spec = replace(
        pig_spec(),
        nobs=38677,
        fixed_names=[f"x{i}" for i in range(12)],
        beta=list(np.zeros(12)),
        vcov_beta=np.eye(12),
        loglik=-9452.0864749,
    )
    frame = estat_ic(build(spec), names=["m2"])
    lines = format_estat_ic(frame).splitlines()
    assert lines[0] == "Akaike's information criterion and Bayesian information criterion"
    assert lines[2] == "-" * 77
    assert lines[3] == (
        "       Model |          N   ll(null)  ll(model)      df        AIC        BIC"
    )
    assert lines[5] == (
        "          m2 |     38,677          .  -9452.086      14   18932.17   19052.05"
    )
    assert lines[-1].startswith("Note: BIC uses N = number of observations")


def test_estat_ic_several_models_and_bad_names():
    a, b = build(pig_spec()), build(pig_spec())
    assert list(estat_ic(a, b).index) == ["model1", "model2"]
    with pytest.raises(BayesmixedError, match="2 names given for 1 models"):
        estat_ic(a, names=["x", "y"])
    with pytest.raises(BayesmixedError):
        estat_ic()


def test_estat_group_frame_and_table():
    groups = [GroupInfo("region", 9, 51, 90.666667, 136), GroupInfo("state", 48, 17, 17.0, 17)]
    result = build(replace(pig_spec(), group_info=groups))
    frame = estat_group(result)
    assert list(frame.index) == ["region", "state"]
    assert frame.loc["state", "groups"] == 48
    lines = format_estat_group(result).splitlines()
    assert lines[4] == "         region |          9         51       90.7        136"
    assert lines[-1] == "-" * 61


def test_estat_group_without_groups_is_refused():
    result = build(replace(pig_spec(), group_info=[]))
    with pytest.raises(BayesmixedError, match="no random effects"):
        estat_group(result)
