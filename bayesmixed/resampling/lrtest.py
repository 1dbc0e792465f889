"""Parametric-bootstrap likelihood-ratio test (cf. pbkrtest's PBmodcomp).

The chi-square reference distribution of the LR statistic fails when the null
hypothesis puts a variance on the boundary (zero): the statistic then piles
up at zero and the chi2(df) p-value is conservative.  Simulating responses
under the fitted null model, refitting both models to each and counting how
often the simulated statistic reaches the observed one gives a p-value that
needs no asymptotics.  ``p = (1 + #{T* >= T}) / (1 + B)`` (Davison & Hinkley)
keeps it away from an impossible zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..postestimation.lrtest import LRTestError, LRTestResult, lrtest
from ..results.mixed import MixedResult
from ..simulate import SimulationModel
from .refit import Refitter
from .runner import failure_note, run_replicates, split_outcomes


@dataclass
class BootstrapLRTestResult:
    """The asymptotic test plus its bootstrap p-value.

    Attributes
    ----------
    asymptotic : the usual chi-square test (``lrtest(a, b)``).
    p : bootstrap p-value.
    statistics : the simulated LR statistics of the successful replicates.
    failures : replicate number -> error message.
    """

    asymptotic: LRTestResult
    p: float
    statistics: pd.Series
    failures: pd.Series
    n: int
    seed: int | None

    @property
    def chi2(self) -> float:
        return self.asymptotic.chi2

    def __str__(self) -> str:
        lines = str(self.asymptotic).split("\n")[:2]
        ok = len(self.statistics)
        lines.append(
            f"{f'Parametric bootstrap, {ok} of {self.n} replicates':<54}"
            f"{'Prob > LR':<12}={self.p:10.4f}"
        )
        return "\n".join(lines + failure_note(self.failures))


@dataclass
class _Task:
    model: SimulationModel
    null: Refitter
    alt: Refitter


def _one_statistic(task: _Task, rng: np.random.Generator) -> float:
    y = task.model.draw(rng)
    ll0 = task.null.fit(y).loglik
    ll1 = task.alt.fit(y).loglik
    return max(2.0 * (ll1 - ll0), 0.0)


def bootstrap_lrtest(
    a: MixedResult,
    b: MixedResult,
    n: int = 1000,
    seed: int | None = None,
    *,
    client=None,
    workers: int | None = None,
    processes: bool = True,
    progress: bool = True,
    chunk_size: int | None = None,
) -> BootstrapLRTestResult:
    """LR test of two nested fits with a parametric-bootstrap p-value.

    The model with fewer parameters is the null; the same checks as
    :func:`~bayesmixed.postestimation.lrtest.lrtest` apply, and both fits must
    use the same estimation sample.  Dask options as in
    :func:`~bayesmixed.resampling.bootstrap`.
    """
    observed = lrtest(a, b)
    if not a.design.rows.equals(b.design.rows):
        raise LRTestError(
            "the two fits use different estimation samples (same size, different rows)"
        )
    null, alt = sorted((a, b), key=lambda r: r.df_model)
    task = _Task(
        SimulationModel.from_result(null), Refitter.from_result(null), Refitter.from_result(alt)
    )
    outcomes = run_replicates(
        _one_statistic,
        task,
        n,
        seed,
        client=client,
        workers=workers,
        processes=processes,
        chunk_size=chunk_size,
        progress=progress,
    )
    ok, failures = split_outcomes(outcomes)
    stats = pd.Series(
        [o.value for o in ok], index=pd.Index([o.index for o in ok], name="replicate"), dtype=float
    )
    # rounding noise between two optima of the same likelihood must not count as "smaller"
    tol = 1e-8 * max(1.0, abs(observed.chi2))
    p = (1 + int(np.sum(stats.to_numpy() >= observed.chi2 - tol))) / (1 + len(stats))
    return BootstrapLRTestResult(observed, float(p), stats, failures, int(n), seed)
