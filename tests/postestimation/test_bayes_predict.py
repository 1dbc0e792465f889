"""predict, random_effects and posterior_predictive after a Bayesian fit.

Most checks use a *point-mass* posterior built from an ML fit (every draw equal to the
ML estimates and BLUPs): then every posterior mean must equal the frequentist
prediction exactly and every posterior SD must be zero, without running a sampler.
The sampled jsp fit is checked against lme4 in test_bayes_acceptance.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from predict_fixtures import data, fitted

from bayesmixed.errors import NotSupportedError, SpecificationError
from bayesmixed.postestimation.blup import blups
from bayesmixed.postestimation.estimates import estimates_table
from bayesmixed.results.bayes import BayesResult

LOG_2PI = np.log(2 * np.pi)


def block_names(design) -> list[str]:
    names: list[str] = []
    for block in design.blocks:
        name, i = block.key, 2
        while name in names:
            name, i = f"{block.key}#{i}", i + 1
        names.append(name)
    return names


def point_mass(freq, chains: int = 2, draws: int = 50, jitter: float = 0.0, seed: int = 0):
    """A BayesResult whose draws sit at ``freq``'s estimates (plus optional noise)."""
    design, rng = freq.design, np.random.default_rng(seed)
    cd = ("chain", "draw")

    def rep(a, noise=jitter):
        a = np.asarray(a, float)
        return a + noise * rng.standard_normal((chains, draws) + a.shape)

    names = block_names(design)
    beta = rep(freq.beta)
    post = {"beta": (cd + ("fixed",), beta)}
    mean = np.einsum("cdp,np->cdn", beta, design.X)
    coords = {"fixed": list(design.fixed_names)}
    for name, block, vals, cov in zip(names, design.blocks, blups(freq).values, freq.cov_blocks):
        eff, grp = f"{name}_effects", f"{name}_groups"
        b = rep(vals)
        post[f"b[{name}]"] = (cd + (grp, eff), b)
        post[f"cov[{name}]"] = (cd + (eff, f"{eff}_"), rep(cov, 0.0))
        coords.update({eff: list(block.effect_names), f"{eff}_": list(block.effect_names)})
        coords[grp] = [str(g) for g in block.groups]
        mean = mean + np.einsum("cdnk,nk->cdn", b[:, :, block.codes], block.Z)
    groups = {"posterior": xr.Dataset(post, coords=coords)}
    if not hasattr(freq, "family"):
        sigma = np.abs(rep(np.sqrt(freq.sigma2), jitter / 10))
        post["sigma"] = (cd, sigma)
        groups["posterior"] = xr.Dataset(post, coords=coords)
        s2 = sigma[..., None] ** 2
        ll = -0.5 * (LOG_2PI + np.log(s2) + (design.y - mean) ** 2 / s2)
        groups["log_likelihood"] = xr.Dataset({design.spec.response: (cd + ("obs",), ll)})
    tree = xr.DataTree.from_dict(groups)
    return BayesResult(design, tree, "nuts", "test", {}, names, True)


@pytest.fixture(scope="module")
def jsp_uns():
    ml = fitted("jsp_uns")
    return ml, point_mass(ml)


@pytest.mark.parametrize("kind", ["xb", "fitted", "residuals", "rstandard", "reffects"])
def test_point_mass_means_equal_the_frequentist_predictions(jsp_uns, kind):
    ml, bayes = jsp_uns
    got, want = bayes.predict(kind), ml.predict(kind)
    assert type(got) is type(want)
    if isinstance(want, pd.DataFrame):
        assert list(got.columns) == list(want.columns) == ["school: math3", "school: _cons"]
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind", ["stdp", "reses"])
def test_point_mass_posterior_sds_are_zero(jsp_uns, kind):
    _, bayes = jsp_uns
    np.testing.assert_allclose(np.asarray(bayes.predict(kind)), 0.0, atol=1e-10)


