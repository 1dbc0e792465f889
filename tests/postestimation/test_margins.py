"""``margins``, ``contrast`` and ``pwcompare`` against emmeans and an independent quadrature.

References: tests/reference/margins.R (lme4 + emmeans on the rats data, ML; the
script says why its emmeans calls compute Stata's average-prediction margins) writes
tests/reference/margins.json.  For ``melogit`` the marginal mean (random effects
integrated out, Stata's default after me*) is checked against scipy.integrate.quad
over the normal random intercept, for every row, with nothing of bayesmixed's
quadrature used; its standard error differentiates in beta and the intercept's
variance, as Stata's delta method does over all of e(b).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

import bayesmixed as bm
from bayesmixed.errors import BayesmixedError
from bayesmixed.postestimation.margins_spec import MarginsError, numlist, parse_margins

REF = json.loads((Path(__file__).parents[1] / "reference" / "margins.json").read_text())
RTOL = 1e-6


@pytest.fixture(scope="module")
def rats_data():
    return pd.read_csv(Path(__file__).parents[1] / "reference" / "margins_rats.csv")


@pytest.fixture(scope="module")
def rats(rats_data):
    return bm.stata("mixed weight i.dose size female || litter:", rats_data)


@pytest.fixture(scope="module")
def bangladesh():
    return bm.datasets.load("bangladesh")


@pytest.fixture(scope="module")
def logit(bangladesh):
    return bm.stata("melogit c_use urban age child* || district:", bangladesh)


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol)


# -- mixed: emmeans ----------------------------------------------------------------------------
def test_fit_matches_lme4(rats):
    assert rats.loglik == pytest.approx(REF["loglik"], abs=1e-6)


def test_margins_dose_matches_emmeans(rats, rats_data):
    m = rats.margins("dose", data=rats_data)
    ref = REF["margins_dose"]
    assert [r.label for r in m.rows] == ref["level"]
    close(m.table["margin"], ref["margin"])
    close(m.table["se"], ref["se"])
    assert m.title == "Predictive margins"
    text = str(m)
    assert "Expression: Linear prediction, fixed portion, predict()" in text
    assert "Delta-method" in text and "Number of obs = 322" in text
    assert "          0  |   6.422664   .0978532" in text


def test_grand_margin_and_at(rats, rats_data):
    grand = rats.margins("", data=rats_data)
    close(grand.table["margin"], [REF["grand"]["margin"]])
    close(grand.table["se"], [REF["grand"]["se"]])
    at = rats.margins(", at(size=(5 10))", data=rats_data)
    close(at.table["margin"], REF["at_size"]["margin"])
    close(at.table["se"], REF["at_size"]["se"])
    assert "1._at: size = 5" in str(at) and "2._at: size = 10" in str(at)


def test_dydx_continuous_and_factor(rats, rats_data):
    m = rats.margins(", dydx(size)", data=rats_data)
    close(m.table["margin"], [REF["dydx_size"]["estimate"]])
    close(m.table["se"], [REF["dydx_size"]["se"]])
    assert m.title == "Average marginal effects" and "dy/dx wrt:  size" in str(m)
    f = rats.margins(", dydx(dose)", data=rats_data)  # discrete changes from the base level
    close(f.table["margin"], REF["contrast_dose"]["estimate"])
    close(f.table["se"], REF["contrast_dose"]["se"])
    assert "discrete change from the base level" in str(f)


def test_contrast_matches_emmeans(rats, rats_data):
    c = rats.contrast("dose", data=rats_data)
    ref = REF["contrast_dose"]
    close(c.table["estimate"], ref["estimate"])
    close(c.table["se"], ref["se"])
    close(c.table["z"], ref["z"])
    close(c.table["p"], ref["p"])
    assert c.chi2 == pytest.approx(ref["chi2"], rel=RTOL) and c.df == ref["df"]
    assert c.p_joint == pytest.approx(ref["joint_p"], rel=RTOL)
    text = str(c)  # no operator: Stata's joint test only
    assert "Contrasts of marginal linear predictions" in text and "(2 vs 0)" not in text
    assert "        dose |          2       27.04     0.0000" in text
    listed = str(rats.contrast("r.dose", data=rats_data))  # r.: each contrast, then Joint
    assert (
        "   (2 vs 0)  |          1" in listed and "      Joint  |          2       27.04" in listed
    )
    assert "(2 vs 0)  |" in listed.split("Contrast")[-1]


def test_pwcompare_matches_emmeans(rats, rats_data):
    c = rats.pwcompare("dose, effects", data=rats_data)
    ref = REF["pwcompare_dose"]
    assert c.labels == ["1 vs 0", "2 vs 0", "2 vs 1"]
    for col, key in [("estimate", "estimate"), ("se", "se"), ("z", "z"), ("p", "p"),
                     ("lower", "lower"), ("upper", "upper")]:  # fmt: skip
        close(c.table[col], ref[key])
    assert "Unadjusted" in str(c) and "P>|z|" in str(c)
    bonf = rats.pwcompare("dose, mcompare(bonferroni)", data=rats_data)
    close(bonf.table["p"], np.minimum(1, 3 * np.array(ref["p"])))
    crit = stats.norm.ppf(1 - 0.05 / 6)
    close(bonf.table["upper"], np.array(ref["estimate"]) + crit * np.array(ref["se"]))


# -- mixed: hand computations ------------------------------------------------------------------
def test_over_averages_within_groups(rats, rats_data):
    m = rats.margins(", over(female)", data=rats_data)
    xb = rats.design.X @ rats.beta
    female = rats_data.loc[rats.design.rows, "female"].to_numpy()
    close(m.table["margin"], [xb[female == 0].mean(), xb[female == 1].mean()], rtol=1e-12)
    g = rats.design.X[female == 1].mean(axis=0)
    close(m.table["se"].iloc[1], np.sqrt(g @ rats.vcov_beta @ g), rtol=1e-12)


def test_atmeans_multiplies_the_means(rats_data):
    """Stata's atmeans sets each variable to its mean: c.size#c.size is mean(size)^2."""
    fit = bm.stata("mixed weight c.size#c.size female || litter:", rats_data)
    m = fit.margins(", atmeans", data=rats_data)
    s, f = rats_data["size"].mean(), rats_data["female"].mean()
    x = np.array([s * s, f, 1.0])
    close(m.table["margin"], [x @ fit.beta], rtol=1e-12)
    assert m.title == "Adjusted predictions"


