"""Exact derivatives of the likelihood's parts for crossed scalar random effects (issue 13).

The oracle is the criterion itself (``loglik_parts``, checked against lme4 and a dense
multivariate-normal likelihood elsewhere) differenced with the seven-point rule on small
designs, where its rounding noise is far below the tolerances used here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.engines.ml import crossprod, inference, scalar_hessian
from bayesmixed.engines.ml.criterion import make_deviance
from bayesmixed.engines.ml.deviance import ProfiledDeviance
from bayesmixed.engines.ml.inference import stencil_derivatives
from bayesmixed.engines.ml.scalar_hessian import ScalarHessian
from bayesmixed.syntax import formula_to_spec

CROSSED = "y ~ x + service + (1 | s) + (1 | d) + (1 | dept)"


def crossed(seed: int = 2, n: int = 420, students: int = 40, lecturers: int = 15) -> pd.DataFrame:
    """Students rating lecturers, lecturers in departments (InstEval's shape, small)."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, students, n)
    d = rng.integers(0, lecturers, n)
    dept = d % 4
    x, service = rng.normal(size=n), rng.integers(0, 2, n)
    y = 3 + 0.2 * x - 0.1 * service + rng.normal(0, 0.4, students)[s]
    y = y + rng.normal(0, 0.6, lecturers)[d] + rng.normal(0, 0.3, 4)[dept] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "service": service, "s": s, "d": d, "dept": dept})


def _dev(formula: str, frame: pd.DataFrame, reml: bool):
    dev = make_deviance(build_design(formula_to_spec(formula, frame, reml=reml), frame), reml)
    assert isinstance(dev, ProfiledDeviance)
    return dev


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_derivatives_equal_differences_of_the_criterion(reml, sparse, monkeypatch):
    if sparse:  # A_r1 sparse: the Gram-map and assembled factorizations
        monkeypatch.setattr(crossprod, "DENSE_LIMIT", 0)
    for formula in (CROSSED, "y ~ x + (1 | s) + (1 | d)"):
        dev = _dev(formula, crossed(), reml)
        exact = ScalarHessian.build(dev)
        rng = np.random.default_rng(3)
        for _ in range(3):
            theta = rng.uniform(0.2, 1.5, dev.n_theta)
            got = exact(theta, np.arange(dev.n_theta))  # Lambda's entries are theta here
            f0, grad, hess = stencil_derivatives(dev.loglik_parts, theta)
            assert got.r2 == pytest.approx(f0[1], rel=1e-12)
            for g_exact, h_exact, k in ((got.grad_a, got.hess_a, 0), (got.grad_r, got.hess_r, 1)):
                scale = np.max(np.abs(hess[k]))
                np.testing.assert_allclose(g_exact, grad[k], rtol=1e-8, atol=1e-9 * scale)
                np.testing.assert_allclose(h_exact, hess[k], atol=1e-7 * scale)


def _spy_exact(monkeypatch) -> list[bool]:
    """Records whether each working covariance got exact derivatives (True) or none."""
    used: list[bool] = []
    original = inference._exact_or_none

    def spy(*args):
        out = original(*args)
        used.append(out is not None)
        return out

    monkeypatch.setattr(inference, "_exact_or_none", spy)
    return used


@pytest.mark.parametrize("reml", [False, True])
def test_standard_errors_equal_those_from_differences(reml, monkeypatch):
    frame = crossed(seed=3)  # an interior optimum by ML and REML (seed 5: ML on the boundary)
    used = _spy_exact(monkeypatch)
    fast = bm.fit(CROSSED, frame, reml=reml)
    assert used == [True]  # the exact path answered, not the stencil
    monkeypatch.undo()
    monkeypatch.setattr(inference.ScalarHessian, "build", classmethod(lambda c, d: None))
    slow = bm.fit(CROSSED, frame, reml=reml)
    np.testing.assert_allclose(fast.working_vcov, slow.working_vcov, rtol=1e-6)


def test_a_zero_variance_leaves_the_differences_in_charge():
    """theta = 0 has no precision: the exact path declines and the stencil runs."""
    dev = _dev(CROSSED, crossed(), False)
    with pytest.raises(np.linalg.LinAlgError):
        ScalarHessian.build(dev)(np.array([0.5, 0.0, 0.4]), np.arange(3))


def test_not_for_vector_blocks_single_blocks_large_rests_or_weighted_levels(monkeypatch):
    frame = crossed()
    assert ScalarHessian.build(_dev("y ~ x + (x | s) + (1 | d)", frame, False)) is None
    assert ScalarHessian.build(_dev("y ~ x + (1 | s)", frame, False)) is None
    dev = _dev(CROSSED, frame, False)
    assert ScalarHessian.build(dev) is not None
    monkeypatch.setattr(scalar_hessian, "MAX_REST", dev.cp.q_rest + dev.cp.p - 1)
    assert ScalarHessian.build(dev) is None  # too large to hold R, W and RW dense
    monkeypatch.undo()
    dev.cp.copies = np.ones(dev.cp.n_groups[0])
    assert ScalarHessian.build(dev) is None
