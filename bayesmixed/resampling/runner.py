"""Run many independent replicates through Dask, with progress and no lost failures.

Why Dask and not a process pool of our own: the same call then runs on a
laptop (a ``LocalCluster`` on all cores, the default), on an existing
cluster (a scheduler address or a ``Client``), with Dask's dashboard,
retries and worker restarts for free.  Dask is an optional dependency
(``pip install bayesmixed[scale]``), imported only when used; connecting to
it lives in :mod:`.cluster`.

Replicates are sent in chunks: one task per replicate would cost more in
scheduling than a millisecond refit.  The shared model (design, refitter)
is sent once, as a task result that survives the death of workers.  Each
replicate draws from its own ``SeedSequence`` child, so results do not
depend on the chunking or on the number of workers.  A replicate that
raises is recorded with its error message; a chunk whose worker dies is
rerun one replicate per task, so only the replicates that kill their worker
are recorded as failed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..validate import SEED, optional_whole_number, whole_number
from .cluster import INSTALL_HINT, SchedulerConnectionError, dask_client, distributed

# Tries of a replicate run alone after its chunk failed: a second try tells a
# bystander (queued on a worker another replicate killed) from the culprit.
SINGLE_ATTEMPTS = 2

__all__ = [
    "INSTALL_HINT",
    "Outcome",
    "SchedulerConnectionError",
    "dask_client",
    "failure_note",
    "replicate_seeds",
    "run_chunk",
    "run_replicates",
    "split_outcomes",
]


@dataclass
class Outcome:
    """One replicate: its index and either a value or an error message."""

    index: int
    value: object | None = None
    error: str | None = None


def replicate_seeds(seed: int | None, n: int) -> list[np.random.SeedSequence]:
    """One independent seed per replicate, fixed by ``seed`` alone."""
    return np.random.SeedSequence(seed).spawn(n)


def run_chunk(
    work: Callable[[object, np.random.Generator], object],
    shared: object,
    items: list[tuple[int, np.random.SeedSequence]],
) -> list[Outcome]:
    """Worker side: run ``work(shared, rng)`` for each replicate, catching failures."""
    out = []
    for index, seq in items:
        try:
            out.append(Outcome(index, value=work(shared, np.random.default_rng(seq))))
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none lost
            out.append(Outcome(index, error=f"{type(exc).__name__}: {exc}"))
    return out


def run_replicates(
    work: Callable[[object, np.random.Generator], object],
    shared: object,
    n: int,
    seed: int | None = None,
    *,
    client=None,
    workers: int | None = None,
    processes: bool = True,
    chunk_size: int | None = None,
    progress: bool = True,
    connect_timeout: float | None = None,
) -> list[Outcome]:
    """Run ``n`` replicates of ``work`` on Dask; outcomes come back in index order.

    ``connect_timeout`` bounds the connection to a scheduler address
    (default 5 s, or the ``bayesmixed.connect-timeout`` Dask setting).
    """
    n = whole_number(n, "n (the number of replicates)")
    seed = optional_whole_number(seed, "seed", SEED)
    chunk_size = optional_whole_number(chunk_size, "chunk_size")
    optional_whole_number(workers, "workers")  # before any work, not when the cluster starts
    seeds = replicate_seeds(seed, n)
    items = list(enumerate(seeds))
    dd = distributed()
    with dask_client(client, workers, processes, connect_timeout) as c:
        size = chunk_size or _chunk_size(n, sum(c.nthreads().values()) or 1)
        chunks = [items[i : i + size] for i in range(0, n, size)]
        bar = _Progress(n, progress)
        try:
            results = _run_chunks(dd, c, work, shared, chunks, bar)
        finally:
            bar.close()
    return sorted(results, key=lambda o: o.index)


def _run_chunks(dd, c, work, shared, chunks: list, bar: _Progress) -> list[Outcome]:
    """Submit the chunks; rerun a failed chunk one replicate per task.

    A chunk-level failure is never the replicate's own exception (``run_chunk``
    catches those) but the task's: its worker died (``KilledWorker``), or its
    input was lost.  Rerunning the chunk's replicates singly, each up to
    ``SINGLE_ATTEMPTS`` times (a replicate queued on a worker that another
    one killed is a bystander), confines the failure to the replicates that
    cause it.  The shared model is the *result of a task*, not scattered
    data: the scheduler keeps the task, so when every worker holding the
    model dies it is recomputed instead of failing every replicate.
    """
    shared_f = c.submit(_shared, shared, pure=False)
    pending: dict = {}
    queue = dd.as_completed(loop=c.loop)  # c need not be the default client
    tries: dict[int, int] = {}

    def submit(chunk: list) -> None:
        fut = c.submit(run_chunk, work, shared_f, chunk, pure=False)
        pending[fut] = chunk
        queue.add(fut)

    for chunk in chunks:
        submit(chunk)
    results: list[Outcome] = []
    failed = 0
    for fut in queue:
        chunk = pending.pop(fut)
        try:
            got = fut.result()
        except Exception as exc:  # noqa: BLE001 - a lost worker fails its chunk, visibly
            again = _rerun(chunk, tries)
            for part in again:
                submit(part)
            if again:
                continue
            got = [Outcome(chunk[0][0], error=f"{type(exc).__name__}: {exc}")]
        results.extend(got)
        failed += sum(o.error is not None for o in got)
        bar.update(len(got), failed)
    return results


def _rerun(chunk: list, tries: dict[int, int]) -> list[list]:
    """The pieces of a failed task to submit again; none once a replicate is out of tries."""
    if len(chunk) > 1:
        return [[item] for item in chunk]
    index = chunk[0][0]
    tries[index] = tries.get(index, 0) + 1
    return [chunk] if tries[index] < SINGLE_ATTEMPTS else []


def _shared(value: object) -> object:
    """Identity: makes the shared model a task result the scheduler can recompute."""
    return value


def split_outcomes(outcomes: list[Outcome]) -> tuple[list[Outcome], pd.Series]:
    """The successful outcomes, and replicate number -> error message for the rest."""
    ok = [o for o in outcomes if o.error is None]
    bad = [o for o in outcomes if o.error is not None]
    index = pd.Index([o.index for o in bad], name="replicate")
    return ok, pd.Series([o.error for o in bad], index=index, dtype=object)


def failure_note(failures: pd.Series) -> list[str]:
    """A line for printed summaries: how many failed, and the first message."""
    if failures.empty:
        return []
    return [f"{len(failures)} replicate(s) failed; first: {failures.iloc[0]}"]


def _chunk_size(n: int, n_workers: int) -> int:
    """About eight chunks per worker: balance without drowning in scheduling."""
    return max(1, min(250, -(-n // (8 * n_workers))))


class _Progress:
    """tqdm when available, else a one-line text bar on stderr."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self._tqdm = None
        if enabled:
            try:
                from tqdm.auto import tqdm

                self._tqdm = tqdm(total=total, desc="replicates", unit="fit")
            except ImportError:
                pass

    def update(self, k: int, failed: int) -> None:
        self.done += k
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.set_postfix(failed=failed, refresh=False)
            self._tqdm.update(k)
            return
        width = 30
        filled = int(width * self.done / self.total)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
            f" replicates, {failed} failed"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
        elif self.enabled:
            sys.stderr.write("\n")
