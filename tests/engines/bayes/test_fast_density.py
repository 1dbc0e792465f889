"""The NumPy log posterior NUTS samples, and its analytic gradient.

The oracle is :class:`NumpyObjective` (itself checked point by point against the compiled
PyMC model in ``test_laplace_numpy.py``): the value must agree to rounding and the
analytic gradient with its central differences, on every covariance structure, with beta
integrated or sampled, one component per group, nested components and one crossed
component; the numba kernels must agree with the stacked-NumPy path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmixed.design import build_design
from bayesmixed.engines.bayes.covariance import integrable_beta
from bayesmixed.engines.bayes.fast_density import IntegratedGaussian, layout
from bayesmixed.engines.bayes.fast_kernels import kernels
from bayesmixed.engines.bayes.fast_posterior import FastPosterior, fast_covers
from bayesmixed.engines.bayes.laplace import laplace_model
from bayesmixed.engines.bayes.laplace_numpy import NumpyObjective
from bayesmixed.engines.bayes.priors import resolve_priors
from bayesmixed.spec.model import ModelSpec, RandomEquation

from .helpers import ROOT, grunfeld_design, jsp_design, terms, toy_design


def nested_design(k3: bool = False):
    """Productivity's region > state nesting (components = regions); k3: a 3 x 3 slope block."""
    frame = pd.read_csv(ROOT / "data/productivity.csv")
    slopes = terms("emp", "unemp") if k3 else ()
    eqs = (
        RandomEquation(("region",), slopes, True, "unstructured" if k3 else "independent"),
        RandomEquation(("state",)),
    )
    return build_design(ModelSpec("gsp", terms("private", "emp", "unemp"), eqs), frame)


CASES = [
    ("jsp uns default", lambda: jsp_design(), None),
    ("jsp uns t priors, beta sampled", lambda: jsp_design(),
     {"sigma": "igamma(0.01, 0.01)", "sd[school:math3]": "halfcauchy(2)", "beta": "t(0, 100, 4)"}),
    ("jsp independent flat", lambda: jsp_design("independent"), "flat"),
    ("jsp identity", lambda: jsp_design("identity"), {"sigma": "gamma(2, 3)"}),
    ("grunfeld crossed", lambda: grunfeld_design(), {"sigma": "lognormal(1, 2)"}),
    ("toy exchangeable", lambda: toy_design("exchangeable", seed=4, n_groups=12), None),
    ("toy unstructured, beta laplace", lambda: toy_design("unstructured", seed=2, n_groups=9),
     {"beta": "laplace(0, 10)", "sigma": "exponential(2)"}),
    ("productivity nested", lambda: nested_design(), {"sigma": "halft(1, 4)"}),
    ("nested 3x3 unstructured", lambda: nested_design(True), {"beta": "cauchy(0, 5)"}),
]  # fmt: skip


def built_for(design, priors):
    resolved = resolve_priors(design, priors)
    integrate = integrable_beta(list(design.fixed_names), resolved)
    built = laplace_model(design, resolved, True, integrate)
    assert built is not None and fast_covers(built)
    return built


def central(f, x: np.ndarray) -> np.ndarray:
    out = np.empty(len(x))
    for i in range(len(x)):
        h = 1e-5 * max(1.0, abs(x[i]))
        e = np.zeros(len(x))
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


@pytest.mark.parametrize("label,design,priors", CASES, ids=[c[0] for c in CASES])
def test_value_and_gradient_match_the_numpy_objective(label, design, priors):
    built = built_for(design(), priors)
    ours, ref = FastPosterior(built), NumpyObjective(built, jacobian=True)
    rng = np.random.default_rng(7)
    x_ml = ref.initial()
    for x in [x_ml, *(x_ml + 0.4 * rng.standard_normal(len(x_ml)) for _ in range(3))]:
        value, grad = ours.logp_grad(x)
        assert value == pytest.approx(ref.logp(x), rel=1e-10, abs=1e-8)
        fd = central(ref.logp, x)
        np.testing.assert_allclose(grad, fd, rtol=2e-6, atol=2e-6 * (1 + np.abs(fd).max()))


@pytest.mark.parametrize("label,design,priors", CASES[:1] + CASES[4:], ids=lambda c: str(c)[:20])
def test_compiled_kernels_equal_stacked_numpy(label, design, priors):
    built = built_for(design(), priors)
    fast = FastPosterior(built)
    fast.dens.compiled = kernels()  # also on components wider than the default rule's
    if fast.dens.compiled is None:
        pytest.skip("numba is not available")
    plain = FastPosterior(built)
    plain.dens.compiled = None
    x = fast.obj.initial() + 0.2
    (v1, g1), (v2, g2) = fast.logp_grad(x), plain.logp_grad(x)
    assert v1 == pytest.approx(v2, rel=1e-10, abs=1e-9)
    np.testing.assert_allclose(g1, g2, rtol=1e-7, atol=1e-7 * (1 + np.abs(g2).max()))


def test_components_follow_the_design():
    jsp = built_for(jsp_design(), None)
    lay = layout(jsp.stats, [2], [jsp.design.blocks[0].n_groups])
    assert (lay.n_comp, lay.width) == (48, 2)  # one component per school
    nested = built_for(nested_design(), None)
    sizes = [b.n_groups for b in nested.design.blocks]
    lay = layout(nested.stats, [1, 1], sizes)
    regions = nested.design.blocks[0].n_groups
    assert lay.n_comp == regions  # every state inside its region's component
    per_region = np.bincount(lay.comp[1], minlength=regions) + 1
    assert lay.width == per_region.max()
    crossed = built_for(grunfeld_design(), None)
    sizes = [b.n_groups for b in crossed.design.blocks]
    assert layout(crossed.stats, [1, 1], sizes).n_comp == 1


@pytest.mark.parametrize("kernels", [True, False])
def test_a_non_positive_factor_raises_instead_of_returning_garbage(kernels):
    built = built_for(jsp_design(), None)
    dens = IntegratedGaussian(
        built.stats, [2], [48], built.prior_mean, built.prior_prec, True, use_kernels=kernels
    )
    with pytest.raises(np.linalg.LinAlgError):
        dens(1.0, [np.full((2, 2), np.nan)])
