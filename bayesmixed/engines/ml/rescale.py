"""Rescaling random-slope covariates so the optimizer sees unit-scale effects.

theta is relative to the residual SD *per unit of each covariate*: a random
slope on income in dollars has theta near 1e-4 where the same slope in
thousands has 0.1.  BOBYQA starts at theta = 1 with a unit trust region, so on
such scales it stalled far from the optimum (jsp with math3 * 1000 under
``cov(un)`` ended 31.5 log-likelihood units short) or met an overflow at the
start.  Here each effect column of a block is divided by its root mean square
before optimizing, and the optimum is mapped back: for independent and
unstructured covariance, D^-1 Lambda is again a valid factor of the same
structure, so the model is unchanged and everything else (estimates, standard
errors, log likelihood) is computed on the user's scale.  Identity and
exchangeable blocks tie effects together and are left as they are.

Which structures are rescaled is the table :data:`RESCALABLE`, keyed by the
structure's class: a new structure adds one line there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ...design.types import Design
from ...spec.covariance import CovStructure, Exchangeable, Identity, Independent, Unstructured
from .crossprod import frequency_weights


def _diagonal_theta(structure: CovStructure, lam: np.ndarray) -> np.ndarray:
    return np.diag(lam).copy()


def _cholesky_theta(structure: CovStructure, lam: np.ndarray) -> np.ndarray:
    return lam[np.tril_indices(structure.k)]


# structure class -> theta read back from a factor D^-1 Lambda of the same structure, or
# None where D^-1 Lambda leaves the structure (shared variances): such blocks keep scale 1
RESCALABLE: dict[type[CovStructure], Callable[[CovStructure, np.ndarray], np.ndarray] | None] = {
    Independent: _diagonal_theta,
    Identity: None,
    Exchangeable: None,
    Unstructured: _cholesky_theta,
}
# within this range the unscaled problem is well conditioned; leaving it alone keeps
# fits on ordinary data bit-identical to the unscaled engine
LOW, HIGH = 1e-2, 1e2


def column_scales(design: Design) -> list[np.ndarray] | None:
    """Per-block column scales, or ``None`` when every block is already near unit scale."""
    scales, needed = [], False
    for block in design.blocks:
        w = frequency_weights(design)  # with fweights: the expanded data's scale
        s = np.sqrt(np.average(np.square(block.Z), axis=0, weights=w)) if design.n else 1.0
        s = np.broadcast_to(s, (block.k,))
        s = np.where(np.isfinite(s) & (s > 0), s, 1.0)
        if RESCALABLE[type(block.structure)] is None:
            s = np.ones(block.k)
        needed |= bool(np.any((s < LOW) | (s > HIGH)))
        scales.append(s)
    return scales if needed else None


def scaled_design(design: Design, scales: list[np.ndarray]) -> Design:
    blocks = [replace(b, Z=b.Z / s) for b, s in zip(design.blocks, scales, strict=True)]
    return replace(design, blocks=blocks)


def unscale_theta(theta_parts: list[np.ndarray], structures, scales) -> list[np.ndarray]:
    """Lambda_s (scaled effects) -> D^-1 Lambda_s, read back into theta (evaluation order)."""
    out = []
    for part, structure, s in zip(theta_parts, structures, scales, strict=True):
        if np.all(s == 1.0):
            out.append(part)
            continue
        lam = structure.lam(part) / s[:, None]
        out.append(RESCALABLE[type(structure)](structure, lam))
    return out
