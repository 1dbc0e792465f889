"""The PyTensor residual correlations equal the NumPy ones in spec.residual, with gradients."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import grad

from bayesmixed.engines.bayes.residual_corr import correlation_pt
from bayesmixed.errors import NotSupportedError
from bayesmixed.spec.residual import ResidualStructure, make_structure

# three panel patterns of four observations; times with gaps, levels out of order
TIMES = np.array([[1, 2, 4, 7], [0, 1, 2, 3], [3, 5, 6, 10]], float)
TIMES_REAL = np.array([[0.0, 0.5, 1.7, 4.2], [1.0, 1.1, 2.3, 2.4], [0.2, 3.0, 3.5, 9.9]])
LEVELS4 = np.array([[0, 1, 2, 3], [3, 1, 0, 2], [1, 2, 0, 3]])
LEVELS3 = np.array([[0, 1, 2, 0], [2, 1, 0, 1], [1, 2, 0, 2]])  # 4th obs repeats a level
LABELS = {3: (1, 2, 3), 4: (1, 2, 3, 4)}

# id -> (kind, order, number of levels, max_size)
CASES = {
    "exchangeable-4": ("exchangeable", None, 0, 4),
    "exchangeable-9": ("exchangeable", None, 0, 9),
    "ar1": ("ar", 1, 0, 2),
    "ar2": ("ar", 2, 0, 2),
    "ar3": ("ar", 3, 0, 2),
    "ma1": ("ma", 1, 0, 2),
    "ma2": ("ma", 2, 0, 2),
    "toeplitz1": ("toeplitz", 1, 0, 2),
    "toeplitz2": ("toeplitz", 2, 0, 2),
    "toeplitz3": ("toeplitz", 3, 0, 2),
    "exponential": ("exponential", None, 0, 2),
    "unstructured3": ("unstructured", None, 3, 2),
    "unstructured4": ("unstructured", None, 4, 2),
    "banded1": ("banded", 1, 4, 2),
    "independent": ("independent", None, 0, 2),
}
GRAD_CASES = ["ar2", "ma2", "unstructured3", "exchangeable-4", "exponential", "toeplitz2"]


def _setup(case: str):
    kind, order, n_levels, max_size = CASES[case]
    structure = make_structure(kind, order, LABELS.get(n_levels, ()), None, max_size)
    times = TIMES_REAL if kind == "exponential" else TIMES
    levels = LEVELS3 if n_levels == 3 else LEVELS4
    return structure, times, levels


def _compile(structure, times, levels, extra=()):
    z = pt.vector("z", dtype="float64")
    outs = [correlation_pt(structure, z, t, lv) for t, lv in zip(times, levels)]
    outs += [f(z, outs[0]) for f in extra]
    # FAST_COMPILE: the same ops' Python implementations; the default Numba linker
    # costs ~50 s of JIT on a cold cache for these small graphs
    return pytensor.function([z], outs, mode="FAST_COMPILE", on_unused_input="ignore")


@pytest.mark.parametrize("case", list(CASES))
def test_matches_numpy(case):
    structure, times, levels = _setup(case)
    # all panels at once, and the first pattern alone as a 1-d (m,) pattern
    f = _compile(structure, (times, times[0]), (levels, levels[0]))
    rng = np.random.default_rng(len(case))
    draws = [np.zeros(structure.n_corr)] + [rng.normal(0, 1.5, structure.n_corr) for _ in range(8)]
    for z in draws:
        many, one = f(z)
        assert many.shape == (3, 4, 4) and one.shape == (4, 4)
        np.testing.assert_allclose(
            many, structure.correlation(z, times, levels), rtol=0, atol=1e-12
        )
        expect_one = structure.correlation(z, times[0], levels[0])
        np.testing.assert_allclose(one, expect_one, rtol=0, atol=1e-12)


def test_independent_is_identity_with_empty_z():
    structure = make_structure("independent")
    f = _compile(structure, (TIMES,), (LEVELS4,))
    np.testing.assert_array_equal(f(np.zeros(0))[0], np.broadcast_to(np.eye(4), (3, 4, 4)))


@pytest.mark.parametrize("max_size", [2, 3, 6])
def test_exchangeable_lower_bound_follows_max_size(max_size):
    structure = make_structure("exchangeable", max_size=max_size)
    f = _compile(structure, (TIMES[0],), (LEVELS4[0],))
    low = f(np.array([-40.0]))[0][0, 1]
    assert low == pytest.approx(-1.0 / (max_size - 1) if max_size > 1 else -1.0, abs=1e-12)


def test_banded_may_be_non_positive_definite():
    structure = make_structure("banded", 1, LABELS[4])
    z = np.array([2.0, 2.0, -2.0])
    r = _compile(structure, (TIMES[0],), (LEVELS4[0],))(z)[0]
    np.testing.assert_allclose(r, structure.correlation(z, TIMES[0], LEVELS4[0]), atol=1e-14)
    assert np.linalg.eigvalsh(r).min() < 0


WEIGHTS = np.random.default_rng(7).normal(size=(3, 4, 4))


def _objective_grad(z, r):
    return grad(pt.sum(r * pt.as_tensor(WEIGHTS)), z)


@pytest.mark.parametrize("case", GRAD_CASES)
def test_gradient_matches_finite_differences(case):
    structure, times, levels = _setup(case)
    f = _compile(structure, (times,), (levels,), extra=(_objective_grad,))
    z = np.random.default_rng(3).normal(0, 0.8, structure.n_corr)

    def objective(v):
        return float(np.sum(structure.correlation(v, times, levels) * WEIGHTS))

    h = 1e-5
    eye = np.eye(len(z))
    numeric = [(objective(z + h * e) - objective(z - h * e)) / (2 * h) for e in eye]
    np.testing.assert_allclose(f(z)[1], numeric, rtol=1e-6, atol=1e-9)


def test_unknown_structure_raises():
    class Custom(ResidualStructure):
        name = "custom"

    with pytest.raises(NotSupportedError, match="Custom"):
        correlation_pt(Custom(), pt.vector("z"), TIMES, LEVELS4)