def test_margins_errors(rats, rats_data):
    with pytest.raises(MarginsError, match="factor variables required"):
        rats.margins("size", data=rats_data)
    with pytest.raises(MarginsError, match="needs the data"):
        rats.margins("dose")
    with pytest.raises(MarginsError, match="not allowed"):
        rats.margins(", predict(fitted)", data=rats_data)
    with pytest.raises(BayesmixedError, match="option bogus"):
        rats.margins("dose, bogus", data=rats_data)
    with pytest.raises(BayesmixedError, match="does not occur"):
        rats.margins(", at(dose=7)", data=rats_data)


def test_parsing():
    assert numlist("-10(5)10") == (-10.0, -5.0, 0.0, 5.0, 10.0)
    assert numlist("1/3 7") == (1.0, 2.0, 3.0, 7.0)
    req = parse_margins("i.dose, at(size=(5 10) female=(0 1)) at((mean) _all) over(female)")
    assert req.marginlist == (("dose",),) and req.over == ("female",)
    assert len(req.at_scenarios()) == 5  # 2 x 2 crossed, then one more at()


# -- melogit: the marginal mean by independent quadrature ----------------------------------------
def quad_mean(eta: np.ndarray, sd, deriv: bool = False) -> np.ndarray:
    """E[expit(eta + sd u)] (or of its derivative) for u ~ N(0, 1), every row at once.

    scipy's adaptive ``quad_vec`` on the whole real line: an integrator independent of
    the Gauss-Hermite rule under test (one ``quad`` per row took 80 s on 1,934 rows).
    """

    def f(u):
        p = special.expit(eta + sd * u)
        return (p * (1 - p) if deriv else p) * stats.norm.pdf(u)

    return integrate.quad_vec(f, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0]


