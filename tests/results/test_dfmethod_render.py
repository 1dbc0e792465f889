"""Stata's layout of ``mixed ..., dfmethod()``: DF header, F test, t and P>|t| columns."""

import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.results.format import fmt_f, fmt_g


@pytest.fixture(scope="module")
def kroger():
    rats = bm.datasets.load("rats")
    return bm.stata("mixed weight i.dose size female || litter:, reml dfmethod(kroger)", rats)


def test_header_has_the_df_method_range_and_f_test(kroger):
    text = str(kroger)
    lines = text.splitlines()
    df = kroger.small_sample()["df"]
    first = next(i for i, line in enumerate(lines) if line.startswith("DF method: Kenward-Roger"))
    assert lines[first][48:] == f"DF:{'':11}min ={fmt_f(df.min(), 2):>11}"
    assert lines[first + 1] == " " * 62 + f"avg ={fmt_f(df.mean(), 2):>11}"
    assert lines[first + 2] == " " * 62 + f"max ={fmt_f(df.max(), 2):>11}"
    assert lines[first + 3].lstrip().startswith("F(4, ")
    assert lines[first + 4].startswith("Log restricted-likelihood = ")
    assert lines[first + 4][48:].startswith("Prob > F          =")
    assert "Wald chi2" not in text and "P>|z|" not in text


def test_coefficient_rows_are_the_t_table(kroger):
    text = str(kroger)
    assert "Coefficient  Std. err.      t    P>|t|     [95% conf. interval]" in text
    row = kroger.small_sample().loc["size"]
    cells = (
        f"{fmt_g(row.coef):>11}{fmt_g(row.se):>11}{row.t:>9.2f}{row.p:>8.3f}"
        f"{fmt_g(row.lower):>13}{fmt_g(row.upper):>12}"
    )
    assert f"        size |{cells}" in text.splitlines()
    assert kroger.pvalues["size"] == pytest.approx(row.p, rel=1e-12)  # accessors follow


def test_summary_and_html_follow_dfmethod(kroger):
    summary = kroger.summary()
    tab = kroger.small_sample()
    assert summary.loc[("weight", "size"), "se"] == pytest.approx(tab.loc["size", "se"])
    html = kroger._repr_html_()
    assert "P&gt;|t|" in html and "DF method" in html and "Wald chi2" not in html


def test_without_dfmethod_the_layout_is_unchanged():
    rats = bm.datasets.load("rats")
    text = str(bm.stata("mixed weight i.dose size female || litter:, reml", rats))
    assert "Wald chi2(4)" in text and "P>|z|" in text and "DF method" not in text
    assert isinstance(
        bm.stata("mixed weight size || litter:", rats).estat_df("residual"), pd.DataFrame
    )