def test_posterior_sd_and_interval_are_those_of_the_draws():
    ml = fitted("jsp_ri")
    bayes = point_mass(ml, jitter=0.3, seed=4)
    beta = bayes.posterior["beta"].values.reshape(-1, 2)
    xb = beta @ ml.design.X[:3].T
    np.testing.assert_allclose(bayes.predict("stdp")[:3], xb.std(axis=0, ddof=1))
    frame = bayes.predict("xb", interval=0.9)
    assert list(frame.columns) == ["xb", "lower", "upper"]
    np.testing.assert_allclose(frame["lower"][:3], np.quantile(xb, 0.05, axis=0))
    np.testing.assert_allclose(frame["upper"][:3], np.quantile(xb, 0.95, axis=0))
    assert frame.attrs["interval"] == 0.9
    assert bayes.predict("xb", interval=90).equals(frame)  # a percentage, as Stata's level()


def test_reffects_interval_columns_follow_each_effect(jsp_uns):
    _, bayes = jsp_uns
    frame = bayes.predict("reffects", interval=0.95)
    assert list(frame.columns)[:3] == [
        "school: math3",
        "lower(school: math3)",
        "upper(school: math3)",
    ]


def test_random_effects_has_the_frequentist_shape_and_keeps_the_old_form(jsp_uns):
    ml, bayes = jsp_uns
    got, want = bayes.random_effects(), ml.random_effects()
    assert list(got) == list(want) == ["school"]
    assert list(got["school"].columns) == list(want["school"].columns)
    assert got["school"].index.equals(want["school"].index)
    np.testing.assert_allclose(
        got["school"][["math3", "_cons"]], want["school"][["math3", "_cons"]]
    )
    np.testing.assert_allclose(got["school"][["sd(math3)", "sd(_cons)"]], 0.0, atol=1e-12)
    old = bayes.random_effects("school")
    np.testing.assert_allclose(old.to_numpy(), want["school"][["math3", "_cons"]].to_numpy())


def test_nested_relevel_matches_the_frequentist_side():
    ml = fitted("prod_nested")
    bayes = point_mass(ml, draws=10)
    for relevel in ("region", "state"):
        np.testing.assert_allclose(
            bayes.predict("fitted", relevel=relevel), ml.predict("fitted", relevel=relevel)
        )


def test_glmm_kinds_use_the_link(monkeypatch):
    ml = fitted("bang_ri_laplace")
    bayes = point_mass(ml, draws=10)
    for kind in ("pr", "mu", "eta", "xb"):
        np.testing.assert_allclose(bayes.predict(kind), ml.predict(kind), rtol=1e-10)
    np.testing.assert_allclose(
        bayes.predict("mu", marginal=True), ml.predict("mu", marginal=True), rtol=1e-10
    )
    rep = bayes.posterior_predictive(draws=5, seed=1)
    assert set(np.unique(rep.values)) <= {0.0, 1.0}


def test_new_groups_get_fresh_effects_from_the_posterior_covariance():
    ml = fitted("jsp_ri")
    bayes = point_mass(ml, chains=4, draws=1000)
    new = data("jsp").iloc[[0, 0, 0, 5]].reset_index(drop=True)
    new["school"] = [900, 900, 901, new["school"].iloc[3]]
    fit = bayes.predict("fitted", data=new, interval=0.95)
    assert fit.attrs["new_groups"] == {"school": (0, 1, 2)}
    assert "fresh draws" in fit.attrs["new_group_effects"]
    # the two rows of school 900 share each draw of its effect; school 901 has its own
    assert fit.iloc[0].equals(fit.iloc[1])
    assert not fit.iloc[0].equals(fit.iloc[2])
    xb = ml.predict("xb").iloc[0]
    assert fit.iloc[0, 0] == pytest.approx(xb, abs=0.15)  # MC error of the mean of N(0, tau2)
    sd = bayes.predict("reses", data=new)["school: _cons"].to_numpy()
    prior_sd = np.sqrt(ml.cov_blocks[0][0, 0])
    np.testing.assert_allclose(sd[:3], prior_sd, rtol=0.05)
    assert sd[3] == pytest.approx(0.0, abs=1e-10)  # a seen school: its (point-mass) draws
    seen = ml.predict("fitted").loc[data("jsp").index[5]]
    assert fit.iloc[3, 0] == pytest.approx(seen)
    again = bayes.predict("fitted", data=new, interval=0.95)
    assert again.equals(fit)  # the fresh draws are seeded


