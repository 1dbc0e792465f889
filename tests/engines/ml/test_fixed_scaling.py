"""Issue 19: uncentred covariates and a near-zero residual variance in the ML engine.

The engine fits on centred, unit-scale fixed-effect columns and on the OLS
residual of y (:mod:`bayesmixed.engines.ml.crossprod`); these tests pin the
reproducers of the issue, each of which failed before.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar

import bayesmixed as bm
from bayesmixed.engines.ml.fit import PrecisionWarning, make_deviance
from bayesmixed.engines.ml.optimize import minimize_theta, prefer_boundary
from bayesmixed.resampling.refit import Refitter


def _fit(cmd: str, data: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.mixed(cmd, data=data)


@pytest.fixture(scope="module")
def issue_data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"y": rng.normal(size=60), "x": rng.normal(size=60), "g": np.arange(60) % 6})
    d["y"] = d.y + 0.5 * d.g + 0.8 * d.x
    d["t"] = np.arange(60) // 6
    return d


@pytest.mark.parametrize("reml", ["", ", reml"])
@pytest.mark.parametrize("shift", [1e5, 1e6, 1e7, 3e7])
def test_shifting_x_leaves_the_fit_unchanged(issue_data, shift, reml):
    # before: 1e7 gave slope 0.621 (0.636 unshifted) and a log likelihood 0.58 lower;
    # 3e7 dropped x as collinear
    cmd = "y x || g:" + reml
    base = _fit(cmd, issue_data)
    moved = _fit(cmd, issue_data.assign(x=issue_data.x + shift))
    assert moved.design.fixed_names == ["x", "_cons"]
    assert moved.loglik == pytest.approx(base.loglik, rel=1e-10)
    assert moved.beta[0] == pytest.approx(base.beta[0], rel=1e-7)
    assert moved.beta[1] == pytest.approx(base.beta[1] - shift * base.beta[0])
    se, se_moved = np.sqrt(np.diag(base.vcov_beta)), np.sqrt(np.diag(moved.vcov_beta))
    assert se_moved[0] == pytest.approx(se[0], rel=1e-6)
    # Var(_cons) on the shifted scale: Var(b0) - 2 s Cov(b0, b1) + s^2 Var(b1)
    v = np.asarray(base.vcov_beta)
    want = v[1, 1] - 2 * shift * v[0, 1] + shift**2 * v[0, 0]
    assert se_moved[1] ** 2 == pytest.approx(want, rel=1e-6)
    np.testing.assert_allclose(moved.theta, base.theta, rtol=1e-6)


def test_blups_and_refits_of_a_shifted_design_match(issue_data):
    base = _fit("y x || g:", issue_data)
    moved = _fit("y x || g:", issue_data.assign(x=issue_data.x + 1e7))
    re_base, re_moved = base.random_effects(), moved.random_effects()
    for key in re_base:
        np.testing.assert_allclose(re_moved[key].to_numpy(), re_base[key].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(moved.predict("fitted"), base.predict("fitted"), rtol=0, atol=1e-7)
    again = Refitter.from_result(moved).fit(moved.design.y)
    assert again.loglik == pytest.approx(moved.loglik, rel=1e-10)
    np.testing.assert_allclose(again.beta, np.asarray(moved.beta), rtol=1e-7)


def test_structured_residuals_with_a_shifted_covariate(issue_data):
    cmd = "y x || g:, residuals(ar 1, t(t))"
    base = _fit(cmd, issue_data)
    moved = _fit(cmd, issue_data.assign(x=issue_data.x + 1e7))
    assert moved.loglik == pytest.approx(base.loglik, rel=1e-9)
    assert moved.beta[0] == pytest.approx(base.beta[0], rel=1e-6)


def _tiny_noise(seed: int, noise: float) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, e = rng.normal(size=(2, 60))
    return pd.DataFrame({"y": x + noise * e, "x": x, "g": np.arange(60) % 6}), e


@pytest.mark.parametrize("seed", range(4))
def test_near_zero_residual_variance_reaches_the_maximum(seed):
    # before: "the likelihood cannot be evaluated" or "converged" far below the boundary
    # fit -- A's y'y held the residual sum of squares 1e-16 below its own size
    d, e = _tiny_noise(seed, 1e-8)
    r = _fit("y x || g:", d)
    assert r.opt.converged
    assert r.loglik >= r.loglik_linear - 1e-9 * abs(r.loglik)
    # y - x = 1e-8 e: the same model as for e, 1e-8 times smaller (x's slope absorbs x)
    ref = _fit("y x || g:", d.assign(y=e))
    assert r.loglik == pytest.approx(ref.loglik - 60 * np.log(1e-8), rel=1e-6)
    assert r.sigma2 == pytest.approx(1e-16 * ref.sigma2, rel=1e-5)
    np.testing.assert_allclose(r.theta, ref.theta, rtol=1e-3, atol=1e-4)


def test_a_boundary_point_that_beats_the_optimum_is_taken():
    # a local minimum at theta = 2 (f = 0.5) and a better one at the boundary (f ~ -0.5)
    def f(t):
        return 0.5 + (t[0] - 2.0) ** 2 - 5 * np.exp(-((t[0] / 0.1) ** 2))

    x, opt = minimize_theta(f, np.array([2.0]), [(0.0, None)])
    assert x[0] == pytest.approx(2.0, abs=1e-3)
    x, opt = prefer_boundary(f, x, opt, [(0.0, None)], [1])
    assert opt.criterion_end < -0.4
    assert x[0] < 0.05
    assert "zero variance" in opt.message


def _dominant_groups(seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, e = rng.normal(size=(2, 60))
    g = np.arange(60) % 6
    return pd.DataFrame({"y": x + rng.normal(size=6)[g] + noise * e, "x": x, "g": g})


@pytest.mark.parametrize("seed", range(4))
def test_groups_that_explain_nearly_everything_reach_the_optimum(seed):
    # sigma_e = 1e-4 beside sigma_g ~ 1: theta ~ 1e4.  Started at theta = 3 (a floor
    # of 0.1 * total variance under sigma_e^2), BOBYQA stopped short (seed 1: var(g)
    # 2.98 instead of 3.10, 2.5e-3 log-likelihood units low, "not converged").
    r = _fit("y x || g:", _dominant_groups(seed, 1e-4))
    dev = make_deviance(r.design, reml=False)

    def crit(log_theta: float) -> float:
        return dev(np.array([np.exp(log_theta)]))

    best = minimize_scalar(crit, bounds=(0.0, 25.0), method="bounded")
    best = minimize_scalar(
        crit, bounds=(best.x - 0.5, best.x + 0.5), method="bounded", options={"xatol": 1e-10}
    )
    # theta ~ 2e4 puts r2 at ~1e-8 of y'y: the criterion carries rounding noise of a few
    # 1e-6 log-likelihood units there (its spread over theta * (1 +- 1e-9), where the true
    # function is flat), and either optimum may sit on a lucky sample of it
    near = [crit(best.x + d) for d in np.linspace(-1e-9, 1e-9, 21)]
    noise = 0.5 * (max(near) - min(near))
    assert r.opt.converged
    assert r.loglik >= -0.5 * best.fun - max(1e-9 * abs(best.fun), 2 * noise)


def test_a_residual_variance_below_double_precision_is_not_called_converged():
    # sigma_e = 1e-8 beside sigma_g ~ 1: y'y - (explained part) is rounding noise
    with pytest.warns(PrecisionWarning, match="double precision"):
        r = bm.mixed("y x || g:", data=_dominant_groups(0, 1e-8))
    assert not r.opt.converged
    assert "not reliable" in r.opt.message
