"""The R reference values in tests/reference/spine_lmm.json exist, are complete and fit our data.

The engine's comparisons against these numbers live with the engine's tests; here we only make sure
the file is usable: every model carries what the comparisons need, the names are Stata's, and the
data R fitted are byte-for-byte the files bayesmixed ships.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from bayesmixed.datasets import load

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
DATA = Path(__file__).resolve().parents[2] / "data"
MODELS = {
    "jsp_ri_ml": ("ML", ["math3", "_cons"], {"school": ["var(_cons)"]}),
    "jsp_ri_reml": ("REML", ["math3", "_cons"], {"school": ["var(_cons)"]}),
    "jsp_ind_ml": ("ML", ["math3", "_cons"], {"school": ["var(math3)", "var(_cons)"]}),
    "jsp_uns_ml": (
        "ML",
        ["math3", "_cons"],
        {"school": ["var(math3)", "var(_cons)", "cov(math3,_cons)"]},
    ),
    "jsp_uns_reml": (
        "REML",
        ["math3", "_cons"],
        {"school": ["var(math3)", "var(_cons)", "cov(math3,_cons)"]},
    ),
    "prod_nested_ml": (
        "ML",
        ["private", "emp", "hwy", "water", "other", "unemp", "_cons"],
        {"region": ["var(_cons)"], "state": ["var(_cons)"]},
    ),
    "prod_crossed_ml": (
        "ML",
        ["private", "emp", "hwy", "water", "other", "unemp", "_cons"],
        {"_all": ["var(R.year)"], "region": ["var(_cons)"], "state": ["var(_cons)"]},
    ),
    "grunfeld_ri_ml": ("ML", ["mvalue", "cstock", "_cons"], {"company": ["var(_cons)"]}),
    "grunfeld_crossed_ml": (
        "ML",
        ["mvalue", "cstock", "_cons"],
        {"_all": ["var(R.company)"], "year": ["var(_cons)"]},
    ),
    "rats_ri_ml": (
        "ML",
        ["1.dose", "2.dose", "size", "female", "_cons"],
        {"litter": ["var(_cons)"]},
    ),
}


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads((REFERENCE / "spine_lmm.json").read_text())


def test_reference_records_its_origin(reference):
    meta = reference["meta"]
    assert meta["generated_by"] == "tests/reference/spine_lmm.R"
    assert (REFERENCE / "spine_lmm.R").is_file()
    assert meta["lme4"].count(".") >= 2


def test_reference_was_computed_from_the_shipped_data(reference):
    for path, md5 in reference["meta"]["data_md5"].items():
        shipped = Path(__file__).resolve().parents[2] / path
        assert hashlib.md5(shipped.read_bytes()).hexdigest() == md5, path


@pytest.mark.parametrize("key", list(MODELS))
def test_model_entry_is_complete_and_named_as_stata(reference, key):
    method, fixed, levels = MODELS[key]
    entry = reference["models"][key]
    assert entry["method"] == method
    assert math.isfinite(entry["loglik"])
    assert list(entry["fixef"]) == fixed
    assert list(entry["se"]) == fixed
    assert all(se > 0 for se in entry["se"].values())
    for level, names in levels.items():
        assert sorted(entry["varcomp"][level]) == sorted(names), level
        assert all(entry["varcomp"][level][n] >= 0 for n in names if n.startswith("var("))
    assert set(entry["varcomp"]) == set(levels) | {"Residual"}
    assert entry["varcomp"]["Residual"]["var(e)"] > 0
    assert entry["nobs"] == len(load(entry["dataset"]))


def test_group_counts_agree_with_the_data(reference):
    for entry in reference["models"].values():
        data = load(entry["dataset"])
        for factor, n in entry["ngroups"].items():
            assert data[factor.split(":")[0]].nunique() == n, factor


def test_near_singular_model_reports_the_best_of_several_fits(reference):
    for key in ("jsp_uns_ml", "jsp_uns_reml"):
        entry = reference["models"][key]
        found = [v for v in entry["loglik_by_fit"].values() if v is not None]
        assert len(found) >= 5
        assert entry["loglik"] == max(found)
        assert entry["best_of"] in entry["alternatives"]


def test_lrtest_is_twice_the_loglik_difference(reference):
    test = reference["lrtest"]["jsp_ind_vs_uns"]
    models = reference["models"]
    diff = models[test["unrestricted"]]["loglik"] - models[test["restricted"]]["loglik"]
    assert test["chi2"] == pytest.approx(2 * diff, rel=1e-12)


@pytest.mark.parametrize(("key", "ntheta"), [("jsp_uns_ml", 3), ("prod_nested_ml", 2)])
def test_devfun_points_have_theta_and_deviance(reference, key, ntheta):
    entry = reference["devfun"][key]
    assert len(entry["points"]) >= 3
    for point in entry["points"]:
        assert len(point["theta"]) == ntheta
        assert math.isfinite(point["deviance"])
    # the first point is the optimum, so its deviance is -2 loglik of the fitted model
    optimum = entry["points"][0]["deviance"]
    assert optimum == pytest.approx(-2 * reference["models"][key]["loglik"], rel=1e-9)


def test_dyestuff_matches_the_deviance_lme4_and_mixedmodels_publish(reference):
    # 327.327059881135 is pinned in lme4's and MixedModels.jl's own test suites.
    assert reference["dyestuff"]["deviance"] == pytest.approx(327.327059881135, rel=1e-12)
    dye = pd.read_csv(REFERENCE / "dyestuff.csv")
    assert list(dye.columns) == ["Batch", "Yield"]
    assert dye.shape == (30, 2) and dye["Batch"].nunique() == 6


def test_data_folder_holds_the_canonical_files():
    for name in ("jsp2", "productivity", "grunfeld", "rats", "bangladesh"):
        assert (DATA / f"{name}.csv").is_file()
    assert (DATA / "PROVENANCE.md").is_file()
