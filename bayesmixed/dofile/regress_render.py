"""Stata's ``regress`` output layout for an :class:`~.regress.OLSResult`."""

from __future__ import annotations

from ..lazy_import import stats
from ..results.format import abbrev, fmt_f, fmt_fc, fmt_g, stat_pair, two_columns


def render_regress(result) -> str:
    """Header, the cluster note and the coefficient table, in Stata's columns."""
    df1, df2, f, p = result.f_test()
    items = [
        ("Number of obs", fmt_fc(result.nobs)),
        (f"F({df1}, {df2})", fmt_f(f, 2)),
        ("Prob > F", fmt_f(p, 4)),
        ("R-squared", fmt_f(result.r2, 4)),
        ("Root MSE", fmt_f(result.root_mse, 4)),
    ]
    titles = ["Linear regression"] + [""] * (len(items) - 1)
    lines = [two_columns(t, stat_pair(k, v)) for t, (k, v) in zip(titles, items)]
    lines.append("")
    if result.vce == "cluster":
        note = f"(Std. err. adjusted for {fmt_fc(result.n_clusters)} clusters in {result.cluster})"
        lines.append(f"{note:>78}")
    lines += _table(result)
    return "\n".join(lines)


def _table(result) -> list[str]:
    stub = 12
    rule = "-" * 78
    robust = "Robust" if result.vce in ("cluster", "robust") else ""
    head = f"{abbrev(result.response, stub):>{stub}} | Coefficient  std. err.      t    P>|t|"
    head += "     [95% conf. interval]"
    lines = [rule]
    if robust:
        lines.append(f"{'':>{stub}} |{robust:>22}")
    lines += [head, "-" * (stub + 1) + "+" + "-" * 64]
    crit = stats.t.ppf(0.975, result.df_resid)
    for name, b, se in zip(result.names, result.beta, result.se, strict=True):
        t = b / se
        pval = 2 * stats.t.sf(abs(t), result.df_resid)
        cells = f"{fmt_g(b):>11}{fmt_g(se):>11}{t:>9.2f}{pval:>8.3f}"
        cells += f"{fmt_g(b - crit * se):>14}{fmt_g(b + crit * se):>12}"
        lines.append(f"{abbrev(name, stub):>{stub}} |{cells}")
    lines.append(rule)
    return lines
