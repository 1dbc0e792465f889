"""The analytic gradient of the profiled criterion, and the fits that use it.

The oracle for the gradient is a central difference of the criterion itself
(``ProfiledCriterion.__call__``, checked against lme4 elsewhere), on crossed and nested
designs, every covariance structure and both ML and REML.  The oracle for the fits is
lme4's best optimum over three optimizers at tight tolerances (``tests/reference/
maximal.R`` on ``maximal.csv``): a kb07-shaped maximal model with 20 covariance
parameters, where lme4's default stops short in both criteria.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.engines.ml import gradient
from bayesmixed.engines.ml.criterion import make_deviance
from bayesmixed.engines.ml.gradient import DenseGradient
from bayesmixed.syntax import formula_to_spec, stata_to_spec

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
sys.path.insert(0, str(REFERENCE))
from maximal_data import maximal_formula  # noqa: E402

MAXIMAL = pd.read_csv(REFERENCE / "maximal.csv")
LME4 = json.loads((REFERENCE / "maximal.json").read_text())


def deviance(command: str, data: pd.DataFrame, reml: bool):
    if "~" in command:
        spec = formula_to_spec(command, data, reml=reml)
    else:
        last = command.rsplit("||", 1)[-1]  # Stata: global options after the last equation's
        options = (" reml" if "," in last else ", reml") if reml else ""
        spec = stata_to_spec(command + options, data)
    return make_deviance(build_design(spec, data), reml)


def central(dev, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    steps = np.eye(len(theta)) * h
    return np.array([(dev(theta + e) - dev(theta - e)) / (2 * h) for e in steps])


CASES = [
    ("math5 ~ math3 + (math3 | school)", "jsp2"),
    ("mixed math5 math3 || school: math3, cov(exchangeable)", "jsp2"),
    ("mixed gsp private emp || region: || state:", "productivity"),
    ("mixed gsp private emp || region: unemp, cov(independent) || state: unemp", "productivity"),
    ("mixed weight size || _all: R.dose || litter:", "rats"),
    ("maximal", "maximal"),
]


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize(("command", "data"), CASES)
def test_gradient_is_the_derivative_of_the_criterion(command, data, reml):
    frame = MAXIMAL if data == "maximal" else bm.datasets.load(data)
    command = maximal_formula(MAXIMAL) if command == "maximal" else command
    dev = deviance(command, frame, reml)
    rng = np.random.default_rng(3)
    start = np.concatenate([s.theta_start() for s in dev.structures])
    theta = 0.6 * start + rng.uniform(0.05, 0.4, dev.n_theta)
    value, grad = DenseGradient(dev)(theta)
    assert value == pytest.approx(dev(theta), rel=1e-12, abs=1e-9)
    fd = central(dev, theta)
    assert np.max(np.abs(grad - fd)) <= 1e-6 * max(1.0, np.max(np.abs(fd)))


def test_gradient_at_a_singular_point():
    """theta on the boundary (a zero Cholesky column): still the one-sided derivative's."""
    dev = deviance(maximal_formula(MAXIMAL), MAXIMAL, False)
    theta = np.concatenate([s.theta_start() for s in dev.structures]) * 0.5 + 0.1
    theta[0] = 0.0  # the first diagonal Cholesky entry of the first block
    value, grad = DenseGradient(dev)(theta)
    up = np.eye(len(theta))[0] * 1e-7
    assert grad[0] == pytest.approx((dev(theta + up) - value) / 1e-7, rel=1e-4)


def test_build_only_where_it_pays_and_applies():
    few = deviance("math5 ~ math3 + (math3 | school)", bm.datasets.load("jsp2"), False)
    assert DenseGradient.build(few) is None  # 3 parameters: BOBYQA stays
    many = deviance(maximal_formula(MAXIMAL), MAXIMAL, False)
    assert many.n_theta == 20 and isinstance(DenseGradient.build(many), DenseGradient)


@pytest.mark.parametrize("reml", [False, True])
def test_maximal_model_reaches_lme4s_best_optimum(reml):
    result = bm.fit(maximal_formula(MAXIMAL), MAXIMAL, reml=reml)
    ref = LME4["reml" if reml else "ml"]
    assert "analytic gradient" in result.opt.optimizer
    assert result.opt.converged
    assert result.loglik >= ref["loglik"] - 1e-6  # never below lme4's best of three
    assert result.loglik >= max(ref["loglik_by_optimizer"].values()) - 1e-6
    if not reml:  # ML: the same optimum, to the digits lme4 reports
        assert result.loglik == pytest.approx(ref["loglik"], abs=1e-6)
        lme4_order = result.coef[["_cons", "spkr", "prec", "sp"]].to_numpy()
        np.testing.assert_allclose(lme4_order, ref["beta"], rtol=1e-5)


@pytest.mark.parametrize("reml", [False, True])
def test_gradient_path_never_worse_than_the_derivative_free_one(reml, monkeypatch):
    formula = maximal_formula(MAXIMAL)
    fast = bm.fit(formula, MAXIMAL, reml=reml)
    monkeypatch.setattr(gradient, "MIN_THETA", 10**6)  # BOBYQA and the Newton polish
    slow = bm.fit(formula, MAXIMAL, reml=reml)
    assert "BOBYQA" in slow.opt.optimizer
    assert fast.loglik >= slow.loglik - 1e-7
    assert fast.opt.evaluations < slow.opt.evaluations / 5
