"""bayesmixed.resampling: replicates through Dask, intervals, failures kept."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from bayesmixed.errors import NotSupportedError, SpecificationError
from bayesmixed.resampling import bootstrap, parameter_names
from bayesmixed.resampling.runner import replicate_seeds, run_replicates


def test_bootstrap_tables_every_replicate(ri, client):
    b = bootstrap(ri, n=20, seed=1, client=client, progress=False)
    names = ["math3", "_cons", "school: var(_cons)", "var(e)"]
    assert parameter_names(ri) == names
    assert b.estimates.shape == (20, 4) and list(b.estimates.columns) == names
    assert b.failures.empty and b.converged.all()
    np.testing.assert_allclose(b.original, [*ri.beta, ri.cov_blocks[0][0, 0], ri.sigma2])
    ci = b.ci()
    assert (ci.lower <= ci.upper).all()
    np.testing.assert_allclose(ci.lower, b.estimates.quantile(0.025))
    assert "20 of 20 replicates" in str(b)


def test_bootstrap_is_reproducible_across_workers_and_chunks(ri, client):
    a = bootstrap(ri, n=12, seed=7, client=client, progress=False, chunk_size=5)
    b = bootstrap(ri, n=12, seed=7, workers=1, processes=False, progress=False)
    np.testing.assert_array_equal(a.estimates.to_numpy(), b.estimates.to_numpy())
    c = bootstrap(ri, n=12, seed=8, client=client, progress=False)
    assert not np.allclose(a.estimates.to_numpy(), c.estimates.to_numpy())


def test_bootstrap_standard_errors_agree_with_the_model(ri, client):
    b = bootstrap(ri, n=200, seed=3, client=client, progress=False)
    se = b.ci().std_err
    # the Wald SEs of the fixed effects are accurate for this model; 200 replicates
    # estimate an SE to about 5%
    np.testing.assert_allclose(se[["math3", "_cons"]], ri.se, rtol=0.2)


def test_bootstrap_ci_of_variance_component_is_skewed(ri, client):
    ci = bootstrap(ri, n=100, seed=4, client=client, progress=False).ci(90)
    v = ci.loc["school: var(_cons)"]
    assert 0 <= v.lower < v.estimate < v.upper


def _flaky(shared, rng):
    if rng.random() < 0.4:
        raise RuntimeError("simulated failure")
    return shared


def test_failures_are_reported_not_lost(client):
    out = run_replicates(_flaky, 5, 30, seed=9, client=client, progress=False, chunk_size=4)
    assert [o.index for o in out] == list(range(30))
    expected = [np.random.default_rng(s).random() < 0.4 for s in replicate_seeds(9, 30)]
    assert [o.error is not None for o in out] == expected
    assert any(expected) and not all(expected)
    assert all(o.error == "RuntimeError: simulated failure" for o in out if o.error)
    assert all(o.value == 5 for o in out if o.error is None)


def test_missing_dask_is_a_clear_error(ri, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(NotSupportedError, match=r"bayesmixed\[scale\]"):
        bootstrap(ri, n=2, progress=False)


def test_bad_arguments(ri):
    with pytest.raises(SpecificationError, match="client"):
        bootstrap(ri, n=2, client=42, progress=False)
    with pytest.raises(SpecificationError, match="replicates"):
        bootstrap(ri, n=0, progress=False)
