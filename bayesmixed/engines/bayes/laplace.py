"""MAP and a Gaussian (Laplace) approximation, returned as draws like NUTS's.

The mode is found on PyMC's unconstrained coordinates but *without* the Jacobian of the
transforms, so it is the mode of the posterior density of the natural parameters; with
flat priors that is the maximum of the likelihood -- ML when the fixed effects are
parameters, REML when they are integrated out (Harville 1974).  The Gaussian
approximation uses the inverse Hessian of the same log density at the mode on the
unconstrained scale (the delta-method covariance of the working parameters), and its
draws are mapped back through the transforms, so variances stay positive and
correlation matrices valid.  (Under an inverse-Wishart prior the density is that of the
Cholesky coordinates, so the mode is on that scale.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymc.blocking import DictToArrayBijection, RaveledVars
from scipy.optimize import minimize

from ...errors import EstimationError
from ..ml.fit import fit_lmm
from .build import BuiltModel, trace_names


@dataclass
class LaplaceFit:
    """The mode (natural scale), its unconstrained location/covariance and the optimizer.

    ``cov`` is None when the mode lies on the boundary (a correlation at +-1, a variance at
    zero): no Gaussian approximation exists there.
    """

    mode: dict[str, np.ndarray]
    x_hat: np.ndarray
    cov: np.ndarray | None
    logp: float
    iterations: int
    converged: bool
    objective: object = None


class _Objective:
    def __init__(self, built: BuiltModel, jacobian: bool = False):
        model = built.model
        self.start = model.initial_point()
        self.info = DictToArrayBijection.map(self.start).point_map_info
        # The C backend: its compiled modules are cached on disk, unlike numba's JIT.
        self._logp = model.compile_logp(jacobian=jacobian, mode="FAST_RUN")
        self._dlogp = model.compile_dlogp(jacobian=jacobian, mode="FAST_RUN")
        self.names = names = [n for n in trace_names(built) if not n.startswith("b[")]
        outs = model.replace_rvs_by_values([model[n] for n in names])
        self._values = model.compile_fn(
            outs, inputs=model.value_vars, point_fn=False, on_unused_input="ignore", mode="FAST_RUN"
        )
        self.value_names = [v.name for v in model.value_vars]

    def point(self, x: np.ndarray) -> dict:
        return DictToArrayBijection.rmap(RaveledVars(x, self.info), self.start)

    def f(self, x):
        v = -float(self._logp(self.point(x)))
        return v if np.isfinite(v) else 1e300

    def g(self, x):
        return -np.asarray(self._dlogp(self.point(x)), float)

    def values(self, x) -> dict[str, np.ndarray]:
        pt = self.point(x)
        out = self._values(*[pt[n] for n in self.value_names])
        return dict(zip(self.names, (np.asarray(o, float) for o in out)))


def _start(obj: _Objective, built: BuiltModel) -> np.ndarray:
    """Start at the exact ML (or REML) fit, mapped through the model's transforms.

    The likelihood surface of a variance component can be flat far from the optimum, where
    a quasi-Newton method stalls; the ML engine gets there in milliseconds.
    """
    ml = fit_lmm(built.design, reml=built.integrate_beta)
    covs = dict(zip(built.names, ml.cov_blocks))
    start = dict(obj.start)
    model = built.model
    for rv in model.free_RVs:
        natural = _natural_value(rv.name, covs, ml, built)
        if natural is None:
            continue
        value_var = model.rvs_to_values[rv]
        transform = model.rvs_to_transforms.get(rv)
        value = transform.forward(natural, *rv.owner.inputs).eval() if transform else natural
        if np.all(np.isfinite(value)):
            start[value_var.name] = np.asarray(value, float).reshape(start[value_var.name].shape)
    return DictToArrayBijection.map(start).data


def _natural_value(name: str, covs: dict, ml, built: BuiltModel):
    """The ML estimate of one free variable on its natural scale (None: leave as is)."""
    floor = 1e-3 * float(np.std(built.design.y))
    if name in ("sigma", "sigma2"):
        sd = max(np.sqrt(ml.sigma2), floor)
        return np.asarray(sd if name == "sigma" else sd**2)
    if name == "beta":
        return np.asarray(ml.beta)
    kind, inner = name.split("[", 1) if "[" in name else ("", "")
    block, _, effect = inner.rstrip("]").split("]")[0].partition(":")
    if block not in covs:
        return None
    cov = covs[block]
    sds = np.maximum(np.sqrt(np.clip(np.diag(cov), 0, None)), floor)
    if kind in ("sd", "var"):
        effects = built.design.blocks[built.names.index(block)].effect_names
        sd = sds[effects.index(effect)] if effect else np.sqrt(np.mean(sds**2))
        return np.asarray(sd if kind == "sd" else sd**2)
    if kind == "corr":
        corr = np.clip(cov / np.outer(sds, sds), -0.95, 0.95)
        np.fill_diagonal(corr, 1.0)
        if built.design.blocks[built.names.index(block)].structure.name == "exchangeable":
            return np.asarray(np.mean(corr[np.tril_indices(len(sds), -1)]))
        return np.linalg.cholesky(corr)
    return None


def fd_hessian(grad, x: np.ndarray) -> np.ndarray:
    """Central differences of the analytic gradient, symmetrized."""
    n = len(x)
    hess = np.empty((n, n))
    for i in range(n):
        h = 1e-5 * max(1.0, abs(x[i]))
        e = np.zeros(n)
        e[i] = h
        hess[:, i] = (grad(x + e) - grad(x - e)) / (2 * h)
    return 0.5 * (hess + hess.T)


def _newton_polish(obj: _Objective, x: np.ndarray, steps: int = 20) -> tuple[np.ndarray, bool]:
    """Newton steps with the FD Hessian until the step is negligible (BFGS stops early).

    Converged means the Newton decrement -- the log density still to gain, scale-free
    unlike |g| -- is below 1e-9, or below 1e-6 where no further step descends (the FD
    Hessian's own error, or a weakly identified direction that is nearly flat).
    """
    decrement = np.inf
    for _ in range(steps):
        g = obj.g(x)
        try:
            step = np.linalg.solve(fd_hessian(obj.g, x), g)
        except np.linalg.LinAlgError:
            return x, False
        decrement = abs(0.5 * g @ step)
        if np.max(np.abs(step)) < 1e-10 or decrement < 1e-9:
            return x, True
        t, f0 = 1.0, obj.f(x)
        while t > 1e-4 and obj.f(x - t * step) > f0 + 1e-12 * abs(f0):
            t /= 2
        if obj.f(x - t * step) > f0 + 1e-12 * abs(f0):
            return x, bool(decrement < 1e-6)  # a full step would leave the space, or noise
        x = x - t * step
    return x, bool(decrement < 1e-6)


def _on_boundary(mode: dict[str, np.ndarray], tol: float = 1e-6) -> bool:
    """A correlation within ``tol`` of +-1 (or undefined) at the mode.

    tanh'd correlations approach +-1 only as their working value runs off to infinity, where
    the gradient vanishes: the optimizer stops far out with a tiny, still positive, Hessian
    instead of failing, so the boundary must be read off the natural values.
    """
    for name, value in mode.items():
        if not name.startswith("cov["):
            continue
        cov = np.asarray(value, float)
        sd = np.sqrt(np.diag(cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = cov / np.outer(sd, sd)
        off = corr[~np.eye(len(sd), dtype=bool)]
        if not np.all(np.isfinite(off)) or np.any(np.abs(off) > 1 - tol):
            return True
    return False


def find_mode(built: BuiltModel, jacobian: bool = False) -> LaplaceFit:
    """Maximize the posterior density and take the Hessian there.

    ``jacobian=False`` (the default) gives the mode of the natural parameters, ML/REML
    under flat priors; ``jacobian=True`` the mode of the unconstrained coordinates
    (Stan's ``laplace`` with ``jacobian=true``), which is always interior.
    """
    obj = _Objective(built, jacobian)
    res = minimize(
        obj.f,
        _start(obj, built),
        jac=obj.g,
        method="BFGS",
        options={"gtol": 1e-9, "maxiter": 10000},
    )
    x, polished = _newton_polish(obj, res.x)
    mode = obj.values(x)
    if not np.isfinite(obj.f(x)) or obj.f(x) >= 1e300:
        raise EstimationError("the search for the posterior mode left the parameter space")
    converged = polished or bool(res.success)
    fit = LaplaceFit(mode, x, None, -obj.f(x), int(res.nit), converged, obj)
    if _on_boundary(mode):
        return fit
    try:
        cov = np.linalg.inv(np.linalg.cholesky(fd_hessian(obj.g, x)))
    except np.linalg.LinAlgError:
        return fit
    fit.cov = cov.T @ cov
    return fit


def laplace_draws(built: BuiltModel, fit: LaplaceFit, draws: int, rng: np.random.Generator):
    """Draws of the trace variables from the Gaussian approximation, shaped (1, draws, ...)."""
    obj = fit.objective or _Objective(built)
    chol = np.linalg.cholesky(fit.cov)
    xs = fit.x_hat + rng.standard_normal((draws, len(fit.x_hat))) @ chol.T
    vals = [obj.values(x) for x in xs]
    return {n: np.stack([v[n] for v in vals])[None] for n in obj.names}
