"""Bootstrap LR test and simulation-based power."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.errors import SpecificationError
from bayesmixed.postestimation.lrtest import LRTestError
from bayesmixed.resampling import bootstrap_lrtest, power


def test_bootstrap_lrtest_boundary_null(ri, jsp, client):
    nested = bm.mixed("math5 math3 || school: || class:", jsp)
    t = bootstrap_lrtest(ri, nested, n=30, seed=2, client=client, progress=False)
    assert t.chi2 == pytest.approx(2 * (nested.loglik - ri.loglik))
    assert len(t.statistics) == 30 and (t.statistics >= 0).all()
    assert t.p == pytest.approx((1 + (t.statistics >= t.chi2 - 1e-8).sum()) / 31)
    # under a boundary null half the statistics are ~0: the chi2 reference is conservative
    assert (t.statistics < 1e-6).mean() > 0.2
    swapped = bootstrap_lrtest(nested, ri, n=30, seed=2, client=client, progress=False)
    np.testing.assert_allclose(swapped.statistics, t.statistics)
    assert "Prob > LR" in str(t)


def test_lrtest_with_bootstrap_dispatches_to_resampling(ri, jsp, client):
    # bm.lrtest(..., bootstrap=n) is the bootstrap test; postestimation does not import it
    nested = bm.mixed("math5 math3 || school: || class:", jsp)
    direct = bootstrap_lrtest(ri, nested, n=6, seed=5, client=client, progress=False)
    via = bm.lrtest(ri, nested, bootstrap=6, seed=5, client=client, progress=False)
    assert type(via) is type(direct)
    np.testing.assert_allclose(via.statistics, direct.statistics)
    assert via.p == direct.p
    plain = bm.lrtest(ri, nested)
    assert plain.chi2 == pytest.approx(direct.chi2) and "Prob > LR" not in str(plain)


def test_bootstrap_lrtest_rejects_different_samples(ri, jsp):
    # same size, different rows: the likelihoods are of different data
    shifted = bm.mixed("math5 math3 || school: || class:", jsp.iloc[1:])
    other = bm.mixed("math5 math3 || school:", jsp.iloc[:-1])
    with pytest.raises(LRTestError, match="different estimation samples"):
        bootstrap_lrtest(other, shifted, n=2)
    with pytest.raises(LRTestError, match="observations differ"):
        bootstrap_lrtest(ri, shifted, n=2)


def test_power_large_and_null_effects(ri, client):
    big = power(ri, n=40, seed=1, beta={"math3": 0.3}, client=client, progress=False)
    assert big.power["math3"] == 1.0
    null = power(ri, n=80, seed=1, beta={"math3": 0.0}, client=client, progress=False)
    assert null.power["math3"] < 0.2  # about alpha = 0.05
    assert list(null.pvalues.columns) == ["math3"] and null.failures.empty


def test_power_grows_with_the_planned_design(ri, jsp, client):
    few = jsp[jsp.school <= 12].drop(columns="math5")
    kw = dict(n=60, seed=3, beta={"math3": 0.06}, client=client, progress=False)
    small, full = power(ri, data=few, **kw), power(ri, **kw)
    assert small.nobs < full.nobs
    assert small.power["math3"] < full.power["math3"]


def test_power_argument_errors(ri):
    with pytest.raises(SpecificationError, match="coef"):
        power(ri, n=2, coef="nosuch", progress=False)
    with pytest.raises(SpecificationError, match="alpha"):
        power(ri, n=2, alpha=1.5, progress=False)
    with pytest.raises(SpecificationError, match="unknown fixed"):
        power(ri, n=2, beta={"nosuch": 1}, progress=False)
