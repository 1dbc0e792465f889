"""``margins ... if ... in ...`` (issue 15): averages over a subsample of the estimation sample.

Oracle: written out here from the fit's own beta and vcov only -- the counterfactual design
rows are built by hand from the data (1.dose, 2.dose, size, female, _cons), averaged over
the rows that are in the estimation sample *and* satisfy the qualifiers, and the standard
error is the delta method ``sqrt(g' V g)`` of that average row ``g`` (the margin is linear
in beta).  Nothing of bayesmixed's margins code is used.  Some rows have a missing ``size``,
so they are outside the estimation sample while satisfying the ``if``: Stata's margins
leaves them out, and so must we.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

import bayesmixed as bm
from bayesmixed.dofile import run_do
from bayesmixed.dofile.session import Output
from bayesmixed.errors import BayesmixedError, StataSyntaxError
from bayesmixed.postestimation.margins_spec import parse_margins

TOL = 1e-10
DATA = Path(__file__).parents[1] / "reference" / "margins_rats.csv"


@pytest.fixture(scope="module")
def rats_data():
    data = pd.read_csv(DATA)
    data.loc[[3, 40, 41, 200], "size"] = np.nan  # outside the estimation sample
    return data


@pytest.fixture(scope="module")
def fit(rats_data):
    return bm.stata("mixed weight i.dose size female || litter:", rats_data)


def design_rows(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The model's X for ``frame``, column by column, in the fit's column order."""
    cols = {
        "1.dose": (frame["dose"] == 1).astype(float),
        "2.dose": (frame["dose"] == 2).astype(float),
        "size": frame["size"].astype(float),
        "female": frame["female"].astype(float),
        "_cons": np.ones(len(frame)),
    }
    return np.column_stack([np.asarray(cols[n], float) for n in names])


def by_hand(fit, frame: pd.DataFrame, **settings) -> tuple[float, float]:
    rows = frame.assign(**settings)
    g = design_rows(rows, list(fit.design.fixed_names)).mean(axis=0)
    return float(g @ fit.beta), float(np.sqrt(g @ fit.vcov_beta @ g))


def sample(rats_data: pd.DataFrame) -> pd.DataFrame:
    return rats_data.dropna(subset=["size"])


def check(m, expected: list[tuple[float, float]]) -> None:
    np.testing.assert_allclose(m.table["margin"], [e[0] for e in expected], rtol=TOL)
    np.testing.assert_allclose(m.table["se"], [e[1] for e in expected], rtol=TOL)


def test_fit_leaves_out_the_missing_rows(fit, rats_data):
    assert fit.nobs == len(rats_data) - 4


def test_at_and_marginlist_over_the_if_subsample(fit, rats_data):
    m = fit.margins("dose if female == 1, at(size=(5 10))", data=rats_data)
    sub = sample(rats_data).query("female == 1")
    expected = [by_hand(fit, sub, size=s, dose=d) for s in (5, 10) for d in (0, 1, 2)]
    check(m, expected)
    text = str(m)
    assert f"Number of obs = {len(sub)}" in text and "2._at: size = 10" in text


def test_grand_margin_with_if_and_in(fit, rats_data):
    # in counts the rows of the data in memory (positions 1..150), the estimation sample
    # and the if then restrict them
    m = fit.margins("if female == 0 & litter > 3 in 1/150", data=rats_data)
    first = sample(rats_data.iloc[:150])
    sub = first[(first["female"] == 0) & (first["litter"] > 3)]
    check(m, [by_hand(fit, sub)])
    assert m.nobs == len(sub) and f"Number of obs = {len(sub)}" in str(m)


def test_negative_in_and_inlist_with_commas(fit, rats_data):
    m = fit.margins("dose if inlist(litter, 20, 21, 25) in -200/l, at(size=12)", data=rats_data)
    tail = sample(rats_data.iloc[-200:])
    sub = tail[tail["litter"].isin([20, 21, 25])]
    check(m, [by_hand(fit, sub, size=12, dose=d) for d in (0, 1, 2)])


