"""Residual-error structures (Stata's ``residuals()``), as shared objects.

Within the lowest-level panel the errors have covariance ``sigma2 * C``, with
``C = D R D``: ``R`` a correlation matrix that depends on the observations'
times (or time levels) and ``D`` the standard deviations relative to the
reference variance ``sigma2`` (the first ``by()`` group, first time level).
Each structure owns the map from an *unconstrained* vector ``z`` to ``R``
(tanh for correlations, partial autocorrelations for AR/MA so every ``z`` is
stationary/invertible, canonical partial correlations for unstructured), the
names Stata prints, and the printed values.  The ML engine optimizes over
``z`` and the log standard-deviation ratios; the PyMC engine can put priors on
the same vector.  No engine code lives here.

``correlation`` broadcasts over leading axes, so an engine can build the
matrices of many equally sized panels at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from .model import ResidualSpec

TYPES = (
    "independent",
    "exchangeable",
    "ar",
    "ma",
    "unstructured",
    "banded",
    "toeplitz",
    "exponential",
)
NEEDS_T = ("ar", "ma", "unstructured", "banded", "toeplitz", "exponential")
INTEGER_T = ("ar", "ma", "unstructured", "banded", "toeplitz")

Printed = tuple[str, float, str]  # label, value, kind ("var", "cov", "corr", "coef")


# -- AR/MA helpers: partial autocorrelations keep every z stationary ----------------


def pacf_to_ar(pacf: np.ndarray) -> np.ndarray:
    """Durbin-Levinson: partial autocorrelations in (-1, 1) -> stationary AR coefficients."""
    phi = np.zeros(0)
    for a in np.asarray(pacf, float):
        phi = np.append(phi - a * phi[::-1], a)
    return phi


def ar_to_pacf(phi: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pacf_to_ar` (the step-down recursion)."""
    phi = np.asarray(phi, float).copy()
    out = np.zeros(len(phi))
    for k in range(len(phi) - 1, -1, -1):
        a = phi[k]
        out[k] = a
        phi = (phi[:k] + a * phi[:k][::-1]) / (1 - a * a)
    return out


