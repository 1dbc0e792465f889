"""vce(robust) and vce(cluster var) after melogit with nested levels (issue 15, item 2).

The engine fits nested models by the Laplace approximation, so the reference is
the same quantity written here independently of the package: for each school,
the Laplace approximation to

    L_s = integral prod_i f(y_i | b) N(b; 0, Sigma_s) db,
    b = (school effects, one intercept per class of the school),

in the original scale of b (the engine works in spherical u = Lambda^-1 b with
a sparse factorization of all schools at once): the mode by Newton's method on
the school's dense penalized log likelihood, then

    log L_s ~= ll(b_hat) - b_hat' P b_hat / 2 + log|P| / 2 - log|Z'WZ + P| / 2,

P = Sigma_s^-1 (for the logit link the Fisher and observed curvatures agree).
That this is the right quantity is checked too: each school's value is within
0.1 of its exact integral by nested Gauss-Hermite quadrature (60 points per
dimension; the class integrals inside the school's).  Scores are
Richardson-extrapolated central differences of each school's log likelihood in
Stata's metric (log standard deviations, atanh correlation, then the fixed
effects), the bread the inverse negative Hessian of their sum (Richardson of
the Richardson gradient), and the sandwich G/(G-1) H^-1 (sum_g s_g s_g') H^-1
over schools or over clusters of schools; the robust standard errors must
agree to 1e-6 (relative).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed.engines.glmm.warn import BoundaryWarning
from bayesmixed.errors import BayesmixedError

from ..oracles import cluster_sandwich

N_CLASS, N_PUPIL = 3, 5


def _simulate(seed: int, n_school: int, slope: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(n_school), N_CLASS * N_PUPIL)
    klass = np.repeat(np.arange(n_school * N_CLASS), N_PUPIL) % N_CLASS
    x = rng.normal(size=len(school))
    us = rng.normal(size=(n_school, 2))
    uc = rng.normal(size=n_school * N_CLASS)[school * N_CLASS + klass]
    eta = -0.2 + 0.7 * x + us[school, 0] + slope * us[school, 1] * x + uc + 0.5 * x**2
    y = (rng.uniform(size=len(x)) < special.expit(eta)).astype(int)
    return pd.DataFrame({"y": y, "x": x, "school": school, "klass": klass, "region": school // 2})


@pytest.fixture(scope="module")
def intercepts():
    """8 schools x 3 classes x 5 pupils; both variances well inside the boundary."""
    return _simulate(3, 8, 0.0)


@pytest.fixture(scope="module")
def slopes():
    """12 schools with a random slope of x (unstructured) and class intercepts."""
    return _simulate(3, 12, 0.8)


class SchoolLaplace:
    """params -> (S,) Laplace log likelihood of each school, dense and batched over schools.

    ``slope``: the school level has (x, _cons) effects with an unstructured
    covariance (working: log sd_x, log sd_cons, atanh corr), else _cons only.
    """

    def __init__(self, data: pd.DataFrame, slope: bool) -> None:
        data = data.sort_values(["school", "klass"], kind="stable")
        s = data["school"].nunique()
        self.y = data["y"].to_numpy(float).reshape(s, -1)
        self.x = data["x"].to_numpy(float).reshape(s, -1)
        m = self.y.shape[1]
        onehot = np.eye(N_CLASS)[data["klass"].to_numpy().reshape(s, m)]
        school_z = [self.x, np.ones((s, m))] if slope else [np.ones((s, m))]
        self.z = np.concatenate([np.stack(school_z, axis=2), onehot], axis=2)  # (S, m, q)
        self.slope = slope

    def sigma(self, params: np.ndarray) -> np.ndarray:
        """Covariance of b = (school effects, class intercepts) from the working parameters."""
        if self.slope:
            sd_x, sd_c, r = np.exp(params[0]), np.exp(params[1]), np.tanh(params[2])
            school = np.array([[sd_x**2, r * sd_x * sd_c], [r * sd_x * sd_c, sd_c**2]])
            sd_class = np.exp(params[3])
        else:
            school, sd_class = np.array([[np.exp(2 * params[0])]]), np.exp(params[1])
        k = school.shape[0]
        out = np.zeros((k + N_CLASS, k + N_CLASS))
        out[:k, :k] = school
        out[k:, k:] = sd_class**2 * np.eye(N_CLASS)
        return out

    def __call__(self, params: np.ndarray) -> np.ndarray:
        nt = 4 if self.slope else 2
        b_x, b_0 = params[nt:]
        prec = np.linalg.inv(self.sigma(params[:nt]))
        eta0 = b_0 + b_x * self.x
        b = np.zeros((self.y.shape[0], self.z.shape[2]))
        for _ in range(100):
            eta = eta0 + np.einsum("smq,sq->sm", self.z, b)
            p = special.expit(eta)
            grad = np.einsum("smq,sm->sq", self.z, self.y - p) - b @ prec
            neg_hess = np.einsum("smq,sm,smr->sqr", self.z, p * (1 - p), self.z) + prec
            step = np.linalg.solve(neg_hess, grad[:, :, None])[:, :, 0]
            b = b + step
            if np.max(np.abs(step)) < 1e-14:
                break
        eta = eta0 + np.einsum("smq,sq->sm", self.z, b)
        p = special.expit(eta)
        ll = np.sum(self.y * eta - np.logaddexp(0, eta), axis=1)
        neg_hess = np.einsum("smq,sm,smr->sqr", self.z, p * (1 - p), self.z) + prec
        quad = np.einsum("sq,qr,sr->s", b, prec, b)
        return ll - quad / 2 + np.linalg.slogdet(prec)[1] / 2 - np.linalg.slogdet(neg_hess)[1] / 2


def _exact_intercepts(data: pd.DataFrame, params: np.ndarray) -> np.ndarray:
    """Each school's exact log likelihood (random intercepts): nested Gauss-Hermite, 60 points."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    logw = np.log(weights / weights.sum())
    sd_s, sd_c = np.exp(params[:2])
    b_x, b_0 = params[2:]
    out = []
    for _, school in data.groupby("school"):
        inner = 0.0
        for _, cls in school.groupby("klass"):
            y, x = cls["y"].to_numpy()[:, None, None], cls["x"].to_numpy()[:, None, None]
            eta = b_0 + b_x * x + sd_s * nodes[None, :, None] + sd_c * nodes[None, None, :]
            ll = np.sum(y * eta - np.logaddexp(0, eta), axis=0)  # (school node, class node)
            inner = inner + special.logsumexp(ll + logw[None, :], axis=1)
        out.append(special.logsumexp(inner + logw))
    return np.array(out)


