"""The fixed-effects matrix X, with Stata's column names and order.

Each term expands into the cells of its factor levels, first component
varying slowest (``1.a#1.b 1.a#2.b 2.a#1.b ...``).  A cell with any factor at
its base level is a *base* cell: it gets no column, only a name in
``base_levels`` (``0b.dose``, ``1o.a#0b.b``), which Stata prints with
``baselevels``.  A cell that no observation falls in is *empty* and is omitted
with Stata's note.  The constant comes last, then columns that are linear
combinations of earlier ones (or of ``_cons``) are omitted with Stata's
collinearity note.

The matrix is built here rather than through formulae because Stata's naming
and base-cell rules (``i.a#i.b`` without main effects still omits base cells)
differ from R's contrasts, and both front ends must produce the same names.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..spec.model import Component, ModelSpec, Term
from .collinear import collinear_columns
from .factors import Factor, is_factor_like, make_factor
from .sample import numeric_values


@dataclass
class FixedPart:
    """X and its bookkeeping, before it is folded into the Design."""

    X: np.ndarray
    names: list[str]
    omitted: list[str] = field(default_factory=list)
    base_levels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _TermCells:
    names: list[str] = field(default_factory=list)
    columns: list[np.ndarray] = field(default_factory=list)
    base: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)


def build_fixed(spec: ModelSpec, frame: pd.DataFrame, formula: bool) -> FixedPart:
    """X for the estimation sample in ``frame``, with omitted columns removed."""
    n = len(frame)
    names: list[str] = []
    columns: list[np.ndarray] = []
    part = FixedPart(np.empty((n, 0)), names)
    for term in spec.fixed:
        cells = term_cells(term, frame, formula)
        names.extend(cells.names)
        columns.extend(cells.columns)
        part.base_levels.extend(cells.base)
        part.omitted.extend(cells.empty)
        part.notes.extend(
            f"note: {e} identifies no observations in the sample." for e in cells.empty
        )
    if spec.constant:
        names.append("_cons")
        columns.append(np.ones(n))
    X = np.column_stack(columns) if columns else np.empty((n, 0))
    drop = collinear_columns(X, spec.constant)
    for j in drop:
        part.omitted.append(names[j])
        part.notes.append(f"note: {names[j]} omitted because of collinearity.")
    keep = np.setdiff1d(np.arange(len(names)), drop)
    part.X = X[:, keep] if drop else X
    part.names = [names[j] for j in keep]
    return part


def term_cells(term: Term, frame: pd.DataFrame, formula: bool) -> _TermCells:
    """The columns (and base and empty cell names) one term expands into."""
    comps = [_effective(c, frame[c.name], formula) for c in term.components]
    multi = len(comps) > 1
    factors = {
        i: make_factor(frame[c.name], c, formula) for i, c in enumerate(comps) if c.kind == "i"
    }
    slope = _product(frame, [c for c in comps if c.kind == "c"])
    levels = [range(factors[i].n_levels) if i in factors else [None] for i in range(len(comps))]
    cells = _TermCells()
    for cell in itertools.product(*levels):
        is_base = any(factors[i].base == cell[i] for i in factors)
        name = "#".join(
            _part_name(c, factors.get(i), cell[i], is_base, multi) for i, c in enumerate(comps)
        )
        if is_base:
            cells.base.append(name)
            continue
        mask = _cell_mask(factors, cell, len(frame))
        if factors and multi and not mask.any():
            cells.empty.append(name)
            continue
        cells.names.append(name)
        cells.columns.append(mask * slope if slope is not None else mask.astype(float))
    return cells


def _effective(comp: Component, series: pd.Series, formula: bool) -> Component:
    """On the formula path a text column used as a variable is a factor, as in R."""
    if formula and comp.kind == "c" and is_factor_like(series):
        return Component(comp.name, "i", "first")
    return comp


def _product(frame: pd.DataFrame, comps: list[Component]) -> np.ndarray | None:
    if not comps:
        return None
    out = numeric_values(frame[comps[0].name], comps[0].name)
    for c in comps[1:]:
        out = out * numeric_values(frame[c.name], c.name)
    return out


def _cell_mask(factors: dict[int, Factor], cell: tuple, n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    for i, f in factors.items():
        mask &= f.codes == cell[i]
    return mask


def _part_name(
    comp: Component, factor: Factor | None, level: int | None, in_base: bool, multi: bool
) -> str:
    """Stata's name for one component of a cell: ``2.dose``, ``0b.dose``, ``c.x``."""
    if factor is None:
        if not multi:
            return comp.name
        return f"co.{comp.name}" if in_base else f"c.{comp.name}"
    label = factor.labels[level]
    if in_base:
        label += "b" if level == factor.base else "o"
    return f"{label}.{comp.name}"
