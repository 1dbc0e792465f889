"""A start for the joint Laplace search: theta with the fixed effects integrated out.

lme4's ``glmer`` first optimizes theta alone with beta inside PIRLS (``nAGQ = 0``), then
(theta, beta) jointly from there with small steps.  Our joint BOBYQA started from the plain
GLM's beta and theta = 1 spends most of its evaluations travelling: on grouseticks (three
crossed/nested factors, 7 parameters) 190 of its 350 evaluations before it is within 0.01
of the optimum, and on VerbAgg 180 of 360.  Started from a point near the optimum with a
tenth of the steps it needs 120-150 (measured on both models).

The first stage here makes beta one more random-effects block, b_beta = sigma u_beta with
u_beta ~ N(0, I) and sigma = :data:`FLAT_SD` on the standardized columns (a nearly flat
prior): PIRLS then finds beta's mode together with the random effects', on the same
factorization, with no new code, and BOBYQA searches theta (and the family's ancillary
parameters) alone -- 2-3 dimensions instead of 7-9.  The criterion is the Laplace
approximation with beta integrated out rather than maximized (REML's analogue), so its
theta is not the ML theta; it is only a start, and the joint search that follows is exactly
the one it replaces.  Measured on lme4's data: grouseticks 32 first-stage evaluations and
226 in all (the 57 of the standard errors' Hessian included) instead of 465; VerbAgg 21 and
256 instead of 504, the same optima to 1e-12.  Each first-stage evaluation costs ~1.5 of the
joint one's on grouseticks and ~4 on VerbAgg (a Bernoulli row count 19 times the first
factor's groups, so the fixed-effects block's products weigh).

The first stage is used only where it is cheap: several random-effects blocks (a single
block's PIRLS is batched per group, and the dense beta block would undo that) and the
Schur layout of :mod:`.schur` (SuperLU on dense columns fills in).  Its point is kept only
if the joint objective is better there than at the default start.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...spec.covariance import Identity
from .objective import ApproxLoglik
from .optimize import bobyqa

FLAT_SD = 100.0  # prior sd of the standardized fixed effects: beta^2 / 2e4 of penalty
STEP_SHRINK = 5.0  # the joint search's steps, relative to a start from the GLM
FTOL = 1e-6  # a start, not an estimate: a loose relative tolerance
MIN_SD = 0.05  # theta components on a zero bound are lifted off it for the joint start


def integrated_start(
    lap: ApproxLoglik, x0: np.ndarray, steps: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """(start, steps, evaluations spent, whether the stage's start is the one returned)."""
    stage = _integrated_objective(lap)
    if stage is None:
        return x0, steps, 0, False
    nt, p = lap.n_theta, lap.p
    keep = np.r_[np.arange(nt), np.arange(nt + p, lap.size)]  # theta and ancillary

    def f(z: np.ndarray) -> float:
        return stage(_with_flat(z, nt))

    try:  # only a start: whatever goes wrong here, the joint search starts as before
        z, _, _, _ = bobyqa(f, x0[keep], lower[keep], upper[keep], steps[keep], ftol=FTOL)
        beta = stage.modes(_with_flat(z, nt))[-1].ravel()
    except Exception:  # noqa: BLE001 - e.g. nlopt's RoundoffLimited, PIRLS not converging
        return x0, steps, stage.evaluations, False
    x1 = np.r_[z[:nt], beta, z[nt:]]
    bounded = (lower[:nt] == 0) & (x1[:nt] < MIN_SD)
    x1[:nt][bounded] = MIN_SD
    spent = stage.evaluations  # the two joint evaluations below count in lap's own
    if not np.all(np.isfinite(x1)) or lap(x1) <= lap(x0):
        return x0, steps, spent, False
    return x1, steps / STEP_SHRINK, spent, True


def _with_flat(z: np.ndarray, nt: int) -> np.ndarray:
    """The stage's x: theta, the flat block's sd, the ancillary parameters."""
    return np.r_[z[:nt], FLAT_SD, z[nt:]]


def _integrated_objective(lap: ApproxLoglik) -> ApproxLoglik | None:
    """The Laplace objective with X as a random-effects block of one group, or None."""
    resp = lap.resp
    n, p = resp.X.shape
    if len(lap.ks) < 2 or p == 0 or lap.method != "laplace" or not lap.schur_layout:
        return None
    aug = replace(
        resp,
        X=np.zeros((n, 0)),
        codes=[*resp.codes, np.zeros(n, dtype=resp.codes[0].dtype)],
        Z=[*resp.Z, resp.X],
        n_groups=[*resp.n_groups, 1],
    )
    stage = ApproxLoglik(aug, [*lap.structures, Identity(k=p)], [*lap.ks, p], "laplace", 1)
    return stage if stage.schur_layout else None
