"""Bad input and awkward fits: clear errors, named warnings, never a silent nonsense fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmixed.engines.glmm.fit import is_crossed
from bayesmixed.engines.glmm.warn import BoundaryWarning
from bayesmixed.errors import BayesmixedError, DataError, NotSupportedError
from bayesmixed.fitting import fit_glmm
from bayesmixed.results.render_glmm import render_text
from bayesmixed.spec.family import ResponseWarning

from .helpers import fitted, load, make_design


def _frame(seed=1, n_groups=30, size=20, sd=0.0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), size)
    x = rng.normal(size=g.size)
    eta = -0.3 + 0.8 * x + sd * rng.normal(size=n_groups)[g]
    return pd.DataFrame(
        {
            "g": g,
            "h": g % 5,
            "x": x,
            "y": (rng.random(g.size) < 1 / (1 + np.exp(-eta))).astype(float),
        }
    )


def test_agq_on_two_levels_is_not_supported():
    frame = _frame()
    d = make_design(
        frame, "y", ["x"], [(("h",), [], "independent"), (("h", "g"), [], "independent")]
    )
    with pytest.raises(NotSupportedError, match="intmethod\\(laplace\\)"):
        fit_glmm(d, intmethod="mvaghermite")
    with pytest.raises(NotSupportedError):
        fit_glmm(d)  # Stata's default for nested levels is mvaghermite: refuse, do not switch


def test_crossed_defaults_to_laplace():
    frame = _frame()
    d = make_design(frame, "y", ["x"], [(("g",), [], "independent"), (("h",), [], "independent")])
    assert is_crossed(d)
    with pytest.warns(BoundaryWarning):  # no true variation in h
        r = fit_glmm(d)
    assert r.intmethod == "laplace"


def test_zero_variance_warns_and_returns():
    d = make_design(_frame(sd=0.0, seed=3), "y", ["x"], [(("g",), [], "independent")])
    with pytest.warns(BoundaryWarning, match="boundary"):
        r = fit_glmm(d, intmethod="laplace")
    assert r.cov_blocks[0][0, 0] == 0.0
    assert np.all(np.isfinite(r.se))
    assert r.loglik == pytest.approx(r.loglik_glm, abs=1e-6)


def test_nonbinary_outcome_is_treated_as_stata_does():
    frame = _frame(sd=1.0)
    frame["y"] = frame["y"] * 2.0  # values 0 and 2
    d = make_design(frame, "y", ["x"], [(("g",), [], "independent")])
    with pytest.warns(ResponseWarning, match="nonzero"):
        r2 = fit_glmm(d, intmethod="laplace")
    frame["y"] = (frame["y"] != 0).astype(float)
    r1 = fit_glmm(
        make_design(frame, "y", ["x"], [(("g",), [], "independent")]), intmethod="laplace"
    )
    assert r2.loglik == pytest.approx(r1.loglik, abs=1e-9)


def test_negative_counts_are_refused():
    frame = load("grouseticks")
    frame.loc[0, "ticks"] = -1
    d = make_design(
        frame, "ticks", ["cheight"], [(("brood",), [], "independent")], family="poisson", link="log"
    )
    with pytest.raises(DataError, match="negative"):
        fit_glmm(d)


def test_binomial_successes_above_trials_are_refused():
    frame = load("cbpp")
    d = make_design(
        frame, "incidence", ["period2"], [(("herd",), [], "independent")], family="binomial"
    )
    with pytest.raises(BayesmixedError, match="between 0 and the trials"):
        fit_glmm(d, trials=np.ones(len(frame)))


def test_render_melogit_layout():
    r = fitted(False, "mvaghermite")
    text = render_text(r)
    assert text.startswith("Mixed-effects logistic regression")
    assert "Integration method: mvaghermite" in text and "Integration pts.  =          7" in text
    assert "LR test vs. logistic model: chibar2(01) =" in text
    assert "var(_cons)" in text and "      c_use | Coefficient  Std. err." in text
    r.eform = "or"
    try:
        text = render_text(r)
    finally:
        r.eform = None
    assert "      c_use | Odds ratio   Std. err." in text
    assert f"{np.exp(r.beta[0]):.6f}"[:6] in text  # urban's odds ratio


def test_lr_test_vs_glm():
    r = fitted(False, "mvaghermite")
    chi2, df, p, chibar = r.lr_test()
    assert chibar and df == 1
    assert chi2 == pytest.approx(2 * (r.loglik - r.loglik_glm))
    assert 40 < chi2 < 50 and p < 1e-9
    assert r.aic == pytest.approx(-2 * r.loglik + 2 * 7)
