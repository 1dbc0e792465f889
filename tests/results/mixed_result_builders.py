"""Build MixedResult objects by hand, so rendering is tested without an engine.

The numbers used by the tests are Stata's printed output; where a printed
number is a rounded function of others (a CI, a Wald statistic), the inputs
below were chosen inside the rounding intervals of every printed value, so
that re-rendering must reproduce Stata's text digit for digit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bayesmixed.design.types import Design, GroupInfo, REBlock
from bayesmixed.results.mixed import MixedResult, OptSummary
from bayesmixed.spec.covariance import get_structure
from bayesmixed.spec.model import Component, ModelSpec, RandomEquation, Term


@dataclass
class BlockSpec:
    level: str
    effect_names: tuple[str, ...]
    covariance: str
    cov: np.ndarray
    factor: str | None = None


@dataclass
class ResultSpec:
    response: str
    nobs: int
    fixed_names: list[str]
    beta: list[float]
    vcov_beta: np.ndarray
    blocks: list[BlockSpec]
    working: list[float]
    working_vcov: np.ndarray | None
    sigma2: float
    loglik: float
    loglik_linear: float
    group_info: list[GroupInfo]
    terms: tuple[Term, ...] = ()
    reml: bool = False
    base_levels: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    boundary: list[str] = field(default_factory=list)
    level: float = 95.0
    display: str = "variance"
    show_base: bool = False
    converged: bool = True


def build(rs: ResultSpec) -> MixedResult:
    n = rs.nobs
    equations, blocks = [], []
    for b in rs.blocks:
        slopes = tuple(Term((Component(e),)) for e in b.effect_names if e != "_cons")
        eq = RandomEquation(
            path=(b.level,),
            terms=slopes if b.factor is None else (),
            constant="_cons" in b.effect_names,
            covariance=b.covariance,
            factor=b.factor,
        )
        equations.append(eq)
        k = len(b.effect_names)
        blocks.append(
            REBlock(
                equation=eq,
                codes=np.zeros(n, dtype=int),
                groups=pd.Index([0]),
                Z=np.ones((n, k)),
                effect_names=b.effect_names,
                structure=get_structure(b.covariance, k, b.effect_names),
            )
        )
    spec = ModelSpec(response=rs.response, fixed=rs.terms, random=tuple(equations), reml=rs.reml)
    design = Design(
        spec=spec,
        y=np.zeros(n),
        X=np.zeros((n, len(rs.fixed_names))),
        fixed_names=list(rs.fixed_names),
        blocks=blocks,
        rows=pd.RangeIndex(n),
        omitted=list(rs.omitted),
        base_levels=list(rs.base_levels),
        group_info=list(rs.group_info),
        notes=list(rs.notes),
    )
    opt = OptSummary("test", np.zeros(1), np.zeros(1), 0.0, 0.0, 1, rs.converged, "", 0.0)
    return MixedResult(
        design=design,
        reml=rs.reml,
        beta=np.asarray(rs.beta, float),
        vcov_beta=np.asarray(rs.vcov_beta, float),
        theta=np.zeros(1),
        sigma2=rs.sigma2,
        cov_blocks=[np.asarray(b.cov, float) for b in rs.blocks],
        loglik=rs.loglik,
        working=np.asarray(rs.working, float),
        working_vcov=None if rs.working_vcov is None else np.asarray(rs.working_vcov, float),
        loglik_linear=rs.loglik_linear,
        opt=opt,
        boundary=list(rs.boundary),
        level=rs.level,
        display=rs.display,
        show_base=rs.show_base,
    )


def log_sd_var(variance: float, se_variance: float) -> tuple[float, float]:
    """Working value (log sd) and its variance giving ``se_variance`` by the delta method."""
    return 0.5 * math.log(variance), (se_variance / (2 * variance)) ** 2


def pig_spec() -> ResultSpec:
    """Stata's [ME] mixed example: ``mixed weight week || id:`` (pig weights)."""
    wu, vu = log_sd_var(14.81751098, 3.12422551)
    we, ve = log_sd_var(4.38326351, 0.316334751)
    loglik = -1014.926803
    return ResultSpec(
        response="weight",
        nobs=432,
        fixed_names=["week", "_cons"],
        beta=[6.209895625075, 19.355610874125],
        vcov_beta=np.diag([0.039012388002400006**2, 0.59740593971025**2]),
        blocks=[BlockSpec("id", ("_cons",), "identity", np.array([[14.81751098]]))],
        working=[wu, we],
        working_vcov=np.diag([vu, ve]),
        sigma2=4.38326351,
        loglik=loglik,
        loglik_linear=loglik - 472.65 / 2,
        group_info=[GroupInfo("id", 48, 9, 9.0, 9)],
        terms=(Term((Component("week"),)),),
    )
