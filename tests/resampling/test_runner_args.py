"""Counts and seeds of the many-fit workloads: refused before any cluster starts."""

from __future__ import annotations

import pytest

from bayesmixed.errors import SpecificationError
from bayesmixed.resampling import bootstrap, bootstrap_lrtest, power
from bayesmixed.resampling.runner import dask_client, run_replicates


def _never(shared, rng):  # pragma: no cover - must not run
    raise AssertionError("a replicate ran despite a bad argument")


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"n": "abc"}, "n (the number of replicates) must be a positive whole number, got 'abc'"),
        ({"n": 2.7}, "got 2.7"),
        ({"n": 0}, "got 0"),
        ({"n": 2, "seed": -1}, "seed must be a nonnegative whole number, got -1"),
        ({"n": 2, "seed": "abc"}, "seed must be a nonnegative whole number, got 'abc'"),
        ({"n": 2, "workers": 0}, "workers must be a positive whole number, got 0"),
        ({"n": 2, "workers": 1.5}, "workers must be a positive whole number, got 1.5"),
        ({"n": 2, "chunk_size": 0.5}, "chunk_size must be a positive whole number, got 0.5"),
    ],
)
def test_run_replicates_checks_its_arguments(kwargs, fragment):
    with pytest.raises(SpecificationError) as info:
        run_replicates(_never, None, progress=False, **kwargs)
    assert fragment in str(info.value)


def test_public_calls_refuse_fractional_counts(ri, slopes):
    with pytest.raises(SpecificationError, match="got 2.7"):
        bootstrap(ri, n=2.7, progress=False)
    with pytest.raises(SpecificationError, match="got 'abc'"):
        bootstrap(ri, n="abc", progress=False)
    with pytest.raises(SpecificationError, match="seed must be"):
        bootstrap_lrtest(ri, slopes, n=5, seed=-3, progress=False)
    with pytest.raises(SpecificationError, match="workers must be"):
        power(ri, n=5, workers=0, progress=False)


def test_workers_zero_is_not_all_cores():
    pytest.importorskip("dask.distributed")
    with pytest.raises(SpecificationError, match="workers must be a positive whole number"):
        with dask_client(workers=0):
            pass  # pragma: no cover
