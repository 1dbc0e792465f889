"""predict's options, new data and the errors for impossible requests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from predict_fixtures import data, fitted
from scipy import integrate, special, stats

import bayesmixed as bm
from bayesmixed.errors import BayesmixedError, DataError, SpecificationError, VariableError


def test_stdp_is_the_standard_error_of_xb():
    r = fitted("jsp_uns")
    x = r.design.X
    want = np.sqrt(np.einsum("ij,jk,ik->i", x, r.vcov_beta, x))
    np.testing.assert_allclose(r.predict("stdp"), want)


def test_rstandard_is_residual_over_sigma_e():
    r = fitted("jsp_ri")
    np.testing.assert_allclose(r.predict("rstandard"), r.predict("residuals") / np.sqrt(r.sigma2))


def test_reffects_one_value_per_observation_in_stata_names():
    r = fitted("prod_nested")
    frame = r.predict("reffects")
    assert list(frame.columns) == ["region: _cons", "state: _cons"]
    assert frame.index.equals(r.design.rows)
    # every observation of a state shows that state's BLUP
    state = r.random_effects()["state"]["_cons"].to_numpy()
    np.testing.assert_array_equal(frame["state: _cons"], state[r.design.blocks[1].codes])


def test_relevel_top_level_equals_xb_plus_that_level():
    r = fitted("prod_nested")
    top = r.predict("fitted", relevel="region")
    np.testing.assert_allclose(top, r.predict("xb") + r.predict("reffects")["region: _cons"])
    np.testing.assert_allclose(r.predict("fitted", relevel="state"), r.predict("fitted"))


def test_new_data_unknown_factor_level_is_an_error():
    rats = bm.datasets.load("rats")
    r = bm.mixed("weight i.dose female || litter:", rats)
    new = pd.DataFrame({"dose": [1, 7], "female": [0, 1], "litter": [1, 2]})
    with pytest.raises(VariableError, match="dose takes value 7"):
        r.predict("xb", data=new)


def test_new_data_keeps_training_factor_coding():
    rats = bm.datasets.load("rats")
    r = bm.mixed("weight i.dose female || litter:", rats)
    rows = rats.iloc[[0, 40, 100, 200]]
    subset = rows[rows["dose"] != 0]  # base level absent from the new rows
    got = r.predict("fitted", data=subset)
    np.testing.assert_allclose(got, r.predict("fitted").loc[subset.index], rtol=1e-12)


def test_new_data_missing_covariate_gives_nan_and_keeps_the_row():
    r = fitted("jsp_ri")
    new = pd.DataFrame({"math3": [1.0, np.nan], "school": [1, 2]})
    out = r.predict("xb", data=new)
    assert len(out) == 2 and np.isnan(out.iloc[1]) and np.isfinite(out.iloc[0])


def test_reses_for_a_new_group_is_refused():
    r = fitted("jsp_ri")
    new = pd.DataFrame({"math3": [1.0], "school": [999]})
    with pytest.raises(SpecificationError, match="not in the estimation sample"):
        r.predict("reses", data=new)


def test_residuals_need_the_response_in_new_data():
    r = fitted("jsp_ri")
    with pytest.raises(DataError, match="response"):
        r.predict("residuals", data=pd.DataFrame({"math3": [1.0], "school": [1]}))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "pr"}, "unknown kind"),
        ({"kind": "xb", "relevel": "school"}, "relevel"),
        ({"kind": "fitted", "relevel": "class"}, "not a level"),
        ({"kind": "fitted", "marginal": True}, "marginal"),
    ],
)
def test_impossible_requests_raise(kwargs, match):
    with pytest.raises(BayesmixedError, match=match):
        fitted("jsp_ri").predict(**kwargs)


def test_glmm_marginal_probability_integrates_the_random_intercept():
    r = fitted("bang_ri_laplace")
    xb = r.predict("xb").to_numpy()[:3]
    sd = np.sqrt(r.cov_blocks[0][0, 0])
    want = [
        integrate.quad(lambda b, e=e: special.expit(e + b) * stats.norm.pdf(b, 0, sd), -12, 12)[0]
        for e in xb
    ]
    np.testing.assert_allclose(r.predict("pr", marginal=True).to_numpy()[:3], want, rtol=1e-10)


def test_glmm_response_residuals_and_pr_errors():
    r = fitted("bang_ri_laplace")
    np.testing.assert_allclose(r.predict("residuals"), r.design.y - r.predict("mu"))
    pois = bm.fit("c_use ~ urban + (1 | district)", data("bang"), family="poisson")
    with pytest.raises(SpecificationError, match="pr is for binary"):
        pois.predict("pr")
