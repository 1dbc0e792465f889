"""Laplace mode with flat priors reproduces ML and REML (the spine's exact engine).

The ML engine is itself checked against lme4 (tests/engines/ml), so agreement here to
1e-4 relative ties the Bayesian mode to R's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.fitting import fit_bayes, fit_lmm

from .helpers import grunfeld_design, jsp_design


def _compare(design, reml):
    ml = fit_lmm(design, reml=reml)
    r = fit_bayes(design, method="laplace", priors="flat", reml=reml, draws=200, seed=1)
    assert r.info["converged"] and r.info["reml"] is reml
    assert r.mode.to_numpy() == pytest.approx(ml.coef.to_numpy(), rel=1e-4)
    assert r.mode_values["sigma"] ** 2 == pytest.approx(ml.sigma2, rel=1e-4)
    for (name, frame), cov in zip(r.mode_re_cov.items(), ml.cov_blocks):
        assert frame.to_numpy() == pytest.approx(cov, rel=1e-4), name
    return r


@pytest.mark.parametrize("reml", [False, True])
def test_jsp_random_slope_mode_is_ml_and_reml(reml):
    # jsp's ML (and REML) correlation is -1: the mode is reported on the boundary, and
    # the draws come from the interior approximation on the unconstrained scale
    with pytest.warns(RuntimeWarning, match="reported as the mode"):
        r = _compare(jsp_design(), reml)
    assert r.mode.index.tolist() == ["math3", "_cons"]
    assert r.info["boundary"] and r.info["jacobian"]
    corr = r.idata["posterior"]["corr[school]"].values[..., 0, 1]
    assert np.all(np.abs(corr) < 1)


@pytest.mark.parametrize("reml", [False, True])
def test_grunfeld_crossed_mode_is_ml_and_reml(reml):
    _compare(grunfeld_design(), reml)


def test_laplace_draws_have_the_nuts_structure():
    r = fit_bayes(grunfeld_design(), method="laplace", draws=300, seed=2)
    post = r.idata["posterior"]
    assert post["beta"].shape == (1, 300, 3)
    assert post["b[R.company]"].shape == (1, 300, 10, 1)
    assert r.idata["log_likelihood"]["invest"].shape == (1, 300, 200)
    assert np.all(post["sigma"].values > 0)
    assert r.divergences == 0 and r.check() == []
    # the Gaussian approximation's spread is the ML standard errors' order of magnitude
    ml = fit_lmm(grunfeld_design())
    assert r.summary().loc["invest", "sd"].to_numpy() == pytest.approx(ml.se.to_numpy(), rel=0.35)


@pytest.mark.parametrize("cov", ["exchangeable", "independent"])
def test_other_structures_mode_is_ml(cov):
    from .helpers import toy_design

    _compare(toy_design(cov, seed=4, n_groups=12), False)


def test_boundary_mode_falls_back_to_the_unconstrained_mode_with_a_warning():
    # jsp's intercept-slope correlation is -0.998 at the ML fit; under LKJ(1) and
    # half-normal priors the natural-scale mode moves onto corr = -1.
    with pytest.warns(RuntimeWarning, match="unconstrained scale"):
        r = fit_bayes(jsp_design(), method="laplace", draws=100, seed=5)
    assert r.info["jacobian"] is True
    corr = r.idata["posterior"]["corr[school]"].values[..., 0, 1]
    assert np.all(corr > -1) and np.all(corr < 1)
