"""The results base (issue 18): one kind per result, one dispatch table, engines return estimates.

Fits are small (jsp2, one random intercept; a Laplace posterior of 60 draws) so the
whole module runs in seconds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.engines.estimates import GLMMEstimates, LMMEstimates
from bayesmixed.engines.ml.fit import estimate_lmm
from bayesmixed.errors import BayesmixedError
from bayesmixed.fitting import fit_lmm
from bayesmixed.postestimation.dispatch import TABLE, Postestimation, served
from bayesmixed.results.base import ResultKind, kind_of
from bayesmixed.syntax import stata_to_spec


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


@pytest.fixture(scope="module")
def ml(jsp):
    return bm.mixed("math5 math3 || school:", data=jsp)


@pytest.fixture(scope="module")
def bayes(jsp):
    return bm.mixed("math5 math3 || school:", data=jsp, method="laplace", draws=60, seed=2)


def test_each_exported_type_has_its_kind():
    assert bm.MixedResult.kind is ResultKind.MIXED
    assert bm.GLMMResult.kind is ResultKind.GLMM
    assert bm.BayesResult.kind is ResultKind.BAYES
    assert set(bm.Result.__args__) == {bm.MixedResult, bm.GLMMResult, bm.BayesResult}
    for name in ("MixedResult", "GLMMResult", "BayesResult", "Result", "ResultKind", "predict"):
        assert name in bm.__all__
    assert [k.likelihood for k in ResultKind] == [True, True, False]


def test_kind_of_tells_results_from_anything_else(ml, bayes):
    assert kind_of(ml) is ResultKind.MIXED and kind_of(bayes) is ResultKind.BAYES
    for other in (None, object(), pd.Series([1.0]), ml.design):
        assert kind_of(other) is None
    with pytest.raises(BayesmixedError, match="fitted bayesmixed model"):
        bm.predict(ml.design, "xb")


def test_the_table_serves_every_kind_and_every_command():
    assert set(TABLE) == set(ResultKind)
    commands = [f.name for f in dataclasses.fields(Postestimation)]
    for kind in ResultKind:
        assert all(callable(getattr(TABLE[kind], c)) for c in commands)
    assert TABLE[ResultKind.MIXED].predict is not TABLE[ResultKind.BAYES].predict
    assert TABLE[ResultKind.MIXED].random_effects is not TABLE[ResultKind.BAYES].random_effects


def test_one_predict_entry_point_for_every_kind(ml, bayes):
    for r in (ml, bayes):
        assert bm.predict(r, "fitted").equals(r.predict("fitted"))
        assert served(r, "predict") is TABLE[r.kind].predict
    # the two implementations differ where they must: a credible interval only after Bayes
    assert {"lower", "upper"} <= set(bm.predict(bayes, "xb", interval=0.9).columns)
    with pytest.raises(BayesmixedError, match="credible intervals after a Bayesian fit"):
        bm.predict(ml, "xb", interval=0.9)


def test_refusals_after_a_bayesian_fit_say_what_to_use(bayes):
    with pytest.raises(BayesmixedError, match="loo"):
        bayes.estat_ic()
    with pytest.raises(BayesmixedError, match="re_cov"):
        bayes.estat_wcorrelation()
    with pytest.raises(BayesmixedError, match="posterior"):
        bayes.test("math3")
    # lincom after bayes: is the posterior of the combination (issue 16), not a Wald test
    draws = bayes.posterior["beta"].values[..., 0]
    assert bayes.lincom("math3").table["mean"].iloc[0] == pytest.approx(draws.mean())
    icc = bayes.estat_icc()  # served by the posterior version, at 95% unless asked
    assert icc.attrs["level"] == 95.0 and bayes.estat_icc(80).attrs["level"] == 80.0


def test_shared_accessors_live_once_on_the_base(ml, bayes):
    for r in (ml, bayes):
        assert r.nobs == 887
        assert r.groups.loc["school", "groups"] == 48
        assert list(r.random_effects()) == ["school"]
    for name in ("nobs", "groups", "save", "predict", "estat_icc", "test", "fixef", "varcorr"):
        owners = [c for c in type(ml).__mro__ if name in vars(c)]
        assert [c.__name__ for c in owners] == ["ResultBase"], name


def test_engines_return_estimates_and_the_composition_builds_results(jsp):
    spec = stata_to_spec("mixed math5 math3 || school:", jsp)
    design = build_design(spec, jsp)
    est = estimate_lmm(design)
    assert type(est) is LMMEstimates and not hasattr(est, "kind")
    result = fit_lmm(design)
    assert isinstance(result, bm.MixedResult) and isinstance(result, LMMEstimates)
    assert result.loglik == pytest.approx(est.loglik, rel=1e-12)
    np.testing.assert_allclose(result.beta, est.beta, rtol=1e-10)
    built = bm.MixedResult.from_estimates(est, level=90.0)
    assert built.beta is est.beta and built.level == 90.0 and built.opt is est.opt
    assert issubclass(bm.GLMMResult, GLMMEstimates)


def test_optsummary_lives_at_the_engine_stage():
    from bayesmixed.engines.optsummary import OptSummary
    from bayesmixed.results.mixed import OptSummary as from_results

    assert from_results is OptSummary
    field_types = {f.name: f.type for f in dataclasses.fields(LMMEstimates)}
    assert field_types["opt"] in ("OptSummary", OptSummary)
