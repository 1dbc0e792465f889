"""Rendering compared line by line with Stata's own output.

Expected texts are Stata 16 output: the pig-weight example of [ME] mixed
(numbers from the manual), the layout of Stata's ``_xtmixed_display`` /
``_coef_table`` (as seen in Stata logs), an unstructured random-slope fit and
a factor-variable fit whose lines are copied from published Stata logs.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from mixed_result_builders import BlockSpec, ResultSpec, build, log_sd_var, pig_spec

from bayesmixed.design.types import GroupInfo
from bayesmixed.results.render import render_html, render_text
from bayesmixed.spec.model import Component, Term

PIG = """\
Mixed-effects ML regression                     Number of obs     =        432
Group variable: id                              Number of groups  =         48

                                                Obs per group:
                                                              min =          9
                                                              avg =        9.0
                                                              max =          9

                                                Wald chi2(1)      =   25337.49
Log likelihood = -1014.9268                     Prob > chi2       =     0.0000

------------------------------------------------------------------------------
      weight | Coefficient  Std. err.      z    P>|z|     [95% conf. interval]
-------------+----------------------------------------------------------------
        week |   6.209896   .0390124   159.18   0.000     6.133433    6.286359
       _cons |   19.35561   .5974059    32.40   0.000     18.18472    20.52651
------------------------------------------------------------------------------

------------------------------------------------------------------------------
  Random-effects parameters  |   Estimate   Std. err.     [95% conf. interval]
-----------------------------+------------------------------------------------
id: Identity                 |
                  var(_cons) |   14.81751   3.124226      9.801716    22.40002
-----------------------------+------------------------------------------------
               var(Residual) |   4.383264   .3163348      3.805112     5.04926
------------------------------------------------------------------------------
LR test vs. linear model: chibar2(01) = 472.65        Prob >= chibar2 = 0.0000
"""


def assert_lines(actual: str, expected: str) -> None:
    got, want = actual.splitlines(), expected.splitlines()
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        assert g == w, f"line {i + 1} differs:\n got: {g!r}\nwant: {w!r}"
    assert len(got) == len(want), f"{len(got)} lines, want {len(want)}"


def test_pig_example_matches_stata_character_for_character(pig):
    assert_lines(render_text(pig), PIG)


def test_every_table_line_is_78_wide(pig):
    for line in render_text(pig).splitlines():
        if line.startswith(("---", "  Random", "      weight")):
            assert len(line) == 78


def test_reml_header_says_restricted_likelihood():
    text = render_text(build(replace(pig_spec(), reml=True)))
    assert text.startswith("Mixed-effects REML regression ")
    assert "Log restricted-likelihood = -1014.9268" in text


def test_stddeviations_display_prints_sd_rows_on_log_scale():
    text = render_text(build(replace(pig_spec(), display="stddeviations")))
    sd = math.sqrt(14.81751098)
    se = 3.12422551 / (2 * sd)  # d sqrt(v) = dv / (2 sqrt(v))
    half = 1.959963984540054 * se / sd
    line = next(s for s in text.splitlines() if "sd(_cons)" in s)
    lo, hi = sd * math.exp(-half), sd * math.exp(half)
    printed = [float(x) for x in line.split("|")[1].split()]
    assert np.allclose(printed, [sd, se, lo, hi], rtol=2e-7, atol=0)
    assert "sd(Residual)" in text


def test_level_option_changes_headers_and_intervals():
    text = render_text(build(replace(pig_spec(), level=90.0)))
    assert "[90% conf. interval]" in text
    z90 = 1.6448536269514722
    row = next(s for s in text.splitlines() if s.startswith("        week"))
    lo = float(row.split()[-2])
    assert abs(lo - (6.209895625075 - z90 * 0.039012388002400006)) < 1e-6


def test_missing_working_vcov_prints_dots_and_a_note():
    text = render_text(build(replace(pig_spec(), working_vcov=None)))
    row = next(s for s in text.splitlines() if "var(_cons)" in s)
    assert row.split("|")[1].split() == ["14.81751", ".", ".", "."]
    assert "Note: Standard errors of the covariance parameters are not available" in text


def test_boundary_variance_has_missing_se_and_a_note():
    spec = replace(
        pig_spec(),
        blocks=[BlockSpec("id", ("_cons",), "identity", np.array([[0.0]]))],
        working=[-np.inf, 0.5 * math.log(4.38326351)],
        boundary=["id: variance of _cons is zero"],
    )
    text = render_text(build(spec))
    row = next(s for s in text.splitlines() if "var(_cons)" in s)
    assert row.split("|")[1].split() == ["0", ".", ".", "."]
    assert "Note: id: variance of _cons is zero" in text
    assert "var(_cons) is on the boundary" not in text  # the engine's note suffices
    text = render_text(build(replace(spec, boundary=[])))
    assert "Note: id: var(_cons) is on the boundary of the parameter space." in text


def test_not_converged_prints_warning_and_no_lr_test():
    text = render_text(build(replace(pig_spec(), converged=False)))
    assert "Warning: convergence not achieved" in text
    assert "LR test vs. linear model" not in text


# -- several levels: the group table (layout of Stata's _xtmixed_display) -------------

PRODUCTIVITY_HEADER = """\
Mixed-effects ML regression                     Number of obs     =        816

