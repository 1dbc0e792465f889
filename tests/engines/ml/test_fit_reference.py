"""Acceptance: every workshop model of the spine against lme4's best optimum.

The reference values come from ``tests/reference/spine_lmm.R`` (lme4 1.1-31,
several tight-tolerance optimizers, the best log likelihood kept), never from
this package.  Tolerances follow the issue: log likelihood 1e-6 relative,
coefficients and variance components 1e-4 relative (or the optimizers' own
spread, when lme4's tight fits disagree by more than that).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import bayesmixed
from bayesmixed.datasets import load

ROOT = Path(__file__).resolve().parents[3]
REF = json.loads((ROOT / "tests/reference/spine_lmm.json").read_text())["models"]


@cache
def fitted(name: str):
    model = REF[name]
    command = model["stata"]
    if model["method"] == "REML":
        command += " reml" if "," in command else ", reml"
    return bayesmixed.stata(command, load(model["dataset"]))


def _varcomp(result, level: str, name: str) -> float:
    if level == "Residual":
        return result.sigma2
    inner = name[name.index("(") + 1 : -1]
    if level == "_all":
        return float(result.re_cov[inner].loc[inner, inner])
    frame = result.re_cov[level]
    a, _, b = inner.partition(",")
    return float(frame.loc[a, b or a])


@pytest.mark.parametrize("name", sorted(REF))
def test_loglik_matches_lme4(name):
    assert fitted(name).loglik == pytest.approx(REF[name]["loglik"], rel=1e-8)


@pytest.mark.parametrize("name", sorted(REF))
def test_fixed_effects_match_lme4(name):
    r = fitted(name)
    for term, value in REF[name]["fixef"].items():
        assert r.coef[term] == pytest.approx(value, rel=1e-4, abs=1e-8), term
        assert r.se[term] == pytest.approx(REF[name]["se"][term], rel=1e-4), term


@pytest.mark.parametrize("name", sorted(REF))
def test_variance_components_match_lme4(name):
    r = fitted(name)
    spread = REF[name].get("spread", {}).get("varcomp", {})
    for level, comps in REF[name]["varcomp"].items():
        for comp, value in comps.items():
            rel = max(1e-4, 3 * spread.get(level, {}).get(comp, 0.0))
            got = _varcomp(r, level, comp)
            assert got == pytest.approx(value, rel=rel, abs=1e-9), (level, comp)


def test_nobs_and_groups_match():
    for name in REF:
        r = fitted(name)
        assert r.nobs == REF[name]["nobs"]
        counts = {b.equation.factor or b.level: b.n_groups for b in r.design.blocks}
        for level, count in REF[name]["ngroups"].items():
            assert counts[level.split(":")[0]] == count, (name, level)


def test_independent_slope_is_a_boundary_fit():
    r = fitted("jsp_ind_ml")
    assert r.re_cov["school"].loc["math3", "math3"] == 0.0
    assert any("var(math3)" in note for note in r.boundary)


def test_unstructured_reaches_lme4_best_not_its_default():
    r = fitted("jsp_uns_ml")
    default = REF["jsp_uns_ml"]["loglik_by_fit"]["lme4_default"]
    assert r.loglik > default + 8.0
    cov = r.re_cov["school"].to_numpy()
    corr = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    assert corr == pytest.approx(-1.0, abs=1e-6)


def test_formula_path_gives_the_same_fit():
    data = load("jsp2")
    a = bayesmixed.fit("math5 ~ math3 + (math3 | school)", data=data, reml=False)
    b = fitted("jsp_uns_ml")
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)
    assert np.allclose(a.coef[b.coef.index], b.coef, rtol=1e-6)
