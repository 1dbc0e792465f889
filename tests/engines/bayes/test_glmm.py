"""GLMMs under NUTS: exact log densities, refusals, and a short bangladesh run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytensor.tensor as pt
import pytest

import bayesmixed
from bayesmixed import datasets
from bayesmixed.engines.bayes.tensor_math import TENSOR
from bayesmixed.errors import NotSupportedError, SpecificationError
from bayesmixed.fitting import fit_bayes
from bayesmixed.spec.family import get_family

from .helpers import toy_design

CASES = [
    ("bernoulli", "logit", None, None),
    ("bernoulli", "probit", None, None),
    ("bernoulli", "cloglog", None, None),
    ("binomial", "logit", 7.0, None),
    ("binomial", "cloglog", 7.0, None),
    ("poisson", "log", None, None),
    ("nbinomial", "log", None, 0.6),
    ("gamma", "log", None, 0.3),
    ("ordinal", "logit", None, None),
    ("ordinal", "probit", None, None),
    ("ordinal", "cloglog", None, None),
]


@pytest.mark.parametrize(("family", "link", "trials", "disp"), CASES)
def test_tensor_density_is_the_numpy_density_of_the_same_family(family, link, trials, disp):
    """One density per family: the PyTensor namespace must give the NumPy numbers."""
    rng = np.random.default_rng(0)
    eta = rng.normal(-0.3, 1.5, size=40)
    anc: list = [] if disp is None else [np.log(disp)]
    fam = get_family(family, link)
    if family in ("bernoulli", "binomial"):
        y = rng.integers(0, 2 if trials is None else 8, size=40).astype(float)
    elif family == "gamma":
        y = rng.gamma(2.0, 1.0, size=40)
    elif family == "ordinal":
        fam, y = fam.prepare(rng.integers(1, 5, size=40).astype(float))
        anc = [-0.8, np.log(0.7), np.log(1.1)]  # cutpoints -0.8, -0.1, 1.0
    else:
        y = rng.poisson(2.0, size=40).astype(float)
    tensor_anc = [pt.as_tensor(np.float64(a)) for a in anc]
    ours = fam.loglik(y, pt.as_tensor(eta), trials, tensor_anc, TENSOR).eval()
    expected = fam.loglik(y, eta, trials, anc)
    # PyMC's normal_lcdf (probit) is accurate to ~1e-7 relative; PyTensor's log1mexp and
    # ours differ in their last digits where an ordinal cloglog probability is ~1e-9
    rel = {"probit": 1e-6, "cloglog": 1e-9}.get(link, 1e-10) if family == "ordinal" else 1e-10
    rel = 1e-6 if link == "probit" else rel
    assert ours == pytest.approx(expected, rel=rel, abs=1e-12)


def _with_family(design, family, link, command):
    design.spec = design.spec.__class__(
        **{**design.spec.__dict__, "family": family, "link": link, "command": command}
    )
    return design


def test_unsupported_links_and_options_are_refused_with_what_works():
    with pytest.raises(NotSupportedError, match="supported families"):
        fit_bayes(_with_family(toy_design(), "poisson", "identity", "mepoisson"))
    design = _with_family(toy_design(), "bernoulli", "logit", "melogit")
    design.y = (design.y > 1).astype(float)
    with pytest.raises(SpecificationError, match="cannot be integrated out"):
        fit_bayes(design, marginalize=True)
    with pytest.raises(NotSupportedError, match="method='nuts'"):
        fit_bayes(design, method="laplace")


def test_glmm_default_priors_are_on_the_link_scale():
    from bayesmixed.engines.bayes.priors import resolve_priors

    design = _with_family(toy_design(), "poisson", "log", "mepoisson")
    priors = resolve_priors(design)
    assert "sigma" not in priors
    assert priors["beta[_cons]"].params[0] == 0.0
    nb = resolve_priors(_with_family(toy_design(), "nbinomial", "log", "menbreg"))
    assert str(nb["alpha"]) == "halfnormal(6.25)"  # variance 6.25: scale 2.5


@pytest.mark.slow
def test_melogit_random_slope_on_bangladesh_agrees_with_the_ml_fit():
    data = datasets.load("bangladesh")
    cmd = "melogit c_use urban age child* || district: urban, cov(unstructured)"
    ml = bayesmixed.stata(cmd, data)
    r = bayesmixed.stata(
        "bayes: " + cmd, data, draws=150, tune=200, chains=2, seed=11, progressbar=False
    )
    post = r.idata["posterior"]
    assert post["b[district]"].shape == (2, 150, 60, 2)
    assert "sigma" not in post and np.isnan(r.sigma2)
    beta = post["beta"].values.reshape(-1, r.design.p)
    z = np.abs(beta.mean(axis=0) - ml.coef.to_numpy()) / beta.std(axis=0)
    assert z.max() < 1.0
    ll = r.idata["log_likelihood"]["c_use"]
    assert ll.shape == (2, 150, r.design.n) and np.all(ll.values <= 0)
    assert "district:cov(urban,_cons)" in r.diagnostics().index


def test_binomial_trials_and_offset_enter_the_likelihood():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"g": np.repeat(np.arange(10), 6), "x": rng.normal(size=60)})
    frame["n"] = 5
    frame["y"] = rng.binomial(5, 0.4, size=60)
    design = _with_family(toy_design(), "binomial", "logit", "meglm")
    from bayesmixed.engines.bayes.build import build_model
    from bayesmixed.engines.bayes.priors import resolve_priors

    trials = np.full(design.n, 4.0)
    design.y = np.minimum(np.round(np.abs(design.y)), 4.0)
    built = build_model(design, resolve_priors(design), False, False, np.ones(design.n), trials)
    point = built.model.initial_point()
    logp = built.model.compile_logp(vars=[built.model["loglik"]], jacobian=False)(point)
    beta = point["beta"]
    eta = design.X @ beta + 1.0  # u = 0 at the initial point
    expected = get_family("binomial", "logit").loglik(design.y, eta, trials).sum()
    assert float(logp) == pytest.approx(expected, rel=1e-10)
