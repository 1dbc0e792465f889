"""regress with Stata's variance estimators against R's sandwich package.

Reference values: tests/dofile/regress_sandwich.R -> regress_sandwich.json
(sandwich::vcovCL(type = "HC1") applies G/(G-1) * (N-1)/(N-K), as Stata).
"""

import json
from pathlib import Path

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.dofile.regress import fit_ols
from bayesmixed.errors import DataError

REF = json.loads((Path(__file__).parent / "regress_sandwich.json").read_text())


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


def test_cluster_robust_vcov_matches_sandwich_vcovcl(jsp):
    r = fit_ols(jsp, "math5", ["math3", "raven"], "school", robust=False)
    np.testing.assert_allclose(r.beta, REF["coef"], rtol=1e-10)
    np.testing.assert_allclose(r.vcov_beta, np.array(REF["vcov_cluster"]), rtol=1e-9)
    assert r.df_resid == 47 and r.n_clusters == 48


def test_robust_and_ols_vcov_match_r(jsp):
    robust = fit_ols(jsp, "math5", ["math3", "raven"], None, robust=True)
    plain = fit_ols(jsp, "math5", ["math3", "raven"], None, robust=False)
    np.testing.assert_allclose(robust.vcov_beta, np.array(REF["vcov_hc1"]), rtol=1e-9)
    np.testing.assert_allclose(plain.vcov_beta, np.array(REF["vcov_ols"]), rtol=1e-9)


def test_output_has_stata_header_and_cluster_note(jsp):
    text = str(fit_ols(jsp, "math5", ["math3"], "school", robust=False))
    assert "(Std. err. adjusted for 48 clusters in school)" in text
    assert "F(1, 47)" in text and "Robust" in text and "Number of obs     =        887" in text


def test_collinear_regressors_are_an_error(jsp):
    data = jsp.assign(twice=2 * jsp["math3"])
    with pytest.raises(DataError, match="collinear"):
        fit_ols(data, "math5", ["math3", "twice"], None, robust=False)
