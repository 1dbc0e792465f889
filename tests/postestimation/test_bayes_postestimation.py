"""Postestimation after a Bayesian fit: what works, and clear errors for what does not."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.postestimation.estat import format_estat_icc


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


@pytest.fixture(scope="module")
def bayes(jsp):
    return bm.mixed("math5 math3 || school:", data=jsp, method="laplace", draws=200, seed=3)


def test_lrtest_refuses_bayesian_fits(bayes, jsp):
    with pytest.raises(bm.BayesmixedError, match=r"bayesmixed\.compare"):
        bm.lrtest(bayes, bayes)
    ml = bm.mixed("math5 math3 || school:", data=jsp)
    with pytest.raises(bm.BayesmixedError, match="LOO"):
        bm.lrtest(ml, bayes)


def test_estat_icc_is_the_posterior_of_the_icc(bayes, jsp):
    frame = bayes.estat_icc()
    post = bayes.posterior
    var_g = post["cov[school]"].values[..., 0, 0].ravel()
    icc = var_g / (var_g + post["sigma"].values.ravel() ** 2)
    row = frame.loc["school"]
    assert row["ICC"] == pytest.approx(icc.mean())
    assert row["Std. err."] == pytest.approx(icc.std(ddof=1))
    assert [row["lower"], row["upper"]] == pytest.approx(np.percentile(icc, [2.5, 97.5]))
    ml = bm.mixed("math5 math3 || school:", data=jsp).estat_icc()
    assert row["lower"] < ml.loc["school", "ICC"] < row["upper"]
    assert "school" in format_estat_icc(frame)


def test_estat_icc_bayes_refuses_crossed_models():
    data = bm.datasets.load("productivity")
    fit = bm.mixed("gsp private || _all: R.region || state:", data, method="laplace", draws=50)
    with pytest.raises(bm.BayesmixedError, match="crossed"):
        fit.estat_icc()


def test_unavailable_postestimation_says_what_to_use(bayes):
    with pytest.raises(bm.BayesmixedError, match="loo"):
        bayes.estat_ic()
    with pytest.raises(bm.BayesmixedError, match="ML/REML"):
        bayes.estat_wcorrelation()
    with pytest.raises(bm.BayesmixedError, match="conf_int"):
        _ = bayes.pvalues


def test_save_load_and_recovariance(bayes, tmp_path):
    path = bayes.save(tmp_path / "fit.bm")
    back = bm.load(path)
    np.testing.assert_allclose(back.coef, bayes.coef)
    assert repr(back) == repr(bayes)
    cov = bayes.estat_recovariance()["school"]
    assert cov.loc["_cons", "_cons"] == pytest.approx(bayes.re_cov["school"].loc["_cons", "_cons"])


def test_estat_icc_after_bayesian_logit_uses_the_latent_variance():
    data = bm.datasets.load("bangladesh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 100 draws: ESS warnings
        fit = bm.stata(
            "melogit c_use urban || district:",
            data,
            method="nuts",
            draws=100,
            tune=100,
            chains=1,
            seed=1,
            progressbar=False,
        )
    var_d = fit.posterior["cov[district]"].values[..., 0, 0].ravel()
    icc = var_d / (var_d + math.pi**2 / 3)
    assert fit.estat_icc().loc["district", "ICC"] == pytest.approx(icc.mean())
    assert "melogit c_use urban || district:" in repr(fit)
