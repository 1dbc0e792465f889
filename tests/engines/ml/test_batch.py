"""Independent evaluations on two threads: the same numbers, in the same order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.engines.ml import batch, deviance
from bayesmixed.engines.ml.fit import make_deviance


def test_evaluate_all_keeps_order_and_raises():
    points = [np.array([float(i)]) for i in range(9)]
    assert batch.evaluate_all(lambda p: p[0] ** 2, points, 2) == [i**2 for i in range(9)]

    def fails(p):
        if p[0] == 4:
            raise np.linalg.LinAlgError("not positive definite")
        return p[0]

    with pytest.raises(np.linalg.LinAlgError):
        batch.evaluate_all(fails, points, 2)


def test_workers_default_to_one_and_are_capped():
    class Plain:
        pass

    class Greedy:
        workers = 64

    assert batch.workers_for(Plain()) == 1
    assert 1 <= batch.workers_for(Greedy()) <= batch.MAX_WORKERS


def _crossed(seed=3, n=2500, users=120, items=60):
    rng = np.random.default_rng(seed)
    u, i = rng.integers(0, users, n), rng.integers(0, items, n)
    x = rng.normal(size=n)
    y = x + rng.normal(size=users)[u] + 0.7 * rng.normal(size=items)[i] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "u": u, "i": i})


def test_threaded_fit_is_bit_identical(monkeypatch):
    """Polish stencil, boundary candidates and standard errors on two threads: each
    evaluation is deterministic, so the fit equals the one-thread fit exactly."""
    df = _crossed()
    formula = "y ~ x + (1 | u) + (1 | i)"
    monkeypatch.setattr(deviance, "PARALLEL_REST", 0)  # small rest: thread it anyway
    threaded = bm.fit(formula, df)
    assert make_deviance(threaded.design, False).workers == 2
    monkeypatch.setattr(batch, "MAX_WORKERS", 1)
    single = bm.fit(formula, df)
    assert threaded.working_vcov is not None
    assert threaded.loglik == single.loglik
    np.testing.assert_array_equal(threaded.theta, single.theta)
    np.testing.assert_array_equal(threaded.working_vcov, single.working_vcov)
    assert threaded.opt.evaluations == single.opt.evaluations


def test_one_usable_cpu_means_one_worker(monkeypatch):
    """A process pinned to one core (a container's CPU set) evaluates one point at a time."""

    class Greedy:
        workers = 2

    monkeypatch.setattr(batch, "_usable_cpus", lambda: 1)
    assert batch.workers_for(Greedy()) == 1
