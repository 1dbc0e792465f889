"""HTML rendering of a :class:`MixedResult` for notebooks and reports.

The same numbers and number formats as the text output (both read
:func:`.table.build_tables`), laid out as real tables so that a report can
style them; class names start with ``bm-``.
"""

from __future__ import annotations

from html import escape

from .format import fmt_f, fmt_fc, fmt_g, is_missing
from .mixed import MixedResult
from .render import LR_CONSERVATIVE, ci_header, criterion_label, lr_line, note_texts, title
from .render_robust import adjusted_lines, is_robust
from .table import Row, Tables, TestStat, build_tables


def render_html(result: MixedResult) -> str:
    """An HTML fragment with header, fixed-effects and random-effects tables."""
    tables = build_tables(result)
    parts = [
        '<div class="bm-result">',
        f'<p class="bm-title"><b>{escape(title(result))}</b></p>',
        _header_table(result, tables.wald),
        _group_table(result),
        _fixed_table(result, tables),
        _random_table(result, tables),
        _footer(result, tables),
        "</div>",
    ]
    return "\n".join(p for p in parts if p)


def _cell(text: str, tag: str = "td", cls: str = "", span: int = 1) -> str:
    attrs = f' class="{cls}"' if cls else ""
    attrs += f' colspan="{span}"' if span > 1 else ""
    return f"<{tag}{attrs}>{escape(text)}</{tag}>"


def _header_table(result: MixedResult, wald: TestStat) -> str:
    items = [("Number of obs", fmt_fc(result.nobs))]
    groups = result.design.group_info
    if len(groups) == 1:
        g = groups[0]
        items += [
            ("Group variable", g.level),
            ("Number of groups", fmt_fc(g.n_groups)),
            ("Obs per group: min", fmt_fc(g.min)),
            ("Obs per group: avg", fmt_fc(g.avg, 1)),
            ("Obs per group: max", fmt_fc(g.max)),
        ]
    if result.dfmethod is not None:  # t/F inference (dfmethod())
        from .render_df import df_header_items

        items += df_header_items(result)
    else:
        items += [(f"Wald chi2({wald.df})", fmt_f(wald.chi2, 2)), ("Prob > chi2", fmt_f(wald.p, 4))]
    items.append((criterion_label(result), fmt_g(result.loglik, 10)))
    rows = [f"<tr>{_cell(k, 'th')}{_cell(v, cls='bm-num')}</tr>" for k, v in items]
    return '<table class="bm-header">\n' + "\n".join(rows) + "\n</table>"


def _group_table(result: MixedResult) -> str:
    groups = result.design.group_info
    if len(groups) < 2:
        return ""
    head = "".join(
        _cell(t, "th") for t in ("Group Variable", "No. of Groups", "Minimum", "Average", "Maximum")
    )
    rows = [
        "<tr>"
        + _cell(g.level, "th")
        + "".join(
            _cell(v, cls="bm-num")
            for v in (fmt_fc(g.n_groups), fmt_fc(g.min), fmt_fc(g.avg, 1), fmt_fc(g.max))
        )
        + "</tr>"
        for g in groups
    ]
    return f'<table class="bm-groups">\n<tr>{head}</tr>\n' + "\n".join(rows) + "\n</table>"


def _ci_header(result: MixedResult) -> str:
    return ci_header(result.level)


def _fixed_table(result: MixedResult, tables: Tables) -> str:
    stat = ["t", "P>|t|"] if result.dfmethod is not None else ["z", "P>|z|"]
    heads = [result.design.spec.response, "Coefficient", _se_head(result), *stat]
    head = "".join(_cell(h, "th") for h in heads) + _cell(_ci_header(result), "th", span=2)
    rows = []
    for group in tables.fixed:
        if group.header is not None:
            rows.append(
                f'<tr class="bm-group">{_cell(group.header, "th")}<td colspan="6"></td></tr>'
            )
        cls = "bm-level" if group.header is not None else ""
        rows += [f"<tr>{_cell(r.label, 'th', cls)}{_coef_cells(r)}</tr>" for r in group.rows]
    table = f'<table class="bm-fixed">\n<tr>{head}</tr>\n' + "\n".join(rows) + "\n</table>"
    adjusted = "".join(f'<p class="bm-vce">{escape(t)}</p>\n' for t in adjusted_lines(result, 0))
    return adjusted + table


def _se_head(result: MixedResult) -> str:
    """Stata prints "Robust" over the SE column after vce(robust) or pweights."""
    return "Robust std. err." if is_robust(result) else "Std. err."


def _coef_cells(row: Row) -> str:
    if row.status:
        return _cell("0", cls="bm-num") + _cell(f"({row.status})", span=5)
    z = "." if is_missing(row.z) else f"{row.z:.2f}"
    p = "." if is_missing(row.p) else f"{row.p:.3f}"
    values = [fmt_g(row.estimate), fmt_g(row.se), z, p, fmt_g(row.lower), fmt_g(row.upper)]
    return "".join(_cell(v, cls="bm-num") for v in values)


def _random_table(result: MixedResult, tables: Tables) -> str:
    heads = ["Random-effects parameters", "Estimate", _se_head(result)]
    head = "".join(_cell(h, "th") for h in heads) + _cell(_ci_header(result), "th", span=2)
    rows = []
    for section in tables.random:
        if section.title is not None:
            rows.append(
                f'<tr class="bm-group">{_cell(section.title, "th")}<td colspan="4"></td></tr>'
            )
        for r in section.rows:
            values = [fmt_g(r.estimate), fmt_g(r.se)]
            values += ["."] * 2 if is_missing(r.se) else [fmt_g(r.lower), fmt_g(r.upper)]
            cells = "".join(_cell(v, cls="bm-num") for v in values)
            rows.append(f"<tr>{_cell(r.label, 'th', 'bm-level')}{cells}</tr>")
    return f'<table class="bm-random">\n<tr>{head}</tr>\n' + "\n".join(rows) + "\n</table>"


def _footer(result: MixedResult, tables: Tables) -> str:
    parts = []
    notes = note_texts(result, tables)
    if tables.lr_linear is not None and result.opt.converged and not is_robust(result):
        parts.append(f'<p class="bm-lr">{escape(" ".join(lr_line(tables.lr_linear).split()))}</p>')
        if not tables.lr_linear.chibar:
            notes.insert(0, LR_CONSERVATIVE)
    parts += [f'<p class="bm-note">Note: {escape(n)}</p>' for n in notes]
    if not result.opt.converged:
        parts.append('<p class="bm-note">Warning: convergence not achieved</p>')
    return "\n".join(parts)
