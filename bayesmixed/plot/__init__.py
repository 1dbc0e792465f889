"""Figures: the workshop's graphs and the Bayesian user's diagnostics (matplotlib).

Every function returns a ``matplotlib.figure.Figure`` and works headless;
:func:`to_png` turns one into the bytes a report stores.  The diagnostics ArviZ
already draws (trace, rank, forest, posterior predictive checks) are drawn by
arviz-plots (:mod:`.diagnostics`), as are Stata's ``bayesgraph`` kinds
(:mod:`.bayes_graphs`); the project's own code draws only what ArviZ lacks:
shrinkage, caterpillars of BLUPs beside posteriors, cusum plots, Stata's twoway graphs.
"""

from .bayes_graphs import bayesgraph, caterpillar_effects
from .diagnostics import forest, ppc, ppc_tstat, rank, stata_tree, trace, trace_rank
from .effects import caterpillar, shrinkage
from .marginsplot import marginsplot
from .twoway import Layer, matrix, to_png, twoway
from .workshop import fitted_lines, residual_vs_fitted, scores_by_school

__all__ = [
    "Layer",
    "bayesgraph",
    "caterpillar",
    "caterpillar_effects",
    "fitted_lines",
    "forest",
    "marginsplot",
    "matrix",
    "ppc",
    "ppc_tstat",
    "rank",
    "residual_vs_fitted",
    "scores_by_school",
    "shrinkage",
    "stata_tree",
    "to_png",
    "trace",
    "trace_rank",
    "twoway",
]