def test_posterior_predictive_draws_and_datatree_group():
    ml = fitted("jsp_ri")
    bayes = point_mass(ml, draws=200)
    rep = bayes.posterior_predictive(seed=3)
    assert rep.dims == ("chain", "draw", "obs") and rep.shape == (2, 200, ml.nobs)
    assert "posterior_predictive" in bayes.idata.children
    stored = bayes.idata["posterior_predictive"]["math5"].values
    np.testing.assert_array_equal(stored, rep.values)
    resid = rep.values - ml.predict("fitted").to_numpy()
    assert resid.mean() == pytest.approx(0.0, abs=0.05)
    assert resid.std() == pytest.approx(np.sqrt(ml.sigma2), rel=0.02)
    few = bayes.posterior_predictive(draws=7, seed=3)
    assert few.shape == (2, 7, ml.nobs)
    assert few.equals(bayes.posterior_predictive(draws=7, seed=3))
    with pytest.raises(SpecificationError, match="draws must be"):
        bayes.posterior_predictive(draws=201)


def test_impossible_requests_are_clear_errors(jsp_uns):
    ml, bayes = jsp_uns
    with pytest.raises(SpecificationError, match="posterior SD"):
        bayes.predict("reses", interval=0.95)
    with pytest.raises(SpecificationError, match="interval must"):
        bayes.predict("xb", interval=1.5)
    with pytest.raises(SpecificationError, match="unknown kind"):
        bayes.predict("pr")
    with pytest.raises(SpecificationError, match="marginal"):
        bayes.predict("fitted", marginal=True)
    with pytest.raises(NotSupportedError, match="credible intervals after a Bayesian fit"):
        ml.predict("xb", interval=0.95)


def test_module_level_predict_dispatches_to_the_bayesian_side(jsp_uns):
    from bayesmixed import predict  # the one module-level entry point

    _, bayes = jsp_uns
    assert predict(bayes, "fitted").equals(bayes.predict("fitted"))


def test_estimates_table_puts_ml_beside_bayes():
    ml = fitted("jsp_ri")
    bayes = point_mass(ml, jitter=0.2)
    table = estimates_table(ml, bayes, names=["ml", "bayes"], se=True)
    np.testing.assert_allclose(table.loc[("math3", "b"), "bayes"], bayes.coef["math3"])
    beta = bayes.posterior["beta"].values.reshape(-1, 2)
    assert table.loc[("math3", "se"), "bayes"] == pytest.approx(beta[:, 0].std(ddof=1))
    assert table.loc[("math3", "se"), "ml"] == pytest.approx(ml.se["math3"])
    assert table.loc[("N", ""), "bayes"] == ml.nobs


def test_new_groups_are_named_in_a_warning_and_bad_seeds_refused():
    """Issue 19 item 10 for Bayesian fits: new groups never pass silently."""
    from bayesmixed.postestimation.newdata import NewGroupWarning

    ml = fitted("jsp_ri")
    bayes = point_mass(ml, draws=50)
    new = data("jsp").iloc[[0, 5]].reset_index(drop=True)
    new["school"] = [900, new["school"].iloc[1]]
    with pytest.warns(NewGroupWarning, match=r"1 row in 1 school group .*\(900\).*drawn afresh"):
        bayes.predict("fitted", data=new)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NewGroupWarning)
        bayes.predict("xb", data=new)  # uses no group's effect: nothing to warn about
    for bad in (-1, "abc", 1.5):
        with pytest.raises(SpecificationError, match="seed"):
            bayes.predict("fitted", data=new, seed=bad)
