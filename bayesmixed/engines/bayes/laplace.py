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

Two evaluators of that density, chosen automatically by :func:`objective_for`:

* **NumPy** (:mod:`.laplace_numpy`) for Gaussian models with the random effects
  integrated out, iid residuals and the priors of :mod:`.numpy_density`: the ML engine's
  blocked Cholesky gives the marginal likelihood, the priors and transforms are written
  out in NumPy, gradients and Hessians are finite differences.  :func:`laplace_model`
  skips building the PyMC graph too.  Nothing is compiled.
* **PyMC** (:mod:`.laplace_pymc`) for the rest (residual cells, correlated residual
  structures, inverse-Wishart or uniform priors): the model's log density and gradient
  compiled by PyTensor.

Measured for jsp2 ``mixed math5 math3 || school: math3, cov(uns)`` with
``method="laplace", priors="flat"`` (benchmarks/first_posterior.py case b: a whole new
process, import included, under ``/work/shared/tools/cold-run``'s empty caches) on the
2-core machine at load average 1.8-1.9: 3.7 s cold (median of 3.3 and 4.0; import
1.5-1.8 s, fit 1.1-1.4 s), 3.6 s warm.  The PyMC path, forced in the same session at
load 1.8-2.6: 134 s cold (fit 126 s, nearly all PyTensor's C compile into an empty
cache; issue 14 measured 44 s cold, 19.5 s warm at load 4).  Under load 7-8 from other
jobs: 15-37 s against 961 s.  What is left of the fit is the PyMC import (~0.6 s when
quiet) and xarray's import of dask.array at its first Dataset (only where dask, a test
and ``scale`` extra, is installed), then the search itself.  The flat-prior mode matches
ML/REML to 3e-7 (jsp, on the boundary) and 1e-9 or better (grunfeld, exchangeable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from ...errors import EstimationError
from ...spec.family import get_family
from .build import BuiltModel, correlated
from .covariance import beta_prior_moments
from .hetero import residual_cells
from .laplace_numpy import NumpyObjective, covers
from .laplace_residual import ResidualObjective, covers_residual
from .marginal import suff_stats
from .priors import block_names


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


def laplace_model(design, priors: dict, marginal: bool, integrate: bool) -> BuiltModel | None:
    """The model the NumPy path needs, without building the PyMC graph (None: not covered).

    ``build_model`` spends ~0.7 s building PyMC variables that the NumPy objective never
    reads; the draws' assembly (:func:`.posterior.to_datatree`) reads only the design,
    priors, names and cross-products, which this fills in.
    """
    if not marginal or residual_cells(design) is not None or correlated(design):
        return None
    if not get_family(design.spec.family, design.spec.link).closed_form:
        return None
    mean, prec = beta_prior_moments(list(design.fixed_names), priors)
    names = block_names(design)
    built = BuiltModel(None, design, priors, names, True, integrate, suff_stats(design), mean, prec)
    return built if covers(built) else None


def objective_for(built: BuiltModel, jacobian: bool = False):
    """The NumPy log posterior where it covers the model, else the compiled PyMC one."""
    if covers(built):
        return NumpyObjective(built, jacobian)
    if covers_residual(built):  # residual cells, AR(1) panels: no graph either
        return ResidualObjective(built, jacobian)
    from .laplace_pymc import PyMCObjective

    return PyMCObjective(built, jacobian)


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


def _hessian(obj, x: np.ndarray) -> np.ndarray:
    """The objective's own Hessian where it has one (second differences of the NumPy
    density, more accurate than differencing its differenced gradient), else FD of g."""
    own = getattr(obj, "hessian", None)
    return own(x) if own is not None else fd_hessian(obj.g, x)


ZERO_VARIANCE = 1e-8  # variance / sigma2 below which a mode's variance is its boundary, 0


def _snap_zero_variances(mode: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Set to 0 the variances the search drove towards 0 (with their covariances).

    On the log scale a variance at the boundary sits at -infinity, where the density is
    flat: the search stops wherever the gradient drowns in rounding (about 1e-12 sigma2
    with analytic PyMC gradients, 1e-10 with finite differences), and reporting that
    number instead of ML's exact 0 would make the flat-prior mode differ from ML.
    """
    sigma2 = float(np.asarray(mode["sigma"])) ** 2 if "sigma" in mode else None
    if sigma2 is None:
        return mode
    out = dict(mode)
    for name, value in mode.items():
        if not name.startswith("cov["):
            continue
        cov = np.array(value, float)
        zero = np.diag(cov) < ZERO_VARIANCE * sigma2
        if np.any(zero):
            cov[zero, :] = 0.0
            cov[:, zero] = 0.0
            out[name] = cov
    return out


def _newton_polish(obj, x: np.ndarray, steps: int = 20) -> tuple[np.ndarray, bool]:
    """Newton steps with the FD Hessian until the step is negligible (BFGS stops early).

    Converged means the Newton decrement -- the log density still to gain, scale-free
    unlike |g| -- is below 1e-9, or below 1e-6 where no further step descends (the FD
    Hessian's own error, or a weakly identified direction that is nearly flat).
    """
    decrement = np.inf
    for _ in range(steps):
        g = obj.g(x)
        try:
            step = np.linalg.solve(_hessian(obj, x), g)
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
        if np.any(sd == 0):  # a variance snapped to its boundary (_snap_zero_variances)
            return True
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
    obj = objective_for(built, jacobian)
    res = minimize(
        obj.f,
        obj.initial(),
        jac=obj.g,
        method="BFGS",
        options={"gtol": getattr(obj, "gtol", 1e-9), "maxiter": 10000},
    )
    x, polished = _newton_polish(obj, res.x)
    mode = obj.values(x) if jacobian else _snap_zero_variances(obj.values(x))
    if not np.isfinite(obj.f(x)) or obj.f(x) >= 1e300:
        raise EstimationError("the search for the posterior mode left the parameter space")
    converged = polished or bool(res.success)
    fit = LaplaceFit(mode, x, None, -obj.f(x), int(res.nit), converged, obj)
    if _on_boundary(mode):
        return fit
    try:
        cov = np.linalg.inv(np.linalg.cholesky(_hessian(obj, x)))
    except np.linalg.LinAlgError:
        return fit
    fit.cov = cov.T @ cov
    return fit


def laplace_draws(built: BuiltModel, fit: LaplaceFit, draws: int, rng: np.random.Generator):
    """Draws of the trace variables from the Gaussian approximation, shaped (1, draws, ...)."""
    obj = fit.objective or objective_for(built)
    chol = np.linalg.cholesky(fit.cov)
    xs = fit.x_hat + rng.standard_normal((draws, len(fit.x_hat))) @ chol.T
    vals = [obj.values(x) for x in xs]
    return {n: np.stack([v[n] for v in vals])[None] for n in obj.names}
