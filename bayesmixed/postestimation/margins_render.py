"""Stata's text layout of ``margins``, ``contrast`` and ``pwcompare`` output.

Kept apart from the computation so that the numbers (:mod:`.margins`,
:mod:`.contrast`) are data and this module only lays them out, as
:mod:`bayesmixed.results.render` does for the coefficient table.
"""

from __future__ import annotations

import math

import pandas as pd

from ..results.format import fmt_g
from ..results.render import ci_header

WIDTH = 78
STUB = 13


def _num(x: float, width: int) -> str:
    return f"{'.' if not math.isfinite(x) else fmt_g(x):>{width}}"


def _zp(z: float, p: float) -> str:
    zs = "." if not math.isfinite(z) else f"{z:.2f}"
    ps = "." if not math.isfinite(p) else f"{p:.3f}"
    return f"{zs:>9}{ps:>8}"


def value_row(label: str, est, se, z, p, lower, upper) -> str:
    """One row: label | estimate  se  z  p  lower  upper."""
    return (
        f"{label[-12:]:>12} |{_num(est, 11)}{_num(se, 11)}{_zp(z, p)}"
        f"{_num(lower, 13)}{_num(upper, 12)}"
    )


def header(column: str, level: float, delta: bool = True, zp: bool = True) -> list[str]:
    """The two heading lines of a table whose first column is ``column``."""
    top = f"{'':>12} |{'Delta-method':>24}" if delta else f"{'':>12} |"
    stats = "      z    P>|z|" if zp else " " * 16
    second = f"{'':>12} |{column:>11}   std. err.{stats}{ci_header(level):>25}"
    return [top.rstrip(), second]


def rule(cross: bool = False) -> str:
    return "-" * 13 + "+" + "-" * 64 if cross else "-" * WIDTH


def top_block(title: str, nobs: int, lines: list[str]) -> list[str]:
    """Title with "Number of obs" at the right, then the description lines."""
    right = f"Number of obs = {nobs:,}"
    out = ["", f"{title}{right:>{WIDTH - len(title)}}", ""]
    return out + lines


def render_margins(m) -> str:
    """The whole ``margins`` output (see :class:`~.margins.Margins`)."""
    desc = [f"Expression: {m.expression}"]
    if m.dydx:
        desc.append(f"dy/dx wrt:  {' '.join(_dydx_names(m))}")
    lines = top_block(m.title, m.nobs, desc)
    lines.insert(2, f"Model VCE: {m.vce}")
    if m.at_legend:
        lines += [""] + m.at_legend
    column = "dy/dx" if m.dydx else "Margin"
    lines += ["", rule()] + header(column, m.level) + [rule(True)]
    lines += _body(m.rows, m.table)
    lines.append(rule())
    lines += m.notes
    return "\n".join(lines)


def _dydx_names(m) -> list[str]:
    return list(dict.fromkeys(r.dydx for r in m.rows if r.dydx))


def _body(rows, table: pd.DataFrame) -> list[str]:
    """Rows grouped as Stata groups them: a heading per effect and per dimension."""
    out: list[str] = []
    last: tuple = (None, None)
    for row, vals in zip(rows, table.itertuples(index=False)):
        effect, label, head = _placement(row)
        if effect and effect != last[0] and "|" in row.section:
            if last[0] is not None:
                out.append(rule(True))
            out.append(f"{effect[-12:]:<12} |")
            last = (effect, None)
        if head and (effect, head) != last:
            out.append(f"{head[-12:]:>12} |")
        last = (effect, head)
        out.append(value_row(label + (" " if head else ""), *vals))
    return out


def _placement(row) -> tuple[str, str, str | None]:
    """(effect, row label, dimension heading) of one margins row."""
    effect, _, dims = row.section.rpartition("|")
    if row.dydx and not effect:  # an effect without other dimensions
        level, dot, var = row.dydx.partition(".")
        return (var, level, var) if dot else (row.dydx, row.dydx, None)
    if dims == "_cons":
        return "", "_cons", None
    return effect, row.label, dims


def _narrow_row(label: str, est, se, lower, upper) -> str:
    return f"{label[-12:]:>12} |{_num(est, 11)}{_num(se, 11)}{_num(lower, 14)}{_num(upper, 12)}"


def comparison_table(c, above: str = "") -> list[str]:
    """The contrasts' table: estimate, SE (z, p with ``effects``) and the interval."""
    width = WIDTH if c.effects else 62
    lines = ["-" * width]
    if above:
        pad = 47 if c.effects else 31
        lines.append(f"{'':>12} |{above:>{pad}}".rstrip())
    if c.effects:
        lines.append(f"{'':>12} |   Contrast   std. err.      z    P>|z|{ci_header(c.level):>25}")
    else:
        lines.append(f"{'':>12} |   Contrast   std. err.{ci_header(c.level):>25}")
    lines += ["-" * 13 + "+" + "-" * (width - 14), f"{c.term[-12:]:>12} |"]
    for label, vals in zip(c.labels, c.table.itertuples(index=False)):
        est, se, z, p, lo, hi = vals
        if c.effects:
            lines.append(value_row(label + " ", est, se, z, p, lo, hi))
        else:
            lines.append(_narrow_row(label + " ", est, se, lo, hi))
    return lines + ["-" * width]


def render_contrast(c) -> str:
    """``contrast``: the joint test table, then the contrasts (Stata's layout)."""
    lines = ["", c.title, "", c.margins_line, "", "-" * 48]
    lines += [f"{'':>12} |         df        chi2     P>chi2", "-" * 13 + "+" + "-" * 34]
    lines.append(f"{c.term[-12:]:>12} |{c.df:>11}{c.chi2:>12.2f}{c.p_joint:>11.4f}")
    lines += ["-" * 48, ""]
    return "\n".join(lines + comparison_table(c))


def render_pwcompare(c) -> str:
    """``pwcompare``: the number of comparisons, then each pairwise difference."""
    lines = ["", c.title, "", c.margins_line, "", "-" * 27]
    lines += [f"{'':>12} |    Number of", f"{'':>12} |  comparisons", "-" * 13 + "+" + "-" * 13]
    lines += [f"{c.term[-12:]:>12} |{len(c.labels):>13}", "-" * 27, ""]
    above = "Unadjusted" if c.adjustment == "none" else c.adjustment.capitalize()
    return "\n".join(lines + comparison_table(c, above))