def _check(fit, f, clusters, n_theta):
    params = np.r_[fit.working, fit.beta]
    assert np.all(np.isfinite(params))  # an interior estimate: every parameter has a score
    assert f(params).sum() == pytest.approx(fit.loglik, rel=1e-9)
    ref = cluster_sandwich(f, params, clusters)
    np.testing.assert_allclose(fit.working_vcov, ref[:n_theta, :n_theta], rtol=1e-6)
    np.testing.assert_allclose(fit.vcov_beta, ref[n_theta:, n_theta:], rtol=1e-6)
    return ref


MODEL = "melogit y x || school: || klass:, intmethod(laplace)"


@pytest.mark.parametrize("vce", ["robust", "cluster region"])
def test_two_level_intercepts_match_the_laplace_oracle(intercepts, vce):
    fit = bm.stata(f"{MODEL} vce({vce})", intercepts)
    f = SchoolLaplace(intercepts, slope=False)
    clusters = np.arange(8) if vce == "robust" else np.arange(8) // 2
    _check(fit, f, clusters, 2)
    assert fit.n_clusters == (8 if vce == "robust" else 4)
    assert fit.cluster_var == ("school" if vce == "robust" else "region")


def test_the_oracle_is_the_laplace_approximation_of_the_integral(intercepts):
    fit = bm.stata(MODEL, intercepts)
    params = np.r_[fit.working, fit.beta]
    laplace = SchoolLaplace(intercepts, slope=False)(params)
    exact = _exact_intercepts(intercepts, params)
    assert np.max(np.abs(laplace - exact)) < 0.1  # binary data, 5 pupils a class: ~0.05
    assert np.max(np.abs(laplace - exact)) > 1e-6  # Laplace, not the exact integral


def test_random_slope_with_correlation_matches_the_oracle(slopes):
    cmd = "melogit y x || school: x, covariance(unstructured) || klass:, intmethod(laplace)"
    fit = bm.stata(f"{cmd} vce(robust)", slopes)
    plain = bm.stata(cmd, slopes)
    np.testing.assert_allclose(fit.beta, plain.beta, rtol=1e-10)
    assert not np.allclose(fit.se, plain.se, rtol=1e-3)
    _check(fit, SchoolLaplace(slopes, slope=True), np.arange(12), 4)


def test_output(intercepts):
    fit = bm.stata(f"{MODEL} vce(cluster region)", intercepts)
    text = str(fit)
    assert "Log pseudolikelihood =" in text
    assert "(Std. err. adjusted for 4 clusters in region)" in text
    assert "|               Robust" in text
    assert "LR test vs. logistic model" not in text


def test_clusters_below_the_top_level_are_refused(intercepts):
    data = intercepts.assign(cls=intercepts["school"] * N_CLASS + intercepts["klass"])
    with pytest.raises(BayesmixedError, match="cls varies within groups of school"):
        bm.stata(f"{MODEL} vce(cluster cls)", data)


def test_a_variance_at_zero_is_held_and_its_neighbour_keeps_a_robust_se():
    data = _simulate(0, 8, 0.0)  # var(x) at school is estimated as zero
    with pytest.warns(BoundaryWarning):
        fit = bm.stata("melogit y x || school: x || klass:, intmethod(laplace) vce(robust)", data)
    assert fit.boundary == ["school: var(x) is zero"]
    assert fit.working[0] == -np.inf and np.all(np.isnan(fit.working_vcov[0]))
    log_sd, v = fit.working[1], fit.working_vcov[1, 1]
    se = 2 * np.exp(2 * log_sd) * np.sqrt(v)  # delta method for var = exp(2 log sd)
    line = next(t for t in str(fit).splitlines() if "var(_cons)" in t)  # school's row first
    assert float(line.split("|")[1].split()[1]) == pytest.approx(se, rel=1e-6)
