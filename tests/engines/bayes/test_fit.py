"""NUTS end to end on small runs: structure, names, diagnostics, and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.engines.bayes.sample import check_sampler
from bayesmixed.errors import NotSupportedError, SpecificationError
from bayesmixed.fitting import fit_bayes, fit_lmm

from .helpers import jsp_design, toy_design


@pytest.fixture(scope="module")
def jsp_nuts():
    design = jsp_design()
    return design, fit_bayes(design, draws=200, tune=300, chains=2, seed=11, progressbar=False)


def test_posterior_groups_dims_and_coords(jsp_nuts):
    design, r = jsp_nuts
    tree = r.idata
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data"} <= set(tree.children)
    post = tree["posterior"]
    assert post["beta"].dims == ("chain", "draw", "fixed")
    assert list(post["beta"].coords["fixed"].values) == ["math3", "_cons"]
    assert post["b[school]"].shape == (2, 200, 48, 2)
    assert list(post["school_effects"].values) == ["math3", "_cons"]
    assert len(post["school_groups"]) == 48
    assert tree["log_likelihood"]["math5"].shape == (2, 200, design.n)


def test_estimates_agree_with_ml_and_are_reported_like_it(jsp_nuts):
    design, r = jsp_nuts
    ml = fit_lmm(design)
    summary = r.summary()
    sd = summary.loc["math5", "sd"].to_numpy()
    assert np.all(np.abs(r.coef.to_numpy() - ml.coef.to_numpy()) < sd)
    assert r.coef.index.tolist() == ml.coef.index.tolist()
    assert list(r.re_cov["school"].index) == ["math3", "_cons"]
    assert r.sigma2 == pytest.approx(ml.sigma2, rel=0.1)
    assert r.divergences == 0
    diag = r.diagnostics()
    assert list(diag.columns) == ["r_hat", "ess_bulk", "ess_tail"]
    assert "school:cov(math3,_cons)" in diag.index and "Residual:var(e)" in diag.index


def test_random_effects_are_shrunken_toward_zero(jsp_nuts):
    _, r = jsp_nuts
    re = r.random_effects("school")
    assert re.shape == (48, 2)
    assert abs(re["_cons"].mean()) < 1.0


def test_printed_output_has_statas_layout_and_the_priors(jsp_nuts):
    _, r = jsp_nuts
    text = str(r)
    assert "Bayesian multilevel regression" in text
    assert "MCMC sample size =" in text and "Number of obs    =" in text
    assert "Mean  Std. dev.       MCSE     Median" in text
    assert "Equal-tailed" in text and "R-hat" in text
    assert "var(math3)" in text and "Priors:" in text and "beta[math3]" in text


def test_noncentred_and_stata_priors_run():
    design = toy_design()
    r = fit_bayes(
        design,
        draws=100,
        tune=150,
        chains=1,
        seed=3,
        marginalize=False,
        priors="stata",
        progressbar=False,
    )
    assert not r.marginalized
    assert r.idata["posterior"]["b[g]"].shape == (1, 100, 6, 2)
    assert "cov[g]" in r.priors and r.priors["cov[g]"] == "iwishart(3)"


def test_optional_samplers_give_a_clear_error_when_missing():
    for name in ("nutpie", "numpyro"):
        try:
            __import__(name)
        except ImportError:
            with pytest.raises(NotSupportedError, match=f"pip install bayesmixed\\[{name}\\]"):
                check_sampler(name)
    with pytest.raises(SpecificationError, match="unknown sampler"):
        check_sampler("stan")


def test_unsupported_models_and_options_are_refused():
    design = toy_design()
    with pytest.raises(SpecificationError, match="unknown method"):
        fit_bayes(design, method="vi")
    other = toy_design()
    other.spec = other.spec.__class__(
        **{**other.spec.__dict__, "family": "gaussian", "link": "log", "command": "meglm"}
    )
    with pytest.raises(NotSupportedError, match="meglm"):
        fit_bayes(other)


def test_a_covariate_far_from_zero_is_named_before_sampling():
    """The Bayesian engine does not centre yet (the ML engine does): say so, by name."""
    import warnings

    import pandas as pd

    from bayesmixed.design import build_design
    from bayesmixed.engines.bayes.fit import CenteringWarning, warn_far_from_zero
    from bayesmixed.spec.model import ModelSpec, RandomEquation

    from .helpers import terms

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40), "z": rng.normal(size=40)})
    frame["g"], frame["y"] = np.arange(40) % 5, rng.normal(size=40)
    spec = ModelSpec("y", terms("x", "z"), (RandomEquation(("g",)),))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CenteringWarning)
        warn_far_from_zero(build_design(spec, frame))  # ordinary data: silent
        warn_far_from_zero(build_design(spec, frame.assign(x=frame.x + 1e3)))
    with pytest.warns(CenteringWarning, match=r"^x lies far from zero.*centre them first"):
        warn_far_from_zero(build_design(spec, frame.assign(x=frame.x + 1e7)))
