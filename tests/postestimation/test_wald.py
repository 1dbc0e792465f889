"""``test``, ``testparm`` and ``lincom`` against a brute-force Wald oracle.

The oracle builds R, r and c by hand with numpy from ``coef``/``vcov`` and
computes W = (Rb - r)' (R V R')^-1 (Rb - r) with scipy's chi2, and
lincom as c'b with SE sqrt(c'Vc); nothing of bayesmixed.postestimation.wald
is used to get the expected numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.dofile import run_do
from bayesmixed.errors import BayesmixedError


@pytest.fixture(scope="module")
def jsp2():
    return bm.mixed("math5 math3 || school: math3", data=bm.datasets.load("jsp2"))


@pytest.fixture(scope="module")
def rats():
    return bm.stata("mixed weight i.dose size female || litter:", bm.datasets.load("rats"))


@pytest.fixture(scope="module")
def logit():
    return bm.stata("melogit c_use urban age || district:", bm.datasets.load("bangladesh"))


def oracle_test(result, rows: list[dict[str, float]], rhs: list[float]) -> tuple[float, float]:
    names = list(result.coef.index)
    R = np.array([[row.get(n, 0.0) for n in names] for row in rows])
    r = np.array(rhs, float)
    b = result.coef.to_numpy()
    V = result.vcov.to_numpy()
    d = R @ b - r
    w = float(d @ np.linalg.inv(R @ V @ R.T) @ d)
    return w, float(stats.chi2.sf(w, len(rows)))


def oracle_lincom(result, weights: dict[str, float]) -> tuple[float, float]:
    c = np.array([weights.get(n, 0.0) for n in result.coef.index])
    return float(c @ result.coef.to_numpy()), float(np.sqrt(c @ result.vcov.to_numpy() @ c))


@pytest.mark.parametrize(
    ("spec", "rows", "rhs"),
    [
        ("math3", [{"math3": 1}], [0]),
        ("math3 = 0.5", [{"math3": 1}], [0.5]),
        ("2*math3 + _cons = 1", [{"math3": 2, "_cons": 1}], [1]),
        ("_b[math3] - .5 = 0", [{"math3": 1}], [0.5]),
        ("math3 _cons", [{"math3": 1}, {"_cons": 1}], [0, 0]),
        ("(math3 = 0.6) (_cons = 30)", [{"math3": 1}, {"_cons": 1}], [0.6, 30]),
    ],
)
def test_test_on_jsp2_matches_the_oracle(jsp2, spec, rows, rhs):
    got = jsp2.test(spec)
    w, p = oracle_test(jsp2, rows, rhs)
    assert got.df == len(rows)
    assert got.chi2 == pytest.approx(w, rel=1e-10)
    assert got.p == pytest.approx(p, rel=1e-8, abs=1e-300)


@pytest.mark.parametrize(
    ("spec", "rows", "rhs"),
    [
        ("1.dose 2.dose", [{"1.dose": 1}, {"2.dose": 1}], [0, 0]),
        ("1.dose = 2.dose", [{"1.dose": 1, "2.dose": -1}], [0]),
        ("size + 3*female = -1.5", [{"size": 1, "female": 3}], [-1.5]),
    ],
)
def test_test_on_rats_matches_the_oracle(rats, spec, rows, rhs):
    got = rats.test(spec)
    w, p = oracle_test(rats, rows, rhs)
    assert (got.df, got.chi2, got.p) == (len(rows), pytest.approx(w), pytest.approx(p))


def test_single_df_chi2_is_z_squared(rats, logit):
    for result in (rats, logit):
        for name in result.coef.index:
            z = result.coef[name] / result.se[name]
            assert result.test(name).chi2 == pytest.approx(z**2, rel=1e-10)
            assert result.test(name).p == pytest.approx(result.pvalues[name], rel=1e-8)


def test_joint_test_of_all_slopes_is_the_header_wald_chi2(rats, logit):
    from bayesmixed.results.table import wald_test

    for result in (rats, logit):
        slopes = " ".join(n for n in result.coef.index if n != "_cons")
        got, header = result.test(slopes), wald_test(result)
        assert (got.df, got.chi2) == (header.df, pytest.approx(header.chi2, rel=1e-8))


def test_testparm_factor_equals_joint_test(rats):
    a, b = rats.testparm("i.dose"), rats.test("1.dose 2.dose")
    assert (a.chi2, a.df, a.p) == (b.chi2, b.df, b.p)
    assert rats.testparm("size female").chi2 == rats.test("size female").chi2


def test_printed_layout(rats):
    text = str(rats.test("1.dose 2.dose"))
    w, p = oracle_test(rats, [{"1.dose": 1}, {"2.dose": 1}], [0, 0])
    assert " ( 1)  [weight]1.dose = 0\n ( 2)  [weight]2.dose = 0" in text
    assert f"           chi2(  2) ={w:8.2f}" in text
    assert f"         Prob > chi2 ={p:10.4f}" in text
    assert "2*[weight]size + [weight]_cons = 1" in str(rats.test("2*size + _cons = 1"))


def test_dependent_constraint_dropped_inconsistent_refused(rats):
    got = rats.test("(1.dose = 0) (2.dose = 0) (1.dose - 2.dose = 0)")
    joint = rats.test("1.dose 2.dose")
    assert got.df == 2 and got.dropped == [3] and got.chi2 == pytest.approx(joint.chi2)
    assert "Constraint 3 dropped" in str(got)
    with pytest.raises(BayesmixedError, match="inconsistent"):
        rats.test("(size = 0) (size = 1)")


def test_lincom_matches_the_oracle(jsp2, rats):
    for result, expr, weights in [
        (jsp2, "math3 + 2*_cons", {"math3": 1, "_cons": 2}),
        (rats, "2.dose - 1.dose", {"2.dose": 1, "1.dose": -1}),
    ]:
        got = result.lincom(expr)
        est, se = oracle_lincom(result, weights)
        crit = stats.norm.ppf(0.975)
        assert got.estimate == pytest.approx(est, rel=1e-12)
        assert got.se == pytest.approx(se, rel=1e-10)
        assert got.z == pytest.approx(est / se)
        assert got.p == pytest.approx(2 * stats.norm.sf(abs(est / se)))
        assert (got.lower, got.upper) == (
            pytest.approx(est - crit * se),
            pytest.approx(est + crit * se),
        )
    text = str(rats.lincom("2.dose - 1.dose"))
    assert " ( 1)  - [weight]1.dose + [weight]2.dose = 0" in text
    assert "      weight | Coefficient  Std. err.      z    P>|z|     [95% conf. interval]" in text
    assert "         (1) |" in text
    assert rats.lincom("size", level=90).upper == pytest.approx(
        rats.coef["size"] + stats.norm.ppf(0.95) * rats.se["size"]
    )


def test_lincom_or_exponentiates_with_delta_method_se(logit):
    got = logit.lincom("urban + 10*age", eform="or")
    est, se = oracle_lincom(logit, {"urban": 1, "age": 10})
    crit = stats.norm.ppf(0.975)
    assert got.estimate == pytest.approx(np.exp(est))
    assert got.se == pytest.approx(np.exp(est) * se)
    assert (got.lower, got.upper) == (
        pytest.approx(np.exp(est - crit * se)),
        pytest.approx(np.exp(est + crit * se)),
    )
    assert got.z == pytest.approx(est / se)
    assert "Odds ratio" in str(got)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nosuch = 0", "coefficient 'nosuch' not found; the coefficients are: math3, _cons"),
        ("math3 +", "ends in an operator"),
        ("2*", "malformed"),
        ("math3 * _cons", "one coefficient"),
        ("math3 = _cons = 1", "one '='"),
        ("math3 _cons )", "malformed|not found"),
        ("", "give coefficients"),
    ],
)
def test_errors_name_the_problem(jsp2, spec, message):
    with pytest.raises(BayesmixedError, match=message):
        jsp2.test(spec)


def test_other_errors(jsp2, rats):
    with pytest.raises(BayesmixedError, match="'i.nosuch' matches no coefficient"):
        rats.testparm("i.nosuch")
    with pytest.raises(BayesmixedError, match="not an equation"):
        jsp2.lincom("math3 = 1")
    with pytest.raises(BayesmixedError, match="not found"):
        jsp2.lincom("math3 + 2*math4")


def test_bayesian_results_point_to_posterior_summaries():
    from bayesmixed.results.bayes import BayesResult

    bare = object.__new__(BayesResult)  # the refusal reads only the kind, never the draws
    # lincom after bayes: summarises the posterior of the combination (test_bayes_margins)
    for method in (BayesResult.test, BayesResult.testparm):
        with pytest.raises(BayesmixedError, match="posterior"):
            method(bare, "x")


def test_dofile_prints_the_api_numbers(tmp_path, rats, logit):
    do = tmp_path / "t.do"
    do.write_text(
        "use rats\n"
        "mixed weight i.dose size female || litter:\n"
        "test 1.dose = 2.dose\n"
        "testparm i.dose\n"
        "lincom 2.dose - 1.dose\n"
        "use bangladesh, clear\n"
        "melogit c_use urban age || district:\n"
        "lincom urban + 10*age, or\n"
    )
    session = run_do(do)
    text = "\n".join(str(e.text) for e in session.log if hasattr(e, "text"))
    assert str(rats.test("1.dose = 2.dose")) in text
    assert str(rats.testparm("i.dose")) in text
    assert str(rats.lincom("2.dose - 1.dose")) in text
    assert str(logit.lincom("urban + 10*age", eform="or")) in text
