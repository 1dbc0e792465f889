"""vce(robust) and vce(cluster var) after melogit (issue 15, item 2).

Reference: an independent computation written here, not the package's score
code.  Each group's log likelihood of a random-intercept logistic model is the
integral of its Bernoulli likelihood over u ~ N(0, s^2), by
the trapezoid rule on 4,001 points over +-12 sd (exponentially
accurate for this smooth integrand, error far below 1e-12); its scores and the Hessian of
the total are Richardson-extrapolated central differences, and the sandwich is
G/(G-1) H^-1 (sum_g s_g s_g') H^-1 in Stata's metric (log sd, then the fixed
effects).  The fit uses 30-point mean-variance adaptive quadrature, whose
error is far below the tolerance, so both compute the same quantity: the
robust standard errors must agree to 1e-6 (relative).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesmixed as bm
from bayesmixed.errors import BayesmixedError

from ..oracles import cluster_sandwich, log_trapezoid


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(15)
    sizes = rng.integers(5, 16, 24)
    g = np.repeat(np.arange(24), sizes)
    x = rng.normal(size=len(g))
    u = rng.normal(size=24)
    eta = -0.3 + 0.8 * x + u[g] + 0.6 * x**2  # a misspecified mean: robust != model-based
    y = (rng.uniform(size=len(g)) < special.expit(eta)).astype(int)
    return pd.DataFrame({"y": y, "x": x, "g": g, "c": g // 4})


def _group_loglik(data):
    y, x, g = data["y"].to_numpy(), data["x"].to_numpy(), data["g"].to_numpy()
    nodes = np.linspace(-12.0, 12.0, 4001)  # standardized u; trapezoid rule, error << 1e-12

    def f(params):
        log_sd, b_x, b_0 = params
        u = np.exp(log_sd) * nodes
        eta = (b_0 + b_x * x)[:, None] + u[None, :]
        ll = y[:, None] * eta - np.logaddexp(0, eta)
        per_group = pd.DataFrame(ll).groupby(g).sum().to_numpy()  # (G, nodes)
        log_integrand = per_group + stats.norm.logpdf(nodes)[None, :]
        return log_trapezoid(log_integrand, nodes)

    return f


@pytest.mark.parametrize("vce", ["robust", "cluster c"])
def test_melogit_robust_ses_match_the_quadrature_oracle(data, vce):
    fit = bm.stata(f"melogit y x || g:, intpoints(30) vce({vce})", data)
    f = _group_loglik(data)
    x = np.r_[fit.working, fit.beta]
    assert f(x).sum() == pytest.approx(fit.loglik, rel=1e-9)
    clusters = np.arange(24) if vce == "robust" else np.arange(24) // 4
    ref = cluster_sandwich(f, x, clusters)
    np.testing.assert_allclose(fit.working_vcov, ref[:1, :1], rtol=1e-6)
    np.testing.assert_allclose(fit.vcov_beta, ref[1:, 1:], rtol=1e-6)
    assert fit.n_clusters == (24 if vce == "robust" else 6)


def test_laplace_and_output(data):
    plain = bm.stata("melogit y x || g:, intmethod(laplace)", data)
    fit = bm.stata("melogit y x || g:, intmethod(laplace) vce(robust)", data)
    np.testing.assert_allclose(fit.beta, plain.beta, rtol=1e-10)
    assert not np.allclose(fit.se, plain.se, rtol=1e-3)
    text = str(fit)
    assert "Log pseudolikelihood =" in text
    assert "(Std. err. adjusted for 24 clusters in g)" in text
    assert "|               Robust" in text
    assert "LR test vs. logistic model" not in text


def test_crossed_levels_and_clusters_below_the_groups_are_refused(data):
    # nested levels work (tests/engines/glmm/test_robust_nested.py); crossed ones have no
    # independent clusters
    with pytest.raises(BayesmixedError, match="nested random effects"):
        bm.stata("melogit y x || _all: R.c || g:, intmethod(laplace) vce(robust)", data)
    with pytest.raises(BayesmixedError, match="one random-effects level"):
        bm.stata("melogit y x || _all: R.c, intmethod(laplace) vce(robust)", data)
    rows = data.assign(row=np.arange(len(data)))
    with pytest.raises(BayesmixedError, match="row varies within groups of g"):
        bm.stata("melogit y x || g:, intmethod(laplace) vce(cluster row)", rows)
