"""BayesResult from a hand-built DataTree: accessors, summaries and convergence warnings.

No sampler runs here: the draws are made with NumPy so every number is known.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayesmixed.results.bayes import BayesResult
from bayesmixed.results.render_bayes import render_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines" / "bayes"))
from helpers import toy_design  # noqa: E402


def _tree(chains=4, draws=500, seed=0, shift_chain=0.0, diverging=0):
    rng = np.random.default_rng(seed)
    design = toy_design()
    cd = ("chain", "draw")
    beta = rng.normal([0.5, 1.0], 0.1, size=(chains, draws, 2))
    beta[0] += shift_chain
    sd_g = np.abs(rng.normal(1.0, 0.1, size=(chains, draws, 2)))
    cov_g = np.zeros((chains, draws, 2, 2))
    cov_g[..., 0, 0], cov_g[..., 1, 1] = sd_g[..., 0] ** 2, sd_g[..., 1] ** 2
    cov_g[..., 0, 1] = cov_g[..., 1, 0] = 0.3 * sd_g[..., 0] * sd_g[..., 1]
    cov_h = np.full((chains, draws, 1, 1), 0.25)
    post = xr.Dataset(
        {
            "beta": (cd + ("fixed",), beta),
            "sigma": (cd, np.abs(rng.normal(2.0, 0.1, size=(chains, draws)))),
            "cov[R.h]": (cd + ("R.h_effects", "R.h_effects_"), cov_h),
            "cov[g]": (cd + ("g_effects", "g_effects_"), cov_g),
            "b[g]": (cd + ("g_groups", "g_effects"), rng.normal(size=(chains, draws, 6, 2))),
        },
        coords={
            "fixed": ["x", "_cons"],
            "g_effects": ["x", "_cons"],
            "g_effects_": ["x", "_cons"],
            "g_groups": [str(i) for i in range(6)],
        },
    )
    div = np.zeros((chains, draws), bool)
    div.flat[:diverging] = True
    stats = xr.Dataset(
        {
            "diverging": (cd, div),
            "acceptance_rate": (cd, np.full((chains, draws), 0.9)),
            "energy": (cd, rng.normal(size=(chains, draws))),
        }
    )
    tree = xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})
    return BayesResult(
        design,
        tree,
        "nuts",
        "pymc",
        {"sigma": "halfnormal(5)"},
        ["R.h", "g"],
        True,
        tune=500,
        info={"prior_lines": ["sigma ~ hn"]},
    )


def test_accessors_are_posterior_means_with_ml_names():
    r = _tree()
    beta = r.posterior["beta"].values.reshape(-1, 2).mean(axis=0)
    assert r.coef.to_numpy() == pytest.approx(beta)
    assert r.coef.index.tolist() == ["x", "_cons"]
    assert r.re_cov["R.h"].to_numpy() == pytest.approx(np.array([[0.25]]))
    assert r.re_cov["g"].loc["x", "_cons"] == pytest.approx(
        r.posterior["cov[g]"].values[..., 0, 1].mean()
    )
    assert r.mode is None and r.divergences == 0 and r.acceptance_rate == pytest.approx(0.9)


def test_summary_rows_follow_the_covariance_structures():
    s = _tree().summary()
    assert list(s.index) == [
        ("y", "x"),
        ("y", "_cons"),
        ("R.h", "var(R.h)"),
        ("g", "var(x)"),
        ("g", "var(_cons)"),
        ("g", "cov(x,_cons)"),
        ("Residual", "var(e)"),
    ]
    flat = _tree().posterior["sigma"].values.ravel() ** 2
    row = s.loc[("Residual", "var(e)")]
    assert row["mean"] == pytest.approx(flat.mean())
    assert row["eti_lo"] == pytest.approx(np.percentile(flat, 2.5))
    assert row["r_hat"] == pytest.approx(1.0, abs=0.01)
    assert np.isnan(s.loc[("R.h", "var(R.h)"), "r_hat"])  # constant draws


def test_healthy_draws_give_no_warning():
    r = _tree()
    assert r.check() == []


def test_divergences_and_bad_rhat_warn_with_advice():
    r = _tree(shift_chain=1.0, diverging=7)
    msgs = r.check()
    assert any("7 divergent transitions" in m and "target_accept" in m for m in msgs)
    assert any("R-hat above 1.01 for y:x, y:_cons" in m for m in msgs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r.warn()
    assert len(caught) == len(msgs)


def test_low_ess_warns():
    r = _tree(draws=40)
    assert any("bulk ESS below 400" in m for m in r.check())


def test_rendered_table_lists_every_parameter():
    text = render_text(_tree())
    assert "MCMC iterations  =      4,000" in text
    assert "Burn-in          =      2,000" in text
    for label in ("var(R.h)", "cov(x,_cons)", "var(e)", "Residual"):
        assert label in text
    assert text.rstrip().endswith("sigma ~ hn")
