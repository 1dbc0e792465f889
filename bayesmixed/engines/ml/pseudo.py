"""Sampling weights in ``mixed``: maximum pseudo-likelihood (Rabe-Hesketh and Skrondal 2006).

With level-two weights w_j (``pweight(var)`` on the equation) and level-one
weights w_{i|j} (``[pw=var]``, conditional on the cluster being sampled),
Stata's ``mixed`` maximizes

    log PL = sum_j w_j log integral prod_i f(y_ij | u_j)^{w_{i|j}} phi(u_j) du_j,

in which each cluster's integral is Gaussian and is computed in closed form by
:class:`.cluster_loglik.ClusterLoglik`.  ``pwscale()`` rescales the level-one
weights first, within each cluster j of n_j rows:

* ``size``:      w*_{i|j} = w_{i|j} n_j / sum_i w_{i|j}   (they sum to n_j);
* ``effective``: w*_{i|j} = w_{i|j} sum_i w_{i|j} / sum_i w_{i|j}^2
  (they sum to the effective cluster size);
* ``gk`` (Graubard and Korn): w*_{i|j} = 1 and w*_j = w_j sum_i w_{i|j} / n_j.

Three-level models (``[pw=w1] || school:, pweight(w3) || class:, pweight(w2)``)
raise each class's integral to the power w_{j|k} inside the school's integral
(:class:`.nested_loglik.NestedLoglik`).  ``pwscale()`` is Stata's for two-level
models only, so there it is refused: the weights are used as given.

Sampling weights imply robust standard errors, clustered at the top level
(:mod:`.robust`).  Models of more than three levels with weights are refused.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ...design.types import Design
from ...errors import NotSupportedError
from ..estimates import LMMEstimates
from ..optsummary import OptSummary
from ..sandwich import maximize_sum
from .cluster_loglik import ClusterLoglik
from .inference import WorkingMap
from .nested_loglik import NestedLoglik
from .robust import robust_lmm

BOUNDARY_START = -3.0  # log sd where the unweighted fit put a variance on zero


def scaled_weights(design: Design, cl: ClusterLoglik) -> tuple[np.ndarray, np.ndarray]:
    """(level-one weight of each row, weight of each cluster) after ``pwscale()``."""
    weights, spec = design.weights, design.spec
    levels = spec.levels
    codes, n_c = cl.codes, cl.n_clusters
    obs = np.asarray(weights.obs, float)
    top = weights.levels.get(levels[0])
    cw = np.ones(n_c)
    if top is not None:
        cw[codes] = top
    sums = np.bincount(codes, weights=obs, minlength=n_c)
    sizes = np.bincount(codes, minlength=n_c)
    how = spec.estimation.pwscale
    if how == "size":
        obs = obs * (sizes / sums)[codes]
    elif how == "effective":
        obs = obs * (sums / np.bincount(codes, weights=obs**2, minlength=n_c))[codes]
    elif how == "gk":
        cw, obs = cw * sums / sizes, np.ones_like(obs)
    return obs, cw


def cluster_pseudo(design: Design) -> tuple[ClusterLoglik | NestedLoglik, np.ndarray]:
    """(each top-level cluster's pseudo log likelihood, each cluster's weight)."""
    levels = design.spec.levels
    if len(levels) == 1:
        obs, cw = scaled_weights(design, ClusterLoglik(design))
        return ClusterLoglik(design, obs), cw
    if len(levels) != 2:
        raise NotSupportedError(
            "sampling weights are supported for two- and three-level models so far"
        )
    if design.spec.estimation.pwscale is not None:
        raise NotSupportedError(
            "pwscale() scales the weights of two-level models only (as in Stata's mixed); "
            "scale the weights of a three-level model before fitting it"
        )
    weights = design.weights
    mid = weights.levels.get(levels[1], np.ones(design.n))
    cl = NestedLoglik(design, np.asarray(weights.obs, float), mid)
    cw = np.ones(cl.n_clusters)
    top = weights.levels.get(levels[0])
    if top is not None:
        cw[cl.codes] = top
    return cl, cw


def estimate_pseudo(design: Design, start: LMMEstimates) -> LMMEstimates:
    """Maximize the pseudo-likelihood from the unweighted ML estimates ``start``."""
    clock = time.perf_counter()
    cl, cw = cluster_pseudo(design)

    def f(x: np.ndarray) -> np.ndarray:
        return cw * cl(x)

    x0 = np.r_[start.beta, np.where(np.isfinite(start.working), start.working, BOUNDARY_START)]
    x, value, opt = maximize_sum(f, x0)
    opt.seconds = time.perf_counter() - clock
    est = _estimates(design, x, value, opt)
    return robust_lmm(est, cl, cw)


def _estimates(design: Design, x: np.ndarray, value: float, opt: OptSummary) -> LMMEstimates:
    p = design.p
    working = x[p:]
    structures = [b.structure for b in design.blocks]
    wmap = WorkingMap(structures, list(range(len(structures))))
    theta, sigma2 = wmap.to_theta(working)
    parts = wmap.split(working[:-1])
    return LMMEstimates(
        design=design,
        reml=False,
        beta=x[:p].copy(),
        vcov_beta=np.full((p, p), np.nan),
        theta=theta,
        sigma2=sigma2,
        cov_blocks=[s.cov_from_working(w) for s, w in zip(structures, parts, strict=True)],
        loglik=value,
        working=working.copy(),
        working_vcov=None,
        loglik_linear=float("nan"),
        opt=opt,
    )


def unweighted(design: Design) -> Design:
    """The same design without weights (for the starting values)."""
    return replace(design, weights=None)
