"""Correlated ``residuals()`` structures under NUTS: their parameters and likelihood.

Each by() group's correlation parameters get the ``corr[e]`` prior on their *natural*
scale -- uniform on the partial autocorrelations of AR(p) and MA(q) (so every draw is
stationary or invertible), on each Toeplitz or banded correlation, on exponential's rho in
(0, 1) and exchangeable's rho in (-1/(M-1), 1), and LKJ(1) on an unstructured correlation
matrix -- and are mapped to the shared structure's unconstrained vector ``z`` (the one the
ML engine optimizes), so both engines build the same R.  The trace keeps ``z`` as
``resid_z`` (by() groups x parameters): results read Stata's printed rows from it.
Banded correlations are free in (-1, 1) but their matrix need not be positive definite
(as in the ML engine); such a point has no density, and NUTS rejects it like a divergence.
"""

from __future__ import annotations

from ...design.types import Design
from ...errors import SpecificationError
from ...spec.residual import Exchangeable, Exponential
from .lazy import pm, pt
from .priors import RESIDUAL_CORR as NAME
from .priors import Prior, lkj_structure, natural_range


def _to_z(structure, u):
    """Natural parameters (partial autocorrelations for AR/MA) -> the structure's z."""
    if isinstance(structure, Exponential):
        return pt.log(u) - pt.log1p(-u)
    if isinstance(structure, Exchangeable):
        s = (u - structure.lower) / (1.0 - structure.lower)
        return pt.log(s) - pt.log1p(-s)
    return pt.arctanh(u)  # AR/MA partial autocorrelations, Toeplitz and banded correlations


def correlation_variables(design: Design, prior: Prior) -> list:
    """One z vector per by() group (a list of tensors); adds ``resid_z`` to the trace."""
    from .cpc import CPCTransform  # a PyMC transform: PyMC is imported here

    model = design.residual.model
    structure = model.structure
    out = []
    for g in range(model.n_groups):
        tag = f"corr[e:{model.by_labels[g]}]" if model.by else NAME
        if lkj_structure(structure):
            n, eta = structure.n_levels, prior.params[0] if prior.dist == "lkj" else 1.0
            if prior.dist not in ("lkj", "flat"):
                raise SpecificationError(
                    f"residuals(unstructured) takes an lkj(eta) prior for {tag}"
                )
            chol = pm.LKJCorr(tag, n=n, eta=eta, default_transform=CPCTransform(n))
            out.append(CPCTransform(n).forward(chol))
            continue
        lo, hi = prior_bounds(structure, prior)
        u = pm.Uniform(tag, lower=lo, upper=hi, shape=(structure.n_corr,))
        out.append(_to_z(structure, u))
    pm.Deterministic("resid_z", pt.stack(out), dims=("residual_groups", "residual_params"))
    return out


def prior_bounds(structure, prior: Prior) -> tuple[float, float]:
    lo, hi = natural_range(structure)
    if prior.dist == "lkj":
        raise SpecificationError(
            f"an LKJ prior needs residuals(unstructured); residuals({structure.name}) takes "
            f"uniform(a, b) on ({lo:.4g}, {hi:.4g}) or flat"
        )
    if prior.dist == "uniform":
        a, b = prior.params
        if a < lo or b > hi or a >= b:
            raise SpecificationError(
                f"the prior of {NAME} must be uniform on a subinterval of ({lo:.4g}, {hi:.4g}) "
                f"for residuals({structure.name}); got uniform({a:.4g}, {b:.4g})"
            )
        return a, b
    return lo, hi


def coords(design: Design) -> dict[str, list[str]]:
    """Dims of ``resid_z``: by() groups x the structure's unconstrained parameters."""
    model = design.residual.model
    groups = [str(v) for v in model.by_labels] if model.by else ["e"]
    return {
        "residual_groups": groups,
        "residual_params": [f"z{i + 1}" for i in range(model.structure.n_corr)],
    }
