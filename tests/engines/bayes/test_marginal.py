"""The integrated likelihood and the exact conditional draws against dense formulas."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.linalg import block_diag
from scipy.stats import multivariate_normal

from bayesmixed.engines.bayes.marginal import (
    conditional_draws,
    full_lambda,
    marginal_loglik,
    suff_stats,
)

from .helpers import toy_design


def _lams(design, rng):
    out = []
    for b in design.blocks:
        a = rng.normal(size=(b.k, b.k))
        out.append(np.linalg.cholesky(a @ a.T + 0.5 * np.eye(b.k)))
    return out


def _dense(design, lams):
    z = suff_stats(design).z.toarray()
    big = block_diag(*[np.kron(np.eye(b.n_groups), lam) for b, lam in zip(design.blocks, lams)])
    return z, big @ big.T


def _evaluate(design, lams, sigma, beta, mean, prec):
    st = suff_stats(design)
    sym = [pt.dmatrix() for _ in lams]
    lam_full = full_lambda(sym, design)
    b = None if beta is None else pt.as_tensor(beta)
    out = marginal_loglik(st, lam_full, pt.as_tensor(sigma), b, mean, prec)
    return float(pytensor.function(sym, out)(*lams))


@pytest.mark.parametrize("cov", ["unstructured", "independent", "exchangeable"])
def test_marginal_loglik_with_beta_integrated_matches_dense_normal(cov):
    design = toy_design(cov)
    rng = np.random.default_rng(1)
    lams = _lams(design, rng)
    z, g = _dense(design, lams)
    x, y, sigma = design.X, design.y, 0.7
    mean, var = np.array([0.3, -1.0]), np.array([4.0, 9.0])
    v = sigma**2 * np.eye(design.n) + z @ g @ z.T + x @ np.diag(var) @ x.T
    expected = multivariate_normal(x @ mean, v).logpdf(y)
    assert _evaluate(design, lams, sigma, None, mean, 1 / var) == pytest.approx(expected, rel=1e-10)


def test_marginal_loglik_with_beta_given_matches_dense_normal():
    design = toy_design()
    lams = _lams(design, np.random.default_rng(2))
    z, g = _dense(design, lams)
    beta, sigma = np.array([0.2, 0.9]), 1.3
    v = sigma**2 * np.eye(design.n) + z @ g @ z.T
    expected = multivariate_normal(design.X @ beta, v).logpdf(design.y)
    assert _evaluate(design, lams, sigma, beta, None, None) == pytest.approx(expected, rel=1e-10)


def test_flat_beta_prior_gives_the_restricted_likelihood_up_to_a_constant():
    """With flat priors the integrated likelihood is REML's: compare differences."""
    design = toy_design()
    st = suff_stats(design)
    x, y = design.X, design.y
    zero = np.zeros(2)

    def reml(lams, sigma):
        z, g = _dense(design, lams)
        v = sigma**2 * np.eye(design.n) + z @ g @ z.T
        vi = np.linalg.inv(v)
        xvx = x.T @ vi @ x
        bhat = np.linalg.solve(xvx, x.T @ vi @ y)
        r = y - x @ bhat
        return -0.5 * (np.linalg.slogdet(v)[1] + np.linalg.slogdet(xvx)[1] + r @ vi @ r)

    rng = np.random.default_rng(3)
    a, b = _lams(design, rng), _lams(design, rng)
    ours = _evaluate(design, a, 0.8, None, zero, zero) - _evaluate(design, b, 1.1, None, zero, zero)
    assert st.p == 2
    assert ours == pytest.approx(reml(a, 0.8) - reml(b, 1.1), rel=1e-9)


