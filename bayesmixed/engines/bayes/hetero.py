"""Heteroskedastic residuals (diagonal ``residuals()`` structures) in the marginal model.

A diagonal structure -- ``residuals(independent, by(var))``, or ``banded 0`` on time
levels -- gives each *cell* (by() group x time level) its own error variance.  The shared
:class:`~bayesmixed.spec.residual.ResidualModel` defines the cells and the labels Stata
prints; here each cell gets a standard deviation with the ``sigma`` prior, the first
cell's is ``sigma`` itself (the reference, as in the ML fit), and the integrated
likelihood weights each cell's cross-products by its inverse variance
(:func:`.marginal.weighted_loglik`), which is exact because R is diagonal.

Correlated structures (exchangeable, ar, ma, toeplitz, exponential, unstructured,
banded k > 0) use the same cells for their standard deviations; their correlations and
likelihood live in :mod:`.correlated` and :mod:`.panels`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...design.types import Design
from .covariance import scale_variable
from .lazy import pm, pt
from .priors import Prior


@dataclass
class Cells:
    """Each observation's variance cell, the rows of each cell and the printed labels."""

    of_obs: np.ndarray
    rows: list[np.ndarray]
    labels: list[str]
    keys: list[str]
    codes: np.ndarray | None = None


def residual_cells(design: Design) -> Cells | None:
    """The variance cells of ``design`` (None for iid errors).

    Cells are by() group x time level where each level has its own variance
    (unstructured, banded), else by() groups; ``codes`` holds group * levels + level.
    """
    data = design.residual
    if data is None:
        return None
    model = data.model
    n_levels = model.structure.n_levels
    levels = np.asarray(data.levels, int) if n_levels > 1 else 0
    full = np.asarray(data.groups, int) * n_levels + levels
    present, of_obs = np.unique(full, return_inverse=True)
    keys = [_key(model, int(i), n_levels) for i in present]
    if model.structure.diagonal:
        printed = model.printed(np.zeros(model.n_params), 1.0)
        labels = [printed[i][0] for i in present]
    else:  # Stata's rows of a correlated structure come from resid_z (see .correlated)
        labels = keys
    rows = [np.flatnonzero(of_obs == c) for c in range(len(present))]
    return Cells(of_obs.astype(np.intp), rows, labels, keys, present)


def _key(model, cell: int, n_levels: int) -> str:
    g, lv = divmod(cell, n_levels)
    parts = [f"{model.by}={model.by_labels[g]}"] if model.by else []
    if n_levels > 1:
        parts.append(f"e{model.structure.level_labels[lv]}")
    return ",".join(parts) or "e"


def cell_sds(cells: Cells, prior: Prior) -> pt.TensorVariable:
    """One SD per cell (the first is ``sigma``), stacked as ``sigma_e`` (dims residual_cells)."""
    sds = [scale_variable("sigma", prior)]
    sds += [scale_variable(f"sigma[{k}]", prior) for k in cells.keys[1:]]
    return pm.Deterministic("sigma_e", pt.stack(sds), dims="residual_cells")
