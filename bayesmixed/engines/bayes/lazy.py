"""PyMC and PyTensor imported on first use, not when the Bayesian engine is imported.

Why: importing PyMC (and PyTensor under it) costs ~0.55 s, and most Bayesian fits never
touch it: integrated Gaussian models, residual structures and GLMMs without an ancillary
parameter sample on our own densities (:mod:`.fast_nuts`), and the Gaussian models'
Laplace modes use NumPy (:mod:`.laplace_numpy`).  The modules that build PyMC graphs keep
their ``pm.``/``pt.`` spelling by importing :data:`pm` and :data:`pt` from here; the ones
that subclass PyMC types (:mod:`.cpc`) or evaluate PyTensor at import
(:mod:`.tensor_math`) are imported inside the functions that build graphs.
``tests/engines/bayes/test_lazy.py`` checks that a fast fit leaves PyMC unimported.
"""

from __future__ import annotations

from ...lazy_import import LazyModule

pm = LazyModule("pymc")  # ``import pymc as pm``, on first use
pt = LazyModule("pytensor.tensor")  # ``import pytensor.tensor as pt``, on first use
