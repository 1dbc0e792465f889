"""Extreme but finite data: a clean EstimationError, never NumPy's LinAlgError."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.engines.glmm import guard
from bayesmixed.errors import BayesmixedError, DataError, EstimationError


def _counts(seed: int = 4, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"y": rng.poisson(3, n).astype(float), "x": rng.normal(size=n), "g": np.arange(n) % 6}
    )


def _with(frame: pd.DataFrame, column: str, value: float, row: int = 3) -> pd.DataFrame:
    out = frame.copy()
    out.loc[row, column] = value
    return out


@pytest.mark.parametrize("command", ["mepoisson y x || g:", "menbreg y x || g:"])
def test_huge_count_is_a_clean_error(command):
    with pytest.raises(EstimationError) as info:
        bm.stata(command, _with(_counts(), "y", 1e300))
    message = str(info.value)
    assert "not finite" in message and "the response reaches 1e+300" in message


@pytest.mark.parametrize("value", [1e10, 1e20, 1e100, 1e200])
def test_large_counts_fit_or_fail_cleanly(value):
    try:
        r = bm.stata("mepoisson y x || g:", _with(_counts(), "y", value))
    except BayesmixedError:
        return
    assert np.isfinite(r.loglik)


def test_infinite_count_is_a_data_error():
    with pytest.raises(DataError, match="y has 1 infinite value"):
        bm.stata("mepoisson y x || g:", _with(_counts(), "y", np.inf))


def test_missing_count_is_dropped():
    r = bm.stata("mepoisson y x || g:", _with(_counts(), "y", np.nan))
    assert r.design.n == 59 and np.isfinite(r.loglik)


def test_linalg_failure_on_ordinary_data_is_not_hidden(monkeypatch):
    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("a bug, not the data")

    monkeypatch.setattr("bayesmixed.engines.glmm.fit.fit_glm", broken)
    with pytest.raises(np.linalg.LinAlgError, match="a bug"):
        bm.stata("mepoisson y x || g:", _counts())


def test_linalg_failure_on_extreme_data_is_explained(monkeypatch):
    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr("bayesmixed.engines.glmm.fit.fit_glm", broken)
    with pytest.raises(EstimationError, match=r"the response reaches 1e\+200") as info:
        bm.stata("mepoisson y x || g:", _with(_counts(), "y", 1e200))
    assert isinstance(info.value.__cause__, np.linalg.LinAlgError)
    assert "Singular matrix" in str(info.value)


def test_extremes_names_each_input():
    resp = type("R", (), {})()
    resp.y, resp.X, resp.offset = np.array([1.0, 1e150]), np.ones((2, 1)), np.zeros(2)
    assert guard.extremes(resp) == "the response reaches 1e+150"
    resp.y = np.array([1.0, 2.0])
    assert guard.extremes(resp) is None
