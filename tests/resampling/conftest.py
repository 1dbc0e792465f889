"""Shared fits and one in-process Dask cluster for the bootstrap tests (fast to start)."""

from __future__ import annotations

import pytest

import bayesmixed as bm


@pytest.fixture(scope="session")
def jsp():
    return bm.datasets.load("jsp2")


@pytest.fixture(scope="session")
def ri(jsp):
    return bm.mixed("math5 math3 || school:", jsp)


@pytest.fixture(scope="session")
def slopes(jsp):
    return bm.mixed("math5 math3 || school: math3, cov(unstructured)", jsp)


@pytest.fixture(scope="session")
def client():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()
