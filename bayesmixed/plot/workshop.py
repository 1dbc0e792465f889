"""The workshop's own graphs, as one-line calls for notebooks.

They are the ``graph twoway`` commands of ``bayesmixed/tutorials/workshop.do`` with the
workshop's variable names as defaults; the do-file runner draws the same figures from
the commands themselves.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from .twoway import Layer, twoway


def scores_by_school(
    data: pd.DataFrame, y: str = "math5", x: str = "math3", group: str = "school", first: int = 10
) -> Figure:
    """Scatter of ``y`` against ``x`` for the first ``first`` groups, one panel each."""
    keep = data[group].isin(sorted(data[group].unique())[:first])
    title = f"{y} by {x}, first {first} {group}s"
    return twoway(data[keep], [Layer("scatter", (y,), x)], by=group, title=title)


def fitted_lines(
    data: pd.DataFrame, fitted: str, x: str = "math3", group: str = "school", y: str | None = None
) -> Figure:
    """One fitted line per group (``connect(ascending)`` after sorting by group and x)."""
    ordered = data.sort_values([group, x], kind="mergesort")
    layers = [Layer("scatter", (y,), x)] if y else []
    layers.append(Layer("line", (fitted,), x, ascending=True))
    return twoway(ordered, layers, title=f"{fitted} by {group}")


def residual_vs_fitted(
    data: pd.DataFrame, residual: str, fitted: str, by: str = "gender"
) -> Figure:
    """Residuals against fitted values, one panel per value of ``by``."""
    return twoway(
        data,
        [Layer("scatter", (residual,), fitted)],
        by=by,
        title=f"{residual} vs {fitted} by {by}",
    )
