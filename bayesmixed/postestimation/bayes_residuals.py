"""Residual errors of a Bayesian fit under a ``residuals()`` structure, draw by draw.

Replicated responses need errors with the fitted structure, not one iid SD, and
standardized residuals need the inverse of the same structure: each row's variance cell
has its own SD (``sigma_e``), and a correlated structure correlates the rows of a panel
through R(z) -- the shared structure's NumPy map, at each draw's ``resid_z``.  Panels of
one pattern share V, so each draw factors one m x m matrix per pattern and colours (or
whitens) all of that pattern's panels at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..design.residual import same_pattern
from ..engines.bayes.hetero import residual_cells


def _flat(post, name: str, index: np.ndarray) -> np.ndarray:
    values = post[name].values
    return values.reshape((-1,) + values.shape[2:])[index]


def _panel_factors(result, index: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per pattern: its panels' rows (P, m) and each draw's Cholesky factor of V (S, m, m)."""
    design, post = result.design, result.posterior
    data, cells = design.residual, residual_cells(design)
    sd = _flat(post, "sigma_e", index)  # (S, cells)
    z = _flat(post, "resid_z", index)  # (S, groups, n_corr)
    structure = data.model.structure
    for batch in data.batches:
        for i, rows in same_pattern(data.model, batch):
            sd_rows = sd[:, cells.of_obs[rows[0]]]  # (S, m)
            times, levels = batch.times[i], batch.levels[i]
            corr = np.stack([structure.correlation(zz[batch.group], times, levels) for zz in z])
            yield rows, np.linalg.cholesky(sd_rows[:, :, None] * corr * sd_rows[:, None, :])


def residual_noise(result, index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Errors (S, n) in design row order for the flattened posterior draws ``index``."""
    design = result.design
    noise = rng.standard_normal((len(index), design.n))
    if design.residual.diagonal:
        sd = _flat(result.posterior, "sigma_e", index)
        return sd[:, residual_cells(design).of_obs] * noise
    out = np.empty_like(noise)
    for rows, chol in _panel_factors(result, index):
        out[:, rows] = np.einsum("sij,spj->spi", chol, noise[:, rows])
    return out


def standardize(result, index: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """Residual draws (S, n) times each panel's inverse Cholesky factor: iid N(0, 1)."""
    design = result.design
    if design.residual.diagonal:
        sd = _flat(result.posterior, "sigma_e", index)
        return resid / sd[:, residual_cells(design).of_obs]
    out = np.empty_like(resid)
    for rows, chol in _panel_factors(result, index):
        e = resid[:, rows].transpose(0, 2, 1)  # (S, m, P)
        out[:, rows] = np.linalg.solve(chol, e).transpose(0, 2, 1)
    return out
