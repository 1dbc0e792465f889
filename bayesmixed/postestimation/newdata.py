"""The fixed and random design of *new* rows, coded like the estimation sample.

Predicting for new data must reuse the training coding, not rebuild it: a
factor's base level and column set come from the estimation sample, so a new
frame holding only some levels must not shift the columns.  Each term is
expanded with every level as its own column (no base), then the training
columns are picked by name; a level the model never saw is an error, because
silently predicting with a zero effect for it would change the model.

Random effects of groups seen in training are looked up by group label; new
groups get code -1 (their effect is the population value, zero).  Rows with a
missing covariate get NaN predictions, as Stata's ``predict`` leaves them
missing, rather than being dropped, so results align with the user's frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..design.factors import is_factor_like
from ..design.fixed import term_cells
from ..design.random import ALL, group_codes
from ..design.sample import check_present, is_formula, missing_mask, numeric_values
from ..design.types import Design
from ..errors import DataError, VariableError
from ..spec.model import Component, ModelSpec, Term


@dataclass
class NewRows:
    """Predictors of new rows, aligned with the user's frame.

    Attributes
    ----------
    index : the user's row labels (all rows, complete or not).
    valid : rows with every predictor present; other rows predict NaN.
    X : (n_valid, p) fixed-effects matrix in ``fixed_names`` order.
    codes : per block, training group index of each valid row, -1 if new.
    Z : per block, (n_valid, k) effect values.
    frame : the valid rows of the model's predictor columns.
    """

    index: pd.Index
    valid: np.ndarray
    X: np.ndarray
    codes: list[np.ndarray]
    Z: list[np.ndarray]
    frame: pd.DataFrame

    @property
    def new_group(self) -> list[np.ndarray]:
        """Per block, whether each valid row belongs to a group unseen in training."""
        return [c < 0 for c in self.codes]


def predictor_names(spec: ModelSpec) -> list[str]:
    """Every column a prediction reads: all model variables except the response."""
    return [v for v in spec.variables if v != spec.response]


def new_rows(design: Design, data: pd.DataFrame, need_response: bool = False) -> NewRows:
    """Code ``data`` with the estimation sample's levels and groups."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    spec = design.spec
    names = list(spec.variables) if need_response else predictor_names(spec)
    check_present(_only(spec, names), data)
    missing = np.zeros(len(data), dtype=bool)
    for name in names:
        missing |= missing_mask(data[name])
    valid = ~missing
    frame = data.loc[valid, names]
    X = fixed_matrix(design, frame)
    codes, zs = [], []
    for block in design.blocks:
        codes.append(_block_codes(block, frame))
        zs.append(_block_z(block, frame))
    return NewRows(data.index, valid, X, codes, zs, frame)


def _only(spec: ModelSpec, names: list[str]) -> SimpleNamespace:
    """An object whose ``variables`` are ``names``: all ``check_present`` reads of a spec."""
    return SimpleNamespace(variables=tuple(names))


def fixed_matrix(design: Design, frame: pd.DataFrame) -> np.ndarray:
    """X of ``frame`` with the training columns, by name."""
    spec = design.spec
    formula = is_formula(spec)
    cells: dict[str, np.ndarray] = {}
    for term in spec.fixed:
        _check_levels(design, term, frame, formula)
        got = term_cells(_all_levels(term, frame, formula), frame, formula)
        cells.update(zip(got.names, got.columns))
    n = len(frame)
    X = np.zeros((n, design.p))
    for j, name in enumerate(design.fixed_names):
        if name == "_cons":
            X[:, j] = 1.0
        elif name in cells:
            X[:, j] = cells[name]
        # else: a training level absent from the new rows, whose indicator is 0
    return X


def _all_levels(term: Term, frame: pd.DataFrame, formula: bool) -> Term:
    """The term with every factor's base removed, so each level gets a named column."""
    comps = []
    for c in term.components:
        if c.kind == "c" and formula and is_factor_like(frame[c.name]):
            c = Component(c.name, "i", "none")
        comps.append(replace(c, base="none") if c.kind == "i" else c)
    return Term(tuple(comps))


def _check_levels(design: Design, term: Term, frame: pd.DataFrame, formula: bool) -> None:
    """Every factor level in the new rows must be a level of the estimation sample."""
    for pos, comp in enumerate(term.components):
        is_factor = comp.kind == "i" or (formula and is_factor_like(frame[comp.name]))
        if not is_factor or not len(frame):
            continue
        known = training_levels(design, term, pos)
        single = Term((Component(comp.name, "i", "none"),))
        seen = term_cells(single, frame, formula).names
        labels = [n[: -len(comp.name) - 1] for n in seen]
        unknown = [lab for lab in labels if lab not in known]
        if unknown:
            raise VariableError(
                f"{comp.name} takes value{'s' * (len(unknown) > 1)} {', '.join(unknown)} in the "
                f"new data, which {'do' if len(unknown) > 1 else 'does'} not occur in the "
                f"estimation sample (levels: {', '.join(sorted(known))}); the model has no "
                "coefficient for it"
            )


def training_levels(design: Design, term: Term, pos: int) -> set[str]:
    """Labels of factor component ``pos`` of ``term`` seen in the estimation sample.

    Read back from the names the design stage gave the term's cells: fitted
    columns and omitted cells carry the plain label, base cells a trailing
    ``b`` or ``o`` marker.
    """
    n_comp = len(term.components)
    name = term.components[pos].name
    levels: set[str] = set()
    plain = list(design.fixed_names) + list(design.omitted)
    for names, marked in ((plain, False), (list(design.base_levels), True)):
        for full in names:
            parts = full.split("#")
            if len(parts) != n_comp:
                continue
            if not all(p.endswith("." + c.name) for p, c in zip(parts, term.components)):
                continue
            label = parts[pos][: -len(name) - 1]
            levels.add(label[:-1] if marked else label)
    return levels


def _block_codes(block, frame: pd.DataFrame) -> np.ndarray:
    """Training group index of each row (-1 for a group not seen in training)."""
    eq = block.equation
    path = tuple(v for v in eq.path if v != ALL)
    if eq.factor:
        path = path + (eq.factor,)
    if not path:
        return np.zeros(len(frame), dtype=np.intp)
    if not len(frame):
        return np.zeros(0, dtype=np.intp)
    codes, labels = group_codes(frame, path)
    lookup = _lookup(block.groups, labels)
    return lookup[codes]


def _lookup(train: pd.Index, new: pd.Index) -> np.ndarray:
    """Position in ``train`` of each label of ``new`` (-1 when absent)."""
    try:
        return np.asarray(train.get_indexer(new), dtype=np.intp)
    except (TypeError, ValueError):
        mapping = {_key(v): i for i, v in enumerate(train)}
        return np.array([mapping.get(_key(v), -1) for v in new], dtype=np.intp)


def _key(value: object) -> object:
    if isinstance(value, tuple):
        return tuple(_key(v) for v in value)
    return value.item() if hasattr(value, "item") else value


def _block_z(block, frame: pd.DataFrame) -> np.ndarray:
    eq = block.equation
    columns = []
    for term in eq.terms:
        col = np.ones(len(frame))
        for comp in term.components:
            col = col * numeric_values(frame[comp.name], comp.name)
        columns.append(col)
    if eq.constant or eq.factor:
        columns.append(np.ones(len(frame)))
    return np.column_stack(columns) if columns else np.ones((len(frame), 1))
