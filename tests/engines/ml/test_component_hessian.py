"""Exact derivatives of the likelihood's parts for the component layout (issue 13).

The oracle is the criterion itself (``loglik_parts``, checked against lme4 and a dense
multivariate-normal likelihood elsewhere) differenced with the seven-point rule on small
designs, where its rounding noise is far below the tolerances used here.
"""

from __future__ import annotations

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.engines.ml import inference
from bayesmixed.engines.ml.component_hessian import ComponentHessian
from bayesmixed.engines.ml.deviance import ProfiledDeviance
from bayesmixed.engines.ml.inference import stencil_derivatives

from .test_components import CASES, VCOMP2, _both, _design, nested, vcomp2


def _entries_jacobian(dev, theta: np.ndarray) -> np.ndarray:
    """d(flat Lambda)/d theta: exact, every structure here is linear in theta."""
    flat = lambda t: np.concatenate([lam.ravel() for lam in dev.lambdas(t)])  # noqa: E731
    base = flat(theta)
    return np.array([flat(theta + e) - base for e in np.eye(len(theta))]).T


@pytest.mark.parametrize(("formula", "kw"), CASES)
@pytest.mark.parametrize("reml", [False, True])
def test_derivatives_equal_differences_of_the_criterion(formula, kw, reml):
    _, dev = _both(_design(formula, nested(**kw)), reml)
    exact = ComponentHessian.build(dev)
    rng = np.random.default_rng(7)
    for _ in range(3):
        theta = rng.uniform(0.2, 1.5, dev.n_theta)
        jac = _entries_jacobian(dev, theta)
        moving = np.flatnonzero(np.any(jac != 0, axis=1))
        jac = jac[moving]
        got = exact(theta, moving)
        f0, grad, hess = stencil_derivatives(lambda t: dev.loglik_parts(t), theta)
        assert got.r2 == pytest.approx(f0[1], rel=1e-12)
        for g_exact, h_exact, k in ((got.grad_a, got.hess_a, 0), (got.grad_r, got.hess_r, 1)):
            scale = np.max(np.abs(hess[k]))
            np.testing.assert_allclose(jac.T @ g_exact, grad[k], rtol=1e-8, atol=1e-9 * scale)
            np.testing.assert_allclose(jac.T @ h_exact @ jac, hess[k], atol=1e-7 * scale)


def test_hessian_is_the_derivative_of_its_gradient_on_vcomp2():
    """On a larger design, where the criterion's own differences are noisier (~1e-7)."""
    _, dev = _both(_design(VCOMP2, vcomp2(n_groups=30)), True)
    exact = ComponentHessian.build(dev)
    theta = np.array([0.8, -0.3, 0.9, 1.7, 1.4])
    jac = _entries_jacobian(dev, theta)
    moving = np.flatnonzero(np.any(jac != 0, axis=1))

    def grads(t: np.ndarray) -> np.ndarray:
        got = exact(t, moving)
        return np.concatenate([jac[moving].T @ got.grad_a, jac[moving].T @ got.grad_r])

    _, d_grad, _ = stencil_derivatives(grads, theta)  # (2 d, d)
    got = exact(theta, moving)
    j = jac[moving]
    d = len(theta)
    for h_exact, rows in ((got.hess_a, slice(0, d)), (got.hess_r, slice(d, 2 * d))):
        expected = d_grad[rows]
        np.testing.assert_allclose(j.T @ h_exact @ j, expected, rtol=1e-8, atol=1e-9)


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
    """The whole working covariance: exact chain rule against the seven-point stencil."""
    frame = nested(unequal=True)
    formula = "y ~ x + (z | g) + (1 | g:s)"
    used = _spy_exact(monkeypatch)
    fast = bm.fit(formula, frame, reml=reml)
    assert used == [True]  # the exact path answered, not the stencil
    monkeypatch.undo()
    monkeypatch.setattr(inference.ComponentHessian, "build", classmethod(lambda c, d: None))
    slow = bm.fit(formula, frame, reml=reml)
    np.testing.assert_allclose(fast.working_vcov, slow.working_vcov, rtol=1e-7)


def test_not_for_blocked_layouts_or_frequency_weighted_levels():
    design = _design("y ~ x + (z | g) + (1 | g:s)", nested())
    blocked, comp = _both(design, False)
    assert isinstance(blocked, ProfiledDeviance)
    assert ComponentHessian.build(blocked) is None
    comp.cp.copies = np.ones(comp.cp.n_groups[0])
    assert ComponentHessian.build(comp) is None
