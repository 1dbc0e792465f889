"""mvaghermite / ghermite against an independent brute-force integral at fixed parameters.

The oracle integrates each district's likelihood over b ~ N(0, Sigma) with a
dense non-adaptive product Gauss-Hermite rule on the prior (many points),
written here without the engine's code.  Both approximate the same integral,
so the 7-point adaptive rules must agree with it to quadrature accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from bayesmixed.engines.glmm.objective import ApproxLoglik
from bayesmixed.engines.glmm.quadrature import product_rule
from bayesmixed.engines.glmm.response import build_response

from .helpers import bangladesh, fitted


def brute_force(design, beta, sigma, points):
    """sum_g log E_{b~N(0,Sigma)} prod_i p(y_i | x_i beta + z_i b)."""
    x, v = np.polynomial.hermite.hermgauss(points)  # physicists' rule: weight exp(-x^2)
    k = sigma.shape[0]
    grids = np.meshgrid(*([x] * k), indexing="ij")
    nodes = np.sqrt(2) * np.stack([g.ravel() for g in grids], 1)  # N(0, I) nodes
    logw = sum(np.log(g.ravel()) for g in np.meshgrid(*([v] * k), indexing="ij")) - k * np.log(
        np.sqrt(np.pi)
    )
    b = nodes @ np.linalg.cholesky(sigma).T  # (M, k) on the prior
    block = design.blocks[0]
    eta = (design.X @ beta)[:, None] + block.Z @ b.T  # (n, M)
    y = design.y[:, None]
    ll = y * eta - np.logaddexp(0, eta)
    total = 0.0
    for g in range(block.n_groups):
        s = ll[block.codes == g].sum(axis=0)
        total += logsumexp(logw + s)
    return total


def _objective(design, method, points=7):
    b = design.blocks[0]
    return ApproxLoglik(build_response(design), [b.structure], [b.k], method, points)


def test_product_rule_integrates_moments():
    nodes, logw = product_rule(5, 2)
    w = np.exp(logw)
    assert w.sum() == pytest.approx(1.0)
    assert w @ nodes[:, 0] ** 2 == pytest.approx(1.0)
    assert w @ (nodes[:, 0] ** 4 * nodes[:, 1] ** 2) == pytest.approx(3.0)


def test_mvaghermite_1d_matches_brute_force_at_fit():
    r = fitted(False, "mvaghermite")
    oracle = brute_force(bangladesh(False), r.beta, r.cov_blocks[0], 300)
    assert r.loglik == pytest.approx(oracle, abs=2e-6)
    assert r.intmethod == "mvaghermite" and r.intpoints == 7


@pytest.mark.slow
def test_mvaghermite_2d_matches_brute_force_at_fit():
    r = fitted(True, "mvaghermite")
    oracle = brute_force(bangladesh(True), r.beta, r.cov_blocks[0], 120)
    assert r.loglik == pytest.approx(oracle, abs=1e-4)
    # the 2-D optimum is a different (better) approximation than Laplace
    assert r.loglik > fitted(True, "laplace").loglik + 0.1


def test_methods_at_fixed_parameters_2d():
    design = bangladesh(True)
    beta = np.array([0.8159, -0.0265, 1.1259, 1.3681, 1.3554, -1.7125])
    sigma = np.array([[0.665, -0.405], [-0.405, 0.389]])
    theta = np.linalg.cholesky(sigma)[np.tril_indices(2)]
    x = np.r_[theta, beta]
    oracle = brute_force(design, beta, sigma, 100)
    assert _objective(design, "mvaghermite")(x) == pytest.approx(oracle, abs=1e-4)
    assert _objective(design, "mcaghermite", 9)(x) == pytest.approx(oracle, abs=1e-3)
    assert abs(_objective(design, "laplace")(x) - oracle) > 0.1  # Laplace is visibly worse
    assert _objective(design, "ghermite", 30)(x) == pytest.approx(oracle, abs=1e-2)
