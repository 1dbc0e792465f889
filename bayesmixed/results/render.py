"""Text rendering of a :class:`MixedResult` in the layout of Stata 17's ``mixed``.

Column positions follow Stata's own display code (``_xtmixed_display`` and
``_coef_table``): a 78-character table, the header's right-hand column
starting at column 49 with ``=`` at column 67, the coefficient stub 12
characters wide (wider when a factor interaction needs it, as Stata's
``lstretch`` does) and the random-effects stub 28 characters wide.  Numbers
use Stata's ``%9.0g`` (:mod:`.format`).  All numbers come from
:func:`.table.build_tables`, shared with :mod:`.html`.

``render_text`` and ``render_html`` are meant to back ``MixedResult.__str__``
and ``MixedResult._repr_html_``.
"""

from __future__ import annotations

import textwrap

from .format import (
    abbrev,
    fmt_chi2,
    fmt_f,
    fmt_fc,
    fmt_g,
    fmt_level,
    is_missing,
    stat_pair,
    two_columns,
)
from .mixed import MixedResult
from .render_robust import adjusted_lines, is_robust, pseudo, robust_heading
from .table import CoefGroup, Row, Tables, TestStat, build_tables

WIDTH = 78
RE_STUB = 28
MAX_STUB = 32
LR_CONSERVATIVE = "LR test is conservative and provided only for reference."


def render_text(result: MixedResult) -> str:
    """Stata-style text output of a fitted mixed model."""
    tables = build_tables(result)
    lines = header_lines(result, tables)
    lines += [""] + fixed_lines(result, tables.fixed)
    lines += [""] + random_lines(result, tables)
    lines += footer_lines(result, tables)
    return "\n".join(lines) + "\n"


def render_html(result: MixedResult) -> str:
    """The same content as an HTML fragment (see :mod:`.html`)."""
    from .html import render_html as _render

    return _render(result)


# -- header ---------------------------------------------------------------------------


def title(result: MixedResult) -> str:
    return f"Mixed-effects {'REML' if result.reml else 'ML'} regression"


def criterion_label(result: MixedResult) -> str:
    return "Log restricted-likelihood" if result.reml else pseudo("Log likelihood", result)


def header_lines(result: MixedResult, tables: Tables) -> list[str]:
    n_obs = stat_pair("Number of obs", fmt_fc(result.nobs))
    lines = [two_columns(title(result), n_obs)] + group_header_lines(result)
    if result.dfmethod is not None:  # t/F inference: DF method, DF range, F test
        from .render_df import df_test_lines

        ll = f"{criterion_label(result)} = {fmt_g(result.loglik, 10):>10}"
        return lines + [""] + df_test_lines(result, ll)
    lines += [""] + _test_lines(result, tables.wald)
    return lines


def group_header_lines(result, pad: int = 0) -> list[str]:
    """ "Group variable:" with obs per group, or the table for several levels.

    Shared by every Stata ``mixed``/``me*`` header (any result with a design);
    ``me*`` commands right-align the name in ``pad`` columns, ``mixed`` does not.
    """
    groups = result.design.group_info
    if len(groups) == 1:
        g = groups[0]
        name = abbrev(g.level, max(pad, 14))
        left = f"Group variable: {name:>{pad}}" if pad else f"Group variable: {name}"
        lines = [two_columns(left, stat_pair("Number of groups", fmt_fc(g.n_groups)))]
        lines += ["", " " * 48 + "Obs per group:"]
        for name, value in (
            ("min", fmt_fc(g.min)),
            ("avg", fmt_fc(g.avg, 1)),
            ("max", fmt_fc(g.max)),
        ):
            lines.append(" " * 62 + f"{name} ={value:>11}")
        return lines
    return [""] + group_table_lines(result) if groups else []


def _test_lines(result: MixedResult, wald: TestStat) -> list[str]:
    chi2 = fmt_f(wald.chi2, 2)
    prob = fmt_f(wald.p, 4)
    ll = f"{criterion_label(result)} = {fmt_g(result.loglik, 10):>10}"
    return [
        " " * 48 + stat_pair(f"Wald chi2({wald.df})", chi2),
        two_columns(ll, stat_pair("Prob > chi2", prob)),
    ]


def group_table_lines(result: MixedResult) -> list[str]:
    """Stata's "No. of / Observations per Group" table (also ``estat group``)."""
    lines = [
        "-" * 16 + "-" + "-" * 44,
        " " * 16 + "|     No. of       Observations per Group",
        " Group Variable |     Groups    Minimum    Average    Maximum",
        "-" * 16 + "+" + "-" * 44,
    ]
    for g in result.design.group_info:
        cells = (
            f"{fmt_fc(g.n_groups):>11}{fmt_fc(g.min):>11}{fmt_fc(g.avg, 1):>11}{fmt_fc(g.max):>11}"
        )
        lines.append(f"{abbrev(g.level, 12):>15} |{cells}")
    lines.append("-" * 61)
    return lines


# -- fixed effects ----------------------------------------------------------------


def ci_header(level: float) -> str:
    """Stata 17's interval heading, ``[95% conf. interval]`` (16 wrote ``Conf. Interval``)."""
    return f"[{fmt_level(level)}% conf. interval]"


def stub_width(result: MixedResult, groups: list[CoefGroup]) -> int:
    labels = [g.header for g in groups if g.header] + [
        r.label for g in groups if g.header is None for r in g.rows if "#" in r.label
    ]
    longest = max((len(s) for s in labels), default=0)
    return min(MAX_STUB, max(12, longest))


