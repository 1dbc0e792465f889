"""ML/REML with structured residuals: whiten each panel, then the usual blocked Cholesky.

With errors ~ N(0, sigma2 C), C = blockdiag(C_i) over the lowest-level panels,
pre-multiplying each panel's y, X and Z rows by L_i^-1 (C_i = L_i L_i') gives a
model with iid errors and the same random effects; every higher-level random
effect is constant within a panel, so its compact group codes survive.  Then

    -2 log L(theta, psi) = deviance_iid(whitened data; theta) + sum_i log|C_i|

and the same holds for the REML criterion (log|X'V^-1 X| uses the whitened X).
sigma2 and beta stay profiled; the optimizer sees (theta, psi), psi being the
residual model's unconstrained vector.  Panels are small: those of one size
and by() group are factored together, one Cholesky per distinct time pattern,
so no n x n matrix is ever formed.  The cross-products A = [Z X y]'[Z X y]
are rebuilt from the whitened rows when psi changes (cost O(n), cached).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ...design.residual import ResidualData, pattern_index
from ...design.standardize import FixedScaling
from ...design.types import Design
from ...errors import EstimationError
from ..estimates import LMMEstimates
from .criterion import boundary_notes, make_deviance, to_design_order
from .crossprod import build_crossproducts
from .deviance import ProfiledDeviance
from .inference import WorkingMap, working_covariance
from .optimize import minimize_theta, prefer_boundary

MAX_RESTARTS = 4


class Whitener:
    """psi -> (whitened design, sum of log|C_i|), for one design."""

    def __init__(self, design: Design) -> None:
        data: ResidualData = design.residual
        self.data = data
        self.design = design
        if data.diagonal:
            self.perm = np.arange(design.n)
        else:
            self.perm = np.concatenate([b.rows.ravel() for b in data.batches])
        blocks = design.blocks
        self.widths = [design.p, 1] + [b.k for b in blocks]
        cols = [design.X, design.y[:, None]] + [b.Z for b in blocks]
        self.m = np.column_stack(cols)[self.perm]
        self.codes = [b.codes[self.perm] for b in blocks]
        self.patterns = [self._patterns(b) for b in data.batches]

    def _patterns(self, batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        first, inverse = pattern_index(self.data.model, batch)
        return batch.times[first], batch.levels[first], inverse

    def whiten(self, psi: np.ndarray) -> tuple[np.ndarray, float] | None:
        """Whitened [X y Z...] rows (permuted) and sum log|C_i|; None if C is not PD."""
        model = self.data.model
        z, log_sd = model.unpack(psi)
        if self.data.diagonal:
            log_d = log_sd[self.data.groups, self.data.levels]
            return self.m * np.exp(-log_d)[:, None], float(2 * log_d.sum())
        out = np.empty_like(self.m)
        logdet, start = 0.0, 0
        for batch, (times, levels, inverse) in zip(self.data.batches, self.patterns):
            g, size = batch.group, batch.size
            r = model.structure.correlation(z[g], times, levels)
            sd = np.exp(log_sd[g][levels])
            cov = sd[:, :, None] * r * sd[:, None, :]
            try:
                chol = np.linalg.cholesky(cov)
            except np.linalg.LinAlgError:
                return None
            inv = np.linalg.inv(chol)
            logdet += float(
                2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)[inverse].sum()
            )
            stop = start + batch.rows.size
            rows = self.m[start:stop].reshape(batch.rows.shape[0], size, -1)
            out[start:stop] = np.einsum("bij,bjc->bic", inv[inverse], rows).reshape(
                stop - start, -1
            )
            start = stop
        return out, logdet

    def design_from(self, w: np.ndarray) -> Design:
        parts = np.split(w, np.cumsum(self.widths)[:-1], axis=1)
        blocks = [
            replace(b, Z=z, codes=c) for b, z, c in zip(self.design.blocks, parts[2:], self.codes)
        ]
        return replace(self.design, X=parts[0], y=parts[1][:, 0], blocks=blocks, residual=None)


def whiten_values(design: Design, psi: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (design row order) pre-multiplied by each panel's L_i^-1, C_i = L_i L_i'."""
    whitener = Whitener(replace(design, y=np.asarray(values, float)))
    white, _ = whitener.whiten(psi)
    out = np.empty(design.n)
    out[whitener.perm] = white[:, design.p]
    return out


