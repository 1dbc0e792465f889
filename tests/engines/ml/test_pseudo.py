"""Sampling weights in mixed (issue 15, item 3): pseudo-likelihood with pweight() and pwscale().

Reference: an independent brute-force implementation written here.  For a
two-level random-intercept model the weighted pseudo log likelihood

    log PL = sum_j w_j log integral prod_i phi(y_ij; x_ij b + u, s_e)^{w*_i|j} phi(u; 0, s_u) du

is computed by direct numerical integration (trapezoid rule on 801 points
over +-12 s_u, exponentially accurate for this smooth integrand), with the
level-one weights scaled by pandas group sums as Stata's ``pwscale()``
documents (size: sum to n_j; effective: to (sum w)^2 / sum w^2; gk: level-one
weights 1, level-two weights times the mean level-one weight), and maximized
with scipy's BFGS and Newton steps on Richardson-extrapolated derivatives.
The package's estimates must equal it to 1e-6, and its standard errors, which
pweights make robust (clustered at the top level), the oracle's sandwich to
1e-6 (relative).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import bayesmixed as bm

from ..oracles import log_trapezoid, richardson

NODES = np.linspace(-12.0, 12.0, 801)
LOG_PHI = -0.5 * NODES**2 - 0.5 * np.log(2 * np.pi)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(2006)
    sizes = rng.integers(3, 11, 20)
    g = np.repeat(np.arange(20), sizes)
    x = rng.normal(size=len(g))
    y = 1 + 0.5 * x + rng.normal(size=20)[g] + rng.normal(size=len(g))
    w1 = rng.uniform(0.5, 3.0, len(g)) * (1 + (y > 1))  # informative: depends on y
    w2 = rng.uniform(1.0, 5.0, 20)[g]
    return pd.DataFrame({"y": y, "x": x, "g": g, "w1": w1, "w2": w2})


def _scaled(data, how):
    w1, w2, by = data["w1"], data["w2"], data.groupby("g")
    if how == "size":
        w1 = w1 * by["w1"].transform("size") / by["w1"].transform("sum")
    elif how == "effective":
        w1 = w1 * by["w1"].transform("sum") / (w1**2).groupby(data["g"]).transform("sum")
    elif how == "gk":
        w2 = w2 * by["w1"].transform("mean")
        w1 = pd.Series(1.0, index=data.index)
    return w1.to_numpy(), data.assign(w2=w2).groupby("g")["w2"].first().to_numpy()


def _cluster_pl(data, how):
    y, x, g = data["y"].to_numpy(), data["x"].to_numpy(), data["g"].to_numpy()
    w1, w2 = _scaled(data, how)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])

    def f(params):
        b_x, b_0, log_su, log_se = params
        u = np.exp(log_su) * NODES
        mean = (b_0 + b_x * x)[:, None] + u[None, :]
        resid = (y[:, None] - mean) * np.exp(-log_se)
        ll = w1[:, None] * (-0.5 * resid**2 - log_se - 0.5 * np.log(2 * np.pi))
        log_integrand = np.add.reduceat(ll, starts, axis=0) + LOG_PHI[None, :]
        return w2 * log_trapezoid(log_integrand, NODES)

    return f


def _oracle(f):
    """Maximize sum(f) by BFGS then Newton; return the optimum and the sandwich there."""

    def grad(z):
        return np.array([richardson(lambda v: f(v).sum(), z, i) for i in range(4)])

    x = optimize.minimize(lambda z: -f(z).sum(), np.zeros(4), method="BFGS").x
    for _ in range(3):  # Newton steps on accurate derivatives: BFGS alone stops near 1e-5
        hess = optimize.approx_fprime(x, grad, 1e-4)
        x = x - np.linalg.solve((hess + hess.T) / 2, grad(x))
    hess = np.column_stack([richardson(grad, x, j) for j in range(4)])
    scores = np.column_stack([richardson(f, x, i) for i in range(4)])
    bread = np.linalg.inv(-(hess + hess.T) / 2)
    return x, 20 / 19 * bread @ (scores.T @ scores) @ bread


@pytest.mark.parametrize("how", [None, "size", "effective", "gk"])
def test_pseudo_likelihood_matches_the_brute_force_oracle(data, how):
    option = f" pwscale({how})" if how else ""
    fit = bm.stata(f"mixed y x [pw=w1] || g:, pweight(w2){option}", data)
    f = _cluster_pl(data, how)
    x, cov = _oracle(f)
    assert fit.loglik == pytest.approx(f(x).sum(), rel=1e-9)
    np.testing.assert_allclose(np.r_[fit.beta, fit.working], x, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fit.vcov_beta, cov[:2, :2], rtol=1e-6)
    np.testing.assert_allclose(fit.working_vcov, cov[2:, 2:], rtol=1e-6)
    assert (fit.vce, fit.n_clusters, fit.cluster_var) == ("robust", 20, "g")


def test_output_and_nobs(data):
    fit = bm.stata("mixed y x [pw=w1] || g:, pweight(w2)", data)
    text = str(fit)
    assert fit.nobs == len(data)
    assert "Log pseudolikelihood =" in text
    assert "(Std. err. adjusted for 20 clusters in g)" in text


def test_level_one_weights_alone_and_vce_cluster(data):
    data = data.assign(c=data["g"] // 4)
    fit = bm.stata("mixed y x [pw=w1] || g:, vce(cluster c)", data)
    assert (fit.vce, fit.n_clusters, fit.cluster_var) == ("cluster", 5, "c")


def test_deeper_models_are_refused(data):
    """Three levels are fitted (test_pseudo_three_level.py); four are not yet."""
    data = data.assign(h=np.arange(len(data)) % 2, k=np.arange(len(data)) % 3)
    with pytest.raises(bm.BayesmixedError, match="two- and three-level"):
        bm.stata("mixed y x [pw=w1] || g: || h: || k:", data)
