"""The first stage of a crossed GLMM fit: theta with the fixed effects integrated out.

Oracles: the joint maximizer of the penalized log likelihood over (u, beta) found by
SciPy's BFGS on the written-out Poisson log density (what lme4's ``nAGQ = 0`` puts beta
at), and the same model fitted without the first stage.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import bayesmixed as bm
from bayesmixed.engines.glmm import first_stage
from bayesmixed.engines.glmm import fit as glmm_fit
from bayesmixed.engines.glmm.objective import ApproxLoglik
from bayesmixed.engines.glmm.response import Response
from bayesmixed.engines.glmm.warn import BoundaryWarning
from bayesmixed.spec.covariance import Identity
from bayesmixed.spec.families.counts import Poisson


def _crossed(seed: int = 3, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s, i, x = rng.integers(0, 40, n), rng.integers(0, 10, n), rng.normal(size=n)
    eta = 0.4 + 0.3 * x + rng.normal(0, 0.7, 40)[s] + rng.normal(0, 0.4, 10)[i]
    return pd.DataFrame({"y": rng.poisson(np.exp(eta)), "x": x, "s": s, "i": i})


COMMAND = "mepoisson y x || _all: R.s || _all: R.i"


def test_beta_is_the_joint_penalized_mode():
    """The stage's beta is the (u, beta) maximizer of the penalized log likelihood."""
    d = _crossed()
    n = len(d)
    X = np.column_stack([np.ones(n), d["x"]])
    codes = [d["s"].to_numpy(), d["i"].to_numpy()]
    Z, ng = [np.ones((n, 1)), np.ones((n, 1))], [40, 10]
    y = d["y"].to_numpy(float)
    resp = Response(
        family=Poisson(), y=y, X=X, offset=np.zeros(n), trials=None,
        perm=np.arange(n), starts=np.array([0]), codes=codes, Z=Z, n_groups=ng,
    )  # fmt: skip
    lap = ApproxLoglik(resp, [Identity(k=1), Identity(k=1)], [1, 1], "laplace", 1)
    stage = first_stage._integrated_objective(lap)
    assert stage is not None
    theta = np.array([0.6, 0.35])
    x = first_stage._with_flat(theta, 2)
    beta = stage.modes(x)[-1].ravel()

    def negative(v):  # u (50) then beta (2): -[sum log f(y | eta) - |u|^2 / 2]
        u, b = v[:50], v[50:]
        eta = X @ b + theta[0] * u[codes[0]] + theta[1] * u[40 + codes[1]]
        return -(np.sum(y * eta - np.exp(eta)) - 0.5 * u @ u)

    ref = minimize(negative, np.zeros(52), method="BFGS", options={"gtol": 1e-9}).x[50:]
    # the flat block's N(0, 100^2) prior shrinks beta by ~beta / (100^2 * information)
    np.testing.assert_allclose(beta, ref, rtol=1e-4, atol=1e-5)


def test_the_fit_is_the_fit_without_it(monkeypatch):
    d = _crossed()
    new = bm.stata(COMMAND, d)
    assert "integrated out" in new.opt.optimizer
    monkeypatch.setattr(glmm_fit, "integrated_start", lambda lap, x0, s, lo, up: (x0, s, 0, False))
    old = bm.stata(COMMAND, d)
    assert "integrated out" not in old.opt.optimizer
    assert new.loglik == pytest.approx(old.loglik, rel=1e-11)
    np.testing.assert_allclose(new.coef, old.coef, rtol=1e-6, atol=1e-8)
    assert new.opt.evaluations < old.opt.evaluations


@pytest.mark.parametrize("seed", [1, 3])
def test_a_zero_variance_is_reached_from_the_lifted_start(seed, monkeypatch):
    """A factor that explains nothing: the same boundary optimum with and without the stage."""
    d = _crossed()
    d["i"] = np.arange(len(d)) % 10
    rng = np.random.default_rng(seed)
    d["y"] = rng.poisson(np.exp(0.4 + 0.3 * d["x"] + rng.normal(0, 0.7, 40)[d["s"]]))
    with pytest.warns(BoundaryWarning):
        new = bm.stata(COMMAND, d)
    assert "integrated out" in new.opt.optimizer and new.opt.theta_end[1] == 0.0
    monkeypatch.setattr(glmm_fit, "integrated_start", lambda lap, x0, s, lo, up: (x0, s, 0, False))
    with pytest.warns(BoundaryWarning):
        old = bm.stata(COMMAND, d)
    # at the boundary BOBYQA stops within ~1e-8 of the optimum either way (seed 3: the
    # default start stops 1.3e-8 below the first stage's)
    assert new.loglik >= old.loglik - 1e-9
    assert new.loglik == pytest.approx(old.loglik, rel=1e-10)
    np.testing.assert_allclose(new.coef, old.coef, rtol=1e-5, atol=1e-7)


def test_one_level_models_keep_the_glm_start():
    d = _crossed()
    fit = bm.stata("mepoisson y x || s:", d)
    assert "integrated out" not in fit.opt.optimizer


def test_a_failing_first_stage_leaves_the_default_start(monkeypatch):
    """The stage is only a start: an optimizer failure in it must not end the fit."""
    import nlopt

    def fail(*args, **kwargs):
        raise nlopt.RoundoffLimited("rounding hides progress")

    d = _crossed()
    ref = bm.stata(COMMAND, d)
    monkeypatch.setattr(first_stage, "bobyqa", fail)
    fit = bm.stata(COMMAND, d)
    assert "integrated out" not in fit.opt.optimizer
    assert fit.loglik == pytest.approx(ref.loglik, rel=1e-11)
