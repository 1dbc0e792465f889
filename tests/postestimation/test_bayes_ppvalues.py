"""``bayespredict`` and ``bayesstats ppvalues`` (issue 16): posterior predictive p-values.

The oracle is normal theory.  On a *point-mass* posterior (every draw at the ML
estimates and BLUPs, :func:`test_bayes_predict.point_mass`) the replicates are
y_rep = mu + sigma * e with mu and sigma fixed, so P(T(y_rep) >= T(y)) is known in
closed form for the mean (normal), for one observation (normal) and for the variance
((n - 1) s^2 / sigma^2 is noncentral chi-square with n - 1 df and noncentrality
sum (mu_i - mean(mu))^2 / sigma^2).  The sampled values must agree within Monte Carlo
error.  The statistics themselves are checked against scipy.stats.
"""

from __future__ import annotations

import numpy as np
import pytest
from predict_fixtures import fitted
from scipy import stats
from test_bayes_predict import point_mass

from bayesmixed.errors import BayesmixedError, NotSupportedError
from bayesmixed.postestimation.bayes_ppvalues import STATISTICS, ppvalues, predictions

CHAINS, DRAWS = 2, 2000
N_REP = CHAINS * DRAWS


@pytest.fixture(scope="module")
def fit():
    ml = fitted("jsp_ri")
    return ml, point_mass(ml, chains=CHAINS, draws=DRAWS)


def _mc_band(p: float) -> float:
    """Five binomial standard errors of a frequency over N_REP replicates (and a floor)."""
    return 5 * np.sqrt(max(p * (1 - p), 0.01) / N_REP)


def test_p_values_match_normal_theory_on_a_point_mass_posterior(fit):
    ml, bayes = fit
    y = np.asarray(ml.design.y, float)
    mu = ml.predict("fitted").to_numpy()
    sigma, n = np.sqrt(ml.sigma2), y.size
    table = bayes.bayesstats_ppvalues(
        "(m:@mean({_ysim})) (v:@variance({_ysim})) {_ysim[7]}", seed=11
    ).table

    p_mean = stats.norm.sf((y.mean() - mu.mean()) / (sigma / np.sqrt(n)))
    assert table.loc["m", "p"] == pytest.approx(p_mean, abs=_mc_band(p_mean))
    assert table.loc["m", "mean"] == pytest.approx(mu.mean(), abs=5 * sigma / np.sqrt(n * N_REP))
    assert table.loc["m", "sd"] == pytest.approx(sigma / np.sqrt(n), rel=0.05)
    assert table.loc["m", "t_obs"] == pytest.approx(y.mean(), rel=1e-14)

    nc = np.sum((mu - mu.mean()) ** 2) / sigma**2
    p_var = stats.ncx2.sf(y.var(ddof=1) * (n - 1) / sigma**2, n - 1, nc)
    assert table.loc["v", "p"] == pytest.approx(p_var, abs=_mc_band(p_var))
    assert table.loc["v", "mean"] == pytest.approx(sigma**2 * (n - 1 + nc) / (n - 1), rel=0.01)

    p_one = stats.norm.sf((y[6] - mu[6]) / sigma)
    assert table.loc["_ysim1_7", "p"] == pytest.approx(p_one, abs=_mc_band(p_one))
    assert table.loc["_ysim1_7", "t_obs"] == y[6]


def test_the_ceiling_of_the_math_test_is_flagged(fit):
    # jsp2's maths score is capped at 40: a normal model replicates larger maxima
    table = fit[1].bayesstats_ppvalues("max min", seed=1).table
    assert table.loc["max", "t_obs"] == 40 and table.loc["max", "p"] == 1.0
    assert table.loc["max", "mean"] > 45


def test_statistics_are_the_textbook_ones():
    y = np.random.default_rng(3).gamma(2.0, size=(3, 4, 57))
    expected = {
        "mean": y.mean(-1), "sd": y.std(-1, ddof=1), "variance": y.var(-1, ddof=1),
        "min": y.min(-1), "max": y.max(-1), "median": np.median(y, -1), "sum": y.sum(-1),
        "q1": np.quantile(y, 0.25, -1), "q3": np.quantile(y, 0.75, -1),
        "iqr": stats.iqr(y, axis=-1), "skewness": stats.skew(y, axis=-1, bias=True),
        "kurtosis": stats.kurtosis(y, axis=-1, fisher=False, bias=True),
    }  # fmt: skip
    assert set(expected) == set(STATISTICS)
    for name, value in expected.items():
        np.testing.assert_allclose(STATISTICS[name](y), value, rtol=1e-12, err_msg=name)


def test_saved_predictions_give_the_same_table_as_drawing_on_the_spot(fit):
    bayes = fit[1]
    saved = predictions(bayes, "{_ysim} (a:@sd({_ysim})) (b:@q3({_ysim}))", draws=300, seed=4)
    assert set(saved.statistics) == {"a", "b"} and saved.ysim.shape[:2] == (CHAINS, 300)
    via_using = ppvalues(bayes, "{a} {b}", using=saved).table
    direct = ppvalues(bayes, "(a:@sd({_ysim})) (b:@q3({_ysim}))", draws=300, seed=4).table
    assert via_using.equals(direct)
    again = ppvalues(bayes, "(a:@sd({_ysim})) (b:@q3({_ysim}))", draws=300, seed=4).table
    assert again.equals(direct)  # seeded


def test_layout_lists_definitions_and_the_note(fit):
    text = str(fit[1].bayesstats_ppvalues("(m:@mean({_ysim})) sd", draws=50, seed=1))
    assert text.startswith("Posterior predictive summary")
    assert "MCMC sample size =        100" in text
    assert "m : @mean({_ysim})" in text and "sd : @sd({_ysim})" in text
    assert "P(T>=T_obs)" in text and "E(T_obs)" in text
    assert "close to 0 or 1 indicates lack of fit" in text


@pytest.mark.parametrize(
    "spec, error, fragment",
    [
        ("", BayesmixedError, "name the statistics"),
        ("(m:@mode({_ysim}))", BayesmixedError, "@mode.*not a built-in"),
        ("(m:@mean({_resid}))", NotSupportedError, r"\{_resid\}"),
        ("{_ysim[0]}", BayesmixedError, "run from 1 to 887"),
        ("{_ysim[1/900]}", BayesmixedError, "not 888"),
        ("{mu}", BayesmixedError, "not a statistic saved by bayespredict"),
        ("mean(y)", BayesmixedError, "cannot read"),
        ("(m:@mean({_ysim})", BayesmixedError, "unbalanced"),
    ],
)
def test_bad_items_are_named(fit, spec, error, fragment):
    with pytest.raises(error, match=fragment):
        fit[1].bayesstats_ppvalues(spec, draws=5, seed=1)
