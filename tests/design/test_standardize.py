"""The internal affine scaling of the fixed effects (issue 19): exact and invertible."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.design.standardize import FixedScaling

RNG = np.random.default_rng(19)


def _design(n: int = 40, shift: float = 1e7) -> np.ndarray:
    return np.column_stack([RNG.normal(size=n) + shift, 1e-6 * RNG.normal(size=n), np.ones(n)])


def test_columns_are_centred_and_unit_scale_and_the_constant_stays_constant():
    X = _design()
    xt = FixedScaling.of(X).apply(X)
    np.testing.assert_allclose(xt[:, :2].mean(axis=0), 0.0, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.mean(xt[:, :2] ** 2, axis=0)), 1.0, rtol=1e-8)
    assert np.all(xt[:, 2] == 1.0)


def test_apply_is_x_times_m_and_linear_images_agree():
    X = _design(shift=3.0)
    fs = FixedScaling.of(X)
    np.testing.assert_allclose(fs.apply(X), X @ fs.matrix, atol=1e-12)
    w = RNG.normal(size=(X.shape[0], X.shape[0]))  # any linear image (whitening)
    np.testing.assert_allclose(fs.apply_linear(w @ X), w @ fs.apply(X), atol=1e-9)


def test_coefficients_and_covariance_map_back_to_the_users_columns():
    X = _design(shift=5.0)
    fs = FixedScaling.of(X)
    beta = RNG.normal(size=3)
    beta_t = fs.to_internal(beta)
    np.testing.assert_allclose(fs.apply(X) @ beta_t, X @ beta, rtol=1e-12)
    np.testing.assert_allclose(fs.to_user(beta_t), beta, rtol=1e-12)
    v = np.cov(RNG.normal(size=(3, 10)))
    m = fs.matrix
    np.testing.assert_allclose(fs.vcov_to_user(v), m @ v @ m.T, rtol=1e-12)


def test_reml_shift_is_minus_twice_log_det_m():
    fs = FixedScaling.of(_design(shift=2.0))
    assert fs.reml_shift == pytest.approx(-2 * np.log(abs(np.linalg.det(fs.matrix))))


def test_without_a_constant_columns_are_only_scaled():
    X = RNG.normal(size=(30, 2)) + 4.0
    fs = FixedScaling.of(X)
    assert fs.const is None
    assert np.all(fs.center == 0.0)
    np.testing.assert_allclose(fs.apply(X), X / fs.scale)


def test_a_negative_constant_column_is_handled():
    X = np.column_stack([RNG.normal(size=20) + 9.0, np.full(20, -2.0)])
    fs = FixedScaling.of(X)
    beta = np.array([0.7, 1.3])
    np.testing.assert_allclose(fs.apply(X) @ fs.to_internal(beta), X @ beta, rtol=1e-12)
