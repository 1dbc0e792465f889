"""The compiled log posterior equals :class:`FastPosterior`'s, value and gradient.

FastPosterior is itself checked against the PyMC-equivalent NumPy density and its finite
differences (``test_fast_density.py``); the compiled kernel re-implements the transforms,
priors and block sums, so it is compared on every case there: each covariance structure,
each scale and coefficient prior, beta integrated or sampled, nested and crossed layouts.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.engines.bayes import fast_compiled
from bayesmixed.engines.bayes.fast_posterior import FastPosterior

from .test_fast_density import CASES, built_for, jsp_design

MORE = [
    ("igamma sigma, gamma sd", lambda: jsp_design("independent"),
     {"sigma": "igamma(2, 3)", "sd[school:math3]": "gamma(2, 0.5)", "beta": "t(1, 4, 5)"}),
    ("halfcauchy + lognormal", lambda: jsp_design("independent"),
     {"sigma": "halfcauchy(3)", "sd[school:_cons]": "lognormal(0.5, 2)"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def kernel():
    compiled = fast_compiled.compiled()
    if compiled is None:
        pytest.skip("numba is not available")
    return compiled


@pytest.mark.parametrize("label,design,priors", CASES + MORE, ids=[c[0] for c in CASES + MORE])
def test_compiled_posterior_equals_fast_posterior(kernel, label, design, priors):
    post = FastPosterior(built_for(design(), priors))
    comp = fast_compiled.CompiledPosterior(post, kernel)
    rng = np.random.default_rng(5)
    x_ml = post.obj.initial()
    for x in [x_ml, *(x_ml + 0.4 * rng.standard_normal(len(x_ml)) for _ in range(3))]:
        (v1, g1), (v2, g2) = post.logp_grad(x), comp.logp_grad(x)
        assert v2 == pytest.approx(v1, rel=1e-9, abs=1e-8)  # 3x3 nested: ill-conditioned
        np.testing.assert_allclose(g2, g1, rtol=1e-7, atol=1e-7 * (1 + np.abs(g1).max()))


def test_a_broken_point_raises(kernel):
    post = FastPosterior(built_for(jsp_design(), None))
    comp = fast_compiled.CompiledPosterior(post, kernel)
    x = post.obj.initial()
    x[0] = -800.0  # sigma = e^-800: the factor's scale underflows
    with pytest.raises((np.linalg.LinAlgError, FloatingPointError, ValueError, OverflowError)):
        comp.logp_grad(x)
