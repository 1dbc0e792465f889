"""``test``/``testparm`` after ``mixed ..., dfmethod()`` report F(q, ddf) (issue 15).

References: tests/reference/dfmethod.json (tests/reference/dfmethod.R): lmerTest's
``contest(joint = TRUE)`` F tests of a 2-df term, with ``ddf = "Kenward-Roger"`` (pbkrtest
underneath: KR-adjusted covariance, scaled F, moment-matched ddf) and
``ddf = "Satterthwaite"`` (observed information, our ``satterthwaite, oim``), on two
unbalanced models.  The counting rule ``residual`` is checked against n - rank(X), and a
one-row test with a nonzero right-hand side against the t statistic of the method's own
table.  ``estat df, post`` is checked to give the numbers of the refit with ``dfmethod()``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.dofile import DoFileError, run_do
from bayesmixed.dofile.session import Output
from bayesmixed.errors import BayesmixedError

REF_DIR = Path(__file__).resolve().parents[1] / "reference"
REF = json.loads((REF_DIR / "dfmethod.json").read_text())
RATS = pd.read_csv(REF_DIR / "dfmethod_rats.csv")
JSP = pd.read_csv(REF_DIR / "dfmethod_jsp2.csv")
RATS_FIT = "mixed weight i.dose size female || litter:, reml"
JSP_FIT = "mixed math5 math3 gender || school: || class:, reml"
CASES = [
    ("rats", RATS_FIT, RATS, "testparm", "i.dose", "dose"),
    ("jsp2", JSP_FIT, JSP, "test", "math3 gender", "slopes"),
]
METHODS = {"kenward_roger": "kroger", "satterthwaite": "satterthwaite, oim"}


@pytest.mark.parametrize("model, cmd, data, how, spec, key", CASES)
@pytest.mark.parametrize("ref_key", list(METHODS))
def test_f_test_after_dfmethod_matches_lmertest(model, cmd, data, how, spec, key, ref_key):
    fit = bm.stata(f"{cmd} dfmethod({METHODS[ref_key]})", data)
    got = getattr(fit, how)(spec)
    ref = REF[model]["ftests"][key][ref_key]
    assert got.df == ref["ndf"] == 2
    assert got.f == pytest.approx(ref["F"], rel=1e-5)
    assert got.ddf == pytest.approx(ref["ddf"], rel=1e-4)
    assert got.p == pytest.approx(ref["p"], rel=1e-4)
    text = str(got)
    assert f"F(  2,{ref['ddf']:7.2f}) ={ref['F']:8.2f}" in text
    assert f"            Prob > F ={ref['p']:10.4f}" in text


def test_small_names_a_method_on_a_fit_without_dfmethod():
    fit = bm.stata(RATS_FIT, RATS)
    plain = fit.testparm("i.dose")
    assert plain.f is None and "chi2(  2)" in str(plain)
    kr = fit.testparm("i.dose", small="kroger")
    assert kr.f == pytest.approx(REF["rats"]["ftests"]["dose"]["kenward_roger"]["F"], rel=1e-5)
    with pytest.raises(BayesmixedError, match="without dfmethod"):
        fit.test("size", small=True)
    # a dfmethod fit can still ask for the large-sample chi2
    assert bm.stata(f"{RATS_FIT} dfmethod(kroger)", RATS).test("size", small=False).f is None


def test_one_row_with_a_right_hand_side_is_the_squared_t():
    fit = bm.stata(f"{RATS_FIT} dfmethod(kroger)", RATS)
    table = fit.small_sample()
    got = fit.test("size = -0.1")
    t = (table.loc["size", "coef"] + 0.1) / table.loc["size", "se"]
    assert got.f == pytest.approx(t**2, rel=1e-8)
    assert got.ddf == pytest.approx(table.loc["size", "df"], rel=1e-8)


def test_residual_rule_ddf_is_n_minus_rank():
    fit = bm.stata(f"{RATS_FIT} dfmethod(residual)", RATS)
    got = fit.test("1.dose = 2.dose")
    assert got.ddf == fit.nobs - np.linalg.matrix_rank(fit.design.X) == 317
    assert "       F(  1,   317) =    5.69" in str(got)


def test_estat_df_post_in_python():
    fit = bm.stata(RATS_FIT, RATS)
    posted = fit.estat_df("kroger", post=True)
    direct = bm.stata(f"{RATS_FIT} dfmethod(kroger)", RATS)
    assert posted.dfmethod == "kroger" and fit.dfmethod is None
    assert posted.testparm("i.dose").f == pytest.approx(direct.testparm("i.dose").f, rel=1e-12)
    assert str(posted) == str(direct)
    with pytest.raises(BayesmixedError, match="one method"):
        fit.estat_df(["kroger", "residual"], post=True)


def _outputs(session):
    return [(e.command, e.text) for e in session.log if isinstance(e, Output)]


def test_dofile_test_small_and_estat_df_post(tmp_path):
    path = tmp_path / "t.do"
    path.write_text(
        "use rats\n"
        f"{RATS_FIT} dfmethod(kroger)\n"
        "testparm i.dose\n"
        "test 1.dose 2.dose, small\n"
        f"{RATS_FIT}\n"
        "test 1.dose 2.dose\n"
        "estat df, method(kroger residual) post(kroger)\n"
        "testparm i.dose\n"
    )
    out = [text for cmd, text in _outputs(run_do(path)) if cmd.startswith(("test", "estat"))]
    data = bm.datasets.load("rats")
    kr = str(bm.stata(f"{RATS_FIT} dfmethod(kroger)", data).testparm("i.dose"))
    assert "Prob > F" in kr
    assert out[0] == kr and out[1] == kr and out[4] == kr
    assert "chi2(  2)" in out[2]
    assert "Kenward-Roger" in out[3] and "Residual" in out[3]


def test_dofile_refusals(tmp_path):
    path = tmp_path / "t.do"
    path.write_text(f"use rats\n{RATS_FIT}\ntest size, small\n")
    with pytest.raises(DoFileError, match="without dfmethod"):
        run_do(path)
    path.write_text(f"use rats\n{RATS_FIT}\nestat df, method(kroger residual) post\n")
    with pytest.raises(DoFileError, match="say which to post"):
        run_do(path)
    path.write_text(f"use rats\n{RATS_FIT}\ntest size, mtest\n")
    with pytest.raises(DoFileError, match="not supported"):
        run_do(path)


@pytest.mark.parametrize("method", ["kroger", "satterthwaite", "residual"])
def test_lincom_after_dfmethod_is_a_t_test(method):
    fit = bm.stata(f"{RATS_FIT} dfmethod({method})", RATS)
    row = fit.small_sample().loc["size"]
    got = fit.lincom("size")
    assert (got.estimate, got.se, got.z, got.df, got.p, got.lower, got.upper) == pytest.approx(
        (row["coef"], row["se"], row["t"], row["df"], row["p"], row["lower"], row["upper"]),
        rel=1e-10,
    )
    diff = fit.lincom("1.dose - 2.dose")
    f = fit.test("1.dose = 2.dose")
    assert diff.z**2 == pytest.approx(f.f, rel=1e-10) and diff.df == pytest.approx(f.ddf)
    assert diff.p == pytest.approx(f.p, rel=1e-8)
    assert "      t    P>|t|" in str(diff)
    assert bm.stata(RATS_FIT, RATS).lincom("size").df is None


@pytest.mark.parametrize("ref_key", list(METHODS))
def test_contrast_after_dfmethod_matches_lmertest(ref_key):
    """contrast r.dose: its joint F is lmerTest's contest of the dose term; each contrast
    (k vs 0) is the coefficient k.dose, so its t row is lmerTest's coefficient row."""
    fit = bm.stata(f"{RATS_FIT} dfmethod({METHODS[ref_key]})", RATS)
    c = fit.contrast("r.dose, effects", data=RATS)
    ref = REF["rats"]["ftests"]["dose"][ref_key]
    (joint,) = c.tests
    assert (joint.df, joint.f, joint.ddf, joint.p) == pytest.approx(
        (ref["ndf"], ref["F"], ref["ddf"], ref["p"]), rel=1e-4
    )
    rows = REF["rats"][ref_key]
    at = [rows["names"].index(n) for n in ("dose1", "dose2")]
    for col, key in [("estimate", "estimate"), ("se", "se"), ("z", "t"), ("df", "df"),
                     ("p", "p")]:  # fmt: skip
        np.testing.assert_allclose(c.table[col], np.asarray(rows[key])[at], rtol=1e-4)
    text = str(c)
    assert "        df        ddf          F        P>F" in text and "P>|t|" in text
    assert f"      Joint  |          2{ref['ddf']:11.2f}{ref['F']:11.2f}{ref['p']:11.4f}" in text
    pw = fit.pwcompare("dose, effects", data=RATS)
    np.testing.assert_allclose(pw.table["df"][:2], np.asarray(rows["df"])[at], rtol=1e-4)
