"""``margins`` after ``meologit`` (issue 15): ``predict(pr outcome(#k))`` over the effects.

Oracle, written out here: the cutpoints are rebuilt from the fit's working parameters by
the ordinal parametrization (c_1 = a_1, c_j = c_(j-1) + exp(a_j)), checked against the
printed /cut rows; each row's marginal probability F(c_k - eta - s u) - F(c_(k-1) - eta - s u)
is integrated over u ~ N(0, 1) with scipy.integrate.quad (s the random intercept's SD,
exp of its working parameter, checked against the fit's covariance); the margin is their
average.  Its standard error is the delta method, as Stata's over all of e(b): a gradient
by central differences of that whole quadrature in (beta, log SD, cutpoint working
parameters) and the fit's joint covariance of those (``vcov_joint``).  Nothing of
bayesmixed's margins code or its Gauss-Hermite rule is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

import bayesmixed as bm
from bayesmixed.errors import BayesmixedError

WINE = Path(__file__).parents[1] / "reference" / "ordinal_wine.csv"


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(WINE)


@pytest.fixture(scope="module")
def fit(data):
    return bm.stata("meologit rating temp contact || judge:", data)


def cutpoints(working: np.ndarray) -> np.ndarray:
    return np.cumsum(np.r_[working[0], np.exp(working[1:])])


def marginal_probability(eta: np.ndarray, cuts: np.ndarray, sd: float, k: int) -> np.ndarray:
    """Pr(y = category k) for each eta, integrated over the random intercept with quad."""
    full = np.r_[-np.inf, cuts, np.inf]

    def f(u):
        lin = eta + sd * u
        return (
            (special.expit(full[k + 1] - lin) - special.expit(full[k] - lin))
            * np.exp(-u * u / 2)
            / np.sqrt(2 * np.pi)
        )

    return integrate.quad_vec(f, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0]


def oracle(fit, frame: pd.DataFrame, k: int, **settings) -> tuple[float, float]:
    X = frame.assign(**settings)[["temp", "contact"]].to_numpy(float)
    p = X.shape[1]

    def margin(params: np.ndarray) -> float:  # (beta, log SD, cutpoint working parameters)
        sd = np.exp(params[p])
        return float(marginal_probability(X @ params[:p], cutpoints(params[p + 1 :]), sd, k).mean())

    params = np.r_[fit.beta, fit.working]
    grad = np.empty(len(params))
    for j in range(len(params)):
        h = 1e-5 * max(1.0, abs(params[j]))
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (margin(up) - margin(down)) / (2 * h)
    return margin(params), float(np.sqrt(grad @ fit.vcov_joint @ grad))


def test_joint_covariance_holds_the_separate_blocks(fit):
    p = fit.design.p
    np.testing.assert_allclose(fit.vcov_joint[:p, :p], fit.vcov_beta, rtol=1e-12)
    np.testing.assert_allclose(fit.vcov_joint[p:, p:], fit.working_vcov, rtol=1e-12)
    table = fit.summary()
    shown = [table.loc[("rating", f"/cut{j}"), "estimate"] for j in range(1, 5)]
    np.testing.assert_allclose(cutpoints(fit.anc_working), shown, rtol=1e-10)
    # working = (log SD of the judge intercept, cutpoint parameters)
    assert len(fit.working) == 1 + len(fit.anc_working)
    assert np.exp(2 * fit.working[0]) == pytest.approx(fit.cov_blocks[0][0, 0], rel=1e-12)


@pytest.mark.parametrize("k, word", [(0, "#1"), (2, "3"), (4, "#5")])
def test_marginal_probability_and_se_match_the_quadrature(fit, data, k, word):
    m = fit.margins(f", at(temp=(0 1)) predict(pr outcome({word}))", data=data)
    for row, temp in zip(range(2), (0, 1)):
        value, se = oracle(fit, data, k, temp=temp)
        assert m.table["margin"].iloc[row] == pytest.approx(value, rel=1e-8)
        assert m.table["se"].iloc[row] == pytest.approx(se, rel=1e-5)
    assert f"Pr(rating=={k + 1})" in str(m)


def test_outcome_probabilities_sum_to_one_and_if_subsample(fit, data):
    total = sum(
        fit.margins(f"if judge <= 4, predict(pr outcome(#{k}))", data=data).margin[0]
        for k in range(1, 6)
    )
    assert total == pytest.approx(1.0, abs=1e-12)
    sub = data[data["judge"] <= 4]
    m = fit.margins("if judge <= 4, predict(pr outcome(#2))", data=data)
    value, se = oracle(fit, sub, 1)
    assert m.margin[0] == pytest.approx(value, rel=1e-8)
    assert m.table["se"].iloc[0] == pytest.approx(se, rel=1e-5)


def test_fixedonly_sets_the_effects_to_zero(fit, data):
    m = fit.margins(", predict(pr outcome(#1) fixedonly)", data=data)
    eta = data[["temp", "contact"]].to_numpy(float) @ fit.beta
    cuts = cutpoints(fit.anc_working)
    assert m.margin[0] == pytest.approx(special.expit(cuts[0] - eta).mean(), rel=1e-10)


def test_refusals(fit, data):
    with pytest.raises(BayesmixedError, match="say which outcome"):
        fit.margins("", data=data)
    with pytest.raises(BayesmixedError, match="not an outcome"):
        fit.margins(", predict(pr outcome(7))", data=data)


def test_dofile_margins_after_meologit(tmp_path, fit, data):
    from bayesmixed.dofile import run_do
    from bayesmixed.dofile.session import Output

    path = tmp_path / "t.do"
    path.write_text(
        f'import delimited "{WINE}", clear\n'
        "meologit rating temp contact || judge:\n"
        "margins, at(temp=(0 1)) predict(pr outcome(#1))\n"
    )
    text = next(
        e.text for e in run_do(path).log if isinstance(e, Output) and e.command.startswith("marg")
    )
    assert text == str(fit.margins(", at(temp=(0 1)) predict(pr outcome(#1))", data=data))


def test_the_joint_covariance_survives_save_and_load(tmp_path, fit, data):
    from bayesmixed.io.results_io import load

    back = load(fit.save(tmp_path / "wine.bmr"))
    np.testing.assert_array_equal(back.vcov_joint, fit.vcov_joint)
    spec = ", predict(pr outcome(#2))"
    assert str(back.margins(spec, data=data)) == str(fit.margins(spec, data=data))
