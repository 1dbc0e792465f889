"""The NumPy log posterior of the Laplace mode is the PyMC model's, point for point.

The PyMC model's free variables, in creation order, are sigma (or sigma2), each block's
scales then its correlation coordinates, then beta: the same working vector as
:class:`~bayesmixed.engines.bayes.laplace_numpy.NumpyObjective`'s, so both densities are
compared at the same random unconstrained points, with and without the Jacobian.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymc.blocking import DictToArrayBijection, RaveledVars

from bayesmixed.engines.bayes.build import build_model
from bayesmixed.engines.bayes.laplace import objective_for
from bayesmixed.engines.bayes.laplace_numpy import NumpyObjective, covers
from bayesmixed.engines.bayes.priors import resolve_priors

from .helpers import grunfeld_design, jsp_design, toy_design

CASES = [
    ("jsp uns default", lambda: jsp_design(), None, False, False),
    ("jsp uns other priors", lambda: jsp_design(), {"sigma": "igamma(0.01, 0.01)",
     "sd[school:math3]": "halfcauchy(2)", "beta": "t(0, 100, 4)"}, False, True),
    ("jsp independent flat reml", lambda: jsp_design("independent"), "flat", True, True),
    ("grunfeld crossed", lambda: grunfeld_design(), {"sigma": "gamma(2, 3)"}, True, False),
    ("toy exchangeable", lambda: toy_design("exchangeable", seed=4, n_groups=12), None, False,
     True),
]  # fmt: skip


@pytest.mark.parametrize("label,design,priors,integrate,jacobian", CASES, ids=[c[0] for c in CASES])
def test_numpy_log_posterior_equals_pymc(label, design, priors, integrate, jacobian):
    d = design()
    built = build_model(d, resolve_priors(d, priors), True, integrate)
    assert covers(built)
    model = built.model
    # FAST_COMPILE: PyTensor's Python implementations, no C compile for five evaluations
    logp = model.compile_logp(jacobian=jacobian, mode="FAST_COMPILE")
    start = model.initial_point()
    info = DictToArrayBijection.map(start).point_map_info
    ours = NumpyObjective(built, jacobian)
    x0 = DictToArrayBijection.map(start).data
    assert len(x0) == ours.n
    rng = np.random.default_rng(3)
    x_ml = ours.initial()
    for x in [x_ml, *(x_ml + 0.3 * rng.standard_normal(len(x0)) for _ in range(4))]:
        point = DictToArrayBijection.rmap(RaveledVars(x, info), start)
        assert ours.logp(x) == pytest.approx(float(logp(point)), rel=1e-9, abs=1e-8)


def test_models_outside_the_numpy_path_use_pymc(monkeypatch):
    from bayesmixed.engines.bayes import laplace_pymc

    # stands in for the compiled objective, whose C compile would take the test's time
    monkeypatch.setattr(laplace_pymc, "PyMCObjective", lambda built, jacobian: "compiled")
    d = jsp_design()
    # an inverse-Wishart covariance prior (Stata's default set) is not covered
    built = build_model(d, resolve_priors(d, "stata"), True, False)
    assert not covers(built)
    assert objective_for(built, False) == "compiled"
    built = build_model(d, resolve_priors(d, None), True, False)
    assert isinstance(objective_for(built, False), NumpyObjective)


def test_a_search_at_the_correlation_edge_stays_quiet():
    """|corr| = 1 at a search's edge: the LKJ term is -inf (or its factor left out at
    eta = 1), not numpy's divide-by-zero and 0 * log 0 warnings in the user's output."""
    import warnings

    from bayesmixed.engines.bayes.numpy_density import lkj_logp

    edge = np.array([[1.0, 0.0], [1.0, 0.0]])  # the Cholesky factor of corr = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lkj_logp(edge, 1.0) == pytest.approx(lkj_logp(np.eye(2), 1.0))
        assert lkj_logp(edge, 2.0) == -np.inf
