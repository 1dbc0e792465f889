"""Families and links against scipy.stats densities and numerical derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesmixed.errors import DataError, SpecificationError
from bayesmixed.spec.family import ResponseWarning, get_family

ETA = np.array([-2.0, -0.3, 0.4, 1.7])


def test_bernoulli_and_binomial_logliks_match_scipy():
    for link in ("logit", "probit", "cloglog"):
        fam = get_family("bernoulli", link)
        mu = fam.link.inverse(ETA)
        y = np.array([0.0, 1.0, 1.0, 0.0])
        assert fam.loglik(y, ETA) == pytest.approx(stats.bernoulli.logpmf(y, mu))
    fam = get_family("binomial", "logit")
    n, y = np.array([5.0, 3, 10, 1]), np.array([2.0, 0, 7, 1])
    expected = stats.binom.logpmf(y, n, fam.link.inverse(ETA))
    assert fam.loglik(y, ETA, n) == pytest.approx(expected)


def test_count_and_continuous_logliks_match_scipy():
    y = np.array([0.0, 2, 5, 1])
    mu = np.exp(ETA)
    assert get_family("poisson").loglik(y, ETA) == pytest.approx(stats.poisson.logpmf(y, mu))
    alpha = 0.7
    m = 1 / alpha
    expected = stats.nbinom.logpmf(y, m, m / (m + mu))
    assert get_family("nbinomial").loglik(y, ETA, anc=[np.log(alpha)]) == pytest.approx(expected)
    yc = np.array([0.5, 2.0, 1.2, 3.3])
    phi = 0.4
    expected = stats.gamma.logpdf(yc, 1 / phi, scale=mu * phi)
    assert get_family("gamma").loglik(yc, ETA, anc=[np.log(phi)]) == pytest.approx(expected)
    expected = stats.norm.logpdf(yc, ETA, np.sqrt(phi))
    assert get_family("gaussian").loglik(yc, ETA, anc=[np.log(phi)]) == pytest.approx(expected)


@pytest.mark.parametrize(
    "family,link,y",
    [
        ("bernoulli", "logit", [0, 1, 1, 0]),
        ("bernoulli", "probit", [0, 1, 1, 0]),
        ("bernoulli", "cloglog", [1, 0, 1, 0]),
        ("poisson", "log", [0, 2, 5, 1]),
        ("nbinomial", "log", [0, 2, 5, 1]),
        ("gamma", "log", [0.5, 2.0, 1.2, 3.3]),
    ],
)
def test_score_is_the_derivative_of_the_loglik(family, link, y):
    fam = get_family(family, link)
    y = np.asarray(y, float)
    score, weight = fam.score_weights(y, ETA, anc=[-0.5])
    h = 1e-6
    numeric = (fam.loglik(y, ETA + h, anc=[-0.5]) - fam.loglik(y, ETA - h, anc=[-0.5])) / (2 * h)
    assert score == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    assert np.all(weight > 0)


def test_canonical_fisher_weight_is_the_curvature():
    fam = get_family("bernoulli", "logit")
    y = np.array([0.0, 1, 1, 0])
    _, w = fam.score_weights(y, ETA)
    h = 1e-4
    curv = -(fam.loglik(y, ETA + h) - 2 * fam.loglik(y, ETA) + fam.loglik(y, ETA - h)) / h**2
    assert w == pytest.approx(curv, rel=1e-5)


def test_deviance_residuals_square_to_glm_deviance():
    fam = get_family("poisson")
    y = np.array([0.0, 2, 5, 1])
    mu = np.exp(ETA)
    dev = 2 * np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0) - (y - mu))
    assert np.sum(fam.deviance_residuals(y, ETA) ** 2) == pytest.approx(dev)


def test_response_checks():
    with pytest.warns(ResponseWarning, match="nonzero"):
        y = get_family("bernoulli").check_response(np.array([0.0, 3, 1, -1]), name="c_use")
    assert list(y) == [0, 1, 1, 1]
    with pytest.raises(DataError, match="does not vary"):
        get_family("bernoulli").check_response(np.zeros(4))
    with pytest.raises(DataError, match="negative"):
        get_family("poisson").check_response(np.array([1.0, -2]))
    with pytest.warns(ResponseWarning, match="non-integer"):
        get_family("poisson").check_response(np.array([1.0, 2.5]))
    with pytest.raises(DataError, match="between 0 and the trials"):
        get_family("binomial").check_response(np.array([3.0, 1]), np.array([2.0, 2]))
    with pytest.raises(DataError, match="<= 0"):
        get_family("gamma").check_response(np.array([1.0, 0.0]))


def test_bad_family_or_link():
    with pytest.raises(SpecificationError, match="unknown family"):
        get_family("weibull")
    with pytest.raises(SpecificationError, match="not available"):
        get_family("poisson", "logit")
    assert get_family("bernoulli").link.name == "logit"


@pytest.mark.parametrize("name", ["logit", "probit", "cloglog", "log", "identity"])
def test_inverse_and_mu_eta_together_equal_them_apart(name):
    from bayesmixed.spec.families.links import Link

    link = Link(name)
    eta = np.linspace(-40, 40, 161)
    mu, dmu = link.inverse_and_mu_eta(eta)
    np.testing.assert_array_equal(mu, link.inverse(eta))
    np.testing.assert_array_equal(dmu, link.mu_eta(eta))


def test_softplus_is_log1p_exp_without_overflow():
    from bayesmixed.spec.families.links import softplus

    eta = np.r_[np.linspace(-800, 800, 1601), 0.0, 1e-300, -1e-300]
    np.testing.assert_allclose(softplus(eta), np.logaddexp(0.0, eta), rtol=4e-16, atol=0)
    assert np.all(np.isfinite(softplus(eta)))
