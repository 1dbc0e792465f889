"""Run many independent replicates through Dask, with progress and no lost failures.

Why Dask and not a process pool of our own: the same call then runs on a
laptop (a ``LocalCluster`` on all cores, the default), on an existing
cluster (a scheduler address or a ``Client``), with Dask's dashboard,
retries and worker restarts for free.  Dask is an optional dependency
(``pip install bayesmixed[scale]``) imported only here, only when used.

Replicates are sent in chunks: one task per replicate would cost more in
scheduling than a millisecond refit.  The shared model (design, refitter)
is scattered to every worker once.  Each replicate draws from its own
``SeedSequence`` child, so results do not depend on the chunking or on the
number of workers.  A replicate that raises is recorded with its error
message; a chunk whose worker dies is recorded as failed replicates.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import NotSupportedError, SpecificationError

INSTALL_HINT = 'install it with `pip install "bayesmixed[scale]"` (or "dask[distributed]")'


@dataclass
class Outcome:
    """One replicate: its index and either a value or an error message."""

    index: int
    value: object | None = None
    error: str | None = None


def _distributed():
    try:
        import dask.distributed as dd
    except ImportError as exc:
        raise NotSupportedError(
            f"many-fit workloads run through Dask, which is not installed; {INSTALL_HINT}"
        ) from exc
    return dd


@contextlib.contextmanager
def dask_client(client=None, workers: int | None = None, processes: bool = True) -> Iterator:
    """Yield a Dask client: the user's, one for an address, or a fresh local cluster.

    A cluster we start is closed afterwards; a client the user gave is left open.
    """
    dd = _distributed()
    if client is not None and not isinstance(client, str | dd.Client):
        raise SpecificationError(
            f"client must be a dask.distributed.Client or a scheduler address, "
            f"got {type(client).__name__}"
        )
    if isinstance(client, dd.Client):
        yield client
        return
    if isinstance(client, str):
        with dd.Client(client) as c:
            yield c
        return
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise SpecificationError(f"workers must be a positive integer, got {workers}")
    cluster = dd.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",  # any free port: never clash with a running cluster
        silence_logs=40,
    )
    try:
        with dd.Client(cluster) as c:
            yield c
    finally:
        cluster.close()


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
) -> list[Outcome]:
    """Run ``n`` replicates of ``work`` on Dask; outcomes come back in index order."""
    if int(n) < 1:
        raise SpecificationError(f"the number of replicates must be positive, got {n}")
    n = int(n)
    if chunk_size is not None and int(chunk_size) < 1:
        raise SpecificationError(f"chunk_size must be a positive integer, got {chunk_size}")
    seeds = replicate_seeds(seed, n)
    items = list(enumerate(seeds))
    dd = _distributed()
    with dask_client(client, workers, processes) as c:
        size = chunk_size or _chunk_size(n, sum(c.nthreads().values()) or 1)
        chunks = [items[i : i + size] for i in range(0, n, size)]
        [shared_f] = c.scatter([shared], broadcast=True)
        futures = {
            c.submit(run_chunk, work, shared_f, chunk, pure=False): chunk for chunk in chunks
        }
        results: list[Outcome] = []
        bar = _Progress(n, progress)
        for fut in dd.as_completed(futures):
            chunk = futures[fut]
            try:
                got = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails its chunk, visibly
                got = [Outcome(i, error=f"{type(exc).__name__}: {exc}") for i, _ in chunk]
            results.extend(got)
            bar.update(len(chunk), sum(o.error is not None for o in results))
        bar.close()
    return sorted(results, key=lambda o: o.index)


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
