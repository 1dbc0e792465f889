"""The numbers behind the tables: Wald test, CIs, delta-method SEs, labels, grouping."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from mixed_result_builders import BlockSpec, build, log_sd_var, pig_spec
from scipy import stats

from bayesmixed.results.table import (
    build_tables,
    coef_groups,
    entry_label,
    lr_vs_linear,
    parse_name,
    random_sections,
    wald_test,
)
from bayesmixed.spec.covariance import Entry, get_structure

Z95 = stats.norm.ppf(0.975)


def test_wald_uses_the_full_covariance_of_non_constant_columns():
    v = np.array([[0.04, 0.01, 0.002], [0.01, 0.09, -0.003], [0.002, -0.003, 0.5]])
    spec = replace(pig_spec(), fixed_names=["a", "b", "_cons"], beta=[0.3, -0.5, 2.0], vcov_beta=v)
    test = wald_test(build(spec))
    b = np.array([0.3, -0.5])
    expected = b @ np.linalg.inv(v[:2, :2]) @ b
    assert test.df == 2
    assert test.chi2 == pytest.approx(expected, rel=1e-12)
    assert test.p == pytest.approx(stats.chi2.sf(expected, 2), rel=1e-12)


def test_coefficient_interval_and_p_value():
    row = coef_groups(build(pig_spec()))[0].rows[0]
    b, se = 6.209895625075, 0.039012388002400006
    assert (row.lower, row.upper) == pytest.approx((b - Z95 * se, b + Z95 * se))
    assert row.p == pytest.approx(2 * stats.norm.sf(b / se), abs=1e-300)


def test_variance_interval_is_on_the_log_scale():
    sections, _ = random_sections(build(pig_spec()))
    row = sections[0].rows[0]
    v, se = 14.81751098, 3.12422551
    assert row.se == pytest.approx(se, rel=1e-8)
    assert row.lower == pytest.approx(v / math.exp(Z95 * se / v), rel=1e-8)
    assert row.upper == pytest.approx(v * math.exp(Z95 * se / v), rel=1e-8)


def exchangeable_result(display="variance"):
    v, rho = 2.0, 0.3
    cov = v * ((1 - rho) * np.eye(3) + rho * np.ones((3, 3)))
    structure = get_structure("exchangeable", 3, ("x", "z", "_cons"))
    w = structure.working_from_cov(cov)
    we, ae = log_sd_var(1.5, 0.1)
    spec = replace(
        pig_spec(),
        blocks=[BlockSpec("id", ("x", "z", "_cons"), "exchangeable", cov)],
        working=[*w, we],
        working_vcov=np.diag([0.01, 0.04, ae]),
        sigma2=1.5,
        display=display,
    )
    return build(spec), w


def test_exchangeable_covariance_se_by_delta_method_and_symmetric_interval():
    result, w = exchangeable_result()
    var_row, cov_row = random_sections(result)[0][0].rows
    assert var_row.label == "var(x z _cons)" and cov_row.label == "cov(x z _cons)"
    assert cov_row.estimate == pytest.approx(0.6)
    # cov = exp(2 w0) * rho(w1), rho = -1/2 + 3/2 * logistic(w1) for k = 3
    lg = 1 / (1 + math.exp(-w[1]))
    d0 = 2 * 0.6
    d1 = 2.0 * 1.5 * lg * (1 - lg)
    se = math.sqrt(d0**2 * 0.01 + d1**2 * 0.04)
    assert cov_row.se == pytest.approx(se, rel=1e-7)
    assert cov_row.lower == pytest.approx(0.6 - Z95 * se, rel=1e-7)
    assert cov_row.upper == pytest.approx(0.6 + Z95 * se, rel=1e-7)
    assert var_row.se == pytest.approx(2 * 2.0 * 0.1, rel=1e-7)


def test_correlation_interval_is_on_the_atanh_scale():
    result, _ = exchangeable_result("stddeviations")
    sd_row, corr_row = random_sections(result)[0][0].rows
    assert sd_row.label == "sd(x z _cons)" and corr_row.label == "corr(x z _cons)"
    r, se = corr_row.estimate, corr_row.se
    assert r == pytest.approx(0.3)
    half = Z95 * se / (1 - r * r)
    assert corr_row.lower == pytest.approx(math.tanh(math.atanh(r) - half))
    assert corr_row.upper == pytest.approx(math.tanh(math.atanh(r) + half))


@pytest.mark.parametrize(
    ("structure", "names", "entry", "sd", "label"),
    [
        ("unstructured", ("math3", "_cons"), Entry("cov", "", 0, 1), False, "cov(math3,_cons)"),
        ("unstructured", ("math3", "_cons"), Entry("cov", "", 0, 1), True, "corr(math3,_cons)"),
        ("identity", ("R.class",), Entry("var", ""), False, "var(R.class)"),
        ("identity", ("x", "z"), Entry("var", ""), True, "sd(x z)"),
        ("exchangeable", ("x", "z"), Entry("cov", ""), False, "cov(x,z)"),
        ("exchangeable", ("x", "z"), Entry("var", ""), False, "var(x z)"),
        (
            "identity",
            ("income", "education", "experience", "_cons"),
            Entry("var", ""),
            False,
            "var(income.._cons)",
        ),
    ],
)
def test_entry_labels_follow_stata(structure, names, entry, sd, label):
    assert entry_label(get_structure(structure, len(names), names), names, entry, sd) == label


def test_parse_name_handles_factor_interactions_and_base_markers():
    parts = parse_name("2.dose#c.size")
    assert [(p.var, p.level) for p in parts] == [("dose", "2"), ("size", None)]
    assert parse_name("0b.dose")[0].level == "0"


def test_factor_interaction_gets_a_header_with_levels():
    spec = replace(
        pig_spec(),
        fixed_names=["size", "2.dose#c.size", "1.dose#c.size", "_cons"],
        beta=[0.1, 0.2, 0.3, 1.0],
        vcov_beta=np.eye(4) * 0.01,
    )
    groups = coef_groups(build(spec))
    assert [g.header for g in groups] == [None, "dose#c.size", None]
    assert [r.label for r in groups[1].rows] == ["1", "2"]  # levels sorted numerically
    assert groups[1].separated and not groups[0].separated


def test_lr_vs_linear_chibar_and_chi2():
    pig = build(pig_spec())
    test = lr_vs_linear(pig)
    assert test.chibar and test.df == 1
    assert test.p == pytest.approx(0.5 * stats.chi2.sf(472.65, 1))
    at_zero = build(replace(pig_spec(), loglik_linear=pig_spec().loglik))
    assert lr_vs_linear(at_zero).p == 1.0
    tables = build_tables(build(replace(pig_spec(), working=[0.1, 0.2, 0.3, 0.4])))
    assert not tables.lr_linear.chibar and tables.lr_linear.df == 3


def test_abbreviated_labels_get_a_numbered_footnote():
    spec = replace(
        pig_spec(),
        blocks=[
            BlockSpec(
                "id", ("income", "education", "experience", "_cons"), "identity", np.eye(4) * 2.0
            )
        ],
        working=[0.5 * math.log(2.0), 0.5 * math.log(4.38326351)],
    )
    tables = build_tables(build(spec))
    assert tables.random[0].rows[0].label == "var(income.._cons)(1)"
    assert tables.footnotes == ["(1) income education experience _cons"]
