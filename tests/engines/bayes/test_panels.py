"""Correlated residual structures under the Bayesian engine (issue 5 with issue 3's types).

The integrated likelihood is checked against the dense multivariate normal
``y ~ N(X m0, X S0 X' + Z G Z' + V)`` built row by row from the shared structure's NumPy
correlation (no code of the engine's panel path is reused), the Laplace mode with flat
priors against the ML engine (itself matched to nlme), and a short NUTS run end to end.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import block_diag
from scipy.stats import multivariate_normal

import bayesmixed
from bayesmixed import datasets
from bayesmixed.design import build_design
from bayesmixed.engines.bayes.build import build_model
from bayesmixed.engines.bayes.marginal import suff_stats
from bayesmixed.engines.bayes.priors import resolve_priors
from bayesmixed.syntax import stata_to_spec

X = "gsp private emp unemp"


def _data():
    df = datasets.load("productivity")
    df = df[df.year <= 1975].copy()  # 6 years: unstructured stays small
    df["half"] = (df.state.astype("category").cat.codes % 2).astype(int)
    return df


def _design(residuals: str, levels: str = "|| state:"):
    df = _data()
    return build_design(stata_to_spec(f"mixed {X} {levels}, residuals({residuals})", df), df)


def _dense_oracle(design, built, values) -> float:
    """log N(y | X m0, X S0 X' + Z G Z' + V), V from spec.residual row by row."""
    data, cells = design.residual, built.cells.of_obs
    sd, z = values["sigma_e"], values["resid_z"]
    v = np.zeros((design.n, design.n))
    for batch in data.batches:
        for rows, times, levels in zip(batch.rows, batch.times, batch.levels):
            r = data.model.structure.correlation(z[batch.group], times, levels)
            v[np.ix_(rows, rows)] = np.outer(sd[cells[rows]], sd[cells[rows]]) * r
    z_mat = suff_stats(design).z.toarray()
    covs = [values[f"cov[{n}]"] for n in built.names]
    g = block_diag(*[np.kron(np.eye(b.n_groups), c) for b, c in zip(design.blocks, covs)])
    s0 = np.diag(1.0 / built.prior_prec)
    cov = design.X @ s0 @ design.X.T + z_mat @ g @ z_mat.T + v
    return multivariate_normal(design.X @ built.prior_mean, cov).logpdf(design.y)


CASES = [
    ("ar 1, t(year)", "|| region: || state:"),  # two equations: the dense path
    ("ar 2, t(year)", "|| state: emp"),  # random slope: the blocked path with k = 2
    ("ma 1, t(year) by(half)", "|| state:"),
    ("exchangeable", "|| state:"),
    ("toeplitz 2, t(year)", "|| state:"),
    ("exponential, t(year)", "|| state:"),
    ("unstructured, t(year)", "|| state:"),
    ("banded 1, t(year)", "|| state:"),
]


@pytest.mark.parametrize(("residuals", "levels"), CASES)
def test_integrated_likelihood_is_the_dense_normal(residuals, levels):
    design = _design(residuals, levels)
    built = build_model(design, resolve_priors(design), marginal=True, integrate_beta=True)
    model = built.model
    names = ["sigma_e", "resid_z"] + [f"cov[{n}]" for n in built.names]
    outs = model.replace_rvs_by_values([model["marginal_loglik"]] + [model[n] for n in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, point_fn=False, mode="FAST_RUN")
    rng = np.random.default_rng(3)
    start = model.initial_point()
    checked = 0
    for _ in range(2):  # two random points of the unconstrained space
        point = {k: v + 0.4 * rng.standard_normal(np.shape(v)) for k, v in start.items()}
        ours, *vals = fn(*[point[v.name] for v in model.value_vars])
        values = dict(zip(names, vals))
        if "banded" in residuals and not np.all(np.isfinite(ours)):
            continue  # a banded draw need not be positive definite (the sampler rejects it)
        assert float(ours) == pytest.approx(_dense_oracle(design, built, values), rel=1e-10)
        checked += 1
    assert checked >= 1


@pytest.mark.slow
def test_laplace_with_flat_priors_is_ml_under_ar1():
    df = _data()
    cmd = f"mixed {X} || state:, residuals(ar 1, t(year))"
    ml = bayesmixed.stata(cmd, df)
    r = bayesmixed.stata(cmd, df, method="laplace", priors="flat", draws=50, seed=1)
    assert r.info["converged"] and not r.info["boundary"]
    assert r.mode.to_numpy() == pytest.approx(ml.coef.to_numpy(), rel=1e-5)
    assert r.mode_values["sigma"] ** 2 == pytest.approx(ml.sigma2, rel=1e-4)
    rho = np.tanh(r.mode_values["resid_z"][0, 0])
    assert rho == pytest.approx(ml.residual_params["rho"], rel=1e-4)


@pytest.mark.slow
def test_nuts_under_ar1_end_to_end():
    df = _data()
    cmd = f"mixed {X} || state:, residuals(ar 1, t(year))"
    ml = bayesmixed.stata(cmd, df)
    r = bayesmixed.stata("bayes: " + cmd, df, draws=300, tune=400, chains=2, seed=2,
                         progressbar=False)  # fmt: skip
    post = r.idata["posterior"]
    assert list(post["residual"].coords["residual_rows"].values) == ["rho", "var(e)"]
    assert r.idata["log_likelihood"]["gsp"].dims == ("chain", "draw", "panel")
    assert r.idata["log_likelihood"]["gsp"].sizes["panel"] == 48
    assert post["b[state]"].shape == (2, 300, 48, 1)
    assert r.divergences == 0
    draws = r.parameter_draws()
    rho = draws[("Residual", "rho")]
    assert abs(rho.mean() - ml.residual_params["rho"]) < 3 * rho.std()
    assert np.all(np.abs(r.coef.to_numpy() - ml.coef.to_numpy()) < 1.0 * ml.se.to_numpy())
    assert "rho" in str(r)
    # rstandard whitens each draw's residuals by its own V: the AR(1) dependence is gone
    rows = r.design.residual.batches[0].rows  # (48 states, 6 years), time-ordered
    std = r.predict("rstandard").to_numpy()
    raw = r.predict("residuals").to_numpy()

    def lag1(v):
        return np.corrcoef(v[rows[:, :-1]].ravel(), v[rows[:, 1:]].ravel())[0, 1]

    assert lag1(raw) > 0.5 and abs(lag1(std)) < 0.25
    assert np.corrcoef(std, ml.predict("rstandard").to_numpy())[0, 1] > 0.95


@pytest.mark.slow
def test_posterior_predictive_reproduces_the_ar1_correlation():
    """Replicated errors carry the structure: lag-1 correlation ~ the posterior rho."""
    df = _data()
    cmd = f"bayes: mixed {X} || state:, residuals(ar 1, t(year))"
    r = bayesmixed.stata(cmd, df, draws=200, tune=300, chains=2, seed=4, progressbar=False)
    rep = r.posterior_predictive(draws=100, seed=1)
    assert rep.shape == (2, 100, r.design.n)
    fitted = r.predict("fitted").to_numpy()
    design = r.design
    rows = design.residual.batches[0].rows  # (48 states, 6 years), time-ordered
    e = rep.values.reshape(-1, design.n) - fitted[None, :]
    lag1 = np.mean([np.corrcoef(e[:, rows[:, t]].ravel(), e[:, rows[:, t + 1]].ravel())[0, 1]
                    for t in range(rows.shape[1] - 1)])  # fmt: skip
    rho = r.parameter_draws()[("Residual", "rho")].mean()
    # fitted (posterior-mean) effects are subtracted, so the lag-1 correlation also carries
    # the random-intercept variance; it must be at least rho's and well above zero
    assert lag1 > 0.5 * rho > 0.2
    with pytest.raises(bayesmixed.BayesmixedError, match="new data"):
        r.posterior_predictive(data=df.head(20))
