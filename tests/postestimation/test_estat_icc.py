"""estat icc / recovariance / wcorrelation; estimates store / table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from predict_fixtures import fitted

from bayesmixed.errors import NotSupportedError, SpecificationError
from bayesmixed.postestimation.estat import format_estat_icc
from bayesmixed.postestimation.estimates import Estimates, format_estimates_table


def test_icc_of_productivity_matches_statas_manual():
    # Stata's estat icc after mixed gsp ... || region: || state: (stata.com, [ME] estat icc):
    # region  .159893  .127627  .0287143  .5506202.  The likelihood is flat in var(region),
    # so the estimate agrees to ~3e-5 and the Hessian-based SE to ~5e-4.
    frame = fitted("prod_nested").estat_icc()
    assert list(frame.index) == ["region", "state|region"]
    icc, se, lo, hi = frame.loc["region"]
    assert icc == pytest.approx(0.159893, rel=1e-4)
    assert se == pytest.approx(0.127627, rel=1e-3)
    assert lo == pytest.approx(0.0287143, rel=1e-3)
    assert hi == pytest.approx(0.5506202, rel=1e-3)
    r = fitted("prod_nested")
    v = [r.cov_blocks[0][0, 0], r.cov_blocks[1][0, 0], r.sigma2]
    assert frame.loc["state|region", "ICC"] == pytest.approx((v[0] + v[1]) / sum(v))
    assert "state|region" in format_estat_icc(frame)


def test_icc_of_a_random_intercept_logit_uses_pi_squared_over_three():
    r = fitted("bang_ri_laplace")
    var = r.cov_blocks[0][0, 0]
    frame = r.estat_icc()
    assert frame.loc["district", "ICC"] == pytest.approx(var / (var + math.pi**2 / 3))
    lo, hi = frame.loc["district", ["lower", "upper"]]
    assert lo < frame.loc["district", "ICC"] < hi


def test_icc_refuses_crossed_models():
    with pytest.raises(NotSupportedError, match="crossed"):
        fitted("prod_crossed").estat_icc()


def test_recovariance_and_correlation():
    r = fitted("jsp_uns")
    cov = r.estat_recovariance()["school"]
    corr = r.estat_recovariance(correlation=True)["school"]
    c = cov.to_numpy()
    assert corr.loc["math3", "_cons"] == pytest.approx(c[0, 1] / math.sqrt(c[0, 0] * c[1, 1]))


def test_wcorrelation_of_a_random_intercept_cluster():
    r = fitted("jsp_ri")
    w = r.estat_wcorrelation()
    var = r.cov_blocks[0][0, 0]
    n1 = int(np.sum(r.design.blocks[0].codes == 0))
    assert w.shape == (n1, n1)
    assert w.iloc[0, 1] == pytest.approx(var / (var + r.sigma2))
    cov = r.estat_wcorrelation(at={"school": 2}, covariance=True)
    assert cov.iloc[0, 0] == pytest.approx(var + r.sigma2)
    with pytest.raises(SpecificationError):
        r.estat_wcorrelation(at={"school": 10_000})


def test_wcorrelation_nested_cluster_blocks():
    r = fitted("prod_nested")
    v = r.estat_wcorrelation(covariance=True).to_numpy()
    s_reg, s_state, s_e = r.cov_blocks[0][0, 0], r.cov_blocks[1][0, 0], r.sigma2
    states = r.design.blocks[1].codes[r.design.blocks[0].codes == 0]
    same = states[:, None] == states[None, :]
    want = s_reg + s_state * same + s_e * np.eye(len(states))
    np.testing.assert_allclose(v, want)


def test_estimates_store_and_table_side_by_side():
    est = Estimates()
    est.store("ri", fitted("jsp_ri"))
    est.store("rs", fitted("jsp_uns"))
    assert est.dir() == ["ri", "rs"]
    table = est.table("ri", "rs", se=True, stats=("N", "ll", "aic"))
    assert table.loc[("math3", "b"), "ri"] == pytest.approx(fitted("jsp_ri").coef["math3"])
    assert table.loc[("math3", "se"), "rs"] == pytest.approx(fitted("jsp_uns").se["math3"])
    assert table.loc[("ll", ""), "rs"] == pytest.approx(fitted("jsp_uns").loglik)
    assert list(table.index.get_level_values(0))[:2] == ["math3", "math3"]
    text = format_estimates_table(table)
    assert "Legend: b/se" in text and "_cons" in text
    with pytest.raises(SpecificationError, match="not found"):
        est.get("nope")
    with pytest.raises(SpecificationError):
        est.store("two words", fitted("jsp_ri"))
