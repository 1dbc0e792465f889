"""Small-sample inference for mixed (issue 15, item 1): dfmethod() and estat df.

Satterthwaite and Kenward-Roger are checked against lmerTest 3.1.3 / pbkrtest 0.5.2
(``tests/reference/dfmethod.R`` -> ``dfmethod.json``, REML fits with tight bobyqa
tolerances) on three unbalanced models; the counting rules (residual, repeated,
anova) against counts worked out by hand on the same data.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.errors import BayesmixedError, SpecificationError
from bayesmixed.postestimation.dfmethod import estat_df, small_sample

REF_DIR = Path(__file__).resolve().parents[1] / "reference"
REF = json.loads((REF_DIR / "dfmethod.json").read_text())
JSP = pd.read_csv(REF_DIR / "dfmethod_jsp2.csv")
RATS = pd.read_csv(REF_DIR / "dfmethod_rats.csv")
MODELS = {
    "jsp2": ("mixed math5 math3 gender || school: || class:, reml", JSP),
    "rats": ("mixed weight i.dose size female || litter:, reml", RATS),
    "rats_slope": ("mixed weight i.dose size female || litter: female, cov(uns) reml", RATS),
}
TESTED = {"jsp2": ["math3", "gender"], "rats": ["1.dose", "2.dose"]}
TESTED["rats_slope"] = TESTED["rats"]
R_METHOD = {"satterthwaite": "satterthwaite, oim", "kenward_roger": "kroger"}


@pytest.fixture(scope="module")
def fits():
    return {k: bm.stata(cmd, data) for k, (cmd, data) in MODELS.items()}


def _in_r_order(names):
    """lme4 prints the intercept first; our columns end with _cons."""
    return ["_cons"] + [n for n in names if n != "_cons"]


@pytest.mark.parametrize("model", list(MODELS))
def test_fits_are_at_the_lme4_optimum(fits, model):
    fit, ref = fits[model], REF[model]
    assert fit.loglik == pytest.approx(-ref["reml_criterion"] / 2, rel=1e-9)
    order = [fit.design.fixed_names.index(n) for n in _in_r_order(fit.design.fixed_names)]
    np.testing.assert_allclose(fit.beta[order], ref["beta"], rtol=1e-6)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("key", ["satterthwaite", "kenward_roger"])
def test_t_tests_match_lmertest(fits, model, key):
    fit, ref = fits[model], REF[model][key]
    tab = fit.small_sample(R_METHOD[key]).loc[_in_r_order(fit.design.fixed_names)]
    np.testing.assert_allclose(tab["df"], ref["df"], rtol=1e-4)
    np.testing.assert_allclose(tab["se"], ref["se"], rtol=1e-5)  # KR: the adjusted SEs
    np.testing.assert_allclose(tab["t"], ref["t"], rtol=1e-5)
    # rats_slope: the REML surface is flat along the slope SD (lme4 and our optimiser agree
    # on the criterion to 1e-13 but on theta_3 only to 1e-4), and lmerTest's observed
    # information is a numerical Hessian there; the intercept's df then agrees to 5e-5 and
    # its p-value (1e-25) to 3e-4.  The two models named in the issue meet 1e-4 (in fact 1e-6).
    rtol = 5e-4 if (model, key) == ("rats_slope", "satterthwaite") else 1e-4
    np.testing.assert_allclose(tab["p"], ref["p"], rtol=rtol)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("key", ["satterthwaite", "kenward_roger"])
def test_f_tests_of_a_multi_df_term_match(fits, model, key):
    fit = fits[model]
    inference = small_sample(fit, R_METHOD[key])
    names = fit.design.fixed_names
    lmat = np.array([[1.0 if n == c else 0.0 for n in names] for c in TESTED[model]])
    got = inference.test(lmat)
    ref = next(iter(REF[model]["ftests"].values()))[key]
    assert got.ndf == ref["ndf"] == 2
    assert got.stat == pytest.approx(ref["F"], rel=1e-5)
    assert got.ddf == pytest.approx(ref["ddf"], rel=1e-4)
    assert got.p == pytest.approx(ref["p"], rel=1e-4)


def test_dose_f_equals_lmertest_anova_rows(fits):
    """anova(m, ddf=) of the dose term is the same test as the contrast."""
    dose = REF["rats"]["ftests"]["dose"]
    for key in ("satterthwaite", "kenward_roger"):
        assert dose[f"anova_{key}"]["F"] == pytest.approx(dose[key]["F"], rel=1e-12)
    names = fits["rats"].design.fixed_names
    lmat = np.eye(len(names))[[names.index("1.dose"), names.index("2.dose")]]
    got = small_sample(fits["rats"], "kroger").test(lmat)
    assert got.ddf == pytest.approx(dose["anova_kenward_roger"]["ddf"], rel=1e-4)


def test_satterthwaite_eim_is_stata_default_and_equals_kr_df_for_one_row(fits):
    fit = fits["rats"]
    eim = fit.small_sample("satterthwaite")["df"]
    oim = fit.small_sample("satterthwaite, oim")["df"]
    kr = fit.small_sample("kroger")["df"]
    # pbkrtest's one-row KR df is the Satterthwaite df with the expected information
    np.testing.assert_allclose(eim, kr, rtol=1e-10)
    assert not np.allclose(eim, oim, rtol=1e-3)


def _balanced_one_way(groups=8, per=5, seed=3):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    x = np.tile(np.arange(per) - (per - 1) / 2, groups)  # within groups only, mean 0 in each
    w = np.repeat(rng.normal(size=groups), per)  # a between-group covariate
    y = 1 + 0.5 * x + 0.3 * w + np.repeat(rng.normal(size=groups), per) + rng.normal(size=g.size)
    return pd.DataFrame({"g": g, "x": x, "w": w, "y": y})


def test_balanced_design_gives_the_exact_anova_df():
    """Balanced one-way layout: between effects G - 2, within effects N - G - 1 (by hand)."""
    data = _balanced_one_way()
    fit = bm.stata("mixed y x w || g:, reml", data)
    names = fit.design.fixed_names  # x, w, _cons
    exact = {"x": 40 - 8 - 1, "w": 8 - 2, "_cons": 8 - 2}
    for method in ("satterthwaite", "kroger", "repeated", "anova"):
        df = fit.small_sample(method)["df"]
        for name in names:
            assert df[name] == pytest.approx(exact[name], rel=1e-6), (method, name)
    assert set(fit.small_sample("residual")["df"]) == {40.0 - 3}


def test_counting_rules_by_hand_on_rats(fits):
    # n = 322, rank(X) = 5, 27 litters.  Between-litter columns: _cons, 1.dose, 2.dose,
    # size (rank 4): between df 27 - 4 = 23; within (female): 322 - 5 - 23 = 294.
    table = estat_df(fits["rats"], ["residual", "repeated", "anova"])
    assert list(table.columns) == ["Residual", "Repeated", "ANOVA"]
    assert set(table["Residual"]) == {317.0}
    expect = {"1.dose": 23, "2.dose": 23, "size": 23, "female": 294, "_cons": 23}
    assert table["Repeated"].to_dict() == expect
    # anova, random intercept: the litter term adds 27 - 4 = 23 columns to [X]; female is in
    # no term, so n - rank([X Z]) = 322 - 28 = 294
    assert table["ANOVA"].to_dict() == expect


def test_anova_rule_with_a_random_slope_and_nested_levels(fits):
    rats = fits["rats_slope"]
    # the slope term female#litter has one column per litter (all 27 have a female pup); the
    # all-female litter's column repeats its litter indicator and the columns sum to X's
    # female column, so it adds rank 27 - 1 - 1 = 25; female is contained in it
    by_litter = RATS.groupby("litter")["female"]
    assert (by_litter.max() == 1).all() and (by_litter.min() == 1).sum() == 1
    df = rats.estat_df("anova")["ANOVA"]
    assert df["female"] == 25 and df["1.dose"] == 23
    jsp = fits["jsp2"]  # school (48) then class (90): 48 - 1, 90 - 48, 887 - 92
    df = jsp.estat_df("anova")["ANOVA"]
    assert df.to_dict() == {"math3": 795.0, "gender": 795.0, "_cons": 47.0}
    with pytest.raises(BayesmixedError, match="two-level"):
        jsp.estat_df("repeated")


def test_satterthwaite_and_kroger_need_reml():
    fit = bm.stata("mixed weight i.dose size female || litter:", RATS)
    with pytest.raises(SpecificationError, match="REML"):
        fit.small_sample("kroger")
    assert fit.small_sample("residual")["df"].iloc[0] == 317.0
    with pytest.raises(SpecificationError, match="method"):
        fit.estat_df()


def test_t_table_columns_and_intervals(fits):
    tab = fits["rats"].small_sample("kroger", level=90)
    assert list(tab.columns) == ["coef", "se", "t", "df", "p", "lower", "upper"]
    from scipy import stats

    row = tab.loc["size"]
    half = stats.t.ppf(0.95, row["df"]) * row["se"]
    assert row["upper"] - row["coef"] == pytest.approx(half, rel=1e-12)


def test_structures_that_are_not_supported_say_so(monkeypatch):
    from bayesmixed.errors import NotSupportedError
    from bayesmixed.postestimation import marginal_cov

    fresh = bm.stata(*MODELS["jsp2"])  # not the module's fit: its dfs are cached
    monkeypatch.setattr(marginal_cov, "MAX_COMPONENT", 50)  # a school of jsp2 has 62 pupils
    with pytest.raises(NotSupportedError, match="limit is 50"):
        small_sample(fresh, "kroger")
    monkeypatch.undo()
    panel = bm.datasets.load("productivity")
    fit = bm.stata("mixed gsp private || state:, residuals(ar 1, t(year)) reml", panel)
    with pytest.raises(NotSupportedError, match="residuals"):
        fit.small_sample("satterthwaite")
    assert fit.small_sample("residual")["df"].iloc[0] == len(panel) - 2


def test_components_split_nested_and_join_crossed_levels():
    from bayesmixed.postestimation.marginal_cov import marginal_cov as build

    jsp = bm.datasets.load("jsp2")
    nested = bm.stata("mixed math5 math3 || school: || class:, reml", jsp)
    assert len(build(nested).components) == 48  # one per school
    crossed = bm.stata("mixed math5 math3 || _all: R.school || _all: R.social, reml", jsp)
    assert len(build(crossed).components) == 1
    # crossed designs still agree between Satterthwaite (eim) and the one-row KR df
    a, b = crossed.small_sample("satterthwaite"), crossed.small_sample("kroger")
    np.testing.assert_allclose(a["df"], b["df"], rtol=1e-9)
