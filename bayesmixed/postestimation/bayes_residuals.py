"""Residual errors for posterior predictive draws under a ``residuals()`` structure.

Replicated responses need errors with the fitted structure, not one iid SD: each row's
variance cell has its own SD (``sigma_e``), and a correlated structure correlates the rows
of a panel through R(z) -- the shared structure's NumPy map, evaluated at each draw's
``resid_z``.  Panels of one time pattern share V, so each draw factors one m x m matrix
per pattern and colours all of that pattern's panels at once.
"""

from __future__ import annotations

import numpy as np

from ..engines.bayes.hetero import residual_cells
from ..engines.bayes.panels import same_pattern


def _flat(post, name: str, index: np.ndarray) -> np.ndarray:
    values = post[name].values
    return values.reshape((-1,) + values.shape[2:])[index]


def residual_noise(result, index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Errors (S, n) in design row order for the flattened posterior draws ``index``."""
    design, post = result.design, result.posterior
    cells = residual_cells(design)
    sd = _flat(post, "sigma_e", index)  # (S, cells)
    noise = rng.standard_normal((len(index), design.n))
    data = design.residual
    if data.diagonal:
        return sd[:, cells.of_obs] * noise
    z = _flat(post, "resid_z", index)  # (S, groups, n_corr)
    structure = data.model.structure
    out = np.empty_like(noise)
    for batch in data.batches:
        for i, rows in same_pattern(structure, batch):  # rows: (P, m)
            sd_rows = sd[:, cells.of_obs[rows[0]]]  # (S, m)
            for s in range(len(index)):
                r = structure.correlation(z[s, batch.group], batch.times[i], batch.levels[i])
                chol = np.linalg.cholesky(np.outer(sd_rows[s], sd_rows[s]) * r)
                out[s, rows] = noise[s, rows] @ chol.T
    return out
