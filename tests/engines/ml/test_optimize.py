"""Stationarity from the exact gradient agrees with the coordinate probes it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.engines.ml.optimize import _gradient_stationary, _is_stationary

A = np.array([[3.0, 1.0], [1.0, 2.0]])


def _quadratic(centre: np.ndarray):
    def f(x):
        d = np.asarray(x) - centre
        return float(100.0 + 50.0 * d @ A @ d)

    def value_grad(x):
        d = np.asarray(x) - centre
        return f(x), 100.0 * A @ d

    return f, value_grad


@pytest.mark.parametrize(
    "centre, x",
    [
        ([0.7, 1.2], [0.7, 1.2]),  # the minimum
        ([0.7, 1.2], [0.7, 1.2 + 1e-9]),  # within the probes' tolerance
        ([0.7, 1.2], [0.75, 1.2]),  # off it
        ([-0.3, 1.0], [0.0, 1.0 - 0.3 / 2]),  # on the bound, the criterion rising inward
        ([0.3, 1.0], [0.0, 1.0]),  # on the bound, the criterion falling inward
    ],
)
def test_gradient_answer_equals_the_probes(centre, x):
    f, value_grad = _quadratic(np.array(centre))
    x = np.array(x)
    lower = np.array([0.0, -np.inf])
    probes = _is_stationary(f, x, lower, f(x))
    assert _gradient_stationary(value_grad, x, lower, f(x)) is probes


def test_no_gradient_falls_back():
    """counted_grad marks a non-finite point by 1e300 and zeros: no answer from the gradient."""
    assert (
        _gradient_stationary(lambda x: (1e300, np.zeros(2)), np.ones(2), np.zeros(2), 1.0) is None
    )


def test_the_bound_case_is_stationary():
    """The constrained minimum on the bound: the probes and the gradient both say so."""
    f, value_grad = _quadratic(np.array([-0.3, 1.0]))
    x, lower = np.array([0.0, 0.85]), np.array([0.0, -np.inf])
    assert _is_stationary(f, x, lower, f(x))
    assert _gradient_stationary(value_grad, x, lower, f(x))


def test_gradient_search_reuses_its_end_point_for_the_stationarity_check():
    """L-BFGS-B evaluated its result already: the check adds no evaluation (it used to)."""
    from bayesmixed.engines.ml.optimize import minimize_theta_gradient

    f, value_grad = _quadratic(np.array([0.7, 1.2]))
    points = []

    def counting(x):
        points.append(np.array(x, float))
        return value_grad(x)

    x, opt = minimize_theta_gradient(f, counting, np.array([0.2, 0.3]), [(0.0, None)] * 2)
    assert opt.converged and x == pytest.approx([0.7, 1.2], abs=1e-6)
    assert sum(np.array_equal(p, x) for p in points) == 1  # evaluated there once, not twice
    assert opt.evaluations == len(points) + 1  # and f once, at the start
