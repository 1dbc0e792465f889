"""BLUPs after structured residuals match nlme's ranef() (tests/reference/residual_blups.R).

The ML engine whitens each panel at the fitted residual parameters; the conditional modes
of the whitened iid model are the structured model's, which nlme computes directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bayesmixed
from bayesmixed import datasets
from bayesmixed.errors import NotSupportedError

REF = json.loads((Path(__file__).parents[1] / "reference/residual_blups.json").read_text())
CASES = [k for k in REF if k != "nlme"]


def _fit(name):
    data = datasets.load("rats" if name.startswith("rats") else "productivity")
    return bayesmixed.stata(REF[name]["stata"], data), data


@pytest.mark.parametrize("name", CASES)
def test_reffects_match_nlme(name):
    r, _ = _fit(name)
    case = REF[name]
    assert r.loglik == pytest.approx(case["loglik"], rel=1e-9)
    effects = r.predict("reffects")
    for level, ref in case["ranef"].items():
        block = [b.level for b in r.design.blocks].index(level)
        groups = r.design.blocks[block].groups
        labels = [str(g[-1]) if isinstance(g, tuple) else str(g) for g in groups]
        ours = dict(zip(labels, _block_values(r, effects, block)))
        expect = np.asarray(ref["_cons"])
        got = np.array([ours[lab] for lab in ref["labels"]])
        assert got == pytest.approx(expect, abs=1e-6 * max(1.0, np.abs(expect).max()))


def _block_values(r, effects, block):
    """One value per group of ``block`` from the per-row reffects frame."""
    col = effects.iloc[:, block] if effects.ndim == 2 else effects
    codes = r.design.blocks[block].codes
    out = np.empty(r.design.blocks[block].n_groups)
    out[codes] = np.asarray(col, float)
    return out


def test_fitted_adds_the_blups():
    r, _ = _fit("prod_ma1")
    fitted = r.predict("fitted").to_numpy()
    xb = r.predict("xb").to_numpy()
    assert np.abs(fitted - xb).max() > 0.05  # the state effects are not zero here
    resid = r.predict("residuals").to_numpy()
    assert resid == pytest.approx(r.design.y - fitted, abs=1e-12)


@pytest.mark.parametrize("name", ["rats_by_female", "prod_ma1"])
def test_rstandard_is_nlmes_normalized_residual(name):
    r, _ = _fit(name)
    expect = np.asarray(REF[name]["normalized"])
    got = r.predict("rstandard").to_numpy()
    assert got == pytest.approx(expect, abs=1e-5)
    # whitening changes them: dividing by sigma alone is not the same thing
    plain = r.predict("residuals").to_numpy() / np.sqrt(r.sigma2)
    assert np.abs(plain - expect).max() > 0.1


def test_rstandard_needs_whole_panels():
    r, data = _fit("prod_ma1")
    with pytest.raises(NotSupportedError, match="estimation sample"):
        r.predict("rstandard", data=data.head(30))
