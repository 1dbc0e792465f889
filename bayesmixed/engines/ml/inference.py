"""Standard errors of covariance parameters from the observed information.

Stata reports variance components with standard errors and confidence
intervals computed on a transformed ("working") scale: log standard
deviations, transformed correlations and log sigma_e.  We differentiate the
beta-profiled log likelihood twice in that scale; its inverse negative
Hessian is the covariance-parameter block of the full inverse information.
Parameters on the boundary (a variance of exactly zero) have no finite
working value; they are held fixed and get NaN rows, as Stata prints no
standard error for them.

Only theta is differenced.  In the coordinates v = (u, s) -- u the working
values of the covariances *relative* to sigma_e^2, s = log sigma_e -- theta
depends on u alone and the log likelihood is

    l(u, s) = -(dof (log 2 pi + 2 s) + a(u) + r2(u) exp(-2 s)) / 2,

with a the log determinants and r2 the penalized residual sum of squares at
theta(u) (:meth:`.deviance.ProfiledCriterion.loglik_parts`).  Its derivatives in s
are closed-form, so the finite differences run over one coordinate fewer: 36 instead
of 60 factorizations for three variance components (InstEval's shape, 50-70 ms each).
The working vector w is a smooth function of v (log standard deviations are shifted
by s, correlations do not move); at the optimum, where the gradient vanishes, the
covariance in w is K Cov(v) K' with K = dw/dv.

Two layouts skip the differences of the likelihood altogether: their parts' exact
derivatives in Lambda's entries are chained through the cheap map u -> Lambda.  Nested
designs factored one component at a time (:mod:`.component_hessian`): statsmodels' vcomp2
(five parameters), 91 factorizations, 49-66 ms, became one factorization and the exact
terms, 10-15 ms.  Crossed scalar random effects at an interior optimum
(:mod:`.scalar_hessian`): InstEval's shape, 37 factorizations (two threads, 0.9 s) became
one and the exact terms, 0.23-0.35 s.  Both agree with the differences to ~1e-7-1e-6
relative, the differences' own error there.
"""

from __future__ import annotations

import numpy as np

from ...spec.covariance import CovStructure
from .batch import evaluate_all, workers_for
from .component_hessian import ComponentHessian
from .deviance import ProfiledDeviance
from .scalar_hessian import ScalarHessian