def ar_acf(phi: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelations of a stationary AR(p) at lags 0..max_lag (Yule-Walker)."""
    p = len(phi)
    m = np.eye(p)
    for k in range(1, p + 1):
        for j in range(1, p + 1):
            lag = abs(k - j)
            if lag:
                m[k - 1, lag - 1] -= phi[j - 1]
    head = np.linalg.solve(m, phi) if p else np.zeros(0)
    acf = np.ones(max(max_lag, p) + 1)
    acf[1 : p + 1] = head
    for lag in range(p + 1, max_lag + 1):
        acf[lag] = phi @ acf[lag - 1 : lag - p - 1 if lag - p - 1 >= 0 else None : -1]
    return acf[: max_lag + 1]


def ma_acf(theta: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelations of e_t = u_t + theta_1 u_{t-1} + ... (zero past lag q)."""
    c = np.concatenate([[1.0], np.asarray(theta, float)])
    acf = np.zeros(max_lag + 1)
    for lag in range(min(len(c) - 1, max_lag) + 1):
        acf[lag] = c[: len(c) - lag] @ c[lag:]
    return acf / acf[0]


def cpc_to_corr(w: np.ndarray, n: int) -> np.ndarray:
    """Canonical partial correlations (lower triangle, row-major) -> n x n correlation."""
    low = np.zeros((n, n))
    low[np.tril_indices(n, -1)] = w
    chol = np.zeros((n, n))
    chol[0, 0] = 1.0
    for i in range(1, n):
        left = 1.0
        for j in range(i):
            chol[i, j] = low[i, j] * np.sqrt(left)
            left -= chol[i, j] ** 2
        chol[i, i] = np.sqrt(max(left, 0.0))
    return chol @ chol.T


def corr_to_cpc(r: np.ndarray) -> np.ndarray:
    """Inverse of :func:`cpc_to_corr`."""
    n = r.shape[0]
    chol = np.linalg.cholesky(r)
    out = np.zeros((n, n))
    for i in range(1, n):
        left = 1.0
        for j in range(i):
            out[i, j] = chol[i, j] / np.sqrt(left)
            left -= chol[i, j] ** 2
    return out[np.tril_indices(n, -1)]


def time_lags(times: np.ndarray) -> np.ndarray:
    """|t_i - t_j| for every pair of times in a panel (batched over leading axes)."""
    t = np.asarray(times, float)
    return np.abs(t[..., :, None] - t[..., None, :])


def _atanh(x) -> np.ndarray:
    return np.arctanh(np.clip(np.asarray(x, float), -1 + 1e-15, 1 - 1e-15))


# -- the structures ------------------------------------------------------------------


class ResidualStructure:
    """Base class: the correlation part of one by()-group's residual covariance.

    ``n_levels`` is the number of distinct time levels (unstructured/banded
    give each its own variance); ``level_labels`` name them in printed output.
    ``lag_free`` marks a structure whose R depends on the panel size alone, not
    on its time lags (exchangeable), so panels of one size share one R.
    """

    name = ""
    diagonal = False
    lag_free = False

    def __init__(self, order: int | None = None, level_labels: tuple = ()) -> None:
        self.order = order
        self.level_labels = tuple(level_labels)

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @property
    def n_levels(self) -> int:
        return 1

    @property
    def n_corr(self) -> int:
        return 0

    def correlation(self, z: np.ndarray, times: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """R for panels with ``times``/``levels`` of shape (..., m): (..., m, m)."""
        shape = np.shape(times)
        return np.broadcast_to(np.eye(shape[-1]), shape + (shape[-1],)).copy()

    def natural(self, z: np.ndarray) -> np.ndarray:
        """The printed correlation parameters (rho, phi, theta...) from z."""
        return np.asarray(z, float)

    def working(self, natural: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`natural`."""
        return np.asarray(natural, float)

    def printed(self, z: np.ndarray, variances: np.ndarray, stddev: bool = False) -> list[Printed]:
        """Stata's rows for one group: correlation parameters, then ``var(e)``."""
        rows = [(n, float(v), k) for n, v, k in zip(self._names(), self.natural(z), self._kinds())]
        return rows + [_var_row("e", variances[0], stddev)]

    def _names(self) -> list[str]:
        return []

    def _kinds(self) -> list[str]:
        return []


def _var_row(tag: str, var: float, stddev: bool) -> Printed:
    if stddev:
        return (f"sd({tag})", float(np.sqrt(var)), "var")
    return (f"var({tag})", float(var), "var")


class Independent(ResidualStructure):
    name, diagonal = "independent", True


class Exchangeable(ResidualStructure):
    """One common correlation within a panel; Stata prints ``var(e)`` and ``cov(e)``.

    rho is mapped onto (-1/(M-1), 1), M the largest panel, where every panel's
    equicorrelation matrix is positive definite: an optimizer never meets a
    matrix it cannot factor (a wall of infinite deviance stalls BOBYQA).
    """

    name, lag_free = "exchangeable", True

    def __init__(self, order=None, level_labels=(), max_size: int = 2):
        super().__init__(order, level_labels)
        self.lower = -1.0 / (max_size - 1) if max_size > 1 else -1.0

    @property
    def n_corr(self):
        return 1

    def natural(self, z):
        return self.lower + (1 - self.lower) / (1 + np.exp(-np.asarray(z, float)))

    def working(self, natural):
        p = (np.asarray(natural, float) - self.lower) / (1 - self.lower)
        p = np.clip(p, 1e-15, 1 - 1e-15)
        return np.log(p / (1 - p))

    def correlation(self, z, times, levels):
        rho = float(self.natural(z)[0])
        m = np.shape(times)[-1]
        r = (1 - rho) * np.eye(m) + rho
        return np.broadcast_to(r, np.shape(times) + (m,)).copy()

    def printed(self, z, variances, stddev=False):
        v, rho = float(variances[0]), float(self.natural(z)[0])
        if stddev:
            return [_var_row("e", v, True), ("corr(e)", rho, "corr")]
        return [_var_row("e", v, False), ("cov(e)", rho * v, "cov")]


class AR(ResidualStructure):
    """AR(p) errors; correlation at a time lag is the process's ACF at that lag."""

    name = "ar"

    @property
    def label(self):
        return f"AR({self.order})"

    @property
    def n_corr(self):
        return self.order

    def natural(self, z):
        return pacf_to_ar(np.tanh(np.asarray(z, float)))

    def working(self, natural):
        return _atanh(ar_to_pacf(natural))

    def acf(self, z, max_lag: int) -> np.ndarray:
        return ar_acf(self.natural(z), max_lag)

    def correlation(self, z, times, levels):
        lags = np.rint(time_lags(times)).astype(int)
        return self.acf(z, int(lags.max(initial=0)))[lags]

    def _names(self):
        return ["rho"] if self.order == 1 else [f"phi{i + 1}" for i in range(self.order)]

    def _kinds(self):
        return ["corr"] if self.order == 1 else ["coef"] * self.order


class MA(AR):
    """MA(q) errors e_t = u_t + theta_1 u_{t-1} + ..., kept invertible."""

    name = "ma"

    @property
    def label(self):
        return f"MA({self.order})"

    def natural(self, z):
        return -pacf_to_ar(np.tanh(np.asarray(z, float)))

    def working(self, natural):
        return _atanh(ar_to_pacf(-np.asarray(natural, float)))

    def acf(self, z, max_lag):
        return ma_acf(self.natural(z), max_lag)

    def _names(self):
        return [f"theta{i + 1}" for i in range(self.order)]

    def _kinds(self):
        return ["coef"] * self.order


class Toeplitz(ResidualStructure):
    """A free correlation rho_k for each time lag k <= order, zero beyond."""

    name = "toeplitz"

    @property
    def label(self):
        return f"Toeplitz({self.order})"

    @property
    def n_corr(self):
        return self.order

    def natural(self, z):
        return np.tanh(np.asarray(z, float))

    def working(self, natural):
        return _atanh(natural)

    def correlation(self, z, times, levels):
        lags = np.rint(time_lags(times)).astype(int)
        acf = np.zeros(max(int(lags.max(initial=0)), self.order) + 1)
        acf[0] = 1.0
        acf[1 : self.order + 1] = np.tanh(z)
        return acf[lags]

    def _names(self):
        return [f"rho{i + 1}" for i in range(self.order)]

    def _kinds(self):
        return ["corr"] * self.order


class Exponential(ResidualStructure):
    """corr = rho ** |t_i - t_j| with rho in (0, 1); times need not be integers."""

    name = "exponential"

    @property
    def n_corr(self):
        return 1

    def natural(self, z):
        return 1.0 / (1.0 + np.exp(-np.asarray(z, float)))

    def working(self, natural):
        p = np.clip(np.asarray(natural, float), 1e-15, 1 - 1e-15)
        return np.log(p / (1 - p))

    def correlation(self, z, times, levels):
        return np.exp(time_lags(times) * np.log(self.natural(z)[0]))

    def _names(self):
        return ["rho"]

    def _kinds(self):
        return ["corr"]


class Unstructured(ResidualStructure):
    """A variance per time level and a correlation per pair of levels.

    ``banded q`` keeps only pairs of levels at most ``q`` apart (Stata's
    definition by level, not by time lag); its free correlations are tanh-mapped
    and a matrix that is not positive definite is left to the engine to reject.
    Unstructured uses canonical partial correlations, positive definite for
    every z.
    """

    name = "unstructured"

    def __init__(self, order=None, level_labels=()):
        super().__init__(order, level_labels)
        n = len(self.level_labels)
        rows, cols = np.tril_indices(n, -1)
        keep = (rows - cols) <= (n if order is None else order)
        self.pairs = (rows[keep], cols[keep])
        if order == 0:
            self.diagonal = True

    @property
    def label(self):
        return "Unstructured" if self.order is None else f"Banded({self.order})"

    @property
    def n_levels(self):
        return len(self.level_labels)

    @property
    def n_corr(self):
        return len(self.pairs[0])

    def full(self, z: np.ndarray) -> np.ndarray:
        """The n_levels x n_levels correlation matrix."""
        n = self.n_levels
        if self.order is None:
            return cpc_to_corr(np.tanh(np.asarray(z, float)), n)
        r = np.eye(n)
        r[self.pairs] = np.tanh(z)
        r[self.pairs[::-1]] = np.tanh(z)
        return r

    def natural(self, z):
        return self.full(z)[self.pairs]

    def working(self, natural):
        if self.order is not None:
            return _atanh(natural)
        r = np.eye(self.n_levels)
        r[self.pairs] = natural
        r[self.pairs[::-1]] = natural
        return np.arctanh(corr_to_cpc(r))

    def correlation(self, z, times, levels):
        r = self.full(z)
        lv = np.asarray(levels, int)
        return r[lv[..., :, None], lv[..., None, :]]

    def printed(self, z, variances, stddev=False):
        tags = [f"e{lab}" for lab in self.level_labels]
        rows = [_var_row(t, v, stddev) for t, v in zip(tags, variances)]
        r = self.full(z)
        for i, j in sorted(zip(self.pairs[1], self.pairs[0])):
            a, b = tags[i], tags[j]
            if stddev:
                rows.append((f"corr({a},{b})", float(r[j, i]), "corr"))
            else:
                cov = r[j, i] * np.sqrt(variances[i] * variances[j])
                rows.append((f"cov({a},{b})", float(cov), "cov"))
        return rows


_CLASSES = {
    "independent": Independent,
    "exchangeable": Exchangeable,
    "ar": AR,
    "ma": MA,
    "toeplitz": Toeplitz,
    "exponential": Exponential,
    "unstructured": Unstructured,
    "banded": Unstructured,
}


def make_structure(
    kind: str,
    order: int | None = None,
    level_labels: tuple = (),
    max_lag: int | None = None,
    max_size: int = 2,
) -> ResidualStructure:
    """The structure object for Stata's ``residuals(kind [order])``.

    ``max_lag`` (largest time lag within a panel) sets toeplitz's order when
    none is given, as Stata estimates a correlation for every observed lag;
    ``max_size`` (largest panel) bounds the exchangeable correlation below.
    """
    if kind not in _CLASSES:
        raise SpecificationError(f"unknown residual structure '{kind}'; use {', '.join(TYPES)}")
    if kind in ("ar", "ma"):
        order = 1 if order is None else order
    if kind == "toeplitz" and order is None:
        order = max(int(max_lag or 1), 1)
    if kind == "banded" and order is not None and order >= max(len(level_labels) - 1, 0):
        order = None  # banded wider than the levels is unstructured
    if kind in ("unstructured", "banded"):
        return Unstructured(None if kind == "unstructured" else order, level_labels)
    if kind == "exchangeable":
        return Exchangeable(order, (), max_size)
    return _CLASSES[kind](order)


@dataclass(frozen=True)
class ResidualModel:
    """A structure repeated over ``by()`` groups, with its parameter vector.

    The vector is, per group: the structure's ``z`` (``n_corr`` values), then
    the log standard deviations relative to sigma (``n_levels`` values), with
    group 0's first log ratio left out: it is 0, because sigma2 itself is that
    group's (first level's) variance and the ML engine profiles it.
    """

    structure: ResidualStructure
    by: str | None = None
    by_labels: tuple = ()

    @property
    def n_groups(self) -> int:
        return max(len(self.by_labels), 1)

    @property
    def group_size(self) -> int:
        return self.structure.n_corr + self.structure.n_levels

    @property
    def n_params(self) -> int:
        return self.n_groups * self.group_size - 1

    @property
    def title(self) -> str:
        by = f", by {self.by}" if self.by else ""
        return f"Residual: {self.structure.label}{by}"

    def start(self) -> np.ndarray:
        return np.zeros(self.n_params)

    def unpack(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """params -> z (groups, n_corr) and log sd ratios (groups, n_levels)."""
        full = np.concatenate([[0.0], np.asarray(params, float)])
        nc = self.structure.n_corr
        # group 0's z comes first in params; the fixed 0 belongs to its first log ratio
        full[: nc + 1] = np.roll(full[: nc + 1], -1)
        grid = full.reshape(self.n_groups, self.group_size)
        return grid[:, :nc], grid[:, nc:]

    def pack(self, z: np.ndarray, log_sd: np.ndarray) -> np.ndarray:
        grid = np.concatenate([np.atleast_2d(z), np.atleast_2d(log_sd)], axis=1).ravel()
        nc = self.structure.n_corr
        return np.concatenate([grid[:nc], grid[nc + 1 :]])

    def panel_cov(self, params, times, levels, groups) -> np.ndarray:
        """Relative covariance C = D R D of one panel (times, levels, by-group codes)."""
        z, log_sd = self.unpack(params)
        groups = np.asarray(groups, int)
        sd = np.exp(log_sd[groups, np.asarray(levels, int)])
        r = self.structure.correlation(z[groups[0]], times, levels)
        if self.structure.diagonal:
            r = np.eye(len(sd))
        return sd[:, None] * r * sd[None, :]

    def printed(self, params, sigma2: float, stddev: bool = False) -> list[Printed]:
        """Every printed row, group by group, labelled ``0: var(e)`` under by()."""
        z, log_sd = self.unpack(params)
        rows = []
        for g in range(self.n_groups):
            prefix = f"{self.by_labels[g]}: " if self.by else ""
            variances = sigma2 * np.exp(2 * log_sd[g])
            for label, value, kind in self.structure.printed(z[g], variances, stddev):
                rows.append((prefix + label, value, kind))
        return rows


def residual_model(
    spec: ResidualSpec,
    level_labels: tuple = (),
    by_labels: tuple = (),
    max_lag: int | None = None,
    max_size: int = 2,
) -> ResidualModel:
    """Build the model for a spec once the data have fixed levels and by() groups."""
    structure = make_structure(spec.type, spec.order, level_labels, max_lag, max_size)
    return ResidualModel(structure, spec.by, tuple(by_labels) if spec.by else ())
