"""The ordinal family on its own: probabilities, derivatives, cutpoint maps, simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesmixed.errors import DataError, NotSupportedError, SpecificationError
from bayesmixed.spec.family import get_family

CUTS = [-0.8, 0.1, 1.3]
CDF = {
    "logit": stats.logistic.cdf,
    "probit": stats.norm.cdf,
    "cloglog": lambda x: -np.expm1(-np.exp(x)),
}


def _bound(link):
    fam, y = get_family("ordinal", link).prepare(np.array([3.0, 1, 7, 5, 1, 3, 7, 5]))
    return fam, y, fam.anc_working(CUTS)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_probabilities_are_cdf_differences_and_sum_to_one(link):
    fam, _, anc = _bound(link)
    eta = np.linspace(-4, 4, 9)
    ext = np.r_[-np.inf, CUTS, np.inf]
    for k in range(4):
        expected = CDF[link](ext[k + 1] - eta) - CDF[link](ext[k] - eta)
        got = np.exp(fam.loglik(np.full(9, float(k)), eta, None, anc))
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-15)  # the reference cancels in tails
    assert fam.probabilities(eta, anc).sum(axis=-1) == pytest.approx(np.ones(9))


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_score_and_observed_curvature_are_derivatives_of_the_log_density(link):
    fam, y, anc = _bound(link)
    eta = np.linspace(-2, 2, len(y))
    h = 1e-5
    up, mid, down = (fam.loglik(y, eta + d, None, anc) for d in (h, 0.0, -h))
    score, weight = fam.score_weights(y, eta, None, anc)
    assert score == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-8)
    assert weight == pytest.approx(-(up - 2 * mid + down) / h**2, rel=1e-4, abs=1e-6)
    assert np.all(weight > 0)  # log-concave: Newton's method is well posed


def test_far_tails_stay_finite():
    fam, y, anc = _bound("logit")
    eta = np.array([-60.0, 60, -60, 60, 0, 0, 40, -40])
    ll = fam.loglik(y, eta, None, anc)
    score, weight = fam.score_weights(y, eta, None, anc)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(score)) and np.all(np.isfinite(weight))


def test_cutpoints_round_trip_and_stay_ordered():
    fam, y, _ = _bound("logit")
    w = fam.anc_working(CUTS)
    assert fam.anc_natural(w) == pytest.approx(CUTS)
    assert np.all(np.diff(fam.anc_natural([5.0, -30.0, 2.0])) > 0)
    start = fam.anc_natural(list(fam.anc_start(y)))
    assert np.all(np.diff(start) > 0)


def test_prepare_codes_the_categories_and_binds_their_number():
    fam, y = get_family("ordinal").prepare(np.array([10.0, 30, 20, 30]))
    assert y.tolist() == [0, 2, 1, 2]
    assert fam.levels == (10.0, 20.0, 30.0)
    assert fam.ancillary.labels == ("cut1", "cut2")
    assert fam != get_family("ordinal") and fam == fam.restore(fam.state())
    with pytest.raises(DataError, match="does not vary"):
        get_family("ordinal").prepare(np.ones(5))
    with pytest.raises(SpecificationError, match="not available"):
        get_family("ordinal", "log")


def test_simulation_reproduces_the_category_probabilities():
    fam, _, anc = _bound("probit")
    rng = np.random.default_rng(3)
    eta = np.full(200_000, 0.4)
    draws = fam.simulate(rng, eta, None, anc)
    freq = np.array([np.mean(draws == v) for v in fam.levels])
    assert freq == pytest.approx(fam.probabilities(np.array([0.4]), anc)[0], abs=4e-3)


def test_mean_and_deviance_residuals_are_refused_with_what_to_use():
    fam, y, anc = _bound("logit")
    with pytest.raises(NotSupportedError, match="probability"):
        fam.mean(np.zeros(3), None, anc)
    with pytest.raises(NotSupportedError):
        fam.deviance_residuals(y, np.zeros(len(y)), None, anc)
