"""Priors by name: the defaults' scales, Stata's set, flat, and changes by name."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed.engines.bayes.priors import Prior, block_names, describe, resolve_priors
from bayesmixed.errors import SpecificationError

from .helpers import grunfeld_design, jsp_design, toy_design


@pytest.fixture(scope="module")
def jsp():
    return jsp_design()


def test_default_priors_scale_with_the_data(jsp):
    p = resolve_priors(jsp)
    sdy, sdx = np.std(jsp.y), np.std(jsp.X[:, 0])
    assert p["beta[math3]"] == Prior("normal", (0.0, (2.5 * sdy / sdx) ** 2))
    assert p["beta[_cons]"].params[0] == pytest.approx(np.mean(jsp.y))
    # halfnormal(v) takes the variance of the normal it folds, as normal(m, v) does
    assert p["sigma"] == Prior("halfnormal", ((2.5 * sdy) ** 2,))
    assert p["sd[school:math3]"].params[0] == pytest.approx((2.5 * sdy / sdx) ** 2)
    assert p["sd[school:_cons]"].params[0] == pytest.approx((2.5 * sdy) ** 2)
    assert p["corr[school]"] == Prior("lkj", (1.0,))


def test_rescaling_the_response_rescales_every_default():
    a = jsp_design()
    b = jsp_design()
    b.y = b.y * 100
    pa, pb = resolve_priors(a), resolve_priors(b)
    assert pb["sigma"].params[0] == pytest.approx(1e4 * pa["sigma"].params[0])
    assert pb["beta[math3]"].params[1] == pytest.approx(1e4 * pa["beta[math3]"].params[1])


def test_stata_priors_are_statas_defaults(jsp):
    p = resolve_priors(jsp, "stata")
    assert p["beta[math3]"] == Prior("normal", (0.0, 10000.0))
    assert p["sigma"] == Prior("igamma", (0.01, 0.01))
    assert p["cov[school]"] == Prior("iwishart", (3.0,))
    assert not any(k.startswith(("sd[", "corr[")) for k in p)


def test_stata_priors_for_identity_blocks_are_inverse_gamma_on_variances():
    p = resolve_priors(grunfeld_design(), "stata")
    assert p["sd[R.company]"] == Prior("igamma", (0.01, 0.01))
    assert p["sd[year:_cons]"] == Prior("igamma", (0.01, 0.01))


def test_flat_priors_are_flat_except_the_uniform_lkj(jsp):
    p = resolve_priors(jsp, "flat")
    assert {v.dist for k, v in p.items() if k != "corr[school]"} == {"flat"}
    assert p["corr[school]"] == Prior("lkj", (1.0,))


def test_changes_by_name(jsp):
    p = resolve_priors(jsp, {"beta": ("normal", 0, 100), "sd[school]": ("halft", 25, 3)})
    assert p["beta[_cons]"] == p["beta[math3]"] == Prior("normal", (0.0, 100.0))
    assert p["sd[school:math3]"] == Prior("halft", (25.0, 3.0))
    p = resolve_priors(jsp, {"base": "stata", "corr[school]": ("lkj", 2)})
    assert "cov[school]" not in p and p["corr[school]"] == Prior("lkj", (2.0,))
    assert p["sd[school:_cons]"].dist == "halfnormal"


def test_inverse_wishart_by_name_replaces_sd_and_corr(jsp):
    p = resolve_priors(jsp, {"cov[school]": ("iwishart", 5)})
    assert p["cov[school]"] == Prior("iwishart", (5.0,))
    assert "corr[school]" not in p and "sd[school:math3]" not in p


@pytest.mark.parametrize(
    "change, message",
    [
        ({"beta[nope]": ("normal", 0, 1)}, "no prior is named 'beta\\[nope\\]'"),
        ({"sigma": ("normal", 0, 1)}, "cannot be used for sigma"),
        ({"sigma": ("halfnormal", 1, 2)}, "takes 1 parameter"),
        ({"sigma": ("gumbel", 1)}, "unknown prior distribution"),
        ({"sigma": 3.0}, "must be a Prior"),
        ({"sigma": ("halfstudentt", 3, 5)}, "now halft"),
        ({"sigma": "gamma(-1, 2)"}, "must be > 0"),
        ({"sd[school:math3]": "uniform(-1, 2)"}, "bounds must be >= 0"),
        ({"{math5:nope}": "normal(0, 1)"}, r"no parameter \{math5:nope\}.*\{U0:sigma2\}"),
        ({"{U:Sigma,m}": "iwishart(3, 4)"}, "the dimension is 3"),
        ({"base": "bogus"}, "unknown prior set"),
    ],
)
def test_bad_prior_requests_name_the_problem(jsp, change, message):
    with pytest.raises(SpecificationError, match=message):
        resolve_priors(jsp, change)


def test_inverse_wishart_needs_an_unstructured_block():
    with pytest.raises(SpecificationError, match="unstructured"):
        resolve_priors(toy_design("independent"), {"cov[g]": ("iwishart", 4)})


def test_block_names_and_description(jsp):
    assert block_names(grunfeld_design()) == ["R.company", "year"]
    lines = describe(resolve_priors(jsp))
    assert any(line.startswith("beta[math3]") and "normal(0," in line for line in lines)


def test_stata_names_set_the_engine_priors_they_name(jsp):
    p = resolve_priors(
        jsp,
        {
            "{math5:}": "t(0, 10, 3)",
            "{math5:_cons}": "normal(30, 100)",
            "{U0}": "igamma(.01, .01)",
            "{var_U1}": ("gamma", 2, 3),
            "{e.math5:sigma2}": "halfcauchy(5)",
            "{U:Rho,m}": "lkj(2, 3)",
        },
    )
    assert p["beta[math3]"] == Prior("t", (0.0, 10.0, 3.0))
    assert p["beta[_cons]"] == Prior("normal", (30.0, 100.0))  # later changes win
    assert p["sd[school:_cons]"].dist == "igamma" and p["sd[school:_cons]"].on_variance
    # gamma on {U1:sigma2} is on the variance; halfcauchy on the sd (a half distribution)
    assert p["sd[school:math3]"] == Prior("gamma", (2.0, 3.0), variance=True)
    assert p["sd[school:math3]"].on_variance and not p["sigma"].on_variance
    assert p["corr[school]"] == Prior("lkj", (3.0,))
    p = resolve_priors(jsp, {"{U:Sigma,m}": "iwishart(2, 3, I(2))"})
    assert p["cov[school]"] == Prior("iwishart", (3.0,))


def test_the_listing_speaks_statas_names(jsp):
    from bayesmixed.design.bayes_names import stata_listing

    p = resolve_priors(jsp, {"{math5:math3}": "normal(0, 100)", "{U0:sigma2}": "igamma(1, 2)"})
    lines = stata_listing(jsp, p)
    assert any(line.strip().startswith("{math5:math3} ~ normal(0, 100)") for line in lines)
    assert any("{U0:sigma2} ~ igamma(1, 2)  (sd[school:_cons])" in line for line in lines)
    assert any("{e.math5:sigma2} ~ halfnormal(" in line and "on the sd" in line for line in lines)


def test_prior_options_of_the_prefix_become_changes_by_statas_names():
    from bayesmixed.bayes_options import from_prefix

    prefix = {"prior": ("{y:x _cons}, normal(0, 100)", "{U0}, igamma(.01,.01)"), "rseed": 3}
    out = from_prefix(prefix)
    assert out == {
        "priors": {"{y:x _cons}": "normal(0, 100)", "{U0}": "igamma(.01,.01)"},
        "seed": 3,
    }


@pytest.mark.parametrize(
    "option, message, col",
    [
        ("prior({math5:math3} normal(0,1))", "written in braces", 28),
        ("prior(math3, normal(0,1))", "written in braces", 14),
        ("prior({math5:math3})", "give a distribution", 14 + len("{math5:math3}")),
        ("prior({math5:math3, normal(0,1))", "without its closing", 14),
    ],
)
def test_prior_syntax_errors_point_at_the_mistake(option, message, col):
    import pandas as pd

    from bayesmixed.errors import StataSyntaxError
    from bayesmixed.syntax import stata_to_spec

    data = pd.DataFrame({"math5": [1.0, 2.0], "math3": [1.0, 3.0], "school": [1, 2]})
    with pytest.raises(StataSyntaxError, match=message) as info:
        stata_to_spec(f"bayes, {option}: mixed math5 math3 || school:", data)
    assert f"(column {col})" in str(info.value)
