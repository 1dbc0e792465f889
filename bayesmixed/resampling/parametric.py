"""Parametric bootstrap of a linear mixed model (cf. MixedModels.jl, lme4's bootMer).

Simulate responses from the fitted model, refit each, and read the
variability of the estimates off the replicates.  Percentile intervals need
no normality of the estimator, which is why they are the usual intervals for
variance components, whose sampling distributions are skewed and piled up at
zero.  Percentile intervals are invariant under monotone maps, so the
variance interval's square roots are the standard deviation's interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from ..results.mixed import MixedResult
from ..simulate import SimulationModel
from ..spec.options import DEFAULT_LEVEL
from .refit import Estimate, Refitter
from .runner import Outcome, run_replicates, split_outcomes


def parameter_names(result: MixedResult) -> list[str]:
    """Fixed effects, then ``level: var(...)``/``cov(...)`` as Stata prints, then ``var(e)``."""
    names = list(result.design.fixed_names)
    for block in result.design.blocks:
        names += [f"{block.key}: {e.label}" for e in block.structure.entries()]
    return names + ["var(e)"]


def parameter_values(result: MixedResult, est: Estimate | MixedResult) -> np.ndarray:
    """The values of :func:`parameter_names` for a refit (or the original fit)."""
    vals = list(np.asarray(est.beta, float))
    for block, cov in zip(result.design.blocks, est.cov_blocks):
        for e in block.structure.entries():
            i = 0 if e.i is None else e.i
            j = (1 if e.kind == "cov" else 0) if e.j is None else e.j
            vals.append(float(np.asarray(cov)[i, j]))
    return np.array(vals + [float(est.sigma2)])


@dataclass
class _Task:
    """What every worker needs: the generative model and the refitter."""

    model: SimulationModel
    refitter: Refitter


def _one_replicate(task: _Task, rng: np.random.Generator) -> Estimate:
    return task.refitter.fit(task.model.draw(rng))


@dataclass
class BootstrapResult:
    """Replicate estimates, failures, and percentile intervals.

    Attributes
    ----------
    original : the estimates of the fitted model (:func:`parameter_names`).
    estimates : one row per successful replicate (index = replicate number).
    loglik, converged : per successful replicate.
    failures : replicate number -> error message, for every replicate that failed.
    n, seed, level : what was asked for.
    """

    original: pd.Series
    estimates: pd.DataFrame
    loglik: pd.Series
    converged: pd.Series
    failures: pd.Series
    n: int
    seed: int | None
    level: float = DEFAULT_LEVEL

    @property
    def n_ok(self) -> int:
        return len(self.estimates)

    def ci(self, level: float | None = None) -> pd.DataFrame:
        """Percentile intervals with the bootstrap standard error and bias."""
        level = self.level if level is None else float(level)
        if not 0 < level < 100:
            raise SpecificationError(f"level must lie in (0, 100), got {level}")
        if self.n_ok < 2:
            raise SpecificationError(
                f"only {self.n_ok} replicate(s) succeeded: no interval can be formed"
            )
        tail = (100 - level) / 2
        est = self.estimates
        return pd.DataFrame(
            {
                "estimate": self.original,
                "bias": est.mean() - self.original,
                "std_err": est.std(ddof=1),
                "lower": est.quantile(tail / 100),
                "upper": est.quantile(1 - tail / 100),
            }
        )

    def __str__(self) -> str:
        head = (
            f"Parametric bootstrap: {self.n_ok} of {self.n} replicates succeeded"
            f" ({int((~self.converged).sum())} did not converge); seed {self.seed}"
        )
        table = self.ci().to_string(float_format=lambda v: f"{v:.6g}") if self.n_ok > 1 else ""
        lines = [head, f"Percentile intervals at {self.level:g}%", table]
        for idx, msg in self.failures.head(5).items():
            lines.append(f"replicate {idx} failed: {msg}")
        if len(self.failures) > 5:
            lines.append(f"... and {len(self.failures) - 5} more failures (see .failures)")
        return "\n".join(lines)


def bootstrap(
    result: MixedResult,
    n: int = 1000,
    seed: int | None = None,
    *,
    client=None,
    workers: int | None = None,
    processes: bool = True,
    level: float = DEFAULT_LEVEL,
    progress: bool = True,
    chunk_size: int | None = None,
) -> BootstrapResult:
    """Parametric bootstrap of ``result``: ``n`` simulated responses, each refitted.

    Parameters
    ----------
    result : a linear mixed model fitted by ML or REML (REML refits by REML).
    n : number of replicates.
    seed : makes the replicates reproducible, whatever the number of workers.
    client : ``None`` starts a Dask ``LocalCluster`` with ``workers`` processes
        (default: all cores) and closes it afterwards; a scheduler address
        (``"tcp://host:8786"``) or a ``dask.distributed.Client`` uses that cluster.
    processes : local cluster only; ``False`` runs workers as threads of this
        process (starts faster; good for small jobs and tests).
    level : default confidence level of :meth:`BootstrapResult.ci`.
    progress : show a progress bar.
    chunk_size : replicates per Dask task (default: about eight tasks per worker).
    """
    task = _Task(SimulationModel.from_result(result), Refitter.from_result(result))
    outcomes = run_replicates(
        _one_replicate,
        task,
        n,
        seed,
        client=client,
        workers=workers,
        processes=processes,
        chunk_size=chunk_size,
        progress=progress,
    )
    return collect(result, outcomes, int(n), seed, level)


def collect(
    result: MixedResult, outcomes: list[Outcome], n: int, seed: int | None, level: float
) -> BootstrapResult:
    """Tabulate replicate outcomes against the original fit."""
    names = parameter_names(result)
    ok, failures = split_outcomes(outcomes)
    index = pd.Index([o.index for o in ok], name="replicate")
    rows = [parameter_values(result, o.value) for o in ok]
    values = np.vstack(rows) if rows else np.empty((0, len(names)))
    return BootstrapResult(
        original=pd.Series(parameter_values(result, result), index=names),
        estimates=pd.DataFrame(values, index=index, columns=names),
        loglik=pd.Series([o.value.loglik for o in ok], index=index, dtype=float),
        converged=pd.Series([o.value.converged for o in ok], index=index, dtype=bool),
        failures=failures,
        n=n,
        seed=seed,
        level=level,
    )