class StructuredDeviance:
    """x = (theta, psi) -> ML deviance or REML criterion with structured residuals."""

    def __init__(self, design: Design, reml: bool) -> None:
        self.plain: ProfiledDeviance = make_deviance(replace(design, residual=None), reml)
        self.inner: ProfiledDeviance = make_deviance(replace(design, residual=None), reml)
        self.whitener = Whitener(design)
        # whitening turns the constant into a non-constant column: scale as the raw X
        self.fixed = FixedScaling.of(design.X)
        self.model = design.residual.model
        self.n_theta = self.plain.n_theta
        self._cache: tuple[bytes, float] | None = None

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, float)
        return x[: self.n_theta], x[self.n_theta :]

    def set_psi(self, psi: np.ndarray) -> float | None:
        """Whiten for psi (cached) and return sum log|C_i|, or None if C is not PD."""
        key = np.asarray(psi, float).tobytes()
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        res = self.whitener.whiten(psi)
        if res is None or not np.all(np.isfinite(res[0])):
            return None
        w, logdet = res
        self.inner.cp = build_crossproducts(self.whitener.design_from(w), self.fixed)
        self._cache = (key, logdet)
        return logdet

    def __call__(self, x: np.ndarray) -> float:
        theta, psi = self.split(x)
        logdet = self.set_psi(psi)
        if logdet is None:
            return np.inf
        value = self.inner(theta)
        return value + logdet if np.isfinite(value) else np.inf

    @property
    def dof(self) -> int:
        return self.inner.dof

    def loglik_parts(self, x: np.ndarray) -> tuple[float, float]:
        """The inner criterion's parts, the whitening's log determinant added to the first."""
        theta, psi = self.split(x)
        logdet = self.set_psi(psi)
        if logdet is None:
            return np.inf, np.inf
        inner, r2 = self.inner.loglik_parts(theta)
        return inner + logdet, r2


class _ResidualWorkingMap:
    """Working vector (blocks, psi, log sigma_e) <-> (theta, psi) for the Hessian."""

    def __init__(self, wmap: WorkingMap, n_block_w: int) -> None:
        self.wmap = wmap
        self.n = n_block_w

    def relative(self, w: np.ndarray) -> np.ndarray:
        """(blocks, psi, s) -> (the blocks' relative working values, psi): psi is scale-free."""
        w = np.asarray(w, float)
        rel = self.wmap.relative(np.concatenate([w[: self.n], w[-1:]]))
        return np.concatenate([rel, w[self.n : -1]])

    def absolute(self, u: np.ndarray, s: float) -> np.ndarray:
        w = self.wmap.absolute(u[: self.n], s)
        return np.concatenate([w[:-1], u[self.n :], w[-1:]])

    def theta_of(self, u: np.ndarray) -> np.ndarray:
        return np.concatenate([self.wmap.theta_of(u[: self.n]), u[self.n :]])


def estimate_structured(design: Design, reml: bool = False) -> LMMEstimates:
    """Maximize the (restricted) likelihood with the residual structure of ``design``."""
    dev = StructuredDeviance(design, reml)
    start = np.concatenate(
        [
            np.concatenate([s.theta_start() for s in dev.plain.structures]),
            dev.model.start(),
        ]
    )
    bounds = [b for s in dev.plain.structures for b in s.theta_bounds()]
    bounds += [(None, None)] * dev.model.n_params
    if not np.isfinite(dev(start)):
        raise EstimationError(
            "the likelihood cannot be evaluated: the fixed-effects design is singular "
            "or the response has no variation left after the fixed effects"
        )
    x, opt = minimize_theta(dev, start, bounds)
    for _ in range(MAX_RESTARTS):
        # toeplitz/banded matrices can leave the positive-definite cone; BOBYQA's model
        # breaks on that wall of infinite deviance and stops early, so restart from there
        if opt.converged:
            break
        x2, opt2 = minimize_theta(dev, x, bounds)
        improved = opt2.criterion_end < opt.criterion_end - 1e-10 * abs(opt.criterion_end)
        opt2.evaluations += opt.evaluations
        opt2.seconds += opt.seconds
        opt2.theta_start, opt2.criterion_start = opt.theta_start, opt.criterion_start
        x, opt = x2, opt2
        if not improved:
            break
    x, opt = prefer_boundary(dev, x, opt, bounds, dev.plain.sizes)
    return _result(design, dev, x, opt, reml)


def _result(design: Design, dev: StructuredDeviance, x, opt, reml: bool) -> LMMEstimates:
    theta, psi = dev.split(x)
    logdet = dev.set_psi(psi)
    fac = dev.inner.factor(theta)
    sigma2 = dev.inner.sigma2(fac)
    order = dev.plain.cp.order
    covs = to_design_order([sigma2 * (lam @ lam.T) for lam in fac.lam], order)
    wmap = WorkingMap([b.structure for b in design.blocks], order)
    w_blocks = wmap.from_cov(covs, sigma2)
    working = np.concatenate([w_blocks[:-1], psi, w_blocks[-1:]])
    rmap = _ResidualWorkingMap(wmap, len(w_blocks) - 1)
    model = design.residual.model
    rows = model.printed(psi, sigma2)
    result = LMMEstimates(
        design=design,
        reml=reml,
        beta=fac.beta(),
        vcov_beta=fac.vcov_beta(sigma2),
        theta=np.concatenate(to_design_order(dev.plain.split(theta), order)),
        sigma2=sigma2,
        cov_blocks=covs,
        loglik=-0.5 * (dev.inner.criterion(fac) + logdet),
        working=working,
        working_vcov=working_covariance(dev, rmap, working),
        loglik_linear=-0.5 * dev.plain(np.zeros_like(theta)),
        opt=opt,
        boundary=boundary_notes(design, dev.plain, theta),
        residual_params=pd.Series([v for _, v, _ in rows], index=[n for n, _, _ in rows]),
    )
    return result
