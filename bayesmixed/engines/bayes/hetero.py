"""Heteroskedastic residuals (diagonal ``residuals()`` structures) in the marginal model.

A diagonal structure -- ``residuals(independent, by(var))``, or ``banded 0`` on time
levels -- gives each *cell* (by() group x time level) its own error variance.  The shared
:class:`~bayesmixed.spec.residual.ResidualModel` defines the cells and the labels Stata
prints; here each cell gets a standard deviation with the ``sigma`` prior, the first
cell's is ``sigma`` itself (the reference, as in the ML fit), and the integrated
likelihood weights each cell's cross-products by its inverse variance
(:func:`.marginal.weighted_loglik`), which is exact because R is diagonal.

Correlated structures (exchangeable, ar, ma, toeplitz, exponential, unstructured,
banded k > 0) would need every panel re-whitened at every gradient; they are refused
with a :class:`~bayesmixed.errors.NotSupportedError` naming what works.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ...design.types import Design
from ...errors import NotSupportedError
from .covariance import scale_variable
from .priors import Prior

SUPPORTED = "residuals(independent [, by(var)]) and residuals(banded 0, t(var) [, by(var)])"


@dataclass
class Cells:
    """Each observation's variance cell, the rows of each cell and the printed labels."""

    of_obs: np.ndarray
    rows: list[np.ndarray]
    labels: list[str]
    keys: list[str]


def residual_cells(design: Design) -> Cells | None:
    """The variance cells of ``design`` (None for iid errors)."""
    data = design.residual
    if data is None:
        return None
    model = data.model
    if not model.structure.diagonal:
        raise NotSupportedError(
            f"Bayesian estimation with residuals({design.spec.residual.type}) is not "
            f"available: correlated residual structures are not supported by the PyMC "
            f"engine; supported are {SUPPORTED}"
        )
    n_levels = model.structure.n_levels
    full = np.asarray(data.groups, int) * n_levels + np.asarray(data.levels, int)
    present, of_obs = np.unique(full, return_inverse=True)
    printed = model.printed(np.zeros(model.n_params), 1.0)
    labels = [printed[i][0] for i in present]
    keys = [_key(model, int(i), n_levels) for i in present]
    rows = [np.flatnonzero(of_obs == c) for c in range(len(present))]
    return Cells(of_obs.astype(np.intp), rows, labels, keys)


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
