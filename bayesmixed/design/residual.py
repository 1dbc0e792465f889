"""Residual data: panels, times, time levels and by() groups of the sample.

Stata's residual structures act within the *lowest-level panel*: the groups of
the last random-effects equation.  Here we code those panels, read t() and
by(), refuse what Stata refuses (non-integer times where lags must be whole,
a time repeated within a panel, by() changing within a panel for a correlated
structure) and sort the rows into *batches* of panels of equal size and by()
group, each row of a batch ordered by time, so an engine can build and factor
every panel's small covariance matrix in one vectorized step.  Nothing here
is n x n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, NotSupportedError, SpecificationError
from ..spec.model import ModelSpec, ResidualSpec
from ..spec.residual import INTEGER_T, NEEDS_T, ResidualModel, residual_model
from .random import group_codes
from .sample import numeric_values
from .types import Design


@dataclass
class Batch:
    """Panels of one size and one by() group: ``rows`` is (panels, m), time-ordered."""

    rows: np.ndarray
    group: int
    times: np.ndarray  # (panels, m)
    levels: np.ndarray  # (panels, m) time-level index (unstructured/banded)

    @property
    def size(self) -> int:
        return self.rows.shape[1]


@dataclass
class ResidualData:
    """What an engine needs to build sigma2 * C_i for every panel i.

    ``groups`` holds each row's by() code (0 without by()); ``levels`` each
    row's time-level index.  ``batches`` partition the rows (correlated
    structures only; diagonal structures need no panels at all).
    """

    model: ResidualModel
    panel_codes: np.ndarray
    panels: pd.Index
    panel_level: str
    times: np.ndarray | None
    levels: np.ndarray
    groups: np.ndarray
    batches: list[Batch]

    @property
    def diagonal(self) -> bool:
        return self.model.structure.diagonal


def needs_residual(spec: ModelSpec) -> bool:
    """True unless the residuals are Stata's default iid errors."""
    return spec.residual.type != "independent" or spec.residual.by is not None


def build_residual(spec: ModelSpec, frame: pd.DataFrame, design: Design) -> ResidualData | None:
    """Residual data for ``spec`` on the estimation sample, or None for iid errors."""
    if not needs_residual(spec):
        return None
    res = spec.residual
    panel_codes, panels, level = _panels(spec, frame)
    _check_blocks_nest(design, panel_codes, level)
    times = _times(spec, frame, panel_codes, level)
    groups, by_labels = _by_groups(spec, frame, panel_codes, level)
    levels, level_labels = _levels(res.type, times, len(frame))
    coded = ResidualCodes(panel_codes, panels, level, times, levels, groups)
    return assemble_residual(res, coded, level_labels, by_labels)


@dataclass(frozen=True)
class ResidualCodes:
    """The coded residual data of each observation, before the model is chosen."""

    panel_codes: np.ndarray
    panels: pd.Index
    level: str
    times: np.ndarray | None
    levels: np.ndarray
    groups: np.ndarray


def assemble_residual(
    res: ResidualSpec, coded: ResidualCodes, level_labels: tuple, by_labels: tuple
) -> ResidualData:
    """The residual model and its panel batches from the coded data.

    The one place that does this: the design stage after coding the data, and
    :mod:`bayesmixed.io` when it rebuilds a saved design from the same arrays.
    """
    c = coded
    max_lag = _max_lag(c.times, c.panel_codes) if c.times is not None else None
    max_size = int(np.bincount(c.panel_codes).max())
    model = residual_model(res, level_labels, by_labels, max_lag, max_size)
    batches = (
        [] if model.structure.diagonal else _batches(c.panel_codes, c.times, c.levels, c.groups)
    )
    return ResidualData(
        model, c.panel_codes, c.panels, c.level, c.times, c.levels, c.groups, batches
    )


def _panels(spec: ModelSpec, frame: pd.DataFrame) -> tuple[np.ndarray, pd.Index, str]:
    if not spec.random:
        raise SpecificationError("residuals() needs a random-effects equation to define panels")
    eq = spec.random[-1]
    path = tuple(v for v in eq.path if v != "_all")
    if eq.level == "_all" or not path:
        raise NotSupportedError(
            "residuals() structures act within the lowest-level groups, but the last "
            "random-effects equation is _all (one group of all observations); add the "
            "panel variable as the last level, e.g. || id:"
        )
    codes, labels = group_codes(frame, path)
    return codes, labels, eq.level


def _first_per_panel(values: np.ndarray, panel_codes: np.ndarray, n_panels: int) -> np.ndarray:
    ref = np.empty(n_panels, dtype=values.dtype)
    ref[panel_codes[::-1]] = values[::-1]  # last write wins: each panel's first value
    return ref


