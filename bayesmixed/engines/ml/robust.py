"""``vce(robust)`` and ``vce(cluster var)`` for ``mixed``: the sandwich on cluster scores.

The per-cluster log likelihoods come from :class:`.cluster_loglik.ClusterLoglik`
(level-one frequency weights included, so the scores are those of the expanded
data) and the sandwich from :mod:`bayesmixed.engines.sandwich`; the result's
``vcov_beta`` and ``working_vcov`` are replaced, so the coefficient table, the
variance components' intervals and the Wald test are all robust.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...design.types import Design
from ...errors import NotSupportedError
from ..estimates import LMMEstimates
from ..sandwich import sandwich, user_clusters
from .cluster_loglik import ClusterLoglik


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
    if cl is None:
        cl = ClusterLoglik(design, level_one(design))
    cw = np.ones(cl.n_clusters) if level_w is None else level_w

    def f(x: np.ndarray) -> np.ndarray:
        return cw * cl(x)

    opts = design.spec.estimation
    clusters = user_clusters(cl.codes, design.cluster)
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


def level_one(design: Design) -> np.ndarray | None:
    """The rows' level-one weights (frequency weights, or sampling weights as given)."""
    return None if design.weights is None else np.asarray(design.weights.obs, float)
