"""Render a real fit (parser -> design -> ML engine) and check it against lme4.

Reference numbers from R 4 / lme4 on the bundled rats data:
    m <- lmer(weight ~ factor(dose) + female + size + (1 | litter), rats, REML = TRUE)
    logLik -198.4996911; fixef dose1 -0.4285018315, dose2 -0.8586982729,
    female -0.3590819374, size -0.1290031387, (Intercept) 8.3098741071;
    VarCorr litter 0.09739974857, Residual 0.16280161650.
"""

from __future__ import annotations

import pandas as pd
import pytest

from bayesmixed.datasets import load
from bayesmixed.design import build_design
from bayesmixed.fitting import fit_lmm
from bayesmixed.results.render import render_text
from bayesmixed.syntax import stata_to_spec


@pytest.fixture(scope="module")
def rats_text() -> str:
    data: pd.DataFrame = load("rats")
    spec = stata_to_spec("mixed weight i.dose female size || litter:, reml", data)
    return render_text(fit_lmm(build_design(spec, data), reml=spec.reml))


def test_header_and_criterion(rats_text):
    lines = rats_text.splitlines()
    assert lines[0].startswith("Mixed-effects REML regression ")
    assert lines[0].endswith("Number of obs     =        322")
    assert "Log restricted-likelihood = -198.49969" in rats_text


def test_factor_rows_match_lme4(rats_text):
    lines = rats_text.splitlines()
    i = lines.index("        dose |")
    assert lines[i + 1].startswith("          1  |  -.4285018 ")
    assert lines[i + 2].startswith("          2  |  -.8586983 ")
    assert lines[i + 3] == "             |"
    assert any(s.startswith("      female |  -.3590819 ") for s in lines)
    assert any(s.startswith("       _cons |   8.309874 ") for s in lines)


def test_variance_components_match_lme4(rats_text):
    lines = rats_text.splitlines()
    assert "litter: Identity             |" in lines
    assert any(s.startswith("                  var(_cons) |   .0973997 ") for s in lines)
    assert any(s.startswith("               var(Residual) |   .1628016 ") for s in lines)
    assert lines[-1].startswith("LR test vs. linear model: chibar2(01) = ")
