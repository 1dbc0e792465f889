"""The GLMM response and its per-observation pieces, sorted by group once.

Every evaluation of the approximate likelihood sums per-observation log
densities within groups.  Sorting the observations by the group codes of the
(first) random-effects block once lets ``np.add.reduceat`` do those sums,
which is several times faster than a ``bincount`` per column and handles
the extra quadrature-node axis for free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...design.types import Design
from ...errors import DataError
from ...spec.family import Family, get_family


@dataclass
class Response:
    """y, X, offset and trials in group order of ``blocks[0]`` (or data order).

    ``perm`` maps sorted position -> original row; ``starts`` are the first
    sorted positions of each group of the first block.
    """

    family: Family
    y: np.ndarray
    X: np.ndarray
    offset: np.ndarray
    trials: np.ndarray | None
    perm: np.ndarray
    starts: np.ndarray
    codes: list[np.ndarray]
    Z: list[np.ndarray]
    n_groups: list[int]
    zz: np.ndarray | None = None  # (n, k*k) outer products z z' of the first block
    weights: np.ndarray | None = None  # frequency weights: row i counts weights[i] times

    def __post_init__(self) -> None:
        if self.Z:
            z = self.Z[0]
            self.zz = (z[:, :, None] * z[:, None, :]).reshape(len(z), -1)

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def p(self) -> int:
        return self.X.shape[1]

    def group_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum rows of ``values`` within the groups of the first block."""
        return np.add.reduceat(values, self.starts, axis=0)

    def loglik(self, eta: np.ndarray, anc=()) -> np.ndarray:
        """Per-observation log density; ``eta`` may carry a trailing node axis.

        ``anc`` is the family's working ancillary vector (log dispersion,
        cutpoints), empty for families without one.
        """
        extra = eta.ndim - 1
        y = self.y.reshape(self.y.shape + (1,) * extra)
        t = None if self.trials is None else self.trials.reshape(y.shape)
        ll = self.family.loglik(y, eta, t, anc)
        return ll if self.weights is None else ll * self.weights.reshape(y.shape)

    def score_weights(self, eta: np.ndarray, anc=()):
        """Score and Fisher weight of each row (times its frequency weight)."""
        s, w = self.family.score_weights(self.y, eta, self.trials, anc)
        if self.weights is None:
            return s, w
        return s * self.weights, w * self.weights


def offset_array(offset: np.ndarray | None, n: int) -> np.ndarray:
    """The offset (log exposure included) as n finite floats; zeros when there is none."""
    off = np.zeros(n) if offset is None else np.asarray(offset, float).reshape(n)
    if not np.all(np.isfinite(off)):
        raise DataError("the offset (or log exposure) is not finite in every observation")
    return off


def build_response(
    design: Design,
    *,
    offset: np.ndarray | None = None,
    trials: np.ndarray | float | None = None,
) -> Response:
    """Check the outcome against the family and sort everything by group.

    ``offset`` (already including log exposure) and ``trials`` are arrays in
    the design's row order; :func:`glm_extras` extracts them from a frame.
    """
    spec = design.spec
    family = get_family(spec.family, spec.link)
    n = design.n
    off = offset_array(offset, n)
    tr = None
    if family.uses_trials:
        if trials is None:
            raise DataError("the binomial family needs the number of trials")
        tr = np.broadcast_to(np.asarray(trials, float), (n,)).copy()
    family, y = family.prepare(design.y, tr, spec.response)  # binds e.g. ordinal categories
    if design.blocks:
        perm = np.argsort(design.blocks[0].codes, kind="stable")
        sorted_codes = design.blocks[0].codes[perm]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    else:
        perm, starts = np.arange(n), np.zeros(1, int)
    return Response(
        family=family,
        y=y[perm],
        X=np.asarray(design.X, float)[perm],
        offset=off[perm],
        trials=None if tr is None else tr[perm],
        perm=perm,
        starts=starts,
        codes=[b.codes[perm] for b in design.blocks],
        Z=[np.asarray(b.Z, float)[perm] for b in design.blocks],
        n_groups=[b.n_groups for b in design.blocks],
        weights=_frequency(design, perm),
    )


def _frequency(design: Design, perm: np.ndarray) -> np.ndarray | None:
    """Level-one weights in sorted order: each row's log density counts that many times.

    With frequency weights that is the expanded data's log likelihood; with
    sampling weights, the integrand of the pseudo-likelihood (:mod:`.pseudo`).
    """
    w = design.weights
    return None if w is None else np.asarray(w.obs, float)[perm]


def glm_extras(design: Design, data) -> dict:
    """offset (with log exposure) and trials of ``design.spec`` read from ``data``.

    The design stage does not carry these columns; they are read at the
    design's estimation rows so they line up with ``design.y``.
    """
    spec = design.spec
    frame = data.loc[design.rows]
    out: dict = {}
    off = np.zeros(design.n)
    if spec.offset:
        off = off + _column(frame, spec.offset, "offset")
    if spec.exposure:
        e = _column(frame, spec.exposure, "exposure")
        if np.any(e <= 0):
            raise DataError(f"exposure variable {spec.exposure} must be positive")
        off = off + np.log(e)
    if spec.offset or spec.exposure:
        out["offset"] = off
    if get_family(spec.family, spec.link).uses_trials:
        t = spec.trials
        out["trials"] = _column(frame, t, "trials") if isinstance(t, str) else float(t or 1)
    return out


def _column(frame, name: str, what: str) -> np.ndarray:
    if name not in frame.columns:
        raise DataError(f"{what} variable {name} not found in the data")
    values = np.asarray(frame[name], float)
    if not np.all(np.isfinite(values)):
        raise DataError(f"{what} variable {name} has missing values in the estimation sample")
    return values