def _check_blocks_nest(design: Design, panel_codes: np.ndarray, level: str) -> None:
    """Every random effect must be constant within a panel (whitening keeps codes)."""
    n_panels = int(panel_codes.max()) + 1
    for block in design.blocks:
        ref = _first_per_panel(block.codes, panel_codes, n_panels)
        if np.any(ref[panel_codes] != block.codes):
            raise NotSupportedError(
                f"residuals() with the random effects {block.key} is not supported: their "
                f"groups change within the {level} panels (crossed effects), so the residual "
                "structure and the random effects cannot be separated panel by panel"
            )


def _times(spec: ModelSpec, frame: pd.DataFrame, panel_codes, level: str) -> np.ndarray | None:
    res = spec.residual
    if res.t is None:
        if res.type in NEEDS_T:
            raise SpecificationError(f"residuals({res.type}) needs t(timevar)")
        return None
    t = numeric_values(frame[res.t], res.t)
    if res.type in INTEGER_T and np.any(t != np.round(t)):
        bad = t[t != np.round(t)][0]
        raise DataError(
            f"t({res.t}) must be integer valued for residuals({res.type}) (found {bad:g}); "
            "use residuals(exponential) for continuous times"
        )
    if res.type in NEEDS_T:
        dup = pd.DataFrame({"p": panel_codes, "t": t}).duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise DataError(
                f"t({res.t}) = {t[i]:g} occurs more than once within {level} "
                f"{_plain(frame[level].iloc[i])!r}; times must be unique within each panel"
            )
    return t


def _by_groups(spec, frame, panel_codes, level: str) -> tuple[np.ndarray, tuple]:
    res = spec.residual
    if res.by is None:
        return np.zeros(len(frame), dtype=np.intp), ()
    codes, labels = group_codes(frame, (res.by,))
    if res.type != "independent":
        ref = _first_per_panel(codes, panel_codes, int(panel_codes.max()) + 1)
        if np.any(ref[panel_codes] != codes):
            raise DataError(
                f"by({res.by}) changes within {level} panels; with residuals({res.type}) the "
                f"errors of a panel are correlated, so {res.by} must be constant within each "
                f"{level} (only residuals(independent, by()) allows it to vary)"
            )
    return codes, tuple(_plain(v) for v in labels)


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _levels(kind: str, times: np.ndarray | None, n: int) -> tuple[np.ndarray, tuple]:
    if kind not in ("unstructured", "banded") or times is None:
        return np.zeros(n, dtype=np.intp), ()
    codes, uniques = pd.factorize(times, sort=True)
    labels = tuple(int(u) if float(u).is_integer() else float(u) for u in uniques)
    return codes.astype(np.intp), labels


def _max_lag(times: np.ndarray, panel_codes: np.ndarray) -> int:
    frame = pd.DataFrame({"p": panel_codes, "t": times}).groupby("p")["t"]
    return int(np.max(frame.max() - frame.min()))


def _batches(panel_codes, times, levels, groups) -> list[Batch]:
    """Rows grouped by (panel size, by-group), each panel's rows in time order."""
    n = len(panel_codes)
    order_key = times if times is not None else np.arange(n, dtype=float)
    order = np.lexsort((order_key, panel_codes))
    sizes = np.bincount(panel_codes)
    pc = panel_codes[order]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(n) - starts[pc]  # position within panel
    first_group = groups[order][starts]
    out = []
    for m in np.unique(sizes):
        for g in np.unique(first_group[sizes == m]):
            sel = np.flatnonzero((sizes == m) & (first_group == g))
            rows = np.empty((len(sel), m), dtype=np.intp)
            mask = np.isin(pc, sel)
            rank = np.searchsorted(sel, pc[mask])
            rows[rank, pos[mask]] = order[mask]
            t = order_key[rows]
            out.append(Batch(rows, int(g), t, levels[rows]))
    return out


def pattern_index(model: ResidualModel, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Panels of ``batch`` that share R: a representative panel per pattern, and each
    panel's pattern.

    R depends on time lags (AR, MA, Toeplitz, exponential), on time levels (unstructured,
    banded) or on nothing but the panel size (exchangeable); keying on that rather than on
    the raw times gives one factorization per distinct R, not one per panel.
    """
    structure = model.structure
    parts = [np.zeros((len(batch.rows), 1))]
    if structure.n_levels > 1:
        parts.append(batch.levels)
    elif not structure.lag_free:
        parts.append(batch.times - batch.times[:, :1])
    key = np.concatenate(parts, axis=1)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def same_pattern(model: ResidualModel, batch: Batch) -> list[tuple[int, np.ndarray]]:
    """(representative panel, rows (P, m) of every panel with its R) for each pattern."""
    first, inverse = pattern_index(model, batch)
    return [(int(i), batch.rows[inverse == u]) for u, i in enumerate(first)]
