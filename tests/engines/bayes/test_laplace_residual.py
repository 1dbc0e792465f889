"""method="laplace" on residual structures, without PyMC: the mode is the ML/REML fit.

The oracle is the structured-residual ML engine (itself checked against nlme and Stata):
under flat priors the posterior mode of the natural parameters is the (restricted)
maximum-likelihood estimate.  The objective's gradient is checked against central
differences of its value, with and without the change-of-variables terms.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.engines.bayes import fit as bayes_fit
from bayesmixed.engines.bayes.fast_residual_posterior import residual_model
from bayesmixed.engines.bayes.laplace import objective_for
from bayesmixed.engines.bayes.laplace_residual import ResidualObjective
from bayesmixed.engines.bayes.priors import resolve_priors
from bayesmixed.syntax import stata_to_spec

AR1 = (
    "productivity",
    "mixed gsp private emp hwy water other unemp || region: || state:, residuals(ar 1, t(year))",
)
CELLS = ("rats", "mixed weight i.dose size female || litter:, residuals(independent, by(female))")


def no_pymc_graph(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the PyMC model was built")

    monkeypatch.setattr(bayes_fit, "build_model", refuse)


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize(("data", "command"), [AR1, CELLS])
def test_flat_prior_mode_is_the_ml_fit(data, command, reml, monkeypatch):
    d = bm.datasets.load(data)
    ml = bm.stata(command + (" reml" if reml else ""), d)
    no_pymc_graph(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # AR(1): var(state) on its boundary
        lap = bm.stata(command, d, method="laplace", priors="flat", reml=reml, seed=1)
    mode = lap.mode_values
    np.testing.assert_allclose(mode["beta"], ml.coef.to_numpy(), rtol=1e-5, atol=1e-6)
    sigma2 = float(mode["sigma"]) ** 2
    assert sigma2 == pytest.approx(ml.sigma2, rel=1e-5)
    for name, cov in zip(lap.block_names, ml.cov_blocks):
        np.testing.assert_allclose(mode[f"cov[{name}]"], cov, rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("jacobian", [False, True])
@pytest.mark.parametrize(("data", "command"), [AR1, CELLS])
def test_gradient_is_the_derivative_of_the_objective(data, command, jacobian):
    d = bm.datasets.load(data)
    design = build_design(stata_to_spec(command, d), d)
    built = residual_model(design, resolve_priors(design, "flat"), True, False)
    obj = objective_for(built, jacobian)
    assert isinstance(obj, ResidualObjective)
    x = obj.initial() + 0.05
    h = 1e-6
    fd = np.array([(obj.f(x + e) - obj.f(x - e)) / (2 * h) for e in np.eye(len(x)) * h])
    np.testing.assert_allclose(obj.g(x), fd, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(fd).max()))
