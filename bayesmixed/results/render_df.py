"""Text pieces of ``mixed ..., dfmethod()`` output and of ``estat df``.

With ``dfmethod()`` Stata's header trades the Wald chi2 test for the DF method,
the min/avg/max of the fixed effects' dfs and an F test of every coefficient
but the constant; the coefficient table prints ``t`` and ``P>|t|``.  ``estat df``
lists each fixed effect's df under one or more methods.
"""

from __future__ import annotations

import pandas as pd

from .format import abbrev, fmt_f, fmt_g, stat_pair, two_columns


def df_test_lines(result, loglik_text: str) -> list[str]:
    """Header lines from "DF method:" down to "Prob > F" (the log likelihood on the last)."""
    inference = result.df_inference()
    df = inference.df
    lines = [
        two_columns(
            f"DF method: {inference.method.label}", f"DF:{'':11}min ={fmt_f(df.min(), 2):>11}"
        ),
        " " * 62 + f"avg ={fmt_f(df.mean(), 2):>11}",
        " " * 62 + f"max ={fmt_f(df.max(), 2):>11}",
    ]
    test = inference.model_test()
    if test is None:
        return lines + [loglik_text]
    label = f"F({test.ndf}, {fmt_f(test.ddf, 2)})"
    lines.append(" " * 48 + stat_pair(label, fmt_f(test.stat, 2)))
    lines.append(two_columns(loglik_text, stat_pair("Prob > F", fmt_f(test.p, 4))))
    return lines


def estat_df_text(table: pd.DataFrame, response: str) -> str:
    """``estat df``: one column per method, rows as the coefficient table names them."""
    stub = 12
    heads = "".join(f"{abbrev(c, 14):>15}" for c in table.columns)
    rule = "-" * (stub + 1) + "+" + "-" * (len(heads) + 1)
    lines = ["", "Degrees of freedom for fixed effects", "", "-" * len(rule)]
    lines += [f"{'':>{stub}} |{heads}", rule, f"{abbrev(response, stub):<{stub}} |"]
    for name, row in table.iterrows():
        cells = "".join(f"{fmt_g(v):>15}" for v in row)
        lines.append(f"{abbrev(str(name), stub):>{stub}} |{cells}")
    lines.append("-" * len(rule))
    return "\n".join(lines) + "\n"


def df_header_items(result) -> list[tuple[str, str]]:
    """The same header facts as (label, value) pairs, for the HTML table."""
    inference = result.df_inference()
    df = inference.df
    items = [
        ("DF method", inference.method.label),
        ("DF: min", fmt_f(df.min(), 2)),
        ("DF: avg", fmt_f(df.mean(), 2)),
        ("DF: max", fmt_f(df.max(), 2)),
    ]
    test = inference.model_test()
    if test is not None:
        items += [
            (f"F({test.ndf}, {fmt_f(test.ddf, 2)})", fmt_f(test.stat, 2)),
            ("Prob > F", fmt_f(test.p, 4)),
        ]
    return items
