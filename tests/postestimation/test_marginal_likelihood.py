"""The pieces of ``bayestest model`` that need no sampler: coordinates, priors, refusals.

The estimate itself is checked against a brute-force oracle in
``test_bayestest_model.py`` (NUTS fits, slow).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayesmixed.engines.bayes.laplace import laplace_model
from bayesmixed.engines.bayes.laplace_numpy import NumpyObjective, working_point
from bayesmixed.engines.bayes.priors import resolve_priors
from bayesmixed.errors import BayesmixedError, NotSupportedError
from bayesmixed.fitting import fit_bayes
from bayesmixed.postestimation.bayestest import model
from bayesmixed.postestimation.marginal_likelihood import (
    fit_priors,
    log_marginal_likelihood,
    model_objective,
)
from bayesmixed.results.bayes import BayesResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines" / "bayes"))
from helpers import toy_design  # noqa: E402


@pytest.mark.parametrize("cov", ["unstructured", "exchangeable", "independent", "identity"])
@pytest.mark.parametrize("integrate", [True, False])
def test_working_point_inverts_values_exactly(cov, integrate):
    design = toy_design(cov, seed=1)
    built = laplace_model(design, resolve_priors(design), True, integrate)
    obj = NumpyObjective(built, jacobian=True)
    rng = np.random.default_rng(4)
    for _ in range(5):
        x = rng.normal(scale=0.7, size=obj.n)
        assert working_point(obj, obj.values(x)) == pytest.approx(x, rel=1e-9, abs=1e-9)


def _hand_result(design, priors: dict, method: str = "nuts") -> BayesResult:
    """A result with the fields the marginal likelihood reads (no draws needed to refuse)."""
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset()})
    names = ["R.h", "g"]
    return BayesResult(design, tree, method, "pymc", {k: str(v) for k, v in priors.items()},
                       names, True)  # fmt: skip


@pytest.fixture(scope="module")
def laplace_fit():
    """A Laplace fit (no compilation) with a Stata-named variance prior off the defaults."""
    design = toy_design("identity", seed=2)
    priors = {"{UU:sigma2}": "gamma(2, 0.5)", "beta[x]": "normal(0, 4)"}
    with warnings.catch_warnings():  # var(R.h) has its mode at 0: the Jacobian mode is used
        warnings.simplefilter("ignore", RuntimeWarning)
        result = fit_bayes(design, method="laplace", priors=priors, draws=400, seed=1)
    return design, priors, result


def test_the_priors_are_read_back_exactly_with_their_scale(laplace_fit):
    design, priors, result = laplace_fit
    expected = resolve_priors(design, priors)
    got = fit_priors(result)
    assert got == expected  # dataclass equality: dist, every digit of params, variance
    assert got["sd[g]"].on_variance and not got["sd[R.h]"].on_variance


def test_laplace_fits_use_importance_sampling_from_their_draws(laplace_fit):
    _, _, result = laplace_fit
    est = log_marginal_likelihood(result, seed=3)
    again = log_marginal_likelihood(result, seed=4)
    assert np.isfinite(est.logml) and 0 < est.mcse < 0.05
    assert abs(est.logml - again.logml) < 4 * np.hypot(est.mcse, again.mcse) + 1e-3


def test_flat_priors_are_refused_by_name():
    design = toy_design("identity", seed=2)
    priors = resolve_priors(design, {"beta[x]": "flat", "sd[g]": "flat"})
    with pytest.raises(BayesmixedError, match=r"\{y:x\}, \{UU:sigma2\} have a flat prior"):
        model_objective(_hand_result(design, priors))


def test_models_without_the_exact_density_are_refused():
    design = toy_design("identity", seed=2)
    priors = resolve_priors(design, {"sd[g]": "uniform(0, 10)"})
    with pytest.raises(NotSupportedError, match="bayestest model computes"):
        model_objective(_hand_result(design, priors))


def test_prior_probabilities_must_match_the_models(laplace_fit):
    _, _, result = laplace_fit
    with pytest.raises(BayesmixedError, match="2 positive probabilities summing to 1"):
        model([result, result], ["a", "b"], [0.3, 0.3])
    other = _hand_result(toy_design("identity", seed=5), resolve_priors(toy_design()))
    with pytest.raises(BayesmixedError, match="same outcome and observations"):
        model([result, other], ["a", "b"])
