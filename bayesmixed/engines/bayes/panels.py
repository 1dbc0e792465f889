"""Correlated residual structures in the integrated (marginal) Gaussian model.

With errors ``e_i ~ N(0, V_i)`` within each lowest-level panel -- ``V_i = D R_i D``, R from
the shared structure (:mod:`bayesmixed.spec.residual`, built as a graph by
:mod:`.residual_corr`), D the absolute standard deviation of each row's variance cell --
the integrated likelihood of :mod:`.marginal` needs the cross-products ``W_i' V_i^-1 W_i``
of every panel's compact rows ``W_i = [Z_i X_i y_i]`` and ``sum_i log|V_i|``.  Every random
effect is constant within a panel (the design stage checks the panel nests in each level),
so a panel's compact rows carry each block's k columns plus X and y: d = sum k + p + 1.

Panels sharing a time pattern (and by() group) share V: one m x m Cholesky per pattern,
one triangular solve for all of its panels at once.  The per-panel d x d cross-products
are then summed into each group's (one random-effects equation: the blocked path) or
scattered into the full (q + p + 1) square (several equations: the dense path).  So NUTS
still sees only the variance, covariance and residual parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...design.residual import same_pattern
from ...design.types import Design
from .lazy import pt
from .residual_corr import correlation_pt


@dataclass
class Pattern:
    """Panels with one time pattern and by() group: rows (P, m) in design order."""

    rows: np.ndarray
    times: np.ndarray
    levels: np.ndarray
    group: int
    cells: np.ndarray  # (m,) variance cell of each position


@dataclass
class PanelLayout:
    """Constant data of the panel likelihood, built once per design."""

    patterns: list[Pattern]
    w: np.ndarray  # (n, d) compact rows [Z_1 .. Z_B, X, y]
    widths: list[int]  # k of each block
    p: int
    panel_codes: list[np.ndarray]  # per block: the group of each panel, patterns in order
    n: int
    extra: dict = field(default_factory=dict)

    @property
    def d(self) -> int:
        return self.w.shape[1]


def panel_layout(design: Design, cell_of_obs: np.ndarray) -> PanelLayout:
    """Group the panels of ``design.residual`` by time pattern."""
    data = design.residual
    patterns = []
    for batch in data.batches:
        for i, rows in same_pattern(data.model, batch):
            cells = cell_of_obs[rows[0]]
            patterns.append(Pattern(rows, batch.times[i], batch.levels[i], batch.group, cells))
    w = np.column_stack([b.Z for b in design.blocks] + [design.X, design.y[:, None]])
    first_rows = np.concatenate([pat.rows[:, 0] for pat in patterns])
    codes = [np.asarray(b.codes, int)[first_rows] for b in design.blocks]
    return PanelLayout(patterns, w, [b.k for b in design.blocks], design.p, codes, design.n)


def panel_crossproducts(layout: PanelLayout, structure, sd_cells, z_groups):
    """Per-panel ``W_i' V_i^-1 W_i`` (P, d, d), sum log|V_i| and each pattern's Cholesky factor.

    ``sd_cells`` is the vector of absolute residual SDs per variance cell and ``z_groups``
    a list of the structure's unconstrained vectors, one per by() group (tensors).
    """
    blocks, logdet, factors = [], 0.0, []
    for pat in layout.patterns:
        r = correlation_pt(structure, z_groups[pat.group], pat.times, pat.levels)
        sd = sd_cells[pat.cells]
        chol = pt.linalg.cholesky(sd[:, None] * r * sd[None, :], on_error="nan")
        factors.append(chol)
        n_pan, m = pat.rows.shape
        w = layout.w[pat.rows].transpose(1, 0, 2).reshape(m, -1)  # (m, P * d)
        white = pt.linalg.solve_triangular(chol, w, lower=True).reshape((m, n_pan, layout.d))
        white = white.dimshuffle(1, 0, 2)  # (P, m, d)
        blocks.append(pt.matmul(white.dimshuffle(0, 2, 1), white))
        logdet = logdet + n_pan * 2.0 * pt.sum(pt.log(pt.diag(chol)))
    return pt.concatenate(blocks, axis=0), logdet, factors


def group_parts_pt(layout: PanelLayout, cross, n_groups: int) -> dict:
    """One random-effects equation: each group's sums, as :func:`.blocked.group_parts`."""
    k, p = layout.widths[0], layout.p
    onehot = np.zeros((n_groups, len(layout.panel_codes[0])))
    onehot[layout.panel_codes[0], np.arange(onehot.shape[1])] = 1.0
    d = layout.d
    per_group = pt.dot(onehot, cross.reshape((-1, d * d))).reshape((n_groups, d, d))
    total = pt.sum(cross, axis=0)
    return {
        "a": per_group[:, :k, :k],
        "bx": per_group[:, :k, k : k + p],
        "c": per_group[:, :k, k + p],
        "xtx": total[k : k + p, k : k + p],
        "xty": total[k : k + p, k + p],
        "yty": total[k + p, k + p],
        "n": layout.n,
    }


@dataclass
class GraphStats:
    """The fields of :class:`.marginal.SuffStats` that the likelihood reads, as tensors."""

    ztz: object
    ztx: object
    zty: object
    xtx: object
    xty: object
    yty: object
    n: int
    q: int
    p: int


def full_index(layout: PanelLayout, q_sizes: list[int]) -> np.ndarray:
    """(P, d): each panel's compact column -> its column of the full [Z X y]."""
    cols, off = [], 0
    for codes, k, qb in zip(layout.panel_codes, layout.widths, q_sizes):
        cols.append(off + codes[:, None] * k + np.arange(k)[None, :])
        off += qb
    n_pan = len(layout.panel_codes[0])
    cols.append(np.broadcast_to(off + np.arange(layout.p + 1), (n_pan, layout.p + 1)))
    return np.concatenate(cols, axis=1)


def full_stats(layout: PanelLayout, cross, q_sizes: list[int]) -> GraphStats:
    """Several random-effects equations: scatter the panels into the full cross-products."""
    idx = full_index(layout, q_sizes)
    q, p = sum(q_sizes), layout.p
    size = q + p + 1
    full = pt.zeros((size, size))
    full = pt.inc_subtensor(full[idx[:, :, None], idx[:, None, :]], cross)
    return GraphStats(
        ztz=full[:q, :q],
        ztx=full[:q, q : q + p],
        zty=full[:q, q + p],
        xtx=full[q : q + p, q : q + p],
        xty=full[q : q + p, q + p],
        yty=full[q + p, q + p],
        n=layout.n,
        q=q,
        p=p,
    )
