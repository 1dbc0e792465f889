"""Heteroskedastic residual cells in the marginal model (residuals(independent, by()))."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.stats import multivariate_normal

import bayesmixed
from bayesmixed import datasets
from bayesmixed.design import build_design
from bayesmixed.engines.bayes.hetero import residual_cells
from bayesmixed.engines.bayes.marginal import full_lambda, suff_stats, weighted_loglik
from bayesmixed.errors import NotSupportedError
from bayesmixed.fitting import fit_bayes
from bayesmixed.spec.model import RandomEquation, ResidualSpec

from .helpers import ModelSpec, terms


def _frame(seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"g": np.repeat(np.arange(8), 6), "x": rng.normal(size=48)})
    frame["s"] = np.tile([0, 1, 1], 16)
    frame["t"] = np.tile(np.arange(6), 8)
    sd = np.where(frame.s == 1, 2.0, 0.5)
    frame["y"] = 1 + frame.x + rng.normal(size=8)[frame.g] + sd * rng.normal(size=48)
    return frame


def _design(residual: ResidualSpec):
    spec = ModelSpec("y", terms("x"), (RandomEquation(("g",)),), residual=residual)
    return build_design(spec, _frame())


def test_cells_follow_the_by_groups_with_statas_labels():
    cells = residual_cells(_design(ResidualSpec("independent", by="s")))
    assert cells.labels == ["0: var(e)", "1: var(e)"]
    assert cells.keys == ["s=0", "s=1"]
    assert [len(r) for r in cells.rows] == [16, 32]


def test_weighted_likelihood_is_the_dense_heteroskedastic_normal():
    design = _design(ResidualSpec("independent", by="s"))
    cells = residual_cells(design)
    parts = [suff_stats(design, r) for r in cells.rows]
    var = np.array([0.3, 3.5])
    lam = pt.dmatrix()
    beta = np.array([0.9, 1.1])
    logvar = sum(len(r) * np.log(v) for r, v in zip(cells.rows, var))
    out = weighted_loglik(parts, list(1 / var), logvar, full_lambda([lam], design), beta)
    value = pytensor.function([lam], out)(np.array([[0.8]]))
    z = suff_stats(design).z.toarray()
    cov = 0.64 * z @ z.T + np.diag(var[cells.of_obs])
    expected = multivariate_normal(design.X @ beta, cov).logpdf(design.y)
    assert value == pytest.approx(expected, rel=1e-10)


def test_correlated_structures_need_the_effects_integrated_out():
    design = _design(ResidualSpec("ar", order=1, t="t"))
    with pytest.raises(NotSupportedError, match="marginalize=True"):
        fit_bayes(design, marginalize=False)


@pytest.mark.slow
def test_rats_by_female_agrees_with_ml():
    data = datasets.load("rats")
    cmd = "mixed weight i.dose size female || litter:, residuals(independent, by(female))"
    ml = bayesmixed.stata(cmd, data)
    r = bayesmixed.stata(
        "bayes: " + cmd, data, draws=150, tune=200, chains=2, seed=5, progressbar=False
    )
    post = r.idata["posterior"]
    assert list(post["sigma_e"].coords["residual_cells"].values) == ["0: var(e)", "1: var(e)"]
    beta = post["beta"].values.reshape(-1, r.design.p)
    z = np.abs(beta.mean(axis=0) - ml.coef.to_numpy()) / beta.std(axis=0)
    assert z.max() < 1.0
    var = (post["sigma_e"].values ** 2).reshape(-1, 2).mean(axis=0)
    ml_var = [v for k, v in ml.residual_params.items() if "var(e)" in k]
    assert var == pytest.approx(ml_var, rel=0.3)
    assert ("Residual", "1: var(e)") in r.parameter_draws()
    assert "1: var(e)" in str(r)
    # rstandard divides by each row's own cell SD, not by sigma (cell 0's)
    std = r.predict("rstandard").to_numpy()
    raw = r.predict("residuals").to_numpy()
    sd_cell = post["sigma_e"].values.reshape(-1, 2).mean(axis=0)[residual_cells(r.design).of_obs]
    # (the mean of e_s / sd_s is not mean(e) / mean(sd), but close: 0.02 at most here,
    # against 1.3 had every row been divided by sigma)
    assert np.abs(std - raw / sd_cell).max() < 0.1
