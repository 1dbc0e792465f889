"""The ML engine's rescaling table is keyed by structure class and inverts each factor.

:data:`bayesmixed.engines.ml.rescale.RESCALABLE` says, per covariance structure class,
how theta is read back from a rescaled factor D^-1 Lambda (or that the structure
is never rescaled); a new structure adds one line there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmixed.design import build_design
from bayesmixed.engines.ml.rescale import RESCALABLE, column_scales, unscale_theta
from bayesmixed.spec.covariance import STRUCTURES
from bayesmixed.spec.model import Component, ModelSpec, RandomEquation, Term


def test_every_registered_structure_has_one_entry():
    assert set(RESCALABLE) == set(STRUCTURES.values())


@pytest.mark.parametrize("name", [n for n, c in STRUCTURES.items() if RESCALABLE[c]])
def test_theta_is_read_back_from_its_own_factor(name):
    s = STRUCTURES[name](3)
    rng = np.random.default_rng(3)
    theta = np.abs(rng.normal(size=s.n_theta)) + 0.1
    assert np.array_equal(RESCALABLE[type(s)](s, s.lam(theta)), theta)


@pytest.mark.parametrize("name", [n for n, c in STRUCTURES.items() if RESCALABLE[c]])
def test_unscaled_theta_is_the_same_model_on_the_original_columns(name):
    s = STRUCTURES[name](2)
    theta = np.linspace(0.3, 0.9, s.n_theta)
    scale = np.array([1e3, 1.0])
    (back,) = unscale_theta([theta], [s], [scale])
    d_inv = np.diag(1 / scale)
    assert np.allclose(s.rel_cov(back), d_inv @ s.rel_cov(theta) @ d_inv, rtol=1e-12)


def _design(cov: str):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"g": np.repeat(np.arange(8), 6), "x": 1e4 * rng.normal(size=48)})
    frame["y"] = rng.normal(size=48)
    slope = (Term((Component("x"),)),)
    spec = ModelSpec("y", slope, (RandomEquation(("g",), slope, True, cov),))
    return build_design(spec, frame)


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_only_rescalable_structures_have_their_columns_rescaled(name):
    scales = column_scales(_design(name))
    if RESCALABLE[STRUCTURES[name]] is None:
        assert scales is None
    else:
        assert scales is not None and scales[0][0] > 1e3 and scales[0][1] == 1.0
