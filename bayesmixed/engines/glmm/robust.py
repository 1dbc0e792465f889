"""``vce(robust)`` and ``vce(cluster var)`` for ``me*``: the sandwich on cluster scores.

The scores are those of the approximate log likelihood the fit maximized, one
independent cluster at a time.  With one random-effects level the clusters are
its groups and the function is Laplace's or the quadrature rule's; the
mean-variance adaptive rule is adapted once at the estimate and then held
fixed while differentiating, as Stata holds the adaptive parameters between
iterations, so the scores are those of one smooth function.  With nested
levels (``|| school: || class:``, fitted by Laplace) the clusters are the
groups of the top level, each with its own Laplace term
(:class:`.cluster_laplace.ClusterLaplace`).  Crossed designs have no
independent clusters and are refused; so are ``vce(cluster var)`` variables
that vary within a top-level group.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...design.types import Design
from ...errors import DataError, NotSupportedError
from ..estimates import GLMMEstimates
from ..ml.cluster_loglik import top_clusters
from ..sandwich import sandwich, user_clusters
from .cluster_laplace import ClusterLaplace
from .inference import WorkingScale
from .objective import ApproxLoglik
from .pirls import grouped_modes
from .quadrature import MeanVariance, mode_scale, product_rule, rule_loglik
from .response import build_response


class GroupLoglik:
    """x (theta, beta, anc) -> (G,) approximate log likelihood of each group."""

    def __init__(self, obj: ApproxLoglik, x: np.ndarray) -> None:
        self.obj = obj
        self.rule = None
        if obj.method == "mvaghermite":
            mv = MeanVariance(obj.points, obj.ks[0])
            thetas, beta, anc = obj.unpack(x)
            lam = obj.lambdas(thetas)[0]
            modes = grouped_modes(obj.resp, obj.eta0(beta), lam, self._zero(), anc)
            mv.loglik(obj.resp, obj.eta0(beta), lam, modes, anc)
            self.rule = (mv.centre, mv.scale, mv.nodes, mv.logw)

    def _zero(self) -> np.ndarray:
        return np.zeros((self.obj.resp.n_groups[0], self.obj.ks[0]))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        obj = self.obj
        thetas, beta, anc = obj.unpack(x)
        lam, eta0, resp = obj.lambdas(thetas)[0], obj.eta0(beta), obj.resp
        if self.rule is not None:
            return rule_loglik(resp, eta0, lam, *self.rule, anc)
        if obj.method == "ghermite":
            k, g = lam.shape[0], len(resp.starts)
            nodes, logw = product_rule(obj.points, k)
            centre, scale = np.zeros((g, k)), np.broadcast_to(np.eye(k), (g, k, k))
            return rule_loglik(resp, eta0, lam, centre, scale, nodes, logw, anc)
        modes = grouped_modes(resp, eta0, lam, self._zero(), anc)
        if obj.method == "mcaghermite":
            nodes, logw = product_rule(obj.points, lam.shape[0])
            return rule_loglik(resp, eta0, lam, modes.u, mode_scale(modes), nodes, logw, anc)
        logdet = np.sum(np.log(np.diagonal(modes.chol, axis1=1, axis2=2)), axis=1)
        return modes.loglik - 0.5 * np.sum(modes.u**2, axis=1) - logdet


def robust_glmm(
    est: GLMMEstimates, offset=None, trials=None, cluster_weights: np.ndarray | None = None
) -> GLMMEstimates:
    """``est`` with the cluster-robust covariance of (working, beta, ancillary).

    ``cluster_weights`` (each group's ``pweight()``) multiply the groups' log
    likelihoods, as in the pseudo-likelihood the estimates maximize.
    """
    design = est.design
    check_robust_design(design)
    resp = build_response(design, offset=offset, trials=trials)
    structures, ks = [b.structure for b in design.blocks], [b.k for b in design.blocks]
    obj = ApproxLoglik(resp, structures, ks, est.intmethod, est.intpoints)
    x = np.r_[est.theta, est.beta, est.ancillary]
    scale = WorkingScale(obj)
    top, level = top_level(design)
    if len(design.blocks) == 1:
        groups = GroupLoglik(obj, x)
    else:
        groups = ClusterLaplace(obj, top[resp.perm], x)
    cw = 1.0 if cluster_weights is None else cluster_weights

    def f(y: np.ndarray) -> np.ndarray:
        return cw * groups(scale.to_x(y))

    opts = design.spec.estimation
    clusters = user_clusters(top, design.cluster)
    kind = "cluster" if opts.cluster else "robust"
    rv = sandwich(f, scale.to_working(x), clusters, opts.cluster or level, kind)
    nt, p = obj.n_theta, obj.p
    rest = np.r_[np.arange(nt), np.arange(nt + p, len(x))]
    order = np.r_[np.arange(nt, nt + p), rest]
    return replace(
        est,
        vcov_beta=rv.cov[nt : nt + p, nt : nt + p],
        working_vcov=rv.cov[np.ix_(rest, rest)],
        vcov_joint=rv.cov[np.ix_(order, order)],
        vce=rv.vce,
        n_clusters=rv.n_clusters,
        cluster_var=rv.variable,
    )


def top_level(design: Design) -> tuple[np.ndarray, str]:
    """(each row's top-level cluster code, the top level's name): the independent units."""
    if len(design.blocks) == 1:
        return design.blocks[0].codes, design.blocks[0].level
    return top_clusters(design)  # nested levels only; crossed designs are refused there


def check_robust_design(design: Design) -> None:
    """Refuse, before fitting, designs without independent clusters and clusters below the top."""
    if len(design.blocks) == 1:
        check_one_level(design, f"vce(robust) after {design.spec.command}")
    top, level = top_level(design)
    if design.cluster is not None:
        _check_cluster(design.cluster, top, design.spec.estimation.cluster, level)


def check_one_level(design: Design, what: str) -> None:
    """``what`` needs one random-effects level whose groups are a grouping variable's."""
    eq = design.blocks[0].equation
    if len(design.blocks) > 1 or eq.level == "_all" or eq.factor is not None:
        raise NotSupportedError(
            f"{what} is available for one random-effects level (a grouping variable) "
            "in this version"
        )


def _check_cluster(cluster: np.ndarray, top: np.ndarray, variable: str, level: str) -> None:
    """vce(cluster var) needs var constant within each top-level group (Stata's rule)."""
    first = np.full(int(top.max()) + 1, -1)
    first[top] = cluster
    if np.any(first[top] != cluster):
        raise DataError(
            f"vce(cluster {variable}): {variable} varies within groups of {level}, the top "
            f"random-effects level; the clusters must be at or above the top level, so "
            f"{variable} must be constant within each {level} (e.g. vce(cluster {level}))"
        )
