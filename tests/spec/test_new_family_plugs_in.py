"""A family defined here, registered at run time, is fitted by every engine unchanged.

This is the claim of the domain-object design: engines, results and postestimation ask a
family object for what they need, so a new response distribution is one class plus a
registry entry.  The family below (exponential responses, log link) exists only in this
test.  Oracle for the ML fit: the marginal log likelihood at the estimates computed
independently, group by group, with scipy.integrate.quad over the normal intercept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import bayesmixed as bm
from bayesmixed.spec import family as registry
from bayesmixed.spec.families.base import EMPTY, Family
from bayesmixed.spec.families.math import NUMPY


class Exponential(Family):
    name = "exponential"
    links = ("log",)

    def loglik(self, y, eta, trials=None, anc=EMPTY, xp=NUMPY) -> Any:
        return -eta - y * xp.exp(-eta)

    def variance(self, mu, anc=EMPTY):
        return mu**2

    def simulate(self, rng, eta, trials=None, anc=EMPTY):
        return rng.exponential(np.exp(eta))


@pytest.fixture
def exponential(monkeypatch):
    monkeypatch.setitem(registry.REGISTRY, "exponential", Exponential)


def _data(seed=2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(30), 10)
    x = rng.normal(size=g.size)
    mu = np.exp(0.3 + 0.5 * x + rng.normal(0, 0.6, 30)[g])
    return pd.DataFrame({"y": rng.exponential(mu), "x": x, "g": g})


def _spec(data):
    spec = bm.syntax.stata_to_spec("meglm y x || g:", data)
    return replace(spec, family="exponential", link="log")


def test_a_registered_family_is_fitted_by_the_glmm_engine(exponential):
    data = _data()
    r = bm.api.fit_spec(_spec(data), data)
    assert r.family == Exponential("log")
    # independent oracle: sum over groups of log int prod_i f(y_i | x_i b + u) phi(u; s) du
    s = float(np.sqrt(r.cov_blocks[0][0, 0]))
    b = dict(zip(r.design.fixed_names, r.beta))
    eta0 = b["_cons"] + b["x"] * data["x"].to_numpy()
    total = 0.0
    for _, rows in data.groupby("g").indices.items():
        y, e = data["y"].to_numpy()[rows], eta0[rows]

        def f(u, y=y, e=e):
            return np.exp(np.sum(-(e + u) - y * np.exp(-(e + u)))) * stats.norm.pdf(u, 0, s)

        total += np.log(integrate.quad(f, -10 * s, 10 * s, epsabs=0, epsrel=1e-12)[0])
    assert r.loglik == pytest.approx(total, rel=1e-6)
    assert "Mixed-effects GLM" in str(r)
    assert r.predict("mu").shape == (len(data),)


@pytest.mark.slow
def test_a_registered_family_is_sampled_by_the_bayesian_engine(exponential):
    data = _data()
    ml = bm.api.fit_spec(_spec(data), data)
    r = bm.api.fit_spec(_spec(data), data, method="nuts", draws=300, tune=300, chains=2, seed=3)
    beta = r.idata["posterior"]["beta"].values.reshape(-1, 2)
    assert (np.abs(beta.mean(axis=0) - ml.beta) / beta.std(axis=0)).max() < 0.5
    rep = r.posterior_predictive(draws=10, seed=1)
    assert np.all(rep.values > 0)
