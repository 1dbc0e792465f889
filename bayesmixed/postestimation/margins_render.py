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


def _stub(c) -> int:
    """Width of the row-label column: 12, or wider for long interaction labels (as Stata)."""
    names = list(c.labels) + [t.term for t in c.tests] + list(c.sections)
    return max([12] + [len(n) + 1 for n in names])


def _narrow_row(label: str, est, se, lower, upper, stub: int = 12) -> str:
    return f"{label:>{stub}} |{_num(est, 11)}{_num(se, 11)}{_num(lower, 14)}{_num(upper, 12)}"


def _wide_row(label: str, est, se, z, p, lower, upper, stub: int = 12) -> str:
    return (
        f"{label:>{stub}} |{_num(est, 11)}{_num(se, 11)}{_zp(z, p)}"
        f"{_num(lower, 13)}{_num(upper, 12)}"
    )


def comparison_table(c, above: str = "") -> list[str]:
    """The contrasts' table: estimate, SE (z, p with ``effects``) and the interval.

    One heading per term (``dose``, ``dose#female``), its contrasts under it.
    """
    stub = _stub(c)
    width = (WIDTH if c.effects else 62) + stub - 12
    lines = ["-" * width]
    if above:
        pad = 47 if c.effects else 31
        lines.append(f"{'':>{stub}} |{above:>{pad}}".rstrip())
    stat = "      t    P>|t|" if c.dfmethod else "      z    P>|z|"
    stats = stat if c.effects else ""
    lines.append(f"{'':>{stub}} |   Contrast   std. err.{stats}{ci_header(c.level):>25}")
    lines.append("-" * (stub + 1) + "+" + "-" * (width - stub - 2))
    sections = c.sections or [c.term] * len(c.labels)
    hidden = {t.term for t, shown in zip(c.tests, c.term_listed) if not shown}
    last = None
    for label, section, vals in zip(c.labels, sections, c.table.itertuples(index=False)):
        if section in hidden:  # a term without r.: its joint test only
            continue
        if section != last:
            if last is not None:
                lines.append(f"{'':>{stub}} |")
            lines.append(f"{section:>{stub}} |")
            last = section
        est, se, z, p, lo, hi = vals[:6]
        if c.effects:
            lines.append(_wide_row(label + " ", est, se, z, p, lo, hi, stub))
        else:
            lines.append(_narrow_row(label + " ", est, se, lo, hi, stub))
    return lines + ["-" * width]


def render_contrast(c) -> str:
    """``contrast``: the joint test of each term, then (with ``r.``) the contrasts.

    After ``dfmethod()`` the tests are F with each test's denominator df (``ddf``).
    """
    stub = _stub(c)
    small = bool(c.dfmethod)
    width = stub + (47 if small else 36)
    lines = ["", c.title, "", c.margins_line, "", "-" * width]
    head = "         df        chi2     P>chi2"
    if small:
        head = "         df        ddf          F        P>F"
    lines += [f"{'':>{stub}} |{head}", "-" * (stub + 1) + "+" + "-" * (width - stub - 2)]
    dfs = c.table["df"] if small else [None] * len(c.labels)
    for i, t in enumerate(c.tests):
        joint = (t.df, t.ddf, t.f if small else t.chi2, t.p)
        if not c.term_listed[i]:
            lines.append(_test_row(t.term, *joint, stub))
            continue
        if i and not c.term_listed[i - 1]:
            lines.append(f"{'':>{stub}} |")
        lines.append(f"{t.term:>{stub}} |")
        rows = zip(c.labels, c.sections, c.table["z"], c.table["p"], dfs)
        for label, section, z, p, ddf in rows:
            if section == t.term:  # each contrast's own 1-df test, then the joint one
                lines.append(_test_row(label + " ", 1, ddf, z * z, p, stub))
        lines.append(_test_row("Joint ", *joint, stub))
        if i + 1 < len(c.tests):
            lines.append(f"{'':>{stub}} |")
    lines += ["-" * width]
    if not c.listed:
        return "\n".join(lines)
    return "\n".join(lines + [""] + comparison_table(c))


def _test_row(label: str, df: int, ddf: float | None, stat: float, p: float, stub: int) -> str:
    """One test: df, chi2 and p; or df, ddf, F and p (``ddf`` given)."""
    if ddf is None:
        return f"{label:>{stub}} |{df:>11}{stat:>12.2f}{p:>11.4f}"
    return f"{label:>{stub}} |{df:>11}{ddf:>11.2f}{stat:>11.2f}{p:>11.4f}"


def render_pwcompare(c) -> str:
    """``pwcompare``: the number of comparisons, then each pairwise difference."""
    lines = ["", c.title, "", c.margins_line, "", "-" * 27]
    lines += [f"{'':>12} |    Number of", f"{'':>12} |  comparisons", "-" * 13 + "+" + "-" * 13]
    lines += [f"{c.term[-12:]:>12} |{len(c.labels):>13}", "-" * 27, ""]
    above = "Unadjusted" if c.adjustment == "none" else c.adjustment.capitalize()
    return "\n".join(lines + comparison_table(c, above))