def test_over_groups_and_atmeans_use_the_subsample(fit, rats_data):
    m = fit.margins("if size >= 12, over(dose)", data=rats_data)
    sub = sample(rats_data).query("size >= 12")
    check(m, [by_hand(fit, sub[sub["dose"] == d]) for d in (0, 1, 2)])
    means = fit.margins("if dose == 2, atmeans", data=rats_data)
    sub2 = sample(rats_data).query("dose == 2")
    # atmeans with only main effects: the X row of the subsample's means
    check(means, [by_hand(fit, sub2)])
    assert f"size = {sub2['size'].mean():.7g}" in str(means)


def test_dydx_in_a_subsample(fit, rats_data):
    m = fit.margins("if female == 1, dydx(dose size)", data=rats_data)
    names = list(fit.design.fixed_names)
    for row, name in zip(m.rows, ["1.dose", "2.dose", "size"]):
        assert row.dydx == name
    j = [names.index(n) for n in ["1.dose", "2.dose", "size"]]
    np.testing.assert_allclose(m.table["margin"], fit.beta[j], rtol=1e-7)
    np.testing.assert_allclose(m.table["se"], np.sqrt(np.diag(fit.vcov_beta))[j], rtol=1e-7)


def test_melogit_marginal_mean_over_a_subsample():
    """Oracle: scipy.integrate.quad over the normal random intercept, row by row."""
    data = bm.datasets.load("bangladesh")
    fit = bm.stata("melogit c_use urban age || district:", data)
    m = fit.margins("if urban == 1 & age > 0", data=data)
    rows = data.loc[fit.design.rows]
    rows = rows[(rows["urban"] == 1) & (rows["age"] > 0)]
    names = list(fit.design.fixed_names)
    b = dict(zip(names, fit.beta))
    sd = float(np.sqrt(fit.cov_blocks[0][0, 0]))
    eta = b["_cons"] + b["urban"] * rows["urban"] + b["age"] * rows["age"]

    def marginal(e: float) -> float:
        f = lambda u: special.expit(e + sd * u) * np.exp(-u * u / 2) / np.sqrt(2 * np.pi)  # noqa: E731
        return integrate.quad(f, -12, 12, epsabs=1e-13, epsrel=1e-13)[0]

    expected = np.mean([marginal(e) for e in eta])
    assert m.table["margin"].iloc[0] == pytest.approx(expected, rel=1e-8)
    assert m.nobs == len(rows)


def test_parsing_and_errors(fit, rats_data):
    req = parse_margins("i.dose if female == 1 in 5/40, at(size=5) atmeans")
    assert req.marginlist == (("dose",),) and req.in_ == (5, 40) and req.atmeans
    assert str(req.if_) == "female == 1"
    assert parse_margins("dose in f/l").in_ == (1, -1)
    with pytest.raises(BayesmixedError, match="no observations"):
        fit.margins("if female == 7", data=rats_data)
    with pytest.raises(StataSyntaxError):
        parse_margins("dose if female = 1")
    with pytest.raises(StataSyntaxError, match="given only once"):
        parse_margins("dose if female in 1/5 if dose")
    with pytest.raises(BayesmixedError, match="out of range"):
        fit.margins("in 1/5000", data=rats_data)


def test_dofile_margins_if_prints_the_api_numbers(tmp_path):
    path = tmp_path / "t.do"
    path.write_text(
        "use rats\nmixed weight i.dose size female || litter:\n"
        "margins dose if female == 1 in 1/200, at(size=(5 10))\n"
    )
    session = run_do(path)
    text = next(
        e.text for e in session.log if isinstance(e, Output) and e.command.startswith("margins")
    )
    data = bm.datasets.load("rats")
    fit = bm.stata("mixed weight i.dose size female || litter:", data)
    m = fit.margins("dose if female == 1 in 1/200, at(size=(5 10))", data=data)
    assert str(m) == text
    sub = data.iloc[:200].query("female == 1")
    assert f"Number of obs = {len(sub)}" in text
