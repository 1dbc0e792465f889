"""``bayes, prior()``, ``bayesstats`` and ``bayestest interval`` in Stata's words (issue 16).

One do-file fit on jsp2 (draws=200, tune=200, chains=2) serves every test here: its
prior listing is checked against the prior the posterior obeys, and every summary
against the same quantity computed straight from ``idata``.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.dofile import run_do
from bayesmixed.dofile.session import Output
from bayesmixed.postestimation.bayestest import IntervalSpec, interval

pytestmark = pytest.mark.slow  # one NUTS fit (~35 s with compilation) shared by all

DOFILE = """\
use jsp2
bayes, prior({math5:math3}, normal(2, 1e-06)) prior({U0}, igamma(.01,.01)) ///
    prior({math5:_cons}, t(0, 100, 3)) rseed(7) nchains(2) mcmcsize(200) burnin(200): ///
    mixed math5 math3 || school:
bayesstats summary {math5:math3} (diff: {math5:math3} - {math5:_cons})
bayesstats ess
bayesstats grubin {math5:}
bayesstats ic
bayestest interval {math5:math3}, lower(1.999) upper(2.0005)
bayestest interval ({math5:math3}, lower(1.999)) ({e.math5:sigma2}, upper(100)), joint
bayespredict {_ysim} (hi:@max({_ysim})) (s:@sd({_ysim})), saving(pr) rseed(3)
bayesstats ppvalues {hi} {s} using pr
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    path = tmp_path_factory.mktemp("bayesstats") / "t.do"
    path.write_text(DOFILE)
    return run_do(path, progressbar=False)


@pytest.fixture(scope="module")
def result(session):
    return session.current.result


def _draws(result, j: int) -> np.ndarray:
    return result.posterior["beta"].values[..., j]


def test_the_prior_listed_is_the_prior_used(result):
    lines = result.info["prior_lines"]
    assert any("{math5:math3} ~ normal(2, 1e-06)" in line for line in lines)
    assert any("{U0:sigma2} ~ igamma(0.01, 0.01)" in line for line in lines)
    assert any("{math5:_cons} ~ t(0, 100, 3)" in line for line in lines)
    # the ML slope is 0.61 (SE 0.03): a prior of SD 0.001 at 2 moves the posterior onto it
    slope = _draws(result, 0)
    assert abs(slope.mean() - 2.0) < 0.003 and slope.std() < 0.002
    assert "{math5:math3} ~ normal(2, 1e-06)" in str(result)


def test_summary_of_an_expression_is_the_expression_of_the_draws(result):
    table = result.bayesstats_summary("(diff: {math5:math3} - {math5:_cons})").table
    diff = (_draws(result, 0) - _draws(result, 1)).ravel()
    row = table.loc[("", "diff")]
    assert row["mean"] == pytest.approx(diff.mean(), rel=1e-12)
    assert row["sd"] == pytest.approx(diff.std(ddof=1), rel=1e-12)
    assert row["median"] == pytest.approx(np.median(diff), rel=1e-12)
    assert row["eti_lo"] == pytest.approx(np.percentile(diff, 2.5), rel=1e-12)
    # functions of Stata's grammar work draw by draw too
    table = result.bayesstats_summary("(r: sqrt({e.math5:sigma2}) / exp(1))").table
    sigma = result.posterior["sigma"].values.ravel()
    assert table.loc[("", "r"), "mean"] == pytest.approx((sigma / np.e).mean(), rel=1e-12)


def test_interval_probability_is_the_draw_frequency(result):
    slope = _draws(result, 0)
    test = result.bayestest_interval("{math5:math3}, lower(1.999) upper(2.0005)")
    assert test.probabilities[0] == pytest.approx(np.mean((slope > 1.999) & (slope < 2.0005)))
    s2 = result.posterior["sigma"].values ** 2
    joint = interval(
        result,
        [IntervalSpec("{math5:math3}", lower=1.999), IntervalSpec("{e.math5:sigma2}", upper=100)],
        joint=True,
    )
    assert joint.probabilities == [pytest.approx(np.mean((slope > 1.999) & (s2 < 100)))]
    assert 0 < joint.probabilities[0] < 1  # a test that can tell a frequency from 0 or 1


def test_dofile_prints_every_command_in_statas_layout(session):
    texts = [e.text for e in session.log if isinstance(e, Output)]
    joined = "\n".join(texts)
    assert "Posterior summary statistics" in joined
    assert "diff : {math5:math3} - {math5:_cons}" in joined
    assert "Efficiency summaries" in joined and "Corr. time" in joined
    assert "Max Gelman-Rubin Rc" in joined
    assert "Deviance information criterion" in joined and "LOOIC" in joined
    assert "prob1 : 1.999 < {math5:math3} < 2.0005" in joined
    assert "{math5:math3}, {e.math5:sigma2} < 100" in joined
    assert "kept in this session as 'pr'" in joined
    assert "Posterior predictive summary" in joined and "hi : @max({_ysim})" in joined


def test_ppvalues_in_a_dofile_are_the_saved_replicates_frequencies(session, result):
    from bayesmixed.postestimation.bayes_ppvalues import ppvalues

    saved = session.predictions["pr"]
    y = result.idata["observed_data"]["math5"].values
    sd_rep = saved.ysim.std(axis=-1, ddof=1)
    table = ppvalues(result, "{hi} {s}", using=saved).table
    assert table.loc["s", "p"] == np.mean(sd_rep >= y.std(ddof=1))
    assert table.loc["hi", "p"] == 1.0  # scores are capped at 40; normal replicates are not


def test_dic_is_statas_plug_in_formula(result):
    ic = result.bayesstats_ic().table.loc["active"]
    ll = result.idata["log_likelihood"]["math5"].values.sum(axis=-1)
    assert np.isfinite(ic["dic"]) and ic["dic"] > -2 * ll.max()  # DIC = Dbar + pD, pD > 0
    assert ic["waic"] == pytest.approx(ic["looic"], rel=0.01)


def test_unknown_parameter_names_list_the_models(result):
    from bayesmixed.errors import BayesmixedError

    with pytest.raises(BayesmixedError, match=r"\{math5:math3\}.*\{U0:sigma2\}"):
        result.bayesstats_summary("{math5:nope}")