def test_conditional_means_and_covariance_match_dense_gaussian():
    design = toy_design()
    st = suff_stats(design)
    lams = _lams(design, np.random.default_rng(4))
    covs = [np.repeat((lam @ lam.T)[None], 4000, axis=0) for lam in lams]
    sigma = np.full(4000, 0.9)
    mean, prec = np.array([0.0, 0.0]), np.array([0.25, 0.25])
    rng = np.random.default_rng(5)
    b, beta = conditional_draws(st, design, sigma, covs, rng, None, mean, prec)
    # dense posterior of (b, beta): prior N(0, blockdiag(G, 4 I)), likelihood sigma^2 I
    z, g = _dense(design, lams)
    w = np.hstack([z, design.X])
    prior = block_diag(g, 4 * np.eye(2))
    post_cov = np.linalg.inv(w.T @ w / 0.81 + np.linalg.inv(prior))
    post_mean = post_cov @ (w.T @ design.y / 0.81)
    draws = np.hstack([b, beta])
    se = np.sqrt(np.diag(post_cov) / 4000)
    assert np.all(np.abs(draws.mean(axis=0) - post_mean) < 5 * se)
    assert np.cov(draws.T) == pytest.approx(post_cov, abs=0.08 * np.max(np.diag(post_cov)))
    b0, beta0 = conditional_draws(
        st, design, sigma[:1], [c[:1] for c in covs], rng, None, mean, prec, noise=False
    )
    assert np.hstack([b0[0], beta0[0]]) == pytest.approx(post_mean, rel=1e-8, abs=1e-10)


def _dense_posterior(design, lam, w_obs, mean, prec, beta=None):
    """Mean and covariance of (u, beta) | y by brute force (n x q matrices)."""
    z = suff_stats(design).z.toarray() @ np.kron(np.eye(design.blocks[0].n_groups), lam)
    if beta is not None:
        p_mat = (z.T * w_obs) @ z + np.eye(z.shape[1])
        cov = np.linalg.inv(p_mat)
        return cov @ ((z.T * w_obs) @ (design.y - design.X @ beta)), cov
    w = np.hstack([z, design.X])
    d = np.concatenate([np.ones(z.shape[1]), prec])
    cov = np.linalg.inv((w.T * w_obs) @ w + np.diag(d))
    return cov @ ((w.T * w_obs) @ design.y + d * np.concatenate([np.zeros(z.shape[1]), mean])), cov


@pytest.mark.parametrize("given_beta", [False, True])
def test_blocked_conditional_draws_match_the_dense_gaussian(given_beta):
    """One random-effects equation takes the group-by-group path; it must be exact."""
    from .helpers import jsp_design

    design = jsp_design()
    rows = [np.flatnonzero(design.X[:, 1] < 25), np.flatnonzero(design.X[:, 1] >= 25)]
    parts = [suff_stats(design, r) for r in rows]  # two residual-variance cells
    cell_w = np.array([1 / 30.0, 1 / 45.0])
    w_obs = np.empty(design.n)
    for r, wt in zip(rows, cell_w):
        w_obs[r] = wt
    cov = np.array([[0.04, -0.9], [-0.9, 30.0]])
    lam = np.linalg.cholesky(cov)
    mean, prec = np.array([30.0, 0.0]), np.array([1e-4, 0.01])
    beta = np.array([[30.0, 0.6]]) if given_beta else None
    s = 3000
    args = (parts[0], design, None, [np.repeat(cov[None], s, 0)], np.random.default_rng(1))
    draws = conditional_draws(
        *args, None if beta is None else np.repeat(beta, s, 0), mean, prec,
        parts=parts, weights=np.repeat(cell_w[None], s, 0),
    )  # fmt: skip
    given = None if beta is None else beta[0]
    exact_mean, exact_cov = _dense_posterior(design, lam, w_obs, mean, prec, given)
    b_big = np.kron(np.eye(design.blocks[0].n_groups), lam)
    q = b_big.shape[0]
    if given_beta:
        b_mean, b_cov = b_big @ exact_mean, b_big @ exact_cov @ b_big.T
        got = draws[0]
    else:
        t = block_diag(b_big, np.eye(2))
        b_mean, b_cov = t @ exact_mean, t @ exact_cov @ t.T
        got = np.hstack(draws)
    means = conditional_draws(
        parts[0], design, None, [cov[None]], np.random.default_rng(1), beta, mean, prec,
        parts=parts, weights=cell_w[None], noise=False,
    )  # fmt: skip
    centre = means[0][0] if given_beta else np.hstack([means[0][0], means[1][0]])
    assert centre == pytest.approx(b_mean, rel=1e-8, abs=1e-9)
    se = np.sqrt(np.diag(b_cov) / s)
    assert np.all(np.abs(got.mean(axis=0) - b_mean) < 5 * se)
    emp = np.cov(got.T)
    sd = np.sqrt(np.diag(b_cov))
    assert np.abs(emp / np.outer(sd, sd) - b_cov / np.outer(sd, sd)).max() < 0.12
    assert got.shape[1] == q + (0 if given_beta else 2)