-------------------------------------------------------------
                |     No. of       Observations per Group
 Group Variable |     Groups    Minimum    Average    Maximum
----------------+--------------------------------------------
         region |          9         51       90.7        136
          state |         48         17       17.0         17
-------------------------------------------------------------

                                                Wald chi2(1)      =   25337.49
Log likelihood = -1014.9268                     Prob > chi2       =     0.0000
"""


def test_several_levels_print_the_group_table():
    groups = [GroupInfo("region", 9, 51, 90.666667, 136), GroupInfo("state", 48, 17, 17.0, 17)]
    text = render_text(build(replace(pig_spec(), nobs=816, group_info=groups)))
    assert_lines("\n".join(text.splitlines()[:12]), PRODUCTIVITY_HEADER)


# -- unstructured random slope: body lines from a published Stata log ---------------

UNSTRUCTURED_BODY = """\
HNDID: Unstructured          |
               var(timew1w3) |   .0062101   .0009051       .004667    .0082635
                  var(_cons) |   .1672103   .0124954      .1444288    .1935851
         cov(timew1w3,_cons) |  -.0083442   .0023229      -.012897   -.0037914
-----------------------------+------------------------------------------------
               var(Residual) |   .0249631   .0072747      .0141008     .044193
------------------------------------------------------------------------------
LR test vs. linear model: chi2(3) = 345.12                Prob > chi2 = 0.0000

Note: LR test is conservative and provided only for reference.
"""


def unstructured_spec() -> ResultSpec:
    v1, se1 = 0.00621008285, 0.000905130625
    v2, se2 = 0.167210251, 0.01249535835
    cov, se_cov = -0.0083442, 0.0023229
    w1, a1 = log_sd_var(v1, se1)
    w2, a2 = log_sd_var(v2, se2)
    r = cov / math.sqrt(v1 * v2)
    # se(cov)^2 = cov^2 (a1 + a2) + ((1 - r^2) sd1 sd2)^2 a3 for a diagonal working vcov
    a3 = (se_cov**2 - cov**2 * (a1 + a2)) / ((1 - r * r) * math.sqrt(v1 * v2)) ** 2
    we, ae = log_sd_var(0.024963051, 0.007274679175)
    loglik = -743.69446
    return replace(
        pig_spec(),
        response="LnNFL",
        nobs=1403,
        blocks=[
            BlockSpec(
                "HNDID", ("timew1w3", "_cons"), "unstructured", np.array([[v1, cov], [cov, v2]])
            )
        ],
        working=[w1, w2, math.atanh(r), we],
        working_vcov=np.diag([a1, a2, a3, ae]),
        sigma2=0.024963051,
        loglik=loglik,
        loglik_linear=loglik - 345.12 / 2,
        group_info=[GroupInfo("HNDID", 729, 1, 1.9, 2)],
    )


def test_unstructured_block_matches_stata_log():
    text = render_text(build(unstructured_spec()))
    start = text.index("HNDID: Unstructured")
    assert_lines(text[start:], UNSTRUCTURED_BODY)


def test_unstructured_in_stddeviations_prints_corr_with_atanh_interval():
    spec = replace(unstructured_spec(), display="stddeviations")
    text = render_text(build(spec))
    assert "corr(timew1w3,_cons)" in text
    assert "sd(timew1w3)" in text and "cov(" not in text
    row = next(s for s in text.splitlines() if "corr(" in s)
    est, se, lo, hi = (float(x) for x in row.split("|")[1].split())
    assert -1 < lo < est < hi < 1
    # asymmetric: the atanh scale pulls the interval away from -1
    assert est - lo < hi - est


# -- factor variables: lines from a Stata 14.2 log, headings as Stata 17 prints them --

FACTOR_TABLE = """\
------------------------------------------------------------------------------
           y | Coefficient  Std. err.      z    P>|z|     [95% conf. interval]
