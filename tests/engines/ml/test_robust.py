"""vce(robust) and vce(cluster var) after mixed (issue 15, item 2).

Reference: an independent computation written here, not the package's score
code.  Each cluster's log likelihood is the Gaussian density of its rows,
``scipy.stats.multivariate_normal.logpdf`` with the dense covariance
V = Z G Z' + s2 I built from the model's parameters in Stata's metric (fixed
effects, log standard deviations, atanh correlations, log sigma_e); its scores
and the Hessian of the total are Richardson-extrapolated central differences
(steps h and h/2), and the sandwich is G/(G-1) H^-1 (sum_g s_g s_g') H^-1.  The
package's robust standard errors must equal these to 1e-6 (relative).

clubSandwich is not used: its CR0/CR1 estimators for an ``lme`` fit are
sandwiches of the GLS estimating equations of the fixed effects alone, with the
variance components held fixed; Stata's (and ours) differentiates the full
likelihood, so the fixed-effect block differs whenever beta and the variance
components are correlated in the Hessian, and clubSandwich has no variance
component SEs at all.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.datasets import load
from bayesmixed.errors import BayesmixedError

from ..oracles import cluster_sandwich


def _dense_loglik(y, X, groups, z_of, cov_of):
    """x -> (C,) log densities of each top-level cluster from dense covariance matrices."""
    tops = pd.factorize(groups[0])[0]
    rows = [np.flatnonzero(tops == c) for c in range(tops.max() + 1)]

    def f(x):
        beta, rest = x[: X.shape[1]], x[X.shape[1] :]
        out = []
        for r in rows:
            v = np.exp(2 * rest[-1]) * np.eye(len(r))
            for level, (z, cov) in enumerate(zip(z_of(r), cov_of(rest))):
                same = groups[level][r][:, None] == groups[level][r][None, :]
                v += same * (z @ cov @ z.T)
            out.append(stats.multivariate_normal.logpdf(y[r], X[r] @ beta, v))
        return np.array(out)

    return f


@pytest.fixture(scope="module")
def rats():
    return load("rats")


def _cov_unstructured(w):
    sd, corr = np.exp(w[:2]), np.tanh(w[2])
    return np.array([[sd[0] ** 2, corr * sd[0] * sd[1]], [corr * sd[0] * sd[1], sd[1] ** 2]])


def _full_cov(fit):
    p = fit.design.p
    cov = np.full((p + len(fit.working),) * 2, np.nan)
    cov[:p, :p] = fit.vcov_beta
    cov[p:, p:] = fit.working_vcov
    return cov


def test_random_slope_model_matches_the_dense_oracle():
    """A random slope with an unstructured covariance (interior optimum), robust by group.

    Simulated: 30 groups of 4-14 rows, slope-intercept correlation 0.4 and
    heteroscedastic errors (so the robust and model-based SEs differ).
    """
    data = _simulated_slopes()
    fit = bm.stata("mixed y x || g: x, cov(uns) vce(robust)", data)
    assert np.all(np.isfinite(fit.working)) and abs(fit.working[2]) < 2
    y, g = data["y"].to_numpy(float), data["g"].to_numpy()
    X = np.column_stack([data["x"], np.ones(len(data))])
    f = _dense_loglik(y, X, [g], lambda r: [X[r]], lambda w: [_cov_unstructured(w[:3])])
    x = np.r_[fit.beta, fit.working]
    assert f(x).sum() == pytest.approx(fit.loglik, rel=1e-10)
    ref = cluster_sandwich(f, x, np.arange(30))
    np.testing.assert_allclose(np.diag(_full_cov(fit)), np.diag(ref), rtol=1e-6)
    p = fit.design.p
    np.testing.assert_allclose(fit.vcov_beta, ref[:p, :p], rtol=1e-6)
    np.testing.assert_allclose(fit.working_vcov, ref[p:, p:], rtol=1e-5, atol=1e-10)
    assert (fit.n_clusters, fit.cluster_var, fit.vce) == (30, "g", "robust")


def _simulated_slopes() -> pd.DataFrame:
    rng = np.random.default_rng(20261202)
    sizes = rng.integers(4, 15, 30)
    g = np.repeat(np.arange(30), sizes)
    x = rng.normal(size=len(g))
    cov = np.array([[0.5**2, 0.4 * 0.5], [0.4 * 0.5, 1.0]])
    b = rng.multivariate_normal([0, 0], cov, size=30)
    e = rng.normal(size=len(g)) * (0.5 + np.abs(x))
    return pd.DataFrame({"y": 1 + 0.5 * x + b[g, 0] * x + b[g, 1] + e, "x": x, "g": g})


def test_cluster_above_the_top_level_matches_the_dense_oracle(rats):
    """Litters clustered by dose (constant within litter): 3 clusters, factor 3/2."""
    fit = bm.stata("mixed weight size female || litter:, vce(cluster dose)", rats)
    y, litter = rats["weight"].to_numpy(float), rats["litter"].to_numpy()
    X = np.column_stack([rats["size"], rats["female"], np.ones(len(rats))]).astype(float)
    one = np.ones((len(rats), 1))
    f = _dense_loglik(y, X, [litter], lambda r: [one[r]], lambda w: [np.exp(2 * w[:1, None])])
    x = np.r_[fit.beta, fit.working]
    assert f(x).sum() == pytest.approx(fit.loglik, rel=1e-10)
    clusters = rats.groupby("litter", sort=False)["dose"].first().to_numpy()
    ref = cluster_sandwich(f, x, clusters)
    np.testing.assert_allclose(np.diag(_full_cov(fit)), np.diag(ref), rtol=1e-6)
    assert (fit.n_clusters, fit.cluster_var, fit.vce) == (3, "dose", "cluster")


@pytest.mark.slow
def test_three_level_model_clusters_at_the_top_level():
    """Nested states within regions: the clusters are the 9 regions, not the 48 states."""
    data = load("productivity")
    fit = bm.stata("mixed gsp private emp || region: || state:, vce(robust)", data)
    assert (fit.n_clusters, fit.cluster_var) == (9, "region")
    y = data["gsp"].to_numpy(float)
    X = np.column_stack([data["private"], data["emp"], np.ones(len(data))])
    one = np.ones((len(data), 1))
    groups = [data["region"].to_numpy(), data["state"].to_numpy()]
    f = _dense_loglik(
        y,
        X,
        groups,
        lambda r: [one[r], one[r]],
        lambda w: [np.exp(2 * w[:1, None]), np.exp(2 * w[1:2, None])],
    )
    x = np.r_[fit.beta, fit.working]
    assert f(x).sum() == pytest.approx(fit.loglik, rel=1e-10)
    ref = cluster_sandwich(f, x, np.arange(9))
    np.testing.assert_allclose(np.diag(_full_cov(fit)), np.diag(ref), rtol=1e-6)


def test_estimates_do_not_change_and_model_based_ses_do(rats):
    plain = bm.stata("mixed weight size female || litter:", rats)
    robust = bm.stata("mixed weight size female || litter:, vce(robust)", rats)
    np.testing.assert_allclose(robust.beta, plain.beta, rtol=1e-10)
    assert robust.loglik == plain.loglik
    assert not np.allclose(robust.se, plain.se, rtol=1e-3)


def test_output_is_stata_layout(rats):
    text = str(bm.stata("mixed weight size female || litter:, vce(cluster dose)", rats))
    assert "Log pseudolikelihood =" in text
    assert "(Std. err. adjusted for 3 clusters in dose)" in text
    lines = text.splitlines()
    head = next(i for i, s in enumerate(lines) if s.strip().startswith("weight | Coefficient"))
    assert lines[head - 1] == "             |               Robust"
    assert lines[head - 3].endswith("(Std. err. adjusted for 3 clusters in dose)")
    assert len(lines[head - 3]) == 78
    assert "LR test vs. linear model" not in text
    assert "                             |               Robust" in lines
    html = bm.stata("mixed weight size female || litter:, vce(cluster dose)", rats)._repr_html_()
    assert "Robust std. err." in html and "adjusted for 3 clusters in dose" in html
    assert "LR test" not in html


def test_cluster_variable_below_the_top_level_is_refused(rats):
    with pytest.raises(BayesmixedError, match="at or above the top level"):
        bm.stata("mixed weight size || litter:, vce(cluster female)", rats)


def test_crossed_designs_are_refused(rats):
    with pytest.raises(BayesmixedError, match="nested random effects"):
        bm.stata("mixed weight size || _all: R.litter, vce(robust)", rats)


def test_lrtest_and_bayes_are_refused_after_robust(rats):
    a = bm.stata("mixed weight size female || litter:, vce(robust)", rats)
    b = bm.stata("mixed weight size || litter:, vce(robust)", rats)
    with pytest.raises(BayesmixedError, match="robust vce"):
        bm.lrtest(a, b)
    with pytest.raises(BayesmixedError, match="Bayesian engine does not take"):
        bm.stata("bayes: mixed weight size || litter:, vce(robust)", rats)
