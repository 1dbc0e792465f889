"""One results interface for every fit (issue 17): repr, HTML, summary, lme4's accessors.

The summary's numbers are checked twice: against the printed table (they must be
the same numbers) and independently (p = 2 (1 - Phi(|z|)), CI = b +- z_crit se).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.results.format import fmt_g

Z95 = float(stats.norm.ppf(0.975))


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


@pytest.fixture(scope="module")
def ml(jsp):
    return bm.mixed("math5 math3 || school:", data=jsp)


@pytest.fixture(scope="module")
def reml(jsp):
    return bm.mixed("math5 math3 || school:, reml", data=jsp)


@pytest.fixture(scope="module")
def slopes(jsp):
    return bm.mixed("math5 math3 || school: math3, cov(independent)", data=jsp)


@pytest.fixture(scope="module")
def glmm():
    data = bm.datasets.load("bangladesh")
    return bm.stata("melogit c_use urban age child* || district: urban, cov(uns)", data)


@pytest.fixture(scope="module")
def bayes(jsp):
    return bm.mixed("math5 math3 || school:", data=jsp, method="laplace", draws=100, seed=1)


KINDS = ["ml", "reml", "slopes", "glmm", "bayes"]


@pytest.fixture(params=KINDS)
def result(request):
    return request.getfixturevalue(request.param)


def _printed_row(text: str, label: str) -> list[str]:
    line = next(s for s in text.splitlines() if s.split("|")[0].strip() == label)
    return line.split("|")[1].split()


# -- display ----------------------------------------------------------------------------
def test_repr_is_short_and_names_the_command(result):
    text = repr(result)
    assert len(text) < 1000
    assert result.design.spec.source in text
    assert type(result).__name__ in text
    assert f"Number of obs = {result.nobs:,}" in text
    assert str(result) != text  # str() keeps Stata's full output


def test_repr_names_the_criterion(ml, reml, glmm, bayes):
    assert "ML regression: log likelihood = -2612.0401" in repr(ml)
    assert "REML regression: log restricted-likelihood" in repr(reml)
    assert "logistic regression (mvaghermite, 7 points)" in repr(glmm)
    assert "Laplace approximation" in repr(bayes)


def test_repr_html_works_for_every_kind(result):
    html = result._repr_html_()
    assert html.startswith("<") and "bm-result" in html
    assert "math5" in html or "c_use" in html


# -- the table as data --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ml", "reml", "slopes", "glmm"])
def test_summary_equals_the_printed_table(kind, request):
    r = request.getfixturevalue(kind)
    text = str(r)
    frame = r.summary()
    assert list(frame.columns) == ["estimate", "se", "z", "p", "lower", "upper"]
    assert frame.index.names == ["equation", "parameter"]
    response = r.design.spec.response
    for name in r.design.fixed_names:
        row = frame.loc[(response, name)]
        b, se, z, p, lo, hi = _printed_row(text, name)
        assert [fmt_g(row[c]) for c in ("estimate", "se", "lower", "upper")] == [b, se, lo, hi]
        assert f"{row.z:.2f}" == z and f"{row.p:.3f}" == p


@pytest.mark.parametrize("kind", ["ml", "reml", "slopes", "glmm"])
def test_summary_numbers_are_wald(kind, request):
    r = request.getfixturevalue(kind)
    fixed = r.summary().loc[r.design.spec.response].loc[r.design.fixed_names]
    b, se = r.coef.to_numpy(), r.se.to_numpy()
    np.testing.assert_allclose(fixed["estimate"], b, rtol=1e-12)
    np.testing.assert_allclose(fixed["se"], se, rtol=1e-12)
    np.testing.assert_allclose(fixed["z"], b / se, rtol=1e-12)
    np.testing.assert_allclose(fixed["p"], 2 * (1 - stats.norm.cdf(np.abs(b / se))), atol=1e-12)
    np.testing.assert_allclose(fixed["lower"], b - Z95 * se, rtol=1e-12)
    np.testing.assert_allclose(fixed["upper"], b + Z95 * se, rtol=1e-12)
    np.testing.assert_array_equal(r.pvalues.to_numpy(), fixed["p"].to_numpy())
    assert list(r.pvalues.index) == list(r.design.fixed_names)
    ci = r.conf_int()
    assert list(ci.columns) == ["lower", "upper"]
    np.testing.assert_allclose(ci.to_numpy(), fixed[["lower", "upper"]].to_numpy(), rtol=1e-12)


def test_conf_int_level(ml):
    ci = ml.conf_int(90)
    z90 = float(stats.norm.ppf(0.95))
    np.testing.assert_allclose(ci["upper"], ml.coef + z90 * ml.se, rtol=1e-12)
    assert ml.summary(90).loc[("math5", "math3"), "upper"] == pytest.approx(
        ci.loc["math3", "upper"]
    )
    assert ml.level == 95.0  # asking for another level leaves the result alone
    with pytest.raises(bm.BayesmixedError, match="level"):
        ml.conf_int(100)


def test_summary_has_the_random_effects_rows_as_printed(ml, slopes, glmm):
    frame = ml.summary()
    row = frame.loc[("school", "var(_cons)")]
    assert row.estimate == pytest.approx(ml.re_cov["school"].loc["_cons", "_cons"], rel=1e-12)
    printed = _printed_row(str(ml), "var(_cons)")
    assert printed == [fmt_g(row[c]) for c in ("estimate", "se", "lower", "upper")]
    assert math.isnan(row.z) and math.isnan(row.p)
    assert frame.loc[("Residual", "var(Residual)"), "estimate"] == pytest.approx(ml.sigma2)
    assert ("school", "var(math3)") in slopes.summary().index
    g = glmm.summary()
    assert g.loc[("district", "cov(urban,_cons)"), "estimate"] == pytest.approx(
        glmm.re_cov["district"].loc["urban", "_cons"]
    )


def test_bayes_summary_conf_int_and_pvalues(bayes):
    frame = bayes.summary()
    assert {"mean", "sd", "eti_lo", "eti_hi", "r_hat", "ess_bulk"} <= set(frame.columns)
    ci = bayes.conf_int()
    beta = bayes.posterior["beta"].values.reshape(-1, bayes.design.p)
    np.testing.assert_allclose(ci["lower"], np.percentile(beta, 2.5, axis=0))
    np.testing.assert_allclose(ci["upper"], np.percentile(beta, 97.5, axis=0))
    np.testing.assert_allclose(ci["lower"], frame.loc["math5"]["eti_lo"].loc[ci.index])
    with pytest.raises(bm.BayesmixedError, match="credible"):
        _ = bayes.pvalues


# -- lme4's accessors -------------------------------------------------------------------------
def test_fixef_equals_coef(result):
    np.testing.assert_array_equal(result.fixef().to_numpy(), result.coef.to_numpy())
    assert list(result.fixef().index) == list(result.design.fixed_names)


def test_ranef_are_the_random_effects_without_sds(result):
    ranef, full = result.ranef(), result.random_effects()
    assert ranef.keys() == full.keys()
    for key, frame in ranef.items():
        assert not any(c.startswith("sd(") for c in frame.columns)
        pd.testing.assert_frame_equal(frame, full[key][frame.columns])


def test_varcorr_matches_re_cov(result):
    vc = result.varcorr()
    assert vc.index.names == ["group", "term"]
    for group, cov in result.re_cov.items():
        for i, term in enumerate(cov.index):
            assert vc.loc[(group, term), "variance"] == pytest.approx(cov.iloc[i, i])
            assert vc.loc[(group, term), "sd"] == pytest.approx(math.sqrt(cov.iloc[i, i]))


def test_varcorr_correlations_and_residual(glmm, ml):
    vc = glmm.varcorr()
    cov = glmm.re_cov["district"]
    r = cov.loc["urban", "_cons"] / math.sqrt(cov.loc["urban", "urban"] * cov.loc["_cons", "_cons"])
    assert vc.loc[("district", "_cons"), "corr(urban)"] == pytest.approx(r)
    assert ("Residual", "") not in vc.index  # a logit model has no residual variance
    assert ml.varcorr().loc[("Residual", ""), "variance"] == pytest.approx(ml.sigma2)


# -- Stata 17's headings -----------------------------------------------------------------------
def test_stata17_headings(ml, glmm):
    text = str(ml)
    assert "       math5 | Coefficient  Std. err.      z    P>|z|     [95% conf. interval]" in text
    assert "  Random-effects parameters  |   Estimate   Std. err.     [95% conf. interval]" in text
    assert "Coef." not in text and "Std. Err." not in text
    assert "       c_use | Coefficient  Std. err." in str(glmm)
    html = ml._repr_html_()
    assert "Coefficient" in html and "Std. err." in html and "conf. interval" in html


def test_varcorr_leaves_a_residual_structure_to_summary():
    r = bm.stata(
        "mixed weight i.dose size female || litter:, residuals(independent, by(female))",
        bm.datasets.load("rats"),
    )
    assert list(r.varcorr().index) == [("litter", "_cons")]
    summary = r.summary()
    assert ("Residual", "0: var(e)") in summary.index
    assert ("Residual", "1: var(e)") in summary.index
