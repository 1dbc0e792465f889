"""compare: PSIS-LOO tables, leave-one-group-out by integrated likelihood, ML beside LOO.

The group likelihood is checked where the answer is known without our code: evaluated
at the ML estimates, the integrated log likelihoods of the top-level groups sum to the
model's log likelihood, which lme4 gives (tests/reference/predict.json).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from predict_fixtures import fitted, reference
from scipy import stats
from test_bayes_predict import point_mass

from bayesmixed.errors import SpecificationError
from bayesmixed.postestimation.compare import ParetoKWarning, compare, group_loglik

# The point-mass posteriors below are not real posteriors: their Pareto k can be high.
pytestmark = pytest.mark.filterwarnings("ignore::bayesmixed.postestimation.compare.ParetoKWarning")


@pytest.mark.parametrize(("key", "by"), [("jsp_uns", "school"), ("prod_nested", "region")])
def test_group_likelihoods_at_the_ml_estimates_sum_to_lme4s_loglik(key, by):
    bayes = point_mass(fitted(key), draws=3)
    ll = group_loglik(bayes, by)
    assert ll.dims == ("chain", "draw", by)
    assert ll.sizes[by] == {"school": 48, "region": 9}[by]
    total = ll.sum(by).values
    np.testing.assert_allclose(total, reference()[key]["loglik"], rtol=1e-7)


def test_levels_not_nested_in_by_are_held_at_their_draws():
    ml = fitted("prod_nested")
    bayes = point_mass(ml, chains=1, draws=2)
    ll = group_loglik(bayes, "state").values[0, 0]
    design = ml.design
    region, state = design.blocks
    b_region = bayes.posterior["b[region]"].values[0, 0][region.codes, 0]
    tau2, s2 = ml.cov_blocks[1][0, 0], ml.sigma2
    for g in (0, 17, 47):
        rows = state.codes == g
        mean = design.X[rows] @ ml.beta + b_region[rows]
        cov = s2 * np.eye(rows.sum()) + tau2
        want = stats.multivariate_normal(mean, cov).logpdf(design.y[rows])
        assert ll[g] == pytest.approx(want, rel=1e-10)


def test_compare_table_and_lrtest_side_by_side():
    ri, rs = fitted("jsp_ri"), fitted("jsp_uns")
    a, b = point_mass(ri, jitter=0.02, seed=1), point_mass(rs, jitter=0.02, seed=2)
    res = compare(a, b, names=["ri", "rs"], ml=(ri, rs))
    assert list(res.table.index) == ["ri", "rs"]
    for col in ("elpd", "se", "p_loo", "elpd_diff", "dse", "n_high_k", "ll", "df", "AIC"):
        assert col in res.table.columns
    assert res.table.loc[res.preferred, "elpd_diff"] == 0.0
    np.testing.assert_allclose(res.table["ll"], [ri.loglik, rs.loglik])
    ((pair, test),) = res.lrtests
    assert pair == ("ri", "rs") and test.df == 2
    text = str(res)
    assert "elpd" in text and "Likelihood-ratio test" in text and "ll(ML)" in text
    grouped = compare(a, b, names=["ri", "rs"], by="school")
    assert grouped.loo["ri"].elpd_i.sizes["school"] == 48
    assert "school group" in str(grouped)


def test_high_pareto_k_warns_with_the_model_name():
    ri, rs = fitted("jsp_ri"), fitted("jsp_uns")
    a, b = point_mass(ri, jitter=0.02, seed=1), point_mass(rs, jitter=0.02, seed=2)
    with pytest.warns(ParetoKWarning, match="ri: .* Pareto k > 0.0"):
        compare(a, b, names=["ri", "rs"], k_threshold=0.0)


def test_by_a_level_above_conditions_and_says_so():
    ml = fitted("prod_nested")
    a, b = point_mass(ml, jitter=0.01, seed=1), point_mass(ml, jitter=0.01, seed=2)
    res = compare(a, b, by="state")
    assert any("region" in note and "conditions" in note for note in res.notes)


def test_refusals():
    ri, rs = fitted("jsp_ri"), fitted("jsp_uns")
    a, b = point_mass(ri, draws=10, jitter=0.01), point_mass(rs, draws=10, jitter=0.01)
    with pytest.raises(SpecificationError, match="at least two"):
        compare(a)
    with pytest.raises(SpecificationError, match="Bayesian fits"):
        compare(a, rs)
    with pytest.raises(SpecificationError, match="distinct names"):
        compare(a, b, names=["x", "x"])
    with pytest.raises(SpecificationError, match="not a grouping level"):
        compare(a, b, by="class")
    with pytest.raises(SpecificationError, match="one ML fit per"):
        compare(a, b, ml=(ri,))
    other = point_mass(fitted("prod_nested"), draws=10, jitter=0.01)
    with pytest.raises(SpecificationError, match="different observations"):
        compare(a, other)


def test_table_is_a_frame_indexed_by_model():
    ri = fitted("jsp_ri")
    res = compare(point_mass(ri, jitter=0.02, seed=1), point_mass(ri, jitter=0.03, seed=5))
    assert isinstance(res.table, pd.DataFrame)
    assert list(res.table.index) == ["model1", "model2"]
    assert res.lrtests == [] and res.preferred_lrtest() is None
