"""Simulation-based power analysis for fixed effects of a linear mixed model.

Closed-form power calculations do not exist for most multilevel designs
(unbalanced groups, random slopes, crossed factors), so power is estimated
the way it is defined: simulate many data sets from the assumed model, fit
each, and count how often the test rejects (as R's simr does).  The assumed
model is a fitted one -- a pilot study -- with any parameters replaced by
the values to be detected, optionally on a different (e.g. larger) planned
design given as a data frame.  Each replicate runs the same Wald z test that
``mixed`` prints, at level ``alpha``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from ..lazy_import import stats
from ..results.mixed import MixedResult
from ..simulate import SimulationModel
from .refit import Refitter
from .runner import failure_note, run_replicates, split_outcomes


@dataclass
class PowerResult:
    """Estimated power of the Wald test of each coefficient.

    Attributes
    ----------
    power : share of successful replicates that rejected H0: coefficient = 0.
    mcse : Monte Carlo standard error of ``power``.
    truth : the coefficient values the data were simulated with.
    pvalues : one row per successful replicate, one column per coefficient.
    failures : replicate number -> error message.
    """

    power: pd.Series
    mcse: pd.Series
    truth: pd.Series
    pvalues: pd.DataFrame
    failures: pd.Series
    alpha: float
    n: int
    nobs: int

    def __str__(self) -> str:
        table = pd.DataFrame({"true value": self.truth, "power": self.power, "mcse": self.mcse})
        head = (
            f"Simulated power (Wald z test, alpha = {self.alpha:g}), {len(self.pvalues)} of "
            f"{self.n} replicates, {self.nobs} observations each"
        )
        lines = [head, table.to_string(float_format=lambda v: f"{v:.4g}")]
        return "\n".join(lines + failure_note(self.failures))


@dataclass
class _Task:
    model: SimulationModel
    refitter: Refitter
    columns: np.ndarray


def _one_test(task: _Task, rng: np.random.Generator) -> np.ndarray:
    est = task.refitter.fit(task.model.draw(rng))
    z = est.beta[task.columns] / est.se[task.columns]
    return 2 * stats.norm.sf(np.abs(z))


def power(
    result: MixedResult,
    n: int = 500,
    seed: int | None = None,
    *,
    coef: str | Sequence[str] | None = None,
    beta: Mapping[str, float] | None = None,
    re_cov: list[np.ndarray] | None = None,
    sigma2: float | None = None,
    data: pd.DataFrame | None = None,
    alpha: float = 0.05,
    client=None,
    workers: int | None = None,
    processes: bool = True,
    progress: bool = True,
    chunk_size: int | None = None,
) -> PowerResult:
    """Power to detect fixed effects, by simulating from an assumed model.

    Parameters
    ----------
    result : the assumed model, fitted (e.g. to pilot data).
    n : number of simulated data sets.
    coef : coefficient(s) to test (default: every one but ``_cons``).
    beta, re_cov, sigma2 : parameter values to simulate with instead of the
        estimates (``beta`` by name, e.g. ``{"math3": 0.1}``).
    data : a planned design with the same variables (its response column may
        be missing; it is never read), to ask how power grows with more groups
        or observations.  Default: the design of ``result``.
    alpha : significance level of each test.
    client, workers, processes, progress, chunk_size : Dask options as in
        :func:`~bayesmixed.resampling.bootstrap`.
    """
    if not 0 < alpha < 1:
        raise SpecificationError(f"alpha must lie in (0, 1), got {alpha}")
    assumed = result if data is None else _on_new_data(result, data)
    names = list(assumed.design.fixed_names)
    tested = _tested(names, coef)
    model = SimulationModel.from_result(assumed, beta=beta, re_cov=re_cov, sigma2=sigma2)
    refitter = Refitter(assumed.design, assumed.reml, start=assumed.theta)
    columns = np.array([names.index(c) for c in tested])
    outcomes = run_replicates(
        _one_test,
        _Task(model, refitter, columns),
        n,
        seed,
        client=client,
        workers=workers,
        processes=processes,
        chunk_size=chunk_size,
        progress=progress,
    )
    ok, failures = split_outcomes(outcomes)
    pvals = pd.DataFrame(
        np.vstack([o.value for o in ok]) if ok else np.empty((0, len(tested))),
        index=pd.Index([o.index for o in ok], name="replicate"),
        columns=tested,
    )
    rejected = (pvals < alpha).mean() if ok else pd.Series(np.nan, index=tested)
    truth_all = dict(zip(names, np.asarray(assumed.beta, float)))
    truth_all.update({k: float(v) for k, v in (beta or {}).items()})
    return PowerResult(
        power=rejected,
        mcse=np.sqrt(rejected * (1 - rejected) / max(len(ok), 1)),
        truth=pd.Series([truth_all[c] for c in tested], index=tested),
        pvalues=pvals,
        failures=failures,
        alpha=float(alpha),
        n=int(n),
        nobs=assumed.design.n,
    )


def _tested(names: list[str], coef) -> list[str]:
    if coef is None:
        chosen = [c for c in names if c != "_cons"]
    else:
        chosen = [coef] if isinstance(coef, str) else list(coef)
    unknown = [c for c in chosen if c not in names]
    if unknown or not chosen:
        raise SpecificationError(
            f"coef must name fixed effects of the model ({', '.join(names)}); "
            f"got {', '.join(map(str, unknown)) or 'none'}"
        )
    return chosen


def _on_new_data(result: MixedResult, data: pd.DataFrame) -> MixedResult:
    """The assumed model's parameters on the design built from ``data``."""
    from ..design import build_design

    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    spec = result.design.spec
    frame = data
    if spec.response not in data.columns:
        frame = data.copy()  # a placeholder: build_design wants a non-constant response
        frame[spec.response] = np.random.default_rng(0).standard_normal(len(frame))
    design = build_design(spec, frame)
    if list(design.fixed_names) != list(result.design.fixed_names):
        raise SpecificationError(
            "the planned data give different fixed effects ("
            f"{', '.join(design.fixed_names)}) than the assumed model "
            f"({', '.join(result.design.fixed_names)}); give beta for the same terms"
        )
    shapes = [(b.key, b.k) for b in design.blocks]
    if shapes != [(b.key, b.k) for b in result.design.blocks]:
        raise SpecificationError(
            "the planned data give different random-effects blocks than the assumed model"
        )
    return dataclasses.replace(result, design=design)