class WorkingMap:
    """working vector (design order, then log sigma_e) <-> theta (evaluation order)."""

    def __init__(self, structures: list[CovStructure], order: list[int]) -> None:
        self.structures = structures  # design order
        self.order = order  # evaluation position -> design index
        self.sizes = [s.n_theta for s in structures]

    def split(self, w: np.ndarray) -> list[np.ndarray]:
        return np.split(np.asarray(w, float), np.cumsum(self.sizes)[:-1])

    def to_theta(self, w: np.ndarray) -> tuple[np.ndarray, float]:
        """Working vector -> (theta in evaluation order, sigma2)."""
        return self.theta_of(self.relative(w)), float(np.exp(2 * w[-1]))

    def relative(self, w: np.ndarray) -> np.ndarray:
        """Working vector -> u: each block's working values of its covariance / sigma2."""
        sigma2 = float(np.exp(2 * w[-1]))
        parts = self.split(w[:-1])
        rel = [
            s.working_from_cov(s.cov_from_working(p) / sigma2)
            for s, p in zip(self.structures, parts)
        ]
        return np.concatenate(rel) if rel else np.zeros(0)

    def absolute(self, u: np.ndarray, s: float) -> np.ndarray:
        """(u, log sigma_e) -> working vector: the inverse of :meth:`relative`."""
        sigma2 = float(np.exp(2 * s))
        parts = [
            st.working_from_cov(st.cov_from_working(p) * sigma2)
            for st, p in zip(self.structures, self.split(u))
        ]
        return np.concatenate(parts + [np.array([s])])

    def theta_of(self, u: np.ndarray) -> np.ndarray:
        """u -> theta in evaluation order (theta does not depend on sigma_e)."""
        thetas = [s.theta_from_working(p) for s, p in zip(self.structures, self.split(u))]
        return np.concatenate([thetas[i] for i in self.order])

    def from_cov(self, covs: list[np.ndarray], sigma2: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            parts = [s.working_from_cov(c) for s, c in zip(self.structures, covs)]
        return np.concatenate(parts + [np.array([0.5 * np.log(sigma2)])])


def working_covariance(dev: ProfiledDeviance, wmap, w_hat: np.ndarray) -> np.ndarray | None:
    """Inverse negative Hessian of the log likelihood in the working scale.

    ``wmap`` is a :class:`WorkingMap` (or a map with the same ``relative``,
    ``absolute`` and ``theta_of``); ``dev`` provides ``loglik_parts`` and ``dof``.
    """
    free = np.flatnonzero(np.isfinite(w_hat))
    if free.size == 0:
        return None
    w0 = np.where(np.isfinite(w_hat), w_hat, -40.0)  # a boundary variance stays ~0
    s0, last = float(w0[-1]), len(w0) - 1
    u0 = wmap.relative(w0)
    free_u = free[free < last]

    def parts(sub: np.ndarray) -> np.ndarray:
        u = u0.copy()
        u[free_u] = sub
        return np.array(dev.loglik_parts(wmap.theta_of(u)), float)

    try:
        derivs = _exact_or_none(dev, wmap, u0, free_u, last)
        if derivs is None:
            derivs = _parts_derivatives(parts, u0[free_u], workers=workers_for(dev))
        h_a, h_r, g_r, r2 = derivs
        scale = np.exp(-2 * s0)
        d = free_u.size
        info = np.empty((d + 1, d + 1))  # minus the Hessian of l in (u, s)
        info[:d, :d] = 0.5 * (h_a + scale * h_r)
        info[:d, d] = info[d, :d] = -scale * g_r
        info[d, d] = 2 * scale * r2
        cov_v = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    jac = _jacobian(wmap, u0, s0, free_u, free)
    cov_free = jac @ cov_v @ jac.T
    if not np.all(np.isfinite(cov_free)) or np.any(np.diag(cov_free) <= 0):
        return None
    out = np.full((len(w_hat), len(w_hat)), np.nan)
    out[np.ix_(free, free)] = (cov_free + cov_free.T) / 2
    return out


def _exact_or_none(dev, wmap, u0: np.ndarray, free_u: np.ndarray, last: int):
    """The parts' exact derivatives where the layout has them (else None: differences).

    The component layout (:mod:`.component_hessian`) and blocks of scalar effects
    (:mod:`.scalar_hessian`, interior optima only: a zero variance has no precision).
    """
    if not free_u.size or not isinstance(wmap, WorkingMap):
        return None
    exact = ComponentHessian.build(dev)
    if exact is None and free_u.size == last:
        exact = ScalarHessian.build(dev)
    if exact is None:
        return None
    try:
        return _exact_derivatives(exact, wmap, u0, free_u)
    except np.linalg.LinAlgError:
        return None


def _exact_derivatives(
    exact: ComponentHessian | ScalarHessian, wmap, u0: np.ndarray, free_u: np.ndarray
):
    """The parts' derivatives in u from their exact ones in Lambda's entries (chain rule).

    H_u = J'H_Lambda J + sum_k g_k d2 Lambda_k / du2 with J = dLambda/du (:func:`_lambda_map`).
    """
    jac, second = _lambda_map(wmap, exact.dev, u0, free_u)
    moving = np.flatnonzero(np.any(jac != 0, axis=1) | np.any(second != 0, axis=(1, 2)))
    flat = exact(wmap.theta_of(u0), moving)
    jac, second = jac[moving], second[moving]
    h_a = jac.T @ flat.hess_a @ jac + np.einsum("k,kij->ij", flat.grad_a, second)
    h_r = jac.T @ flat.hess_r @ jac + np.einsum("k,kij->ij", flat.grad_r, second)
    return h_a, h_r, jac.T @ flat.grad_r, flat.r2


def _lambda_map(wmap: WorkingMap, dev, u0: np.ndarray, free_u: np.ndarray):
    """First and second derivatives of the flat Lambda entries in the free coordinates of u.

    Each block's Lambda depends on its own working values alone, so the map is
    differenced block by block (no mixed partials across blocks).  It is cheap and free
    of the likelihood's rounding noise: the seven-point rule is accurate to ~1e-12 here.
    Entries are in evaluation order, as the criterion concatenates ``dev.lambdas``.
    """
    parts = np.split(np.arange(len(u0)), np.cumsum(wmap.sizes)[:-1])
    sizes = [s.lam(s.theta_from_working(np.zeros(s.n_theta))).size for s in wmap.structures]
    starts = np.cumsum([0] + [sizes[i] for i in wmap.order])
    where = {design: int(starts[e]) for e, design in enumerate(wmap.order)}
    column = {int(c): n for n, c in enumerate(free_u)}
    jac = np.zeros((int(starts[-1]), len(free_u)))
    second = np.zeros((int(starts[-1]), len(free_u), len(free_u)))
    for b, (structure, idx) in enumerate(zip(wmap.structures, parts)):
        cols = [column[int(i)] for i in idx if int(i) in column]
        mine = [int(i) for i in idx if int(i) in column]
        if not mine:
            continue
        base = u0[idx].copy()
        pos = np.searchsorted(idx, mine)

        def lam_of(sub, base=base, pos=pos, structure=structure):
            w = base.copy()
            w[pos] = sub
            return structure.lam(structure.theta_from_working(w)).ravel()

        _, j_b, h_b = stencil_derivatives(lam_of, u0[mine])
        rows = np.arange(where[b], where[b] + sizes[b])
        jac[np.ix_(rows, cols)] = j_b
        second[np.ix_(rows, cols, cols)] = h_b
    return jac, second


def _jacobian(wmap, u0: np.ndarray, s0: float, free_u: np.ndarray, free: np.ndarray) -> np.ndarray:
    """K = dw/dv on the free coordinates, by central differences of the cheap map.

    The map is linear for every structure we have (a shift of the log standard
    deviations by s), so the differences are exact up to rounding.
    """
    step = 1e-4
    cols = []
    for i in free_u:
        up, down = u0.copy(), u0.copy()
        up[i] += step
        down[i] -= step
        cols.append((wmap.absolute(up, s0) - wmap.absolute(down, s0)) / (2 * step))
    cols.append((wmap.absolute(u0, s0 + step) - wmap.absolute(u0, s0 - step)) / (2 * step))
    return np.array(cols).T[free]


#: central-difference weights with error O(h^6) at offsets -3..3 (Fornberg 1988):
#: the second derivative, and the first
SECOND_DIFF = np.array([2.0, -27.0, 270.0, -490.0, 270.0, -27.0, 2.0]) / 180.0
FIRST_DIFF = np.array([-1.0, 9.0, -45.0, 0.0, 45.0, -9.0, 1.0]) / 60.0
HESSIAN_STEP = 7e-3  # relative step in the working scale; see _parts_derivatives


def _parts_derivatives(parts, x: np.ndarray, h: float = HESSIAN_STEP, workers: int = 1):
    """Hessians of both parts, the gradient of r2 and r2 itself, by seven-point differences.

    ``parts(x)`` returns (a, r2).  Why this rule: the log likelihood is a sum over
    ~n terms, so each value carries rounding noise of about eps |f|, which a second
    difference divides by h^2.  The three-point rule (error O(h^2)) needed h ~ 1e-4
    to keep its truncation small and so amplified that noise to ~1e-6 relative in
    the standard errors; [fw=] fits then differed from fits of the expanded data
    there (issue 15).  The seven-point rule has error O(h^6), small at h = 7e-3
    (measured ~1e-8 relative in the standard errors of an unstructured random
    slope), where the noise is amplified ~3,000 times less.  The five-point rule
    (four evaluations a direction instead of six) was tried: 1.3e-6 relative in a
    robust three-level covariance and 2.5e-8 between [fw=] and expanded fits, both
    over their tests' tolerances.
    """
    f0, grad, hess = stencil_derivatives(parts, x, h, workers)
    if not (np.all(np.isfinite(hess)) and np.all(np.isfinite(grad[1])) and np.isfinite(f0[1])):
        raise np.linalg.LinAlgError("the criterion is not finite near the optimum")
    return hess[0], hess[1], grad[1], float(f0[1])


def stencil_derivatives(fn, x: np.ndarray, h: float = HESSIAN_STEP, workers: int = 1):
    """Value, Jacobian (n_out, d) and Hessians (n_out, d, d) of a vector function.

    Seven-point differences (:data:`SECOND_DIFF`, :data:`FIRST_DIFF`) with steps
    ``h max(1, |x_i|)``.  Mixed partials come from the second derivative along
    e_i + e_j: H_ij = (D^2_{i+j} - H_ii - H_jj) / 2, so each of the d (d + 1) / 2
    directions costs six evaluations.  All of them are known in advance and go as one
    batch (``workers`` threads: :mod:`.batch`).
    """
    d = len(x)
    f0 = np.asarray(fn(x), float)
    if d == 0:
        return f0, np.zeros((f0.size, 0)), np.zeros((f0.size, 0, 0))
    steps = h * np.maximum(1.0, np.abs(x))
    offsets = np.arange(-3, 4)
    unit = np.diag(steps)
    pairs = [(i, j) for i in range(d) for j in range(i)]
    directions = [unit[i] for i in range(d)] + [unit[i] + unit[j] for i, j in pairs]
    points = [x + o * v for v in directions for o in offsets if o != 0]
    values = iter(evaluate_all(fn, points, workers))
    # along[n]: (7, n_out), the function at x + o v_n for o = -3..3
    along = [np.array([f0 if o == 0 else next(values) for o in offsets]) for _ in directions]
    sec = np.array([SECOND_DIFF @ along[i] for i in range(d)]).reshape(d, -1)  # (d, n_out)
    grad = np.array([FIRST_DIFF @ along[i] / steps[i] for i in range(d)]).reshape(d, -1).T
    hess = np.zeros((f0.size, d, d))
    for i in range(d):
        hess[:, i, i] = sec[i] / steps[i] ** 2
    for n, (i, j) in enumerate(pairs, start=d):
        mixed = (SECOND_DIFF @ along[n] - sec[i] - sec[j]) / 2
        hess[:, i, j] = hess[:, j, i] = mixed / (steps[i] * steps[j])
    return f0, grad, hess