def fixed_lines(result: MixedResult, groups: list[CoefGroup]) -> list[str]:
    stub = stub_width(result, groups)
    width = stub + 66
    depvar = abbrev(result.design.spec.response, stub)
    ci = ci_header(result.level)
    stat = "t    P>|t|" if result.dfmethod is not None else "z    P>|z|"
    head = f"{depvar:>{stub}} | Coefficient  Std. err.      {stat}{ci:>25}"
    top = adjusted_lines(result, width) + ["-" * width] + robust_heading(result, stub, 21)
    lines = [*top, head, "-" * (stub + 1) + "+" + "-" * 64]
    for pos, group in enumerate(groups):
        if group.separated and pos > 0 and lines[-1].strip() != "|":
            lines.append(" " * stub + " |")
        if group.header is not None:
            lines.append(f"{abbrev(group.header, stub):>{stub}} |")
            lines += [f"{r.label:>{stub - 1}}  |" + _coef_cells(r) for r in group.rows]
        else:
            lines += [f"{abbrev(r.label, stub):>{stub}} |" + _coef_cells(r) for r in group.rows]
        if group.separated and pos < len(groups) - 1:
            lines.append(" " * stub + " |")
    lines.append("-" * width)
    return lines


def _coef_cells(row: Row) -> str:
    if row.status:
        return f"{'0':>11}  ({row.status})"
    z = "." if is_missing(row.z) else f"{row.z:.2f}"
    p = "." if is_missing(row.p) else f"{row.p:.3f}"
    return (
        f"{fmt_g(row.estimate):>11}{fmt_g(row.se):>11}{z:>9}{p:>8}"
        f"{fmt_g(row.lower):>13}{fmt_g(row.upper):>12}"
    )


# -- random effects ---------------------------------------------------------------


def random_lines(result: MixedResult, tables: Tables) -> list[str]:
    ci = ci_header(result.level)
    rule = "-" * 29 + "+" + "-" * 48
    heading = robust_heading(result, 28, 21)
    head = f"  Random-effects parameters  |   Estimate   Std. err.{ci:>25}"
    lines = ["-" * WIDTH, *heading, head, rule]
    for section in tables.random:
        if section.title is not None:
            lines += [f"{part:<29}|" for part in _title_lines(_section_title(section.title))]
        lines += [_re_line(row) for row in section.rows]
        lines.append(rule if section.title is not None else "-" * WIDTH)
    return lines


def _title_lines(title: str) -> list[str]:
    """Stata breaks a long residual title before ``by``: ``Residual: AR(1),`` / ``    by g``."""
    head, sep, by = title.partition(", by ")
    if len(title) <= RE_STUB or not sep:
        return [title]
    return [head + ",", "    by " + by]


def _section_title(text: str) -> str:
    level, _, label = text.partition(": ")
    return f"{abbrev(level, 12)}: {label}"


def _re_line(row: Row) -> str:
    lo = "." if is_missing(row.se) else fmt_g(row.lower)
    hi = "." if is_missing(row.se) else fmt_g(row.upper)
    cells = f"{fmt_g(row.estimate):>11}{fmt_g(row.se):>11}{lo:>14}{hi:>12}"
    return f"{abbrev(row.label, RE_STUB):>{RE_STUB}} |{cells}"


# -- footer -----------------------------------------------------------------------


def lr_line(test: TestStat) -> str:
    """``LR test vs. linear model: chibar2(01) = 472.65 ... Prob >= chibar2 = 0.0000``."""
    stat = fmt_chi2(test.chi2)
    if test.chibar:
        left = f"LR test vs. linear model: chibar2(01) = {stat}"
        right, column = f"Prob >= chibar2 = {fmt_f(test.p, 4)}", 54
    else:
        left = f"LR test vs. linear model: chi2({test.df}) = {stat}"
        right, column = f"Prob > chi2 = {fmt_f(test.p, 4)}", 58
    return f"{left:<{column}}{right}" if len(left) < column else f"{left} {right}"


def footer_lines(result: MixedResult, tables: Tables) -> list[str]:
    lines: list[str] = []
    notes = list(note_texts(result, tables))
    converged = result.opt.converged
    if tables.lr_linear is not None and converged and not is_robust(result):
        lines.append(lr_line(tables.lr_linear))
        if not tables.lr_linear.chibar:
            notes.insert(0, LR_CONSERVATIVE)
    for footnote in tables.footnotes:
        lines += textwrap.wrap(footnote, width=77, subsequent_indent=" " * 4)
    for note in notes:
        lines += [""] + wrap_note("Note: " + note)
    if not converged:
        lines += [""] + wrap_note("Warning: convergence not achieved")
    return lines


def note_texts(result: MixedResult, tables: Tables) -> list[str]:
    """Design notes, boundary notes and table notes, each once, in that order."""
    seen: dict[str, None] = {}
    for text in [*result.design.notes, *result.boundary, *tables.notes]:
        text = text.strip()
        if text.lower().startswith("note:"):
            text = text[5:].strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def wrap_note(text: str, width: int = 79) -> list[str]:
    """Stata's ``{p 0 6 4}`` paragraph: hanging indent of 6 under ``Note:``."""
    return textwrap.wrap(text, width=width - 2, subsequent_indent=" " * 6) or [""]
