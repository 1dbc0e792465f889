"""predict after meologit: a probability per outcome, conditional or averaged over the effects.

Oracle: the cumulative-logit probabilities written out with SciPy, and for ``marginal``
an adaptive integral (scipy.integrate.quad) over the random intercept's normal density.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import bayesmixed as bm
from bayesmixed.dofile import run_do
from bayesmixed.errors import SpecificationError

WINE = Path(__file__).parents[1] / "reference" / "ordinal_wine.csv"


@cache
def _fit():
    return bm.stata("meologit rating temp contact || judge:", pd.read_csv(WINE))


def _pieces(r, row):
    data = pd.read_csv(WINE)
    cuts = np.r_[-np.inf, r.family.anc_shown(r.ancillary), np.inf]
    eta0 = data.temp[row] * r.beta[0] + data.contact[row] * r.beta[1]
    judge = r.design.blocks[0].codes[row]
    return cuts, eta0, float(r.modes[0][judge, 0]), float(np.sqrt(r.cov_blocks[0][0, 0]))


def test_conditional_probabilities_use_the_modes():
    r = _fit()
    pr = r.predict("pr")
    assert list(pr.columns) == [f"pr({k})" for k in range(1, 6)]
    for row in (0, 17, 50):
        cuts, eta0, u, _ = _pieces(r, row)
        want = np.diff(stats.logistic.cdf(cuts - eta0 - u))
        assert pr.iloc[row].to_numpy() == pytest.approx(want, rel=1e-10)
    assert pr.sum(axis=1).to_numpy() == pytest.approx(np.ones(len(pr)))


def test_marginal_probabilities_integrate_the_effect_out():
    r = _fit()
    pr = r.predict("pr", marginal=True)
    cuts, eta0, _, s = _pieces(r, 5)
    for k in range(5):

        def f(u, k=k):
            cdf = stats.logistic.cdf(cuts[k + 1] - eta0 - u) - stats.logistic.cdf(
                cuts[k] - eta0 - u
            )
            return cdf * stats.norm.pdf(u, 0, s)

        want = integrate.quad(f, -12 * s, 12 * s, epsabs=1e-13)[0]
        assert pr.iloc[5, k] == pytest.approx(want, abs=1e-10)


def test_outcome_picks_one_category_by_value_or_position():
    r = _fit()
    both = r.predict("pr")
    assert r.predict("pr", outcome="#2").to_numpy() == pytest.approx(both["pr(2)"].to_numpy())
    assert r.predict("pr", outcome=4).to_numpy() == pytest.approx(both["pr(4)"].to_numpy())
    with pytest.raises(SpecificationError, match="the outcomes are 1, 2, 3, 4, 5"):
        r.predict("pr", outcome=9)
    with pytest.raises(SpecificationError, match="categorical"):
        r.predict("mu")


def test_do_file_predict_pr_and_outcome(tmp_path):
    do = tmp_path / "o.do"
    do.write_text(
        f'import delimited using "{WINE}", clear\n'
        "meologit rating temp contact || judge:\n"
        "predict p1 p2 p3 p4 p5, pr\n"
        "predict q2, pr outcome(#2)\n"
        "generate total = p1 + p2 + p3 + p4 + p5\n"
        "summarize total q2 p2\n"
    )
    session = run_do(do)
    data = session.data
    assert data["total"].to_numpy() == pytest.approx(np.ones(len(data)))
    assert data["q2"].to_numpy() == pytest.approx(data["p2"].to_numpy())
