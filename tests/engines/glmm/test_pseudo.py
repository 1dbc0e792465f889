"""Sampling weights in melogit (issue 15, item 3): pseudo-likelihood over one level.

Reference: an independent brute-force implementation written here.  The
pseudo log likelihood of a random-intercept logistic model,

    log PL = sum_j w_j log integral prod_i p(y_ij | u)^{w_i|j} phi(u; 0, s) du,

is computed by direct numerical integration (trapezoid rule on 4,001 points
over +-12 s, far more accurate than the tolerance) and maximized with scipy's
BFGS and Newton steps on Richardson-extrapolated derivatives; the sandwich
G/(G-1) H^-1 (sum_j s_j s_j') H^-1 uses the weighted group scores.  The fit
uses 30-point mean-variance adaptive quadrature, so both compute the same
quantity: estimates and standard errors must agree to 1e-6.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

import bayesmixed as bm

from ..oracles import log_trapezoid, richardson

NODES = np.linspace(-12.0, 12.0, 4001)
LOG_PHI = -0.5 * NODES**2 - 0.5 * np.log(2 * np.pi)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(61)
    sizes = rng.integers(5, 16, 24)
    g = np.repeat(np.arange(24), sizes)
    x = rng.normal(size=len(g))
    y = (rng.uniform(size=len(g)) < special.expit(-0.3 + 0.8 * x + rng.normal(size=24)[g])).astype(
        int
    )
    w1 = rng.uniform(0.5, 2.0, len(g)) * (1 + y)  # informative
    w2 = rng.uniform(1.0, 4.0, 24)[g]
    return pd.DataFrame({"y": y, "x": x, "g": g, "w1": w1, "w2": w2})


def _cluster_pl(data):
    y, x, g = data["y"].to_numpy(), data["x"].to_numpy(), data["g"].to_numpy()
    w1, w2 = data["w1"].to_numpy(), data.groupby("g")["w2"].first().to_numpy()
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])

    def f(params):
        log_sd, b_x, b_0 = params
        eta = (b_0 + b_x * x)[:, None] + np.exp(log_sd) * NODES[None, :]
        ll = w1[:, None] * (y[:, None] * eta - np.logaddexp(0, eta))
        log_integrand = np.add.reduceat(ll, starts, axis=0) + LOG_PHI[None, :]
        return w2 * log_trapezoid(log_integrand, NODES)

    return f


def _oracle(f, d=3):
    def grad(z):
        return np.array([richardson(lambda v: f(v).sum(), z, i) for i in range(d)])

    x = optimize.minimize(lambda z: -f(z).sum(), np.zeros(d), method="BFGS").x
    for _ in range(3):
        hess = optimize.approx_fprime(x, grad, 1e-4)
        x = x - np.linalg.solve((hess + hess.T) / 2, grad(x))
    hess = np.column_stack([richardson(grad, x, j) for j in range(d)])
    scores = np.column_stack([richardson(f, x, i) for i in range(d)])
    bread = np.linalg.inv(-(hess + hess.T) / 2)
    n = scores.shape[0]
    return x, n / (n - 1) * bread @ (scores.T @ scores) @ bread


def test_melogit_pseudo_likelihood_matches_the_brute_force_oracle(data):
    fit = bm.stata("melogit y x [pw=w1] || g:, pweight(w2) intpoints(30)", data)
    f = _cluster_pl(data)
    x, cov = _oracle(f)
    assert fit.loglik == pytest.approx(f(x).sum(), rel=1e-9)
    np.testing.assert_allclose(np.r_[fit.working, fit.beta], x, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fit.working_vcov, cov[:1, :1], rtol=1e-6)
    np.testing.assert_allclose(fit.vcov_beta, cov[1:, 1:], rtol=1e-6)
    assert (fit.vce, fit.n_clusters, fit.cluster_var) == ("robust", 24, "g")
    text = str(fit)
    assert "Log pseudolikelihood" in text and "adjusted for 24 clusters in g" in text


def test_laplace_and_level_one_weights_alone(data):
    fit = bm.stata("melogit y x [pw=w1] || g:, intmethod(laplace)", data)
    plain = bm.stata("melogit y x || g:, intmethod(laplace)", data)
    assert fit.vce == "robust" and not np.allclose(fit.beta, plain.beta, rtol=1e-3)


def test_several_levels_are_refused(data):
    data = data.assign(c=data["g"] // 4)
    with pytest.raises(bm.BayesmixedError, match="one random-effects level"):
        bm.stata("melogit y x [pw=w1] || c: || g:, intmethod(laplace)", data)
