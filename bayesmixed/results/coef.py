"""Fixed-effects rows grouped as Stata groups factor variables.

Column names follow Stata's conventions (``week``, ``2.dose``,
``1.dose#c.size``, ``0b.dose`` for a base level).  A factor term prints as a
header line (``dose``) with one indented row per level, unless it shows a
single numeric level, which prints inline (``1.gender``); base levels
(``show_base``) and columns omitted for collinearity print as ``0`` with
``(base)``/``(omitted)``.  Terms keep the order of the model specification,
``_cons`` last.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..lazy_import import stats
from .mixed import MixedResult

NAN = float("nan")


@dataclass(frozen=True)
class Row:
    """One printed estimate; ``status`` is ``""``, ``"base"`` or ``"omitted"``."""

    label: str
    estimate: float
    se: float = NAN
    lower: float = NAN
    upper: float = NAN
    z: float = NAN
    p: float = NAN
    status: str = ""


@dataclass
class CoefGroup:
    """Rows of one fixed-effects term; ``header`` is set for factor terms."""

    header: str | None
    rows: list[Row]

    @property
    def separated(self) -> bool:
        """Stata sets factor blocks and interactions apart with blank lines."""
        return self.header is not None or "#" in self.rows[0].label


def coef_groups(result: MixedResult) -> list[CoefGroup]:
    """Coefficient rows grouped by term, with base and omitted rows in place."""
    rows = list(result._fixed_rows())  # Wald (z) rows, or t rows under dfmethod()
    design = result.design
    if result.show_base:
        rows += [Row(n, 0.0, status="base") for n in design.base_levels]
    rows += [Row(n, 0.0, status="omitted") for n in design.omitted]
    return _group_rows(rows, _term_order(result))


def coef_row(result, i: int, name: str, crit: float) -> Row:
    """The Wald row of fixed effect ``i`` (normal reference), for any likelihood result."""
    b = float(result.beta[i])
    var = float(result.vcov_beta[i, i])
    se = math.sqrt(var) if math.isfinite(var) and var >= 0 else NAN
    if not se > 0:
        return Row(name, b, se)
    z = b / se
    p = float(2 * stats.norm.sf(abs(z)))
    return Row(name, b, se, b - crit * se, b + crit * se, z, p)


@dataclass(frozen=True)
class _Part:
    var: str
    level: str | None  # None for a continuous component


def parse_name(name: str) -> list[_Part]:
    """Split a Stata column name (``2.dose#c.size``) into its components."""
    parts = []
    for piece in name.split("#"):
        prefix, dot, var = piece.partition(".")
        if not dot:
            parts.append(_Part(piece, None))
        elif prefix == "c":
            parts.append(_Part(var, None))
        else:
            parts.append(_Part(var, re.sub(r"[bon]+$", "", prefix)))
    return parts


def _term_key(name: str) -> tuple[str, ...]:
    return tuple(p.var for p in parse_name(name))


def _term_order(result: MixedResult) -> dict[tuple[str, ...], int]:
    spec = getattr(result.design, "spec", None)
    terms = getattr(spec, "fixed", ()) or ()
    order: dict[tuple[str, ...], int] = {}
    for term in terms:
        order.setdefault(tuple(term.variables), len(order))
    return order


def _group_rows(rows: list[Row], order: dict[tuple[str, ...], int]) -> list[CoefGroup]:
    first_seen: dict[tuple[str, ...], int] = {}
    for row in rows:
        first_seen.setdefault(_term_key(row.label), len(first_seen))

    def rank(key: tuple[str, ...]) -> tuple[int, int]:
        if key == ("_cons",):
            return (2, 0)
        if key in order:
            return (0, order[key])
        return (1, first_seen[key])

    by_key: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        by_key.setdefault(_term_key(row.label), []).append(row)
    return [_make_group(by_key[k]) for k in sorted(by_key, key=rank)]


def _make_group(rows: list[Row]) -> CoefGroup:
    parts = parse_name(rows[0].label)
    if all(p.level is None for p in parts):
        return CoefGroup(None, rows)
    rows = sorted(rows, key=_level_sort_key)
    levels = [" ".join(p.level for p in parse_name(r.label) if p.level) for r in rows]
    single_numeric = len(parts) == 1 and len(rows) == 1 and _is_number(levels[0])
    if single_numeric and rows[0].status != "base":
        return CoefGroup(None, [_relabel(rows[0], _clean_name(rows[0].label))])
    header = "#".join(p.var if p.level is not None else f"c.{p.var}" for p in parts)
    return CoefGroup(header, [_relabel(r, lev) for r, lev in zip(rows, levels, strict=True)])


def _clean_name(name: str) -> str:
    """``1b.x`` -> ``1.x``: the base/omitted markers are shown in words."""
    parts = parse_name(name)
    return "#".join(f"{p.level}.{p.var}" if p.level is not None else p.var for p in parts)


def _level_sort_key(row: Row) -> tuple:
    levels = [p.level for p in parse_name(row.label) if p.level is not None]
    return tuple((0, float(v), "") if _is_number(v) else (1, 0.0, v) for v in levels)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _relabel(row: Row, label: str) -> Row:
    return Row(label, row.estimate, row.se, row.lower, row.upper, row.z, row.p, row.status)