-------------+----------------------------------------------------------------
          by |
       1966  |   1.214815   .2729288     4.45   0.000     .6798844    1.749746
       1967  |    1.65712   .2729359     6.07   0.000     1.122175    2.192064
             |
    1.gender |   1.590908    .071009    22.40   0.000     1.451732    1.730083
       _cons |  -2.007694   .2277341    -8.82   0.000    -2.454045   -1.561344
------------------------------------------------------------------------------
"""


def factor_spec(**changes) -> ResultSpec:
    betas = [1.214814926, 1.65711951, 1.59090751, -2.00769449]
    ses = [0.272928778, 0.272935851, 0.07100896325, 0.227734051]
    spec = replace(
        pig_spec(),
        response="y",
        fixed_names=["1966.by", "1967.by", "1.gender", "_cons"],
        beta=betas,
        vcov_beta=np.diag(np.square(ses)),
        terms=(Term((Component("by", "i"),)), Term((Component("gender", "i"),))),
        base_levels=["1965b.by", "0b.gender"],
    )
    return replace(spec, **changes)


def fixed_block(text: str) -> str:
    lines = text.splitlines()
    start = next(i for i, s in enumerate(lines) if s.startswith("-") and "|" in lines[i + 1])
    end = next(i for i in range(start + 3, len(lines)) if lines[i].startswith("---"))
    return "\n".join(lines[start : end + 1])


def test_factor_variables_are_grouped_as_stata_prints_them():
    assert_lines(fixed_block(render_text(build(factor_spec()))), FACTOR_TABLE)


def test_show_base_prints_base_rows_under_headers():
    text = fixed_block(render_text(build(factor_spec(show_base=True))))
    lines = text.splitlines()
    assert "       1965  |          0  (base)" in lines
    assert "      gender |" in lines
    assert "          0  |          0  (base)" in lines
    assert lines.index("       1965  |          0  (base)") == lines.index("          by |") + 1


def test_omitted_columns_print_omitted():
    text = render_text(build(factor_spec(omitted=["unemp"])))
    assert "       unemp |          0  (omitted)" in text.splitlines()


def test_long_interaction_widens_the_stub():
    spec = factor_spec(
        fixed_names=["c.timew1w3#c.w1Agecenter50", "1966.by", "1967.by", "1.gender", "_cons"],
        beta=[0.000568351, 1.2, 1.6, 1.5, -2.0],
        vcov_beta=np.diag([0.00040776325, 0.27, 0.27, 0.07, 0.22]) ** 2,
    )
    lines = render_text(build(spec)).splitlines()
    row = next(s for s in lines if s.startswith("c.timew1w3#c.w1Agecenter50 |"))
    assert row == (
        "c.timew1w3#c.w1Agecenter50 |   .0005684   .0004078     1.39   0.163"
        "    -.0002309    .0013676"
    )


def test_wald_with_only_a_constant_prints_dots():
    spec = replace(pig_spec(), fixed_names=["_cons"], beta=[19.3], vcov_beta=np.array([[0.36]]))
    text = render_text(build(spec))
    assert "Wald chi2(0)      =          ." in text
    assert "Prob > chi2       =          ." in text


def test_html_has_the_same_numbers(pig):
    html = render_html(pig)
    for value in ("6.209896", ".0390124", "14.81751", "22.40002", "472.65", "-1014.9268"):
        assert f">{value}<" in html or value in html
    assert html.count("<table") == 3
    assert "var(_cons)" in html and "id: Identity" in html


def test_single_effect_is_labelled_identity_and_r_var_blocks_print_as_stata():
    spec = replace(
        pig_spec(),
        blocks=[
            BlockSpec("id", ("_cons",), "independent", np.array([[14.81751098]])),
            BlockSpec("_all", ("R.class",), "identity", np.array([[2.5]]), factor="class"),
        ],
        working=[0.5 * math.log(14.81751098), 0.5 * math.log(2.5), 0.5 * math.log(4.38326351)],
        working_vcov=np.diag([0.01, 0.02, 0.001]),
    )
    lines = render_text(build(spec)).splitlines()
    assert "id: Identity                 |" in lines
    assert "_all: Identity               |" in lines
    assert any(s.startswith("                var(R.class) |        2.5 ") for s in lines)
    assert "LR test vs. linear model: chi2(2) = 472.65" in "\n".join(lines)
