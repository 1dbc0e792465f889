"""Issue 19 in the GLMM engine: a shifted covariate must not change the fit.

Before the engine fitted on centred, unit-scale columns, ``melogit`` with x
shifted by 1e5 ended 3.4 log-likelihood units short with a slope of -3e-7, and
``mepoisson`` reported NaN standard errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 120
    d = pd.DataFrame({"x": rng.normal(size=n), "g": np.arange(n) % 8})
    eta = -0.3 + 0.8 * d.x + 0.7 * rng.normal(size=8)[d.g]
    d["yb"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    d["yp"] = rng.poisson(np.exp(eta))
    return d


def _fit(cmd: str, data: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.stata(cmd, data=data)


@pytest.mark.parametrize(
    "cmd",
    ["melogit yb x || g:", "mepoisson yp x || g:", "melogit yb x || g:, intmethod(laplace)"],
)
@pytest.mark.parametrize("shift", [1e5, 3e7])
def test_shifting_x_leaves_the_glmm_fit_unchanged(data, cmd, shift):
    base = _fit(cmd, data)
    moved = _fit(cmd, data.assign(x=data.x + shift))
    assert moved.loglik == pytest.approx(base.loglik, rel=1e-9)
    assert moved.beta[0] == pytest.approx(base.beta[0], rel=1e-6)
    assert moved.beta[1] == pytest.approx(base.beta[1] - shift * base.beta[0], rel=1e-6)
    se, se_moved = np.sqrt(np.diag(base.vcov_beta)), np.sqrt(np.diag(moved.vcov_beta))
    assert se_moved[0] == pytest.approx(se[0], rel=1e-4)
    np.testing.assert_allclose(moved.theta, base.theta, rtol=1e-5)


def test_scaling_x_scales_the_glmm_slope(data):
    base = _fit("melogit yb x || g:", data)
    moved = _fit("melogit yb x || g:", data.assign(x=data.x * 1e-6))
    assert moved.loglik == pytest.approx(base.loglik, rel=1e-9)
    assert moved.beta[0] == pytest.approx(base.beta[0] * 1e6, rel=1e-6)
