"""The fixed and random design of *new* rows, coded like the estimation sample.

Predicting for new data must reuse the training coding, not rebuild it: a
factor's base level and column set come from the estimation sample, so a new
frame holding only some levels must not shift the columns.  Each term is
expanded with every level as its own column (no base), then the training
columns are picked by name; a level the model never saw is an error, because
silently predicting with a zero effect for it would change the model.

Random effects of groups seen in training are looked up by group label,
compared by :func:`~bayesmixed.design.factors.level_key` (so school ``"1"``
in the new data is school ``1`` of the estimation sample, as fitting codes a
column holding both as one group); new groups get code -1 (their effect is
the population value, zero) and are listed in ``NewRows.unseen``.  Rows with a
missing covariate get NaN predictions, as Stata's ``predict`` leaves them
missing, rather than being dropped, so results align with the user's frame.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..design.factors import is_factor_like, level_key
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
    unseen : per block, the labels of the new rows' groups not seen in training.
    """

    index: pd.Index
    valid: np.ndarray
    X: np.ndarray
    codes: list[np.ndarray]
    Z: list[np.ndarray]
    frame: pd.DataFrame
    unseen: list[pd.Index] = field(default_factory=list)

    @property
    def new_group(self) -> list[np.ndarray]:
        """Per block, whether each valid row belongs to a group unseen in training."""
        return [c < 0 for c in self.codes]


class NewGroupWarning(UserWarning):
    """Rows of new data in groups the model never saw: their effects are set to zero."""


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
    codes, zs, unseen = [], [], []
    for block in design.blocks:
        block_codes, block_unseen = _block_codes(block, frame)
        codes.append(block_codes)
        unseen.append(block_unseen)
        zs.append(_block_z(block, frame))
    return NewRows(data.index, valid, X, codes, zs, frame, unseen)


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


def _block_codes(block, frame: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Training group index of each row (-1 for a group not seen in training).

    Also returns the labels of the unseen groups, so callers can say which
    rows got the population value instead of a group's effect.
    """
    eq = block.equation
    path = tuple(v for v in eq.path if v != ALL)
    if eq.factor:
        path = path + (eq.factor,)
    if not path or not len(frame):
        return np.zeros(len(frame), dtype=np.intp), pd.Index([])
    codes, labels = group_codes(frame, path)
    lookup = _lookup(block.groups, labels)
    return lookup[codes], labels[lookup < 0]


def _lookup(train: pd.Index, new: pd.Index) -> np.ndarray:
    """Position in ``train`` of each label of ``new`` (-1 when absent).

    Labels are compared by ``level_key``, never by value and dtype: an
    ``Index.get_indexer`` of text labels on integer groups finds nothing
    and silently dropped every random effect.
    """
    position: dict[object, int] = {}
    for i, value in enumerate(train):
        position.setdefault(level_key(value), i)
    return np.array([position.get(level_key(v), -1) for v in new], dtype=np.intp)


PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
ZERO_EFFECTS = "their random effects at that level are set to zero, the population value"


def warn_unseen(
    design: Design, rows: NewRows | object, levels: set[str], treatment: str = ZERO_EFFECTS
) -> None:
    """Warn which rows got zero random effects because their group is new.

    lme4 (``allow.new.levels``) and Stata both predict the population value
    for a new group, but a whole column of new groups usually means a
    mismatch (a typo, a recoded id) that must not pass silently.  The
    message names, per level in ``levels``, the row count and the first
    few new groups, then ``treatment``: what was predicted for them (zero
    effects here; a fresh draw per posterior draw after a Bayesian fit).
    ``rows`` needs ``codes`` and ``unseen`` (per block).
    """
    parts: dict[str, str] = {}
    for block, codes, labels in zip(design.blocks, rows.codes, rows.unseen):
        if block.level not in levels or block.key in parts or not len(labels):
            continue
        n = int(np.sum(codes < 0))
        shown = ", ".join(_shown(v) for v in labels[:5]) + (", ..." if len(labels) > 5 else "")
        parts[block.key] = (
            f"{n} row{'s' * (n != 1)} in {len(labels)} {block.key} "
            f"group{'s' * (len(labels) != 1)} not in the estimation sample ({shown})"
        )
    if parts:
        warnings.warn(
            f"predict: {'; '.join(parts.values())}; {treatment}",
            NewGroupWarning,
            # point at the user's line whichever entry point (method, bm.predict) led here
            skip_file_prefixes=(PACKAGE_DIR,),
        )


def _shown(label: object) -> str:
    key = level_key(label)
    return "/".join(key) if isinstance(key, tuple) else key


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
