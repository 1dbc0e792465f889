"""Issue 6's acceptance checks of the Bayesian postestimation, on sampled jsp fits.

Two NUTS fits (2 chains x 300 draws, ~5 s each): the random-intercept model and the
unstructured random-slope model.  Reference values are lme4's (tests/reference/predict.json).

"The 95% intervals of reses cover the lme4 values" is read two ways, both checked: each
school's 95% credible interval contains lme4's conditional mode, and the posterior SD of
each school effect is close to lme4's conditional SD -- slightly *larger* on the whole,
since the posterior also carries the uncertainty of beta and of the variance parameters,
which lme4's ``condVar`` holds fixed.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from predict_fixtures import data, fitted, reference

import bayesmixed as bm
from bayesmixed.postestimation.compare import compare
from bayesmixed.postestimation.lrtest import lrtest

DRAWS = dict(method="nuts", draws=300, tune=300, chains=2, seed=1, progressbar=False)


@functools.cache
def nuts(key: str):
    with warnings.catch_warnings():  # short chains: R-hat/ESS advice is expected
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.stata(reference()[key]["stata"], data("jsp"), **DRAWS)


def _lme4_school(key: str):
    term = reference()[key]["ranef"][0]
    return term, np.asarray(term["values"], float), np.asarray(term["cond_sd"], float)


def test_school_effects_agree_with_the_blups_within_a_fifth_of_a_posterior_sd():
    bayes = nuts("jsp_ri")
    term, modes, _ = _lme4_school("jsp_ri")
    frame = bayes.random_effects()["school"]
    assert [str(g) for g in frame.index] == term["groups"]
    z = (frame["_cons"].to_numpy() - modes.ravel()) / frame["sd(_cons)"].to_numpy()
    assert np.max(np.abs(z)) < 0.2


def test_credible_intervals_cover_lme4_and_posterior_sds_match_its_cond_sds():
    bayes = nuts("jsp_ri")
    term, modes, cond_sd = _lme4_school("jsp_ri")
    codes = bayes.design.blocks[0].codes
    first = np.array([np.flatnonzero(codes == g)[0] for g in range(len(term["groups"]))])
    eff = bayes.predict("reffects", interval=0.95).iloc[first]
    lower, upper = eff["lower(school: _cons)"].to_numpy(), eff["upper(school: _cons)"].to_numpy()
    assert np.all((lower < modes.ravel()) & (modes.ravel() < upper))
    ratio = bayes.predict("reses").iloc[first, 0].to_numpy() / cond_sd.ravel()
    assert np.all((ratio > 0.9) & (ratio < 1.25))
    assert 1.0 < np.median(ratio) < 1.15


def test_fitted_values_are_close_to_lme4s():
    bayes, ml = nuts("jsp_ri"), fitted("jsp_ri")
    got = bayes.predict("fitted", interval=0.95)
    want = np.asarray(reference()["jsp_ri"]["fitted"], float)
    assert np.mean((got["lower"] < want) & (want < got["upper"])) == 1.0
    np.testing.assert_allclose(got["fitted"], ml.predict("fitted"), atol=0.5)


def test_compare_prefers_the_model_lrtest_prefers_and_prints_both():
    ri, rs = nuts("jsp_ri"), nuts("jsp_uns")
    ml_ri, ml_rs = fitted("jsp_ri"), fitted("jsp_uns")
    test = lrtest(ml_ri, ml_rs, names=("ri", "rs"))
    lr_choice = "rs" if test.p < 0.05 else "ri"
    res = compare(ri, rs, names=["ri", "rs"], ml=(ml_ri, ml_rs))
    assert res.preferred == lr_choice == res.preferred_lrtest()
    assert res.table.loc["ri", "elpd_diff"] < -2 * res.table.loc["ri", "dse"]
    by_school = compare(ri, rs, names=["ri", "rs"], by="school", ml=(ml_ri, ml_rs))
    assert by_school.preferred == lr_choice
    text = str(res)
    assert "PSIS-LOO" in text and "Likelihood-ratio test" in text
    assert f"{test.chi2:10.2f}" in text


def test_posterior_predictive_reproduces_the_data_scale():
    bayes = nuts("jsp_ri")
    rep = bayes.posterior_predictive(draws=100, seed=2)
    y = bayes.design.y
    assert rep.shape == (2, 100, len(y))
    assert rep.values.mean() == pytest.approx(y.mean(), abs=0.3)
    assert rep.values.std() == pytest.approx(y.std(), rel=0.05)
