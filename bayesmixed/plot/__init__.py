"""Figures: the workshop's graphs and the Bayesian user's diagnostics (matplotlib).

Every function returns a ``matplotlib.figure.Figure`` built without ``pyplot``, so it
works headless; :func:`to_png` turns one into the bytes a report stores.
"""

from .diagnostics import ppc_density, ppc_statistics, trace_rank
from .effects import caterpillar, shrinkage
from .twoway import Layer, matrix, to_png, twoway
from .workshop import fitted_lines, residual_vs_fitted, scores_by_school

__all__ = [
    "Layer",
    "caterpillar",
    "fitted_lines",
    "matrix",
    "ppc_density",
    "ppc_statistics",
    "residual_vs_fitted",
    "scores_by_school",
    "shrinkage",
    "to_png",
    "trace_rank",
    "twoway",
]
