"""``bayesstats`` and ``bayestest interval`` on hand-made draws (no sampler runs here).

Every number is a frequency or moment of known NumPy draws, so each check is exact.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayesmixed.design.bayes_names import parameter_draws
from bayesmixed.errors import BayesmixedError
from bayesmixed.postestimation.bayestest import parse_interval
from bayesmixed.results.bayes import BayesResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines" / "bayes"))
from helpers import toy_design  # noqa: E402


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(3)
    chains, draws = 2, 300
    cd = ("chain", "draw")
    sd = np.abs(rng.normal(1.0, 0.2, size=(chains, draws, 2)))
    rho = rng.uniform(-0.9, 0.5, size=(chains, draws))
    cov_g = np.zeros((chains, draws, 2, 2))
    cov_g[..., 0, 0], cov_g[..., 1, 1] = sd[..., 0] ** 2, sd[..., 1] ** 2
    cov_g[..., 0, 1] = cov_g[..., 1, 0] = rho * sd[..., 0] * sd[..., 1]
    post = xr.Dataset(
        {
            "beta": (cd + ("fixed",), rng.normal([0.5, 1.0], 0.3, size=(chains, draws, 2))),
            "sigma": (cd, np.abs(rng.normal(2.0, 0.1, size=(chains, draws)))),
            "cov[R.h]": (cd + ("h", "h_"), np.full((chains, draws, 1, 1), 0.25)),
            "cov[g]": (cd + ("g", "g_"), cov_g),
        },
        coords={"fixed": ["x", "_cons"]},
    )
    tree = xr.DataTree.from_dict({"posterior": post})
    return BayesResult(toy_design(), tree, "nuts", "pymc", {}, ["R.h", "g"], True, tune=100)


def test_statas_names_of_the_draws(result):
    draws = parameter_draws(result)
    assert list(draws) == [
        "{y:x}", "{y:_cons}", "{U:sigma2}", "{UU1:sigma2}", "{UU0:sigma2}",
        "{UU:Sigma_1_1}", "{UU:Sigma_2_1}", "{UU:Sigma_2_2}", "{UU:Rho_2_1}", "{e.y:sigma2}",
    ]  # fmt: skip
    cov = result.posterior["cov[g]"].values
    assert np.allclose(draws["{UU:Sigma_2_1}"], cov[..., 1, 0])
    assert np.allclose(draws["{e.y:sigma2}"], result.posterior["sigma"].values ** 2)


def test_a_glmm_dispersion_takes_statas_name_and_scale(result):
    """``bayes: menbreg`` calls the dispersion {lnalpha} and reports it logged."""
    design = toy_design()
    design.y = np.round(np.abs(design.y) * 3)
    design.spec = design.spec.__class__(
        **{**design.spec.__dict__, "family": "nbinomial", "link": "log", "command": "menbreg"}
    )
    post = result.posterior.drop_vars("sigma")
    alpha = np.random.default_rng(1).gamma(3.0, 0.2, size=(2, 300))
    post["alpha"] = (("chain", "draw"), alpha)
    tree = xr.DataTree.from_dict({"posterior": post})
    nb = BayesResult(design, tree, "nuts", "pymc", {}, ["R.h", "g"], True, tune=100)
    draws = parameter_draws(nb)
    assert "{e.y:sigma2}" not in draws
    np.testing.assert_allclose(draws["{lnalpha}"], np.log(alpha), rtol=1e-14)


def test_interval_probabilities_are_draw_frequencies(result):
    d = parameter_draws(result)
    x, rho = d["{y:x}"], d["{UU:Rho_2_1}"]
    one = result.bayestest_interval("{y:x}, lower(0.3) upper(0.8)")
    assert one.probabilities == [np.mean((x > 0.3) & (x < 0.8))]
    several = result.bayestest_interval("({y:x}, lower(0.3)) ({UU:Rho_2_1}, upper(0))")
    assert several.probabilities == [np.mean(x > 0.3), np.mean(rho < 0)]
    joint = result.bayestest_interval("({y:x}, lower(0.3)) ({UU:Rho_2_1}, upper(0)), joint")
    assert joint.probabilities == [np.mean((x > 0.3) & (rho < 0))]
    expr = result.bayestest_interval("({y:x} - {y:_cons}), upper(0)")
    assert expr.probabilities == [np.mean(x - d["{y:_cons}"] < 0)]
    p = joint.probabilities[0]
    assert 0 < p < 1 and joint.rows[0][3] == pytest.approx(np.sqrt(p * (1 - p)))


def test_inclusive_bounds_count_the_ties():
    specs, joint, inclusive = parse_interval("{y:x}, lower(0) upper(1) inclusive")
    assert inclusive and not joint and (specs[0].lower, specs[0].upper) == (0.0, 1.0)


def test_summary_of_expressions_and_equations(result):
    d = parameter_draws(result)
    s = result.bayesstats_summary("{y:} (ratio: {y:x} / {y:_cons})", level=90)
    assert list(s.table.index) == [("y", "x"), ("y", "_cons"), ("", "ratio")]
    ratio = (d["{y:x}"] / d["{y:_cons}"]).ravel()
    assert s.table.loc[("", "ratio"), "mean"] == pytest.approx(ratio.mean())
    assert s.table.loc[("", "ratio"), "eti_hi"] == pytest.approx(np.percentile(ratio, 95))
    assert "ratio : {y:x} / {y:_cons}" in str(s) and "[90% cred. interval]" in str(s)


def test_ess_and_grubin_tables(result):
    ess = result.bayesstats_ess("{y:x} {e.y:sigma2}").table
    assert ess["efficiency"].to_numpy() == pytest.approx(ess["ess"].to_numpy() / 600)
    assert ess["corr_time"].to_numpy() == pytest.approx(600 / ess["ess"].to_numpy())
    rc = result.bayesstats_grubin().table["rc"]
    assert len(rc) == 10 and np.nanmax(rc) < 1.05  # independent draws: R-hat near 1


@pytest.mark.parametrize(
    "spec, message",
    [
        ("{y:nope}", r"no parameter \{y:nope\}.*\{y:x\}"),
        ("y:x", "name parameters in braces"),
        ("({y:x} - ", "unbalanced"),
    ],
)
def test_bad_items_name_the_problem(result, spec, message):
    with pytest.raises(BayesmixedError, match=message):
        result.bayesstats_summary(spec)


def test_bad_interval_specs_name_the_problem(result):
    with pytest.raises(BayesmixedError, match="lower\\(\\) or upper\\(\\)"):
        result.bayestest_interval("{y:x}")
    with pytest.raises(BayesmixedError, match="below"):
        result.bayestest_interval("{y:x}, lower(2) upper(1)")
    with pytest.raises(BayesmixedError, match="not allowed"):
        result.bayestest_interval("{y:x}, lower(0) bogus")


def test_aliases_of_a_variance_summarise_its_draws(result):
    d = parameter_draws(result)
    s = result.bayesstats_summary("{var_UU0} {UU1:sigma2}").table
    assert s["mean"].to_numpy() == pytest.approx(
        [d["{UU0:sigma2}"].mean(), d["{UU1:sigma2}"].mean()]
    )
    with pytest.raises(BayesmixedError, match="no draws of the random effects"):
        result.bayesstats_summary("{UU0}")  # the effects themselves: this fake has no b draws
