"""``bayestest model`` against a brute-force marginal likelihood (issue 16, item 4).

Two random-intercept models of one simulated data set (10 groups x 5 rows), fit by NUTS
through a do-file with proper priors in Stata's syntax: the true grouping ``g`` and a
wrong one, ``h`` (the row's position within its group).  The oracle is written here,
independently of the package: with beta ~ N(m0, V0) integrated out, y is multivariate
normal with covariance X V0 X' + sigma_u^2 Z Z' + sigma_e^2 I (scipy's
``multivariate_normal`` on the n x n matrix); log p(y) is its 2-D adaptive quadrature
(``dblquad``) over (log sigma_e, log sigma_u) against the priors' densities (scipy's
``invgamma`` on the variance, ``halfnorm`` on the sd) with their Jacobians.  Checked
once against plain ``dblquad`` runs at epsrel 1e-9 and 1e-7 over wide boxes (minutes
each): -71.5264383 and -96.1691686, within 2e-6 of what this one returns.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from bayesmixed.dofile import run_do
from bayesmixed.dofile.session import Output

pytestmark = pytest.mark.slow  # two NUTS fits of 2 x 2000 draws and two quadratures (~2 min)

M0, V0 = np.array([0.0, 1.0]), np.diag([4.0, 9.0])  # {y:x}, {y:_cons}: normal(m, variance)
LOG_2PI = float(np.log(2 * np.pi))
IGAMMA = (2.0, 1.0)  # {e.y:sigma2} ~ igamma(2, 1)
HALFNORMAL_VAR = 4.0  # {U0:sigma2} ~ halfnormal(4): |N(0, 4)| on the sd
PRIORS = (
    "prior({y:x}, normal(0, 4)) prior({y:_cons}, normal(1, 9)) "
    "prior({e.y:sigma2}, igamma(2, 1)) prior({U0:sigma2}, halfnormal(4))"
)
DOFILE = f"""\
use sim.csv
bayes, {PRIORS} rseed(3) nchains(2) mcmcsize(2000) burnin(1000): mixed y x || g:
estimates store true
bayes, {PRIORS} rseed(4) nchains(2) mcmcsize(2000) burnin(1000): mixed y x || h:
estimates store wrong
bayestest model true wrong
bayestest model true wrong, prior(0.3 0.7)
"""


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(10), 5)
    x = rng.normal(size=50)
    y = 1.0 + 0.5 * x + rng.normal(0, 1.0, 10)[g] + rng.normal(0, 0.8, 50)
    return pd.DataFrame({"y": y, "x": x, "g": g, "h": np.tile(np.arange(5), 10)})


def log_invgamma(x: float, a: float, b: float) -> float:
    """Inverse-gamma(a, scale b) log density, written out (scipy.stats' per-call cost
    dominated the quadrature; the written-out forms are checked against it below)."""
    return a * np.log(b) - math.lgamma(a) - (a + 1) * np.log(x) - b / x


def log_halfnormal(x: float, scale: float) -> float:
    return 0.5 * np.log(2 / np.pi) - np.log(scale) - 0.5 * (x / scale) ** 2


def test_written_out_prior_densities_are_scipys():
    for x in (0.1, 0.9, 3.0):
        assert log_invgamma(x, *IGAMMA) == pytest.approx(
            stats.invgamma(IGAMMA[0], scale=IGAMMA[1]).logpdf(x), rel=1e-12
        )
        assert log_halfnormal(x, 2.0) == pytest.approx(
            stats.halfnorm(scale=2.0).logpdf(x), rel=1e-12
        )


def oracle_log_ml(frame: pd.DataFrame, group: str) -> float:
    """log p(y) by quadrature over (log sigma_e, log sigma_u), beta integrated exactly."""
    y = frame["y"].to_numpy()
    X = np.column_stack([frame["x"], np.ones(len(frame))])
    codes = frame[group].to_numpy()
    Z = (codes[:, None] == np.unique(codes)[None, :]).astype(float)
    fixed, zz, mean, eye = X @ V0 @ X.T, Z @ Z.T, X @ M0, np.eye(len(y))

    def log_f(te: float, tu: float) -> float:
        se, su = np.exp(te), np.exp(tu)
        try:  # the multivariate normal log density by its Cholesky factor
            chol = np.linalg.cholesky(fixed + su**2 * zz + se**2 * eye)
        except np.linalg.LinAlgError:
            return -np.inf
        white = np.linalg.solve(chol, y - mean)  # L^-1 (y - mu)
        logdet = 2.0 * np.sum(np.log(np.diag(chol)))
        ll = -0.5 * (len(y) * LOG_2PI + logdet + white @ white)
        # d(sigma^2)/d(log sigma) = 2 sigma^2; d sigma / d(log sigma) = sigma
        prior_e = log_invgamma(se**2, *IGAMMA) + np.log(2 * se**2)
        prior_u = log_halfnormal(su, np.sqrt(HALFNORMAL_VAR)) + tu
        return ll + prior_e + prior_u

    best = optimize.minimize(
        lambda t: -log_f(*t), [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-6}
    )
    peak, (te0, tu0) = -best.fun, best.x
    # integrate on coordinates standardized by the curvature at the mode, so that the
    # quadrature's box is a fixed number of posterior SDs wide in each direction
    h = 1e-3
    sd_e = (-(log_f(te0 + h, tu0) - 2 * peak + log_f(te0 - h, tu0)) / h**2) ** -0.5
    sd_u = (-(log_f(te0, tu0 + h) - 2 * peak + log_f(te0, tu0 - h)) / h**2) ** -0.5
    value, error = integrate.dblquad(
        lambda a, b: np.exp(log_f(te0 + sd_e * a, tu0 + sd_u * b) - peak),
        -16.0,  # b: log sigma_u's left tail falls only as exp(tu): 16 SDs leave < 1e-6 out
        8.0,
        -10.0,  # a: log sigma_e, near normal
        10.0,
        epsabs=0,
        epsrel=1e-5,
    )
    assert error < 2e-5 * value  # 2e-5 in log p(y), against a tolerance of 1e-3
    return peak + float(np.log(value * sd_e * sd_u))


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bayestest_model")
    _data().to_csv(folder / "sim.csv", index=False)
    (folder / "t.do").write_text(DOFILE)
    return run_do(folder / "t.do", progressbar=False)


@pytest.fixture(scope="module")
def oracle():
    frame = _data()
    return {"true": oracle_log_ml(frame, "g"), "wrong": oracle_log_ml(frame, "h")}


def _tables(session) -> list[str]:
    return [e.text for e in session.log if isinstance(e, Output) and "model tests" in e.text]


def _rows(table: str) -> dict[str, list[float]]:
    found = re.findall(r"^\s*(\w+) \|\s+(\S+)\s+(\S+)\s+(\S+)\s*$", table, re.M)
    return {name: [float(v) for v in values] for name, *values in found}


def test_bridge_sampling_matches_the_brute_force_marginal_likelihood(session, oracle):
    est = session.stored["true"].result.marginal_likelihood()
    assert est.mcse < 1e-3
    assert abs(est.logml - oracle["true"]) < 1e-3, (est, oracle["true"])


def test_a_posterior_piled_at_zero_variance_is_estimated_within_its_error(session, oracle):
    """The wrong grouping's variance is near 0: log sd's posterior has a long left tail,
    which no normal proposal fits well, so the error is larger -- and reported so."""
    est = session.stored["wrong"].result.marginal_likelihood()
    assert est.mcse < 5e-3
    assert abs(est.logml - oracle["wrong"]) < 4 * est.mcse, (est, oracle["wrong"])


def test_statas_table_and_the_probabilities_it_prints(session, oracle):
    equal, weighted = _tables(session)
    assert "log(ML)" in equal and "P(M|y)" in equal and "bridge sampling" in equal
    rows = _rows(equal)
    assert list(rows) == ["true", "wrong"]
    assert [r[1] for r in rows.values()] == [0.5, 0.5]
    assert sum(r[2] for r in rows.values()) == pytest.approx(1.0, abs=2e-4)
    assert rows["true"][2] > 0.99  # the true grouping wins clearly
    gap = oracle["true"] - oracle["wrong"]
    assert rows["true"][0] - rows["wrong"][0] == pytest.approx(gap, abs=2e-3)
    prior = _rows(weighted)
    odds = np.exp(rows["true"][0] - rows["wrong"][0]) * 0.3 / 0.7
    assert [r[1] for r in prior.values()] == [0.3, 0.7]
    assert prior["true"][2] == pytest.approx(odds / (1 + odds), abs=1e-4)


def test_the_python_method_gives_the_do_files_numbers(session):
    true, wrong = (session.stored[n].result for n in ("true", "wrong"))
    test = true.bayestest_model(wrong, names=["true", "wrong"], prior=[0.3, 0.7])
    assert test.posterior.sum() == pytest.approx(1.0)
    assert _rows(_tables(session)[1]) == _rows(str(test))


def test_a_laplace_fit_is_importance_sampled_within_its_error(oracle):
    """Laplace draws are not posterior draws: they only place the proposal (coarser)."""
    import bayesmixed as bm

    priors = {"beta[x]": "normal(0, 4)", "beta[_cons]": "normal(1, 9)",
              "sigma": "igamma(2, 1)", "sd[g]": "halfnormal(4)"}  # fmt: skip
    fit = bm.fit("y ~ x + (1 | g)", _data(), method="laplace", priors=priors, draws=2000, seed=1)
    est = fit.marginal_likelihood(seed=2)
    assert est.mcse < 0.01
    assert abs(est.logml - oracle["true"]) < 4 * est.mcse, (est, oracle["true"])


def test_the_do_file_command_reads_names_and_options(session):
    from bayesmixed.dofile.bayes_cmds import cmd_bayestest
    from bayesmixed.dofile.errors import CommandError

    every = cmd_bayestest(session, "bayestest model all", 0)
    assert list(_rows(every)) == ["true", "wrong"]
    with pytest.raises(CommandError, match="not allowed: bogus"):
        cmd_bayestest(session, "bayestest model true wrong, bogus", 0)
    with pytest.raises(CommandError, match="not found"):
        cmd_bayestest(session, "bayestest model true nope", 0)
