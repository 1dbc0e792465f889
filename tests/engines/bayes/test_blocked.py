"""The group-by-group integrated likelihood equals the dense one it replaces."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from bayesmixed.engines.bayes.blocked import blocked_applies, blocked_loglik, group_parts
from bayesmixed.engines.bayes.marginal import full_lambda, suff_stats, weighted_loglik

from .helpers import slope_design, toy_design


def _both(design, beta, cells):
    """(dense, blocked) values at a fixed Lambda with rows split into ``cells`` variances."""
    block = design.blocks[0]
    rows = np.array_split(np.arange(design.n), len(cells))
    parts = [suff_stats(design, r) for r in rows]
    weights = [1.0 / v for v in cells]
    logvar = sum(len(r) * np.log(v) for r, v in zip(rows, cells))
    lam = pt.dmatrix()
    mean, prec = np.array([1.0, 20.0]), np.array([0.5, 0.01])
    b = None if beta is None else pt.as_tensor(beta)
    dense = weighted_loglik(parts, weights, logvar, full_lambda([lam], design), b, mean, prec)
    grouped = [group_parts(p, block.n_groups, block.k) for p in parts]
    blk = blocked_loglik(grouped, weights, logvar, lam, block.k, b, mean, prec)
    value = np.array([[0.7, 0.0], [-0.4, 3.0]])[: block.k, : block.k]
    return pytensor.function([lam], [dense, blk])(value)


@pytest.mark.parametrize("beta", [None, np.array([0.6, 1.0])])
@pytest.mark.parametrize("cells", [(16.0,), (9.0, 25.0, 30.0)])
def test_blocked_equals_dense_for_random_slopes(beta, cells):
    dense, blk = _both(slope_design(), beta, cells)
    assert blk == pytest.approx(dense, rel=1e-10)


def test_blocked_applies_to_one_equation_only():
    assert blocked_applies(slope_design())
    assert not blocked_applies(toy_design())  # crossed: the dense path


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_small_cholesky_solves_equal_lapack(k):
    """The unrolled substitutions of blocked_draws equal LAPACK's solves on (S, G, k, k)."""
    from bayesmixed.engines.bayes.blocked import _back, _chol_solve

    rng = np.random.default_rng(k)
    a = rng.normal(size=(7, 4, k, k))
    m = a @ a.transpose(0, 1, 3, 2) + 0.1 * np.eye(k)
    low = np.linalg.cholesky(m)
    rhs = rng.normal(size=(7, 4, k, 3))
    np.testing.assert_allclose(_chol_solve(low, rhs), np.linalg.solve(m, rhs), rtol=1e-9)
    upper = low.transpose(0, 1, 3, 2)
    np.testing.assert_allclose(_back(low, rhs), np.linalg.solve(upper, rhs), rtol=1e-9)
