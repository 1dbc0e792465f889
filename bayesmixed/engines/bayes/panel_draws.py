"""Posterior quantities of a correlated-residual model, draw by draw (NumPy).

Under a correlated structure the cross-products that make the random effects' conditional
Gaussian depend on each draw's residual parameters, so they are recomputed per draw with a
NumPy copy of the likelihood's arithmetic (:func:`.panels.panel_crossproducts`, from the
structure's NumPy correlation).  From them: exact conditional draws of (b, beta), each panel's
joint log density (the pointwise unit for LOO is the panel, since rows of one panel are
not conditionally independent) and the rows Stata prints for the residual structure.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ...maths import sqrt_psd
from .blocked import blocked_applies, blocked_draws
from .conjugate import LOG_2PI, SuffStats, draw_batch, lambda_batch
from .marginal import sparse_z
from .panels import full_index

BATCH = 256


class PanelEvaluator:
    """(cell SDs, z) -> per-panel cross-products and each pattern's Cholesky factor.

    NumPy, from the shared structure's own ``correlation`` (the ML engine's): the
    PyTensor graph NUTS used gives the same numbers to rounding, and compiling it cost a
    new user ~10 s on an empty compile cache after sampling had finished.
    """

    def __init__(self, built) -> None:
        self.built = built
        self.layout = built.panels
        self.model = built.design.residual.model
        self._white = [
            self.layout.w[pat.rows].transpose(1, 0, 2).reshape(pat.rows.shape[1], -1)
            for pat in self.layout.patterns
        ]  # (m, P * d) per pattern, as the graph arranges them

    def __call__(self, sd: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        sd = np.asarray(sd, float)
        z = np.asarray(z, float).reshape(self.model.n_groups, -1)
        structure, d = self.model.structure, self.layout.d
        blocks, factors = [], []
        for pat, w in zip(self.layout.patterns, self._white):
            r = structure.correlation(z[pat.group], pat.times, pat.levels)
            s = sd[pat.cells]
            chol = np.linalg.cholesky(s[:, None] * r * s[None, :])
            factors.append(chol)
            n_pan, m = pat.rows.shape
            white = solve_triangular(chol, w, lower=True).reshape(m, n_pan, d).transpose(1, 0, 2)
            blocks.append(np.swapaxes(white, 1, 2) @ white)
        return np.concatenate(blocks, axis=0), factors

    def batch(self, sd: np.ndarray, z: np.ndarray):
        """Stacked over draws: cross (S, P, d, d) and factors [(S, m, m) per pattern]."""
        out = [self(s, zz) for s, zz in zip(sd, z)]
        cross = np.stack([o[0] for o in out])
        factors = [np.stack([o[1][i] for o in out]) for i in range(len(out[0][1]))]
        return cross, factors


def evaluator(built) -> PanelEvaluator:
    """The model's evaluator, built once and kept with its panel layout."""
    cache = built.panels.extra
    if "evaluator" not in cache:
        cache["evaluator"] = PanelEvaluator(built)
    return cache["evaluator"]


def panel_conditional(built, ev: PanelEvaluator, sd, z, covs, rng, beta=None, noise=True):
    """Exact draws of (b, beta) given each draw's covariances and residual parameters."""
    design = built.design
    s_total = len(sd)
    q = sum(b.q for b in design.blocks)
    b_out = np.empty((s_total, q))
    beta_out = np.empty((s_total, design.p)) if beta is None else np.asarray(beta, float)
    for start in range(0, s_total, BATCH):
        sl = slice(start, min(start + BATCH, s_total))
        cross, _ = ev.batch(sd[sl], z[sl])
        given = None if beta is None else beta_out[sl]
        if blocked_applies(design):
            b_sl, beta_sl = _blocked(built, cross, covs[0][sl], rng, given, noise)
        else:
            b_sl, beta_sl = _dense(built, cross, [c[sl] for c in covs], rng, given, noise)
        b_out[sl], beta_out[sl] = b_sl, beta_sl
    return b_out, beta_out


