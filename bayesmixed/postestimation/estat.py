"""``estat ic`` and ``estat group`` after a mixed-model fit.

Both return data frames (summaries are data) and have a ``format_*``
companion that prints them as Stata does.  ``ll(null)`` is missing for mixed
models, as in Stata, because no null model is fitted; BIC uses N = the
number of observations, Stata's default.
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import SpecificationError
from ..results.format import fmt_fc, fmt_g
from ..results.mixed import MixedResult
from ..results.render import group_table_lines

IC_COLUMNS = ["N", "ll(null)", "ll(model)", "df", "AIC", "BIC"]
IC_TITLE = "Akaike's information criterion and Bayesian information criterion"
IC_NOTE = "Note: BIC uses N = number of observations. See [R] BIC note."


def estat_ic(*results: MixedResult, names: list[str] | None = None) -> pd.DataFrame:
    """One row per model: N, ll(null), ll(model), df, AIC, BIC.

    ``names`` label the rows (Stata labels the active model ``.``).
    """
    if not results:
        raise SpecificationError("estat ic needs at least one fitted model")
    if names is None:
        names = ["."] if len(results) == 1 else [f"model{i + 1}" for i in range(len(results))]
    if len(names) != len(results):
        raise SpecificationError(f"{len(names)} names given for {len(results)} models")
    rows = [
        [r.nobs, math.nan, float(r.loglik), r.df_model, float(r.aic), float(r.bic)] for r in results
    ]
    frame = pd.DataFrame(rows, columns=IC_COLUMNS, index=pd.Index(names, name="Model"))
    return frame.astype({"N": int, "df": int})


def format_estat_ic(frame: pd.DataFrame) -> str:
    """Stata's ``estat ic`` table for a frame from :func:`estat_ic`."""
    rule = "-" * 77
    head = "       Model |          N   ll(null)  ll(model)      df        AIC        BIC"
    lines = [IC_TITLE, "", rule, head, "-" * 13 + "+" + "-" * 63]
    for name, row in frame.iterrows():
        cells = (
            f"{fmt_fc(row['N']):>11}{fmt_g(row['ll(null)'], 9):>11}"
            f"{fmt_g(row['ll(model)'], 9):>11}{int(row['df']):>8}"
            f"{fmt_g(row['AIC'], 9):>11}{fmt_g(row['BIC'], 9):>11}"
        )
        lines.append(f"{str(name)[:12]:>12} |{cells}")
    lines += [rule, IC_NOTE]
    return "\n".join(lines)


def estat_group(result: MixedResult) -> pd.DataFrame:
    """Groups and observations per group (min/avg/max) for every level."""
    if not result.design.group_info:
        raise SpecificationError("the model has no random effects, so no group information")
    return result.groups


def format_estat_group(result: MixedResult) -> str:
    """Stata's ``estat group`` table."""
    estat_group(result)
    return "\n".join(group_table_lines(result))
