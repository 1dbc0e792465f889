"""A replicate that kills its worker fails alone (issue 19, item 9).

Before, the model was scattered once: when the workers holding it died,
every pending chunk was cancelled ("already forgotten") and 15 of 20
replicates failed for one bad one.  Now the model is a recomputable task
result and a failed chunk is rerun one replicate per task.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from bayesmixed.resampling.runner import SINGLE_ATTEMPTS, _rerun, replicate_seeds, run_replicates

pytest.importorskip("dask.distributed")


def _kills_its_worker(shared, rng):
    if rng.random() < 0.1:
        os._exit(3)  # a crash no try/except sees: the worker process is gone
    return shared


def test_a_failed_chunk_is_rerun_singly_and_a_single_gets_a_second_try():
    chunk = [(3, "s3"), (4, "s4")]
    tries: dict[int, int] = {}
    assert _rerun(chunk, tries) == [[(3, "s3")], [(4, "s4")]]
    assert _rerun([(3, "s3")], tries) == [[(3, "s3")]]
    assert SINGLE_ATTEMPTS == 2
    assert _rerun([(3, "s3")], tries) == []  # the culprit: recorded as failed


@pytest.mark.slow
def test_a_replicate_that_kills_its_worker_fails_alone():
    killers = [
        i for i, s in enumerate(replicate_seeds(1, 20)) if np.random.default_rng(s).random() < 0.1
    ]
    assert killers == [8]
    out = run_replicates(
        _kills_its_worker, 5, 20, seed=1, workers=2, processes=True, progress=False, chunk_size=5
    )
    assert [o.index for o in out] == list(range(20))
    assert [o.index for o in out if o.error] == killers
    assert "KilledWorker" in out[8].error
    assert all(o.value == 5 for o in out if o.error is None)
