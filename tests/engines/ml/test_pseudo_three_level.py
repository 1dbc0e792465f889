"""Sampling weights in three-level mixed models (issue 15, item 3).

``mixed y x [pw=w1] || school:, pweight(w3) || class:, pweight(w2)`` maximizes
Stata's pseudo-likelihood (Rabe-Hesketh and Skrondal 2006), in which each
class's likelihood is raised to its weight *inside* the school's integral:

    log PL = sum_k w3_k log integral phi(v; 0, s3) prod_j L_j(v)^{w2_j} dv,
    L_j(v) = integral phi(u; 0, s2) prod_i phi(y_ijk; x b + v + u, se)^{w1_i} du.

Reference: an independent brute-force implementation written here for the
random-intercept model.  The class integral over u is one-dimensional and
Gaussian, done by completing the square in scalars; the school integral over v
by the trapezoid rule on 801 points over +-12 s3 (exponentially accurate for
this smooth integrand).  It is maximized with scipy's BFGS and Newton steps on
Richardson-extrapolated derivatives, as in ``test_pseudo.py``.  The package's
estimates must equal it to 1e-6, and its standard errors, which pweights make
robust (clustered at schools), the oracle's sandwich to 1e-6 (relative).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import bayesmixed as bm

from ..oracles import log_trapezoid, richardson

NODES = np.linspace(-12.0, 12.0, 801)
LOG_PHI = -0.5 * NODES**2 - 0.5 * np.log(2 * np.pi)
N_SCHOOLS = 12
COMMAND = "mixed y x [pw=w1] || school:, pweight(w3) || class:, pweight(w2)"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(2015)
    rows = []
    for school in range(N_SCHOOLS):
        v = rng.normal()
        for klass in range(rng.integers(2, 5)):
            u = 0.7 * rng.normal()
            for _ in range(rng.integers(2, 7)):
                x = rng.normal()
                rows.append((school, klass, x, 1 + 0.5 * x + v + u + rng.normal()))
    data = pd.DataFrame(rows, columns=["school", "class", "x", "y"])
    data["w1"] = rng.uniform(0.5, 2.0, len(data)) * (1 + (data["y"] > 1))  # informative
    by_class = rng.uniform(1.0, 4.0, (N_SCHOOLS, 5))
    data["w2"] = by_class[data["school"], data["class"]]
    data["w3"] = rng.uniform(1.0, 5.0, N_SCHOOLS)[data["school"]]
    return data


def _school_pl(data):
    """params (b_x, b_0, log s3, log s2, log se) -> (schools,) weighted log PL."""
    y, x, w1 = (data[c].to_numpy() for c in ("y", "x", "w1"))
    classes = data.groupby(["school", "class"], sort=True)
    members = [np.asarray(rows) for rows in classes.indices.values()]
    class_school = np.array([key[0] for key in classes.indices])
    w2 = classes["w2"].first().to_numpy()
    w3 = data.groupby("school")["w3"].first().to_numpy()

    def f(params):
        b_x, b_0, log_s3, log_s2, log_se = params
        s2, se2 = np.exp(2 * log_s2), np.exp(2 * log_se)
        v = np.exp(log_s3) * NODES  # school effect at each node
        log_int = np.tile(LOG_PHI, (N_SCHOOLS, 1))
        for rows, school, weight in zip(members, class_school, w2):
            e = (y[rows] - b_0 - b_x * x[rows])[:, None] - v[None, :]  # (rows, nodes)
            w = w1[rows][:, None]
            a = w.sum() / se2 + 1 / s2  # precision of u given the class's rows
            b = (w * e).sum(axis=0) / se2
            log_class = (
                -0.5 * w.sum() * np.log(2 * np.pi * se2)
                - 0.5 * (w * e**2).sum(axis=0) / se2
                - 0.5 * np.log(s2 * a)
                + 0.5 * b**2 / a
            )
            log_int[school] += weight * log_class
        return w3 * log_trapezoid(log_int, NODES)

    return f


def _oracle(f, x0):
    """Maximize sum(f) by BFGS then Newton; return the optimum and the sandwich there."""
    d = len(x0)

    def grad(z):
        return np.array([richardson(lambda v: f(v).sum(), z, i) for i in range(d)])

    x = optimize.minimize(lambda z: -f(z).sum(), x0, method="BFGS").x
    for _ in range(3):  # Newton steps on accurate derivatives: BFGS alone stops near 1e-5
        hess = optimize.approx_fprime(x, grad, 1e-4)
        x = x - np.linalg.solve((hess + hess.T) / 2, grad(x))
    hess = np.column_stack([richardson(grad, x, j) for j in range(d)])
    scores = np.column_stack([richardson(f, x, i) for i in range(d)])
    bread = np.linalg.inv(-(hess + hess.T) / 2)
    g = N_SCHOOLS
    return x, g / (g - 1) * bread @ (scores.T @ scores) @ bread


def test_three_level_pseudo_likelihood_matches_the_brute_force_oracle(data):
    fit = bm.stata(COMMAND, data)
    f = _school_pl(data)
    x, cov = _oracle(f, np.array([0.5, 1.0, 0.0, -0.5, 0.0]))
    assert fit.loglik == pytest.approx(f(x).sum(), rel=1e-9)
    np.testing.assert_allclose(np.r_[fit.beta, fit.working], x, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fit.vcov_beta, cov[:2, :2], rtol=1e-6)
    np.testing.assert_allclose(fit.working_vcov, cov[2:, 2:], rtol=1e-6)
    assert (fit.vce, fit.n_clusters, fit.cluster_var) == ("robust", N_SCHOOLS, "school")
    assert "(Std. err. adjusted for 12 clusters in school)" in str(fit)


@pytest.mark.parametrize("slope", ["", " x"])
def test_whole_number_weights_equal_the_expanded_data(data, slope):
    """Weights 1-3 at every level: the fit of the data with each school, class and row repeated.

    With a random slope at the class level too (a two-effect block inside the school).
    """
    rng = np.random.default_rng(7)
    data = data.assign(
        w1=rng.integers(1, 4, len(data)).astype(float),
        w2=data.groupby(["school", "class"])["w2"].transform(lambda s: np.floor(s.iloc[0])),
        w3=np.floor(data["w3"] / 2) + 1,
    )
    parts = []
    for (school, klass), rows in data.groupby(["school", "class"]):
        rows = rows.loc[rows.index.repeat(rows["w1"].astype(int))]
        for r3 in range(int(rows["w3"].iloc[0])):
            for r2 in range(int(rows["w2"].iloc[0])):
                parts.append(rows.assign(school=school * 10 + r3, **{"class": klass * 10 + r2}))
    expanded = pd.concat(parts, ignore_index=True)
    fit = bm.stata(COMMAND.replace("class:", f"class:{slope}"), data)
    plain = bm.stata(f"mixed y x || school: || class:{slope}", expanded)
    assert fit.loglik == pytest.approx(plain.loglik, rel=1e-10)
    np.testing.assert_allclose(
        np.r_[fit.beta, fit.working], np.r_[plain.beta, plain.working], rtol=1e-6
    )


@pytest.mark.parametrize(
    ("command", "error", "message"),
    [
        (COMMAND + " pwscale(size)", bm.BayesmixedError, "two-level models only"),
        ("mixed y x [pw=w1] || school: || class: || row:", bm.BayesmixedError, "three-level"),
        (
            "mixed y x [pw=w1] || school: || class:, pweight(w1)",
            bm.BayesmixedError,
            r"pweight\(w1\) is not constant within the groups of class",
        ),
    ],
)
def test_refusals(data, command, error, message):
    data = data.assign(row=np.arange(len(data)) % 2)
    with pytest.raises(error, match=message):
        bm.stata(command, data)
