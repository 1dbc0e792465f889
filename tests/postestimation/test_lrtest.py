"""lrtest: numbers against R/Stata, refusals as Stata refuses, and the printout."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from mixed_result_builders import BlockSpec, build, pig_spec
from scipy import stats

from bayesmixed.errors import BayesmixedError
from bayesmixed.postestimation.lrtest import LRTestError, lrtest


def jsp_fit(loglik: float, n_cov: int, **changes):
    """A jsp ``math5 ~ math3 + (math3 | school)`` fit reduced to what lrtest reads.

    ``n_cov`` covariance parameters besides the residual (independent slope
    and intercept: 2; unstructured: 3), two fixed effects.
    """
    blocks = [
        BlockSpec(
            "school",
            ("math3", "_cons"),
            "independent" if n_cov == 2 else "unstructured",
            np.eye(2),
        )
    ]
    spec = replace(
        pig_spec(),
        nobs=887,
        blocks=blocks,
        working=[0.0] * (n_cov + 1),
        working_vcov=None,
        loglik=loglik,
        **changes,
    )
    return build(spec)


# lme4 ML fits of the jsp data: (math3 || school) independent vs unstructured
INDEPENDENT_LL = -2612.040148
UNSTRUCTURED_LL = -2589.333345


def test_jsp_independent_vs_unstructured_matches_reference():
    indep, uns = jsp_fit(INDEPENDENT_LL, 2), jsp_fit(UNSTRUCTURED_LL, 3)
    assert indep.df_model == 5 and uns.df_model == 6
    result = lrtest(uns, indep, names=("uns", "indep"))
    assert result.df == 1
    assert result.chi2 == pytest.approx(45.41361, abs=5e-6)
    assert result.p == pytest.approx(math.erfc(math.sqrt(result.chi2 / 2)), rel=1e-9)
    assert (result.nested, result.full) == ("indep", "uns")


def test_order_of_arguments_does_not_matter():
    indep, uns = jsp_fit(INDEPENDENT_LL, 2), jsp_fit(UNSTRUCTURED_LL, 3)
    a, b = lrtest(indep, uns), lrtest(uns, indep)
    assert (a.chi2, a.df, a.p) == (b.chi2, b.df, b.p)


def test_printout_has_stata_layout():
    text = str(lrtest(jsp_fit(INDEPENDENT_LL, 2), jsp_fit(UNSTRUCTURED_LL, 3), ("m1", "m2")))
    lines = text.splitlines()
    assert lines[0] == f"{'Likelihood-ratio test':<54}LR chi2(1)  =     45.41"
    assert lines[1] == f"{'(Assumption: m1 nested in m2)':<54}Prob > chi2 =    0.0000"
    assert lines[3].startswith("Note: The reported degrees of freedom assumes the null hypothesis")
    assert all(len(s) <= 77 for s in lines[3:])


def test_stata_lrtest_line_format_for_another_test():
    # "LR chi2(4)  =    515.01" / "Prob > chi2 =    0.0000" as in a Stata log
    a = jsp_fit(-1000.0, 2)
    b = jsp_fit(-1000.0 + 515.01 / 2, 2)  # four more fixed effects, same random part
    b.design = replace(a.design, fixed_names=[f"x{i}" for i in range(6)], X=np.zeros((887, 6)))
    text = str(lrtest(a, b, ("m1", "m2"))).splitlines()
    assert text[0] == f"{'Likelihood-ratio test':<54}LR chi2(4)  =    515.01"
    assert len(text) == 2  # same covariance parameters: no boundary note


def test_refuses_different_samples():
    a = jsp_fit(INDEPENDENT_LL, 2)
    b = jsp_fit(UNSTRUCTURED_LL, 3)
    b.design = replace(b.design, y=np.zeros(880))
    with pytest.raises(LRTestError, match="observations differ: 887 vs. 880"):
        lrtest(a, b)


def test_refuses_ml_against_reml():
    a = jsp_fit(INDEPENDENT_LL, 2)
    b = jsp_fit(UNSTRUCTURED_LL, 3, reml=True)
    with pytest.raises(BayesmixedError, match="ML fit with a REML fit"):
        lrtest(a, b)


def test_refuses_reml_fits_with_different_fixed_effects():
    a = jsp_fit(INDEPENDENT_LL, 2, reml=True)
    b = jsp_fit(UNSTRUCTURED_LL, 3, reml=True)
    b.design = replace(b.design, fixed_names=["math3sq", "_cons"])
    with pytest.raises(LRTestError, match="REML criterion not comparable"):
        lrtest(a, b)


def test_reml_fits_with_same_fixed_effects_are_compared():
    a = jsp_fit(INDEPENDENT_LL, 2, reml=True)
    b = jsp_fit(UNSTRUCTURED_LL, 3, reml=True)
    assert lrtest(a, b).chi2 == pytest.approx(45.413606, abs=1e-6)


def test_reml_compares_the_design_columns_not_only_names():
    a = jsp_fit(INDEPENDENT_LL, 2, reml=True)
    b = jsp_fit(UNSTRUCTURED_LL, 3, reml=True)
    b.design = replace(b.design, X=np.ones_like(b.design.X))
    with pytest.raises(LRTestError, match="REML criterion not comparable"):
        lrtest(a, b)


def test_refuses_equal_parameter_counts():
    with pytest.raises(LRTestError, match=r"df\(unrestricted\) = df\(restricted\) = 5"):
        lrtest(jsp_fit(INDEPENDENT_LL, 2), jsp_fit(-2600.0, 2))


def test_refuses_when_the_larger_model_fits_worse():
    with pytest.raises(LRTestError, match="not\\s+nested|fits worse"):
        lrtest(jsp_fit(-2500.0, 2), jsp_fit(UNSTRUCTURED_LL, 3))


def test_lrtest_compares_two_glmm_fits():
    """GLMMs are ML fits: lrtest compares them (it used to fail on the missing ``reml``)."""
    import bayesmixed as bm

    data = bm.datasets.load("bangladesh")
    small = bm.stata("melogit c_use urban || district:", data)
    big = bm.stata("melogit c_use urban age || district:", data)
    out = bm.lrtest(small, big)
    assert out.df == 1
    assert out.chi2 == pytest.approx(2 * (big.loglik - small.loglik))
    assert out.p == pytest.approx(stats.chi2.sf(out.chi2, 1))