def _blocked(built, cross, cov, rng, beta, noise):
    layout, block = built.panels, built.design.blocks[0]
    k, p = block.k, layout.p
    onehot = np.zeros((block.n_groups, cross.shape[1]))
    onehot[layout.panel_codes[0], np.arange(cross.shape[1])] = 1.0
    per_group = np.einsum("gi,side->sgde", onehot, cross)
    total = cross.sum(axis=1)
    parts = {
        "a": per_group[:, :, :k, :k],
        "bx": per_group[:, :, :k, k : k + p],
        "c": per_group[:, :, :k, k + p],
        "xtx": total[:, k : k + p, k : k + p],
        "xty": total[:, k : k + p, k + p],
    }
    lam = sqrt_psd(np.asarray(cov, float))
    weights = np.ones((len(cov), 1))
    u, beta = blocked_draws(
        [parts], weights, lam, rng, beta, built.prior_mean, built.prior_prec, noise
    )
    return (lam[:, None] @ u[..., None])[..., 0].reshape(len(u), -1), beta


def _dense(built, cross, covs, rng, beta, noise):
    design, layout = built.design, built.panels
    q_sizes = [b.q for b in design.blocks]
    q, p = sum(q_sizes), layout.p
    idx = full_index(layout, q_sizes)
    lam = lambda_batch(covs, design)
    b_out, beta_out = [], []
    for s in range(len(cross)):
        full = np.zeros((q + p + 1, q + p + 1))
        np.add.at(full, (idx[:, :, None], idx[:, None, :]), cross[s])
        st = SuffStats(full[:q, :q], full[:q, q:-1], full[:q, -1], full[q:-1, q:-1],
                       full[q:-1, -1], float(full[-1, -1]), layout.n, None)  # fmt: skip
        given = None if beta is None else beta[s : s + 1]
        gamma = draw_batch([st], lam[s : s + 1], np.ones((1, 1)), rng, given,
                            built.prior_mean, built.prior_prec, noise)[0]  # fmt: skip
        b_out.append(lam[s] @ gamma[:q])
        beta_out.append(gamma[q:] if beta is None else beta[s])
    return np.array(b_out), np.array(beta_out)


def panel_loglik(built, ev: PanelEvaluator, sd, z, beta, b) -> np.ndarray:
    """log N(e_i | 0, V_i) of each panel's residual vector given (beta, b): (S, panels)."""
    design, layout = built.design, built.panels
    resid = design.y[None, :] - beta @ design.X.T - (sparse_z(design) @ b.T).T
    out = []
    for start in range(0, len(sd), BATCH):
        sl = slice(start, min(start + BATCH, len(sd)))
        _, factors = ev.batch(sd[sl], z[sl])
        cols = []
        for pat, chol in zip(layout.patterns, factors):
            e = resid[sl][:, pat.rows]  # (S, P, m)
            white = np.linalg.solve(chol[:, None], e[..., None])[..., 0]
            logdet = np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
            m = pat.rows.shape[1]
            cols.append(-0.5 * (m * LOG_2PI + np.sum(white**2, axis=2)) - logdet[:, None])
        out.append(np.concatenate(cols, axis=1))
    return np.concatenate(out, axis=0)


def panel_labels(built) -> list[str]:
    """The panel of each log-likelihood column, in the layout's order."""
    data = built.design.residual
    first = np.concatenate([pat.rows[:, 0] for pat in built.panels.patterns])
    return [str(data.panels[c]) for c in data.panel_codes[first]]


def printed_rows(built, sd: np.ndarray, z: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Stata's residual rows (labels, (S, rows) values) from each draw's SDs and z."""
    model, cells = built.design.residual.model, built.cells
    n_levels = model.structure.n_levels
    g_of, lv_of = np.divmod(cells.codes, n_levels)
    values, labels = [], None
    for s in range(len(sd)):
        log_sd = np.zeros((model.n_groups, n_levels))
        log_sd[g_of, lv_of] = np.log(sd[s] / sd[s, 0])
        params = model.pack(z[s].reshape(model.n_groups, -1), log_sd)
        rows = model.printed(params, float(sd[s, 0]) ** 2)
        labels = labels or [r[0] for r in rows]
        values.append([r[1] for r in rows])
    return labels, np.array(values)
