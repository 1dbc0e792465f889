"""Shifting or rescaling a fixed-effect covariate must not change the fit (issue 19).

With a constant in the model, x -> c x + s is a reparametrisation of beta: the
log likelihood and the fitted values are unchanged, x's slope becomes b / c and
the other slopes stay.  (The REML criterion holds log|X'V^-1 X|, so a REML log
likelihood moves by exactly -log|c| under scaling, as in lme4 and Stata.)

Before the engines fitted on centred, unit-scale columns
(:mod:`bayesmixed.design.standardize`), a shift of 1e5 already moved the log
likelihood, 1e7 gave a wrong slope and a log likelihood off by up to a unit, and
3e7 dropped x as "collinear".  Here 200 small random designs (ML and REML,
random intercepts with and without a random slope on an unshifted covariate)
are refitted with one covariate shifted by up to 3e7 and another scaled by
1e-6..1e6.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm

N_DESIGNS = 200
RTOL = 1e-8


def _random_case(rng: np.random.Generator) -> tuple[str, pd.DataFrame, float, float]:
    n_groups = int(rng.integers(3, 9))
    n = n_groups * int(rng.integers(4, 10))
    g = rng.permutation(np.arange(n) % n_groups)
    x, z, w = rng.normal(size=(3, n)) * rng.uniform(0.2, 3.0, size=(3, 1))
    u = rng.normal(size=n_groups) * rng.uniform(0, 1.5)
    y = rng.normal(size=3) @ np.vstack([x, z, w]) + u[g] + rng.normal(size=n)
    slope = bool(rng.integers(2))
    reml = ", reml" if rng.integers(2) else ""
    cmd = f"mixed y x z w || g:{' w' if slope else ''}{reml}"
    shift = float(rng.choice([-1, 1]) * np.exp(rng.uniform(0, np.log(3e7))))
    scale = float(np.exp(rng.uniform(np.log(1e-6), np.log(1e6))))
    return cmd, pd.DataFrame({"y": y, "x": x, "z": z, "w": w, "g": g}), shift, scale


def _fit(cmd: str, data: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.mixed(cmd, data=data)


def _check(seed: int) -> None:
    cmd, data, shift, scale = _random_case(np.random.default_rng(seed))
    base = _fit(cmd, data)
    moved = _fit(cmd, data.assign(x=data.x + shift, z=data.z * scale))
    where = f"seed {seed}: {cmd}, x + {shift:.3g}, z * {scale:.3g}"
    want_ll = base.loglik - (np.log(scale) if base.reml else 0.0)
    assert moved.loglik == pytest.approx(want_ll, rel=RTOL), where
    xb_base = base.design.X @ np.asarray(base.beta)
    xb_moved = moved.design.X @ np.asarray(moved.beta)
    spread = np.ptp(data.y)
    np.testing.assert_allclose(xb_moved, xb_base, rtol=0, atol=RTOL * spread, err_msg=where)
    b0, b1 = np.asarray(base.beta), np.asarray(moved.beta)
    want = np.array([b0[0], b0[1] / scale, b0[2]])  # x, z, w; _cons absorbs the shift
    # theta agrees to ~1e-8 relative (two optimizer runs), the slopes follow it
    atol = 1e-9 * np.abs(want).max()
    np.testing.assert_allclose(b1[:3], want, rtol=1e-5, atol=atol, err_msg=where)


def test_fixed_effect_shift_and_scale_leave_the_fit_unchanged():
    for seed in range(N_DESIGNS):
        _check(seed)
