"""Sampling weights in ``me*``: maximum pseudo-likelihood over one random-effects level.

As for ``mixed`` (:mod:`bayesmixed.engines.ml.pseudo`), with level-two weights
w_j (``pweight(var)``) and level-one weights w_{i|j} (``[pw=var]``),

    log PL = sum_j w_j log integral prod_i f(y_ij | u_j)^{w_{i|j}} phi(u_j) du_j,

each group's integral approximated by the fit's method (Laplace or a
quadrature rule; the level-one weights enter the integrand through the
response, :mod:`.response`).  ``me*`` has no ``pwscale()``.  The maximization
starts from the unweighted fit; with the mean-variance adaptive rule it runs
in rounds, the rule re-adapted at each round's optimum until the estimate stops
moving (the scheme of the unweighted fit).  Standard errors are the cluster
sandwich (pweights imply robust).  One level only, as for ``vce(robust)``.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ...design.types import Design
from ...errors import NotSupportedError
from ..estimates import GLMMEstimates
from ..sandwich import maximize_sum
from .inference import WorkingScale
from .objective import ApproxLoglik
from .response import build_response
from .robust import GroupLoglik, check_one_level, robust_glmm

ROUNDS = 8
BOUNDARY_START = -3.0


def group_weights(design: Design) -> np.ndarray:
    """The weight of each group of the (single) level: ``pweight(var)``, or ones."""
    block = design.blocks[0]
    levels = design.weights.levels
    if set(levels) - {block.level}:
        raise NotSupportedError("pweight() is given for a level the model does not have")
    cw = np.ones(block.n_groups)
    if block.level in levels:
        cw[block.codes] = levels[block.level]
    return cw


def estimate_pseudo_glmm(
    design: Design, start: GLMMEstimates, offset=None, trials=None
) -> GLMMEstimates:
    """Maximize the pseudo-likelihood from the unweighted estimates ``start``."""
    check_one_level(design, f"sampling weights after {design.spec.command}")
    clock = time.perf_counter()
    cw = group_weights(design)
    resp = build_response(design, offset=offset, trials=trials)
    structures, ks = [b.structure for b in design.blocks], [b.k for b in design.blocks]
    obj = ApproxLoglik(resp, structures, ks, start.intmethod, start.intpoints)
    scale = WorkingScale(obj)
    y = scale.to_working(np.r_[start.theta, start.beta, start.ancillary])
    y = np.where(np.isfinite(y), y, BOUNDARY_START)
    for _ in range(ROUNDS if obj.method == "mvaghermite" else 1):
        groups = GroupLoglik(obj, scale.to_x(y))  # the adaptive rule, at y

        def f(z: np.ndarray, groups=groups) -> np.ndarray:
            return cw * groups(scale.to_x(z))

        y_new, value, opt = maximize_sum(f, y)
        moved, y = float(np.max(np.abs(y_new - y))), y_new
        if moved < 1e-7:
            break
    x = scale.to_x(y)
    thetas, beta, anc = obj.unpack(x)
    lams = obj.lambdas(thetas)
    opt.seconds = time.perf_counter() - clock
    est = replace(
        start,
        design=design,  # the start was fitted on the design without its weights
        beta=beta.copy(),
        theta=x[: obj.n_theta].copy(),
        cov_blocks=[lam @ lam.T for lam in lams],
        log_phi=float(anc[0]) if obj.resp.family.has_dispersion else None,
        ancillary=anc.copy(),
        loglik=value,
        working=np.r_[y[: obj.n_theta], anc],
        loglik_glm=float("nan"),
        opt=opt,
        modes=obj.modes(x),
        boundary=[],
    )
    return robust_glmm(est, offset=offset, trials=trials, cluster_weights=cw)
