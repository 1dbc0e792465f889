"""Bridge sampling on densities whose normalizing constant is known in closed form.

The draws are exact (iid) draws of the normalized density, so the only error is the
estimator's; the skewed log-gamma margin is what a variance's log looks like.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from bayesmixed.errors import EstimationError
from bayesmixed.postestimation.bridge import bridge_sampler

LOG_C = 7.25  # the log integral the estimator must recover
A = 2.5  # shape of the gamma whose log is the first coordinate


def _log_q(x: np.ndarray) -> float:
    """C x [log of a Gamma(A, 1) variable] x N(0.3 t + 1, 0.5^2) given t: a skewed 2-D."""
    t, u = x
    log_gamma = A * t - np.exp(t) - gammaln(A)
    resid = (u - 0.3 * t - 1.0) / 0.5
    return LOG_C + log_gamma - 0.5 * resid**2 - np.log(0.5) - 0.5 * np.log(2 * np.pi)


def _draws(rng: np.random.Generator, chains: int = 2, n: int = 2000) -> np.ndarray:
    t = np.log(rng.gamma(A, size=(chains, n)))
    u = 0.3 * t + 1.0 + 0.5 * rng.standard_normal((chains, n))
    return np.stack([t, u], axis=-1)


def test_the_estimate_recovers_a_known_constant_within_its_error():
    rng = np.random.default_rng(1)
    est = bridge_sampler(_log_q, _draws(rng), rng, n_proposal=4000)
    assert 0 < est.mcse < 0.01
    assert abs(est.logml - LOG_C) < 4 * est.mcse
    assert est.n_posterior == 2000 and est.n_proposal == 4000 and est.iterations > 1


def test_the_reported_error_matches_the_spread_over_replications():
    errors, mcses = [], []
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        est = bridge_sampler(_log_q, _draws(rng, n=600), rng, n_proposal=1200)
        errors.append(est.logml - LOG_C)
        mcses.append(est.mcse)
    spread = float(np.sqrt(np.mean(np.square(errors))))
    assert 0.4 < spread / float(np.mean(mcses)) < 2.5


def test_a_density_that_fails_at_the_draws_is_refused():
    rng = np.random.default_rng(2)
    with pytest.raises(EstimationError, match="not finite"):
        bridge_sampler(lambda x: -np.inf, _draws(rng, n=100), rng)
    with pytest.raises(EstimationError, match="20\\+ per chain"):
        bridge_sampler(_log_q, _draws(rng, n=10), rng)
