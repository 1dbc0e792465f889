"""``margins``, ``lincom``, ``estat icc`` and ``estat sd`` after ``bayes:`` (issue 16, item 5).

Each summary is checked against the same quantity computed here, draw by draw, from
the posterior arrays in ``idata`` and the raw data (no code under test builds the
oracle's design rows).  Laplace fits (200 draws) keep these fast.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from laplace_fits import laplace_fit

import bayesmixed as bm
from bayesmixed.postestimation.bayes_margins import BayesMargins, lincom, margins
from bayesmixed.postestimation.bayesstats import hpd_interval


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


def _fit(command, data):
    return laplace_fit(command, data, seed=11)


@pytest.fixture(scope="module")
def social(jsp):
    return _fit("math5 math3 i.social || school:", jsp)


@pytest.fixture(scope="module")
def slopes(jsp):
    return _fit("math5 math3 || school: math3, cov(un)", jsp)


def _beta(result) -> np.ndarray:
    return result.posterior["beta"].values  # (chain, draw, p)


def _check_row(row, draws: np.ndarray, level: float = 95) -> None:
    flat = draws.ravel()
    tail = (100 - level) / 2
    assert row["mean"] == pytest.approx(flat.mean(), rel=1e-10, abs=1e-12)
    assert row["sd"] == pytest.approx(flat.std(ddof=1), rel=1e-10)
    assert row["median"] == pytest.approx(np.median(flat), rel=1e-10, abs=1e-12)
    lo, hi = np.percentile(flat, [tail, 100 - tail])
    assert [row["eti_lo"], row["eti_hi"]] == pytest.approx([lo, hi], rel=1e-10, abs=1e-12)


# -- lincom --------------------------------------------------------------------------------
def test_lincom_is_the_combination_of_each_draw(social):
    names = social.design.fixed_names
    beta = _beta(social)
    combo = beta[..., names.index("2.social")] - 2 * beta[..., names.index("math3")] + 1.5
    table = lincom(social, "2.social - 2*math3 + 1.5").table
    _check_row(table.iloc[0], combo)
    # eform: the posterior of exp(c'b), whose mean is not exp of the mean
    odds = social.lincom("2.social - 2*math3 + 1.5", eform="eform").table.iloc[0]
    assert odds["mean"] == pytest.approx(np.exp(combo).mean(), rel=1e-10)
    assert odds["mean"] > np.exp(combo.mean())  # Jensen: a check that can fail


def test_lincom_hpd_is_the_shortest_interval_holding_the_level(social):
    draws = _beta(social)[..., 0].ravel()
    row = lincom(social, "math3", hpd=True).table.iloc[0]
    x = np.sort(draws)
    need = int(np.ceil(0.95 * len(x)))
    best = min((x[j] - x[i], i, j) for i in range(len(x)) for j in range(i + need - 1, len(x)))
    assert (row["hpd_lo"], row["hpd_hi"]) == (x[best[1]], x[best[2]])
    assert hpd_interval(draws) == (x[best[1]], x[best[2]])
    assert "HPD" in str(lincom(social, "math3", hpd=True))


def test_lincom_refuses_an_equation(social):
    with pytest.raises(bm.BayesmixedError, match="not an equation"):
        social.lincom("math3 = 1")


# -- margins -------------------------------------------------------------------------------
def test_margins_of_a_factor_are_the_mean_of_x_at_beta_per_draw(social, jsp):
    out = social.margins("social", data=jsp)
    assert isinstance(out, BayesMargins)
    beta = _beta(social)
    names = social.design.fixed_names
    rows = jsp.loc[social.design.rows]
    for level in sorted(rows["social"].unique()):
        x = np.zeros(len(names))  # the averaged X row, built here from the data
        x[names.index("math3")] = rows["math3"].mean()
        x[names.index("_cons")] = 1.0
        if level != 1:
            x[names.index(f"{level}.social")] = 1.0
        _check_row(out.table.loc[("social", str(level))], beta @ x)
    assert out.draws.shape == (9, social.chains, social.draws)


def test_margins_at_values_and_dydx(social, jsp):
    beta = _beta(social)
    names = social.design.fixed_names
    rows = jsp.loc[social.design.rows]
    shares = np.array([(rows["social"] == s).mean() for s in range(2, 10)])
    out = margins(social, jsp, ", at(math3=(0 10))")
    for i, m3 in enumerate((0.0, 10.0)):
        x = np.zeros(len(names))
        x[names.index("math3")] = m3
        x[names.index("_cons")] = 1.0
        x[[names.index(f"{s}.social") for s in range(2, 10)]] = shares
        _check_row(out.table.iloc[i], beta @ x)
    assert "1._at: math3 = 0" in str(out)
    slope = margins(social, jsp, ", dydx(math3)").table.iloc[0]
    _check_row(slope, beta[..., names.index("math3")])


def test_margins_hpd_option_and_unknown_options(social, jsp):
    out = social.margins("social, hpd", data=jsp)
    assert out.hpd and {"hpd_lo", "hpd_hi"} <= set(out.table.columns)
    with pytest.raises(bm.BayesmixedError, match="not supported"):
        social.margins("social, nosuch", data=jsp)
    with pytest.raises(bm.BayesmixedError, match="use margins"):
        social.contrast("social", data=jsp)


# -- estat icc and estat sd ------------------------------------------------------------------
def test_estat_icc_summary_is_the_icc_of_each_draw(social):
    post = social.posterior
    var_u = post["cov[school]"].values[..., 0, 0]
    icc = var_u / (var_u + post["sigma"].values ** 2)
    table = social.estat_icc_summary().table
    _check_row(table.loc[("", "school")], icc)
    frame = social.estat_icc()  # the frequentist-shaped frame agrees
    assert frame.loc["school", "ICC"] == pytest.approx(icc.mean(), rel=1e-12)


def test_estat_sd_is_the_sd_and_correlation_of_each_draw(slopes):
    cov = slopes.posterior["cov[school]"].values  # effects: math3, _cons
    table = slopes.estat_sd().table
    _check_row(table.loc[("school", "sd(math3)")], np.sqrt(cov[..., 0, 0]))
    _check_row(table.loc[("school", "sd(_cons)")], np.sqrt(cov[..., 1, 1]))
    corr = cov[..., 1, 0] / np.sqrt(cov[..., 0, 0] * cov[..., 1, 1])
    _check_row(table.loc[("school", "corr(math3,_cons)")], corr)
    _check_row(table.loc[("Residual", "sd(e)")], slopes.posterior["sigma"].values)
    text = str(slopes.estat_sd(level=90, hpd=True))
    assert "HPD" in text and "[90% cred. interval]" in text


@pytest.mark.slow
def test_nonlinear_margins_are_evaluated_at_each_draw():
    """melogit's default margin integrates the intercept out, at that draw's beta and sigma."""
    from scipy import integrate, special, stats

    data = bm.datasets.load("bangladesh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 20 draws: ESS and R-hat warnings
        fit = bm.stata(
            "melogit c_use urban || district:", data, method="nuts", draws=20, tune=100,
            chains=1, seed=4, progressbar=False,
        )  # fmt: skip
    out = margins(fit, data, ", at(urban=(0 1))")
    beta = _beta(fit)[0]  # (draw, p): urban, _cons
    var_u = fit.posterior["cov[district]"].values[0, :, 0, 0]
    for d in range(3):
        for i, urban in enumerate((0.0, 1.0)):
            eta = beta[d, 1] + urban * beta[d, 0]
            sd = np.sqrt(var_u[d])
            value = integrate.quad(
                lambda u, e=eta, s=sd: special.expit(e + u) * stats.norm.pdf(u, scale=s),
                -12 * sd, 12 * sd,
            )[0]  # fmt: skip
            assert out.draws[i, 0, d] == pytest.approx(value, rel=1e-7)
    assert out.table["mean"].iloc[0] == pytest.approx(out.draws[0].mean(), rel=1e-12)
