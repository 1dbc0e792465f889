"""NUTS through nutpie on the NumPy log density: right posterior, reproducible, opt-out.

The posterior check is independent of any sampler: for jsp's random-intercept model the
posterior has two free parameters (beta integrates out), so its means are computed by
quadrature on a grid of the exact log density (checked against PyMC's compiled one in
``test_laplace_numpy.py``) and the draws' means must agree within their Monte Carlo error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmixed.design import build_design
from bayesmixed.engines.bayes import fast_nuts
from bayesmixed.engines.bayes import fit as fit_module
from bayesmixed.engines.bayes.fit import estimate_bayes
from bayesmixed.engines.bayes.laplace import laplace_model
from bayesmixed.engines.bayes.laplace_numpy import NumpyObjective
from bayesmixed.engines.bayes.priors import resolve_priors
from bayesmixed.spec.model import ModelSpec, RandomEquation

from .helpers import ROOT, jsp_design, terms

pytestmark = pytest.mark.skipif(not fast_nuts.available(), reason="nutpie is not installed")


def intercept_design():
    eq = RandomEquation(("school",), (), True, "identity")
    return build_design(
        ModelSpec("math5", terms("math3"), (eq,)), pd.read_csv(ROOT / "data/jsp2.csv")
    )


def grid_means(design) -> dict[str, float]:
    """Posterior means of sigma and the intercept SD by quadrature over the working scale."""
    built = laplace_model(design, resolve_priors(design, None), True, True)
    obj = NumpyObjective(built, jacobian=True)
    centre = obj.initial()
    axes = [np.linspace(c - 1.2, c + 1.2, 161) for c in centre]
    ws, wt = np.meshgrid(*axes, indexing="ij")
    logp = np.array([obj.logp(np.array([a, b])) for a, b in zip(ws.ravel(), wt.ravel())])
    dens = np.exp(logp - logp.max()).reshape(ws.shape)
    assert dens[[0, -1], :].max() < 1e-8 and dens[:, [0, -1]].max() < 1e-8  # grid holds it
    sigma = np.vectorize(obj.sigma.sd)(ws)
    sd_u = np.vectorize(obj.blocks[0].scales[0].sd)(wt)
    return {"sigma": (sigma * dens).sum() / dens.sum(), "sd": (sd_u * dens).sum() / dens.sum()}


def fit(design, **kw):
    options = dict(draws=1000, tune=1000, chains=2, seed=11, progressbar=False)
    return estimate_bayes(design, **{**options, **kw})


def test_draws_match_the_posterior_computed_by_quadrature():
    design = intercept_design()
    result = fit(design)
    assert result.sampler == "nutpie" and result.divergences == 0
    post = result.idata["posterior"]
    sigma = post["sigma"].values.ravel()
    sd_u = np.sqrt(post["cov[school]"].values[..., 0, 0].ravel())
    exact = grid_means(design)
    for name, draws in (("sigma", sigma), ("sd", sd_u)):
        mcse = draws.std() / np.sqrt(len(draws) / 2)  # ESS >= half the draws here
        assert abs(draws.mean() - exact[name]) < 4 * mcse, name


def test_a_seed_gives_the_same_draws():
    design = jsp_design()
    a, b = fit(design, draws=200, tune=200), fit(design, draws=200, tune=200)
    np.testing.assert_array_equal(
        a.idata["posterior"]["cov[school]"].values, b.idata["posterior"]["cov[school]"].values
    )
    assert a.idata["posterior"]["beta"].values.shape == (2, 200, 2)
    assert "acceptance_rate" in a.idata["sample_stats"]


class Compiled(Exception):
    """Stands in for PyMC's sampler: reaching it means the compiled path was chosen."""


def refuse(*args, **kwargs):
    raise Compiled


def test_sampler_pymc_and_a_missing_nutpie_take_the_compiled_path(monkeypatch):
    monkeypatch.setattr(fit_module, "run_nuts", refuse)
    design = jsp_design()
    with pytest.raises(Compiled):
        fit(design, sampler="pymc")
    monkeypatch.setattr(fast_nuts, "available", lambda: False)
    with pytest.raises(Compiled):
        fit(design)


def test_models_outside_the_density_take_the_compiled_path(monkeypatch):
    monkeypatch.setattr(fit_module, "run_nuts", refuse)
    design = jsp_design()
    with pytest.raises(Compiled):  # inverse-Wishart (Stata's default priors): not covered
        fit(design, priors="stata")
    with pytest.raises(Compiled):  # random effects sampled
        fit(design, marginalize=False)


def _toy_model(n: int = 3):
    """A standard normal in n dimensions as a nutpie Python-callback model."""
    from nutpie.compiled_pyfunc import from_pyfunc

    def make_logp():
        return lambda x: (-0.5 * float(x @ x), -x)

    def make_expand(*_):
        return lambda x, **_kw: {"x": np.array(x, float)}

    start = lambda seed: np.linspace(0.1, 0.5, n) * (1 + seed % 3)  # noqa: E731
    return from_pyfunc(n, make_logp, make_expand, [np.dtype("float64")], [(n,)], ["x"],
                       make_initial_point_fn=start)  # fmt: skip


def test_raw_trace_conversion_equals_nutpies_own():
    """kept_draws reads nutpie's Arrow trace as nutpie's ArviZ conversion does."""
    import nutpie

    options = dict(draws=30, tune=20, chains=2, cores=1, seed=5, progress_bar=False)
    tree = nutpie.sample(_toy_model(), **options)
    raw = nutpie.sample(_toy_model(), return_raw_trace=True, **options)
    ours = fast_nuts.kept_draws(raw, 3)
    np.testing.assert_array_equal(ours["posterior"]["x"].values, tree["posterior"]["x"].values)
    stats = tree["sample_stats"]
    for name, renamed in fast_nuts.STATS.items():
        np.testing.assert_array_equal(ours["sample_stats"][renamed].values, stats[name].values)
    assert dict(ours["posterior"].sizes) == {"chain": 2, "draw": 30, "x_dim_0": 3}
