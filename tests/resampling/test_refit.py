"""The fast refit path (y parts of A only) against a full fit of the same data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.engines.ml.crossprod import build_crossproducts, with_response
from bayesmixed.fitting import fit_lmm
from bayesmixed.resampling import Refitter
from bayesmixed.simulate import simulate


def _full(result, y):
    return fit_lmm(dataclasses.replace(result.design, y=y), result.reml)


@pytest.mark.parametrize(
    "cmd",
    [
        "math5 math3 || school:",
        "math5 math3 || school:, reml",
        "math5 math3 || school: || class:",
        "math5 math3 i.gender || school: math3",
    ],
)
def test_refit_matches_full_fit(jsp, cmd):
    r = bm.mixed(cmd, jsp)
    refitter = Refitter.from_result(r)
    for y in simulate(r, 3, seed=11):
        est, full = refitter.fit(y), _full(r, y)
        assert est.loglik == pytest.approx(full.loglik, abs=1e-6)
        np.testing.assert_allclose(est.beta, full.beta, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(est.se, full.se.to_numpy(), rtol=1e-4)
        np.testing.assert_allclose(est.sigma2, full.sigma2, rtol=1e-5)
        for a, b in zip(est.cov_blocks, full.cov_blocks):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_refit_never_worse_than_full_fit_with_random_slopes(slopes):
    # the refit starts at the original optimum; a fit from the default start may stall on
    # the ridge of a zero variance, so "at least as good" is the property that must hold
    refitter = Refitter.from_result(slopes)
    for y in simulate(slopes, 4, seed=5):
        assert refitter.fit(y).loglik >= _full(slopes, y).loglik - 1e-6


def test_refit_of_original_response_reproduces_the_fit(ri):
    est = Refitter.from_result(ri).fit(ri.design.y)
    assert est.loglik == pytest.approx(ri.loglik, abs=1e-8)
    np.testing.assert_allclose(est.beta, ri.beta, rtol=1e-7)
    np.testing.assert_allclose(est.theta, ri.theta, rtol=1e-5)


def test_with_response_changes_only_the_y_parts(ri, jsp):
    cp = build_crossproducts(ri.design)
    y = simulate(ri, seed=1)
    before = (cp.a_xy1.copy(), cp.a_xyr.copy(), cp.a_xyxy.copy())
    new = with_response(cp, ri.design, y)
    rebuilt = build_crossproducts(dataclasses.replace(ri.design, y=y))
    for got, want in [(new.a_xy1, rebuilt.a_xy1), (new.a_xyxy, rebuilt.a_xyxy)]:
        np.testing.assert_allclose(got, want, rtol=1e-12)
    for got, want in zip((cp.a_xy1, cp.a_xyr, cp.a_xyxy), before):
        np.testing.assert_array_equal(got, want)  # the original is untouched
    assert new.a11 is cp.a11  # the y-free blocks are shared, not copied


def test_with_response_checks_the_length(ri):
    cp = build_crossproducts(ri.design)
    with pytest.raises(ValueError, match="shape"):
        with_response(cp, ri.design, np.zeros(3))


def test_many_refits_all_converge(ri):
    # speed (1,000 refits in about a second) is measured by benchmarks/scale_bench.py
    refitter = Refitter.from_result(ri)
    fits = [refitter.fit(y) for y in simulate(ri, 100, seed=2)]
    assert all(f.converged and np.isfinite(f.loglik) for f in fits)
