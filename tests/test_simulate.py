"""bayesmixed.simulate: draws from the fitted model, checked by their moments."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.errors import NotSupportedError, SpecificationError
from bayesmixed.simulate import SimulationModel, simulate


@pytest.fixture(scope="module")
def ri():
    return bm.mixed("math5 math3 || school:", bm.datasets.load("jsp2"))


@pytest.fixture(scope="module")
def draws(ri):
    return simulate(ri, 3000, seed=1)


def test_shapes_and_seeds(ri):
    assert simulate(ri, seed=1).shape == (ri.nobs,)
    assert simulate(ri, 3, seed=1).shape == (3, ri.nobs)
    np.testing.assert_array_equal(simulate(ri, 2, seed=5), simulate(ri, 2, seed=5))
    assert not np.allclose(simulate(ri, seed=5), simulate(ri, seed=6))


def test_mean_is_the_fixed_part(ri, draws):
    mean = ri.design.X @ ri.beta
    sd = np.sqrt(ri.sigma2 + ri.cov_blocks[0][0, 0])
    z = (draws.mean(axis=0) - mean) / (sd / np.sqrt(len(draws)))
    assert np.abs(z).max() < 5  # 887 standardized means


def test_covariance_within_and_between_groups(ri, draws):
    codes = ri.design.blocks[0].codes
    var_u, s2 = ri.cov_blocks[0][0, 0], ri.sigma2
    centred = draws - draws.mean(axis=0)
    assert centred.var(axis=0).mean() == pytest.approx(var_u + s2, rel=0.02)
    i, j = np.flatnonzero(codes == codes[0])[:2]
    k = np.flatnonzero(codes != codes[0])[0]
    same = np.mean(centred[:, i] * centred[:, j])
    other = np.mean(centred[:, i] * centred[:, k])
    se = (var_u + s2) / np.sqrt(len(draws))
    assert abs(same - var_u) < 5 * se
    assert abs(other) < 5 * se


def test_parameter_overrides(ri):
    names = list(ri.design.fixed_names)
    m = SimulationModel.from_result(ri, beta={"math3": 0.0}, re_cov=[np.zeros((1, 1))], sigma2=1e-8)
    y = m.draw(np.random.default_rng(0))
    np.testing.assert_allclose(y, ri.beta[names.index("_cons")], atol=1e-3)


def test_bad_parameters(ri):
    with pytest.raises(SpecificationError, match="unknown fixed"):
        simulate(ri, beta={"nosuch": 1.0})
    with pytest.raises(SpecificationError, match="beta must have 2"):
        simulate(ri, beta=[1.0])
    with pytest.raises(SpecificationError, match="1 x 1"):
        simulate(ri, re_cov=[np.eye(2)])
    with pytest.raises(SpecificationError, match="positive semi-definite"):
        simulate(ri, re_cov=[np.array([[-1.0]])])
    with pytest.raises(SpecificationError, match="sigma2"):
        simulate(ri, sigma2=-1.0)
    with pytest.raises(SpecificationError, match="size"):
        simulate(ri, 0)


def test_only_linear_mixed_models(ri):
    with pytest.raises(NotSupportedError, match="linear mixed model"):
        simulate(object())


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"size": 2.7}, "size must be a positive whole number, got 2.7"),
        ({"size": 0}, "size must be a positive whole number, got 0"),
        ({"seed": -1}, "seed must be a nonnegative whole number, got -1"),
        ({"seed": "abc"}, "seed must be a nonnegative whole number, got 'abc'"),
    ],
)
def test_counts_and_seeds_are_checked_not_truncated(ri, kwargs, fragment):
    with pytest.raises(SpecificationError) as info:
        simulate(ri, **kwargs)
    assert fragment in str(info.value)
    assert simulate(ri, size=2.0, seed=np.random.default_rng(1)).shape[0] == 2
