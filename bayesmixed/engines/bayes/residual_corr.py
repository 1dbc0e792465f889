"""Residual correlation matrices as PyTensor graphs, for the Bayesian engine.

:mod:`bayesmixed.spec.residual` maps a structure's unconstrained vector ``z`` to the
within-panel correlation ``R`` in NumPy, for the ML engine.  Under NUTS ``z`` is a
random variable, so the same map is needed as a differentiable graph; this module
rebuilds it operation for operation (tanh'd partial autocorrelations for AR/MA,
canonical partial correlations for unstructured, ...) so both engines fit the
same model.  The panels' times and levels are data, hence NumPy constants: lags
and index arrays are computed once here and only ``z`` flows through the graph.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import NotSupportedError
from ...spec.residual import (
    AR,
    MA,
    Exchangeable,
    Exponential,
    Independent,
    ResidualStructure,
    Toeplitz,
    Unstructured,
    time_lags,
)
from .lazy import pt


def correlation_pt(
    structure: ResidualStructure, z: pt.TensorVariable, times: np.ndarray, levels: np.ndarray
) -> pt.TensorVariable:
    """The graph of ``structure.correlation(z, times, levels)``.

    Parameters
    ----------
    structure : ResidualStructure
        The residual structure (one by()-group's).
    z : TensorVariable
        Unconstrained vector of length ``structure.n_corr``.
    times, levels : ndarray
        Constant panel patterns, shape (m,) or (P, m).

    Returns
    -------
    TensorVariable
        Correlation matrices of shape ``times.shape + (m,)``.
    """
    builder = _BUILDERS.get(type(structure))
    if builder is None:
        raise NotSupportedError(
            f"the Bayesian engine cannot build residual correlations of type "
            f"{type(structure).__name__} ('{structure.name}')"
        )
    z = pt.as_tensor_variable(z)
    return builder(structure, z, np.asarray(times, float), np.asarray(levels))


# -- AR/MA helpers ---------------------------------------------------------------


def pacf_to_ar_pt(pacf: pt.TensorVariable, p: int) -> pt.TensorVariable:
    """Durbin-Levinson on a graph: partial autocorrelations -> AR coefficients."""
    phi = pacf[:1]
    for k in range(1, p):
        a = pacf[k]
        phi = pt.concatenate([phi - a * phi[::-1], a[None]])
    return phi


def _yule_walker_matrix(phi: pt.TensorVariable, p: int) -> pt.TensorVariable:
    """The p x p system ``M rho = phi`` for the autocorrelations at lags 1..p."""
    pick = np.zeros((p, p, p))
    for k in range(1, p + 1):
        for j in range(1, p + 1):
            if k != j:
                pick[k - 1, abs(k - j) - 1, j - 1] += 1.0
    return pt.eye(p, dtype=phi.dtype) - pt.tensordot(pick, phi, axes=[[2], [0]])


def ar_acf_pt(phi: pt.TensorVariable, p: int, max_lag: int) -> pt.TensorVariable:
    """Autocorrelations at lags 0..max_lag of a stationary AR(p)."""
    acf = [pt.ones((), dtype=phi.dtype)]
    if p:
        head = pt.linalg.solve(_yule_walker_matrix(phi, p), phi)
        acf += [head[k] for k in range(p)]
    for lag in range(p + 1, max_lag + 1):
        if p:
            acf.append(pt.dot(phi, pt.stack(acf[lag - p : lag][::-1])))
        else:
            acf.append(pt.zeros((), dtype=phi.dtype))
    return pt.stack(acf[: max_lag + 1])


def ma_acf_pt(theta: pt.TensorVariable, q: int, max_lag: int) -> pt.TensorVariable:
    """Autocorrelations at lags 0..max_lag of e_t = u_t + theta_1 u_{t-1} + ..."""
    c = pt.concatenate([pt.ones(1, dtype=theta.dtype), theta])
    cov = [pt.sum(c[: q + 1 - lag] * c[lag:]) for lag in range(min(q, max_lag) + 1)]
    acf = pt.stack(cov) / cov[0]
    return pt.concatenate([acf, pt.zeros(max_lag + 1 - len(cov), dtype=theta.dtype)])


def _int_lags(times: np.ndarray) -> tuple[np.ndarray, int]:
    lags = np.rint(time_lags(times)).astype(int)
    return lags, int(lags.max(initial=0))


# -- one builder per structure ------------------------------------------------------


def _identity(structure, z, times, levels):
    m = times.shape[-1]
    return pt.alloc(pt.eye(m, dtype=z.dtype), *times.shape, m)


def _exchangeable(structure: Exchangeable, z, times, levels):
    lower = structure.lower
    rho = lower + (1.0 - lower) * pt.sigmoid(z[0])
    m = times.shape[-1]
    r = (1.0 - rho) * pt.eye(m, dtype=z.dtype) + rho
    return pt.alloc(r, *times.shape, m)


def _ar(structure: AR, z, times, levels):
    lags, max_lag = _int_lags(times)
    phi = pacf_to_ar_pt(pt.tanh(z), structure.order)
    return ar_acf_pt(phi, structure.order, max_lag)[lags]


def _ma(structure: MA, z, times, levels):
    lags, max_lag = _int_lags(times)
    theta = -pacf_to_ar_pt(pt.tanh(z), structure.order)
    return ma_acf_pt(theta, structure.order, max_lag)[lags]


def _toeplitz(structure: Toeplitz, z, times, levels):
    lags, max_lag = _int_lags(times)
    tail = pt.zeros(max(max_lag, structure.order) - structure.order, dtype=z.dtype)
    acf = pt.concatenate([pt.ones(1, dtype=z.dtype), pt.tanh(z), tail])
    return acf[lags]


def _exponential(structure: Exponential, z, times, levels):
    log_rho = -pt.softplus(-z[0])  # log of the logistic, without underflow
    return pt.exp(time_lags(times) * log_rho)


def _unstructured(structure: Unstructured, z, times, levels):
    from .cpc import CPCTransform  # a PyMC transform: PyMC is imported here

    n = structure.n_levels
    if structure.order is None:
        chol = CPCTransform(n).backward(z)
        full = chol @ chol.T
    else:
        rows, cols = structure.pairs
        full = pt.eye(n, dtype=z.dtype)
        if len(rows):
            full = pt.set_subtensor(full[rows, cols], pt.tanh(z))
            full = pt.set_subtensor(full[cols, rows], pt.tanh(z))
    lv = np.asarray(levels, int)
    return full[lv[..., :, None], lv[..., None, :]]


#: (structure, z, times, levels) -> the correlation graph (z and the result: PyTensor)
_Builder = Callable[[ResidualStructure, object, np.ndarray, np.ndarray], object]

_BUILDERS: dict[type, _Builder] = {
    Independent: _identity,
    Exchangeable: _exchangeable,
    AR: _ar,
    MA: _ma,
    Toeplitz: _toeplitz,
    Exponential: _exponential,
    Unstructured: _unstructured,
}
