"""Independent evaluations of a criterion, two at a time where each one is expensive.

Over half of a large crossed fit's evaluations are at points known in advance: the
finite-difference stencils of the Newton polish (18 for three parameters) and of the
standard errors (36), and the boundary candidates (4).  Each evaluation of the blocked
layout spends its time in LAPACK's dense Cholesky and SciPy's sparse product, which both
release the GIL, so two threads run two evaluations at once: on this 2-core machine two
InstEval-shaped evaluations (1,158 dense effects) took 0.47-0.65 s per 20 against
0.83-0.89 s one after the other (BLAS single-threaded in each, as the whole fit is).
The values do not depend on the order or the thread (each evaluation is deterministic
and single-threaded), so fits stay bit-identical.

A criterion opts in through a ``workers`` attribute (:attr:`.deviance.ProfiledDeviance.workers`);
anything without it (structured residuals, which whiten shared state per point) is
evaluated one point at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MAX_WORKERS = 2  # the fit's BLAS is single-threaded: one evaluation per core


def workers_for(criterion) -> int:
    """Threads to use for ``criterion``'s independent evaluations (1: sequential)."""
    wanted = int(getattr(criterion, "workers", 1))
    return max(1, min(wanted, MAX_WORKERS, _usable_cpus()))


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, as in a
    container pinned to fewer cores than the machine has), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - no affinity on this OS
        return os.cpu_count() or 1


def evaluate_all(fn: Callable[[np.ndarray], object], points: Sequence[np.ndarray], workers: int):
    """``[fn(p) for p in points]``, on ``workers`` threads when more than one."""
    if workers <= 1 or len(points) < 2:
        return [fn(p) for p in points]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, points))
