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
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...design.types import Design

RESCALED = ("independent", "unstructured")
# within this range the unscaled problem is well conditioned; leaving it alone keeps
# fits on ordinary data bit-identical to the unscaled engine
LOW, HIGH = 1e-2, 1e2


def column_scales(design: Design) -> list[np.ndarray] | None:
    """Per-block column scales, or ``None`` when every block is already near unit scale."""
    scales, needed = [], False
    for block in design.blocks:
        s = np.sqrt(np.mean(np.square(block.Z), axis=0)) if design.n else np.ones(block.k)
        s = np.where(np.isfinite(s) & (s > 0), s, 1.0)
        if block.structure.name not in RESCALED:
            s = np.ones(block.k)
        needed |= bool(np.any((s < LOW) | (s > HIGH)))
        scales.append(s)
    return scales if needed else None


def scaled_design(design: Design, scales: list[np.ndarray]) -> Design:
    blocks = [replace(b, Z=b.Z / s) for b, s in zip(design.blocks, scales, strict=True)]
    return replace(design, blocks=blocks)


def unscale_theta(theta_parts: list[np.ndarray], structures, ks, scales) -> list[np.ndarray]:
    """Lambda_s (scaled effects) -> D^-1 Lambda_s, read back into theta (evaluation order)."""
    out = []
    for part, structure, k, s in zip(theta_parts, structures, ks, scales, strict=True):
        if np.all(s == 1.0):
            out.append(part)
            continue
        lam = structure.lam(part, k) / s[:, None]
        out.append(_theta_of(structure, lam, k, len(part)))
    return out


def _theta_of(structure, lam: np.ndarray, k: int, n: int) -> np.ndarray:
    """Read theta out of a factor for structures whose lam(theta) is a placement of theta."""
    theta = np.empty(n)
    for i in range(n):
        unit = np.zeros(n)
        unit[i] = 1.0
        r, c = np.argwhere(structure.lam(unit, k) != 0)[0]
        theta[i] = lam[r, c]
    return theta
