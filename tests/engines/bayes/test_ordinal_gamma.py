"""The families added after the domain-object pass, under NUTS: ordinal and gamma.

Both were added as a family class (plus a registry line); these tests check that the
Bayesian engine samples them through the shared density with nothing family-specific
in the engine: the posterior agrees with the ML fit of the same model (large samples,
weak priors), the cutpoints come out ordered and labelled as Stata labels them, and the
pointwise log likelihood equals the family's NumPy density at the draws.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.spec.family import get_family

SIM = Path(__file__).parents[2] / "reference" / "ordinal_sim.csv"


@cache
def _ordinal_fit():
    """One NUTS fit shared by the ordinal tests (the suite's time is bounded)."""
    data = pd.read_csv(SIM)
    return bm.stata("bayes, rseed(4) nchains(2): meologit y x d || id:", data, draws=400, tune=400)


@pytest.mark.slow
def test_meologit_posterior_agrees_with_ml_and_labels_cutpoints():
    data = pd.read_csv(SIM)
    ml = bm.stata("meologit y x d || id:", data)
    r = _ordinal_fit()
    post = r.idata["posterior"]
    assert list(post["cut"].coords["cut_index"].values) == ["cut1", "cut2", "cut3"]
    cuts = post["cut"].values.reshape(-1, 3)
    assert np.all(np.diff(cuts, axis=1) > 0)
    ml_cuts = ml.family.anc_shown(ml.ancillary)
    z = np.abs(cuts.mean(axis=0) - ml_cuts) / cuts.std(axis=0)
    assert z.max() < 0.5
    beta = post["beta"].values.reshape(-1, 2)
    assert (np.abs(beta.mean(axis=0) - ml.beta) / beta.std(axis=0)).max() < 0.5
    assert r.divergences == 0
    assert r.diagnostics()["r_hat"].max() < 1.02
    text = str(r)
    assert "/cut1" in text and re.search(r"cut +~ normal\(0, 25\)", text)
    # the pointwise log likelihood is the family's own density at a draw
    fam, codes = get_family("ordinal", "logit").prepare(data["y"].to_numpy(float))
    s = (0, 7)
    b = post["b[id]"].values[s][:, 0][r.design.blocks[0].codes]
    eta = r.design.X @ post["beta"].values[s] + b
    want = fam.loglik(codes, eta, None, fam.anc_working(list(post["cut"].values[s])))
    assert r.idata["log_likelihood"]["y"].values[s] == pytest.approx(want, rel=1e-9)
    # the report's trace plots read the draws by Stata's names; /cut1 must not break them
    from bayesmixed.plot.diagnostics import stata_tree

    assert "y:cut1" in stata_tree(r)["posterior"].data_vars
    rep = r.posterior_predictive(draws=20, seed=1)
    assert set(np.unique(rep.values)) <= {1.0, 2.0, 3.0, 4.0}
    # Stata's bayes: meologit names the cutpoints {cut1}...; posterior predictive p-values
    table = r.bayesstats_summary("{cut1} {cut3}").table
    assert table.loc[("", "cut3"), "mean"] == pytest.approx(cuts[:, 2].mean(), rel=1e-12)
    pp = r.bayesstats_ppvalues("(m:@mean({_ysim}))", draws=50, seed=2).table
    assert pp.loc["m", "t_obs"] == pytest.approx(data["y"].mean(), rel=1e-12)
    assert 0.01 < pp.loc["m", "p"] < 0.99  # the model fits its own simulated data


def _gamma_data(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(40), 12)
    x = rng.normal(size=g.size)
    mu = np.exp(0.5 + 0.4 * x + rng.normal(0, 0.5, 40)[g])
    shape = 1 / 0.3  # phi = 0.3
    return pd.DataFrame({"y": rng.gamma(shape, mu / shape), "x": x, "g": g})


@pytest.mark.slow
def test_meglm_gamma_posterior_agrees_with_ml():
    data = _gamma_data()
    cmd = "meglm y x || g:, family(gamma) link(log)"
    ml = bm.stata(cmd, data)
    r = bm.stata("bayes, rseed(2) nchains(2): " + cmd, data, draws=400, tune=400)
    post = r.idata["posterior"]
    beta = post["beta"].values.reshape(-1, 2)
    assert (np.abs(beta.mean(axis=0) - ml.beta) / beta.std(axis=0)).max() < 0.5
    phi = post["phi"].values.ravel()
    assert abs(np.log(phi).mean() - ml.log_phi) / np.log(phi).std() < 1.0
    assert r.divergences == 0
    assert "/phi" in str(r)


@pytest.mark.slow
def test_bayesian_meologit_predicts_outcome_probabilities():
    data = pd.read_csv(SIM)
    r = _ordinal_fit()
    pr = r.predict("pr")
    assert list(pr.columns) == ["pr(1)", "pr(2)", "pr(3)", "pr(4)"]
    assert pr.sum(axis=1).to_numpy() == pytest.approx(np.ones(len(data)))
    # the posterior mean of the probabilities, computed by hand from the draws at one row
    post = r.idata["posterior"]
    cuts = post["cut"].values.reshape(-1, 3)
    beta = post["beta"].values.reshape(-1, 2)
    u = post["b[id]"].values.reshape(-1, r.design.blocks[0].n_groups)[
        :, r.design.blocks[0].codes[0]
    ]
    eta = beta @ r.design.X[0] + u
    cdf = 1 / (1 + np.exp(-(cuts - eta[:, None])))
    want = np.diff(np.c_[np.zeros(len(eta)), cdf, np.ones(len(eta))], axis=1).mean(axis=0)
    assert pr.iloc[0].to_numpy() == pytest.approx(want, rel=1e-10)
    assert r.predict("pr", outcome="#3").iloc[0] == pytest.approx(want[2])