def test_melogit_marginal_mu_matches_quadrature(logit, bangladesh):
    m = logit.margins("", data=bangladesh)
    assert m.expression == "Marginal predicted mean, predict()"
    X, beta = logit.design.X, logit.beta
    sd = float(np.sqrt(logit.cov_blocks[0][0, 0]))
    eta = X @ beta
    close(m.table["margin"], [quad_mean(eta, sd).mean()], rtol=1e-8)
    # the delta method over all of Stata's e(b): beta and the intercept's variance, here
    # through its working parameter w = log SD (checked against the fit's covariance)
    w = float(logit.working[0])
    assert np.exp(2 * w) == pytest.approx(sd**2, rel=1e-12)
    h = 1e-5
    g_w = (quad_mean(eta, np.exp(w + h)).mean() - quad_mean(eta, np.exp(w - h)).mean()) / (2 * h)
    g = np.r_[(quad_mean(eta, sd, deriv=True)[:, None] * X).mean(axis=0), g_w]
    close(m.table["se"], [np.sqrt(g @ logit.vcov_joint @ g)], rtol=RTOL)
    # the variance parameter matters: beta alone gives a different standard error
    g_beta, V = g[:-1], logit.vcov_beta
    assert abs(m.table["se"].iloc[0] / np.sqrt(g_beta @ V @ g_beta) - 1) > 1e-3


def test_melogit_dydx_and_fixedonly(logit, bangladesh):
    X, beta = logit.design.X, logit.beta
    sd = float(np.sqrt(logit.cov_blocks[0][0, 0]))
    j = logit.design.fixed_names.index("age")
    ame = logit.margins(", dydx(age)", data=bangladesh)
    close(ame.table["margin"], [beta[j] * quad_mean(X @ beta, sd, deriv=True).mean()])
    fixed = logit.margins(", predict(mu fixedonly)", data=bangladesh)
    close(fixed.table["margin"], [special.expit(X @ beta).mean()], rtol=1e-12)
    assert "fixed portion only, predict(mu fixedonly)" in str(fixed)
    urban = logit.margins(", at(urban=(0 1))", data=bangladesh)
    k = logit.design.fixed_names.index("urban")
    for value, margin in zip((0.0, 1.0), urban.table["margin"]):
        Xs = X.copy()
        Xs[:, k] = value
        assert margin == pytest.approx(quad_mean(Xs @ beta, sd).mean(), rel=1e-8)


def test_melogit_random_slope_uses_the_counterfactual_z(bangladesh):
    """With a random slope on urban, setting urban also changes each row's RE variance."""
    fit = bm.stata("melogit c_use urban age || district: urban, cov(unstructured)", bangladesh)
    X, beta, cov = fit.design.X, fit.beta, fit.cov_blocks[0]  # effects: urban, _cons
    k = fit.design.fixed_names.index("urban")
    m = fit.margins(", at(urban=(0 1))", data=bangladesh)
    for value, margin in zip((0.0, 1.0), m.table["margin"]):
        Xs = X.copy()
        Xs[:, k] = value
        z = np.array([value, 1.0])
        sd = np.sqrt(z @ cov @ z)
        assert margin == pytest.approx(quad_mean(Xs @ beta, sd).mean(), rel=1e-8)


def test_bayes_fits_are_refused():
    from bayesmixed.postestimation.dispatch import TABLE
    from bayesmixed.results.base import ResultKind

    # margins after bayes: is the posterior of the margins (tests/postestimation/
    # test_bayes_margins.py); contrast and pwcompare are still refused, with directions
    for command in ("contrast", "pwcompare"):
        with pytest.raises(BayesmixedError, match="posterior of the predictions"):
            getattr(TABLE[ResultKind.BAYES], command)(None, None, "dose")


def test_at_items_keep_their_order_and_atmeans_lists_the_means(rats, rats_data):
    m = rats.margins(", at((mean) _all female=1)", data=rats_data)
    assert m.at_legend == ["At: size = 13.32919", "    female = 1"]
    means = rats.margins("dose, atmeans", data=rats_data)
    assert means.at_legend == ["At: size = 13.32919 (mean)", "    female = .4689441 (mean)"]
