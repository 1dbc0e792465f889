"""``vce(robust)`` and ``vce(cluster var)`` for ``mixed``: the sandwich on cluster scores.

The per-cluster log likelihoods come from :class:`.cluster_loglik.ClusterLoglik`
(level-one frequency weights included, and ``fweight()`` copies of groups, so the
scores are those of the expanded data) and the sandwich from
:mod:`bayesmixed.engines.sandwich`; the result's ``vcov_beta`` and ``working_vcov``
are replaced, so the coefficient table, the variance components' intervals and the
Wald test are all robust.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...design.types import Design
from ...design.weights import group_copies
from ...errors import NotSupportedError
from ..estimates import LMMEstimates
from ..sandwich import sandwich, user_clusters
from .cluster_loglik import ClusterLoglik, top_clusters
from .crossprod import level_fweighted


def robust_lmm(est: LMMEstimates, cl: ClusterLoglik | None = None, level_w=None) -> LMMEstimates:
    """``est`` with the cluster-robust covariance of (beta, working parameters).

    ``cl`` and ``level_w`` (each cluster's top-level weight) are passed by the
    pseudo-likelihood fit; a plain fit builds ``cl`` from its design.
    """
    design = est.design
    if est.reml:
        raise NotSupportedError(
            "vce(robust) needs ML: the REML criterion is not a sum over clusters"
        )
    reps = None  # fweight(): how many independent copies of each top-level cluster
    if cl is None and level_fweighted(design):
        cl, reps = replicated_clusters(design)
    elif cl is None:
        cl = ClusterLoglik(design, level_one(design))
    cw = np.ones(cl.n_clusters) if level_w is None else level_w

    def f(x: np.ndarray) -> np.ndarray:
        values = cw * cl(x)
        return values if reps is None else np.repeat(values, reps)

    opts = design.spec.estimation
    clusters = user_clusters(cl.codes, design.cluster)
    if reps is not None:  # each copy of a top-level group is a cluster of its own
        clusters = np.arange(int(reps.sum()))
    kind = "cluster" if opts.cluster else "robust"
    rv = sandwich(f, np.r_[est.beta, est.working], clusters, opts.cluster or cl.top, kind)
    p = design.p
    return replace(
        est,
        vcov_beta=rv.cov[:p, :p],
        working_vcov=rv.cov[p:, p:],
        vce=rv.vce,
        n_clusters=rv.n_clusters,
        cluster_var=rv.variable,
    )


def replicated_clusters(design: Design) -> tuple[ClusterLoglik, np.ndarray]:
    """(log likelihood of one copy of each top-level cluster, copies of each cluster).

    With ``fweight()`` the expanded data hold w_k independent copies of top-level
    cluster k, each with the same score: their sandwich is that of the expanded
    data when each copy is passed as its own cluster (G = sum w_k in Stata's factor).
    Within a copy, rows stand for t / w_k rows and lower groups for c / w_k copies.
    """
    codes, top = top_clusters(design)
    top_copies = group_copies(design.spec, design.weights, (top,))
    within = [
        group_copies(design.spec, design.weights, b.equation.path) / top_copies
        for b in design.blocks
    ]
    cl = ClusterLoglik(design, design.weights.total / top_copies, within)
    reps = np.zeros(cl.n_clusters, int)
    reps[codes] = np.round(top_copies).astype(int)
    return cl, reps


def level_one(design: Design) -> np.ndarray | None:
    """The rows' level-one weights (frequency weights, or sampling weights as given)."""
    return None if design.weights is None else np.asarray(design.weights.obs, float)
