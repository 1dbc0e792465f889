"""The NumPy GLMM log posterior is the PyMC model's, point for point, with exact gradients.

The PyMC model's free variables are the covariance coordinates (each block's scales, then
its correlation coordinates), beta, then each block's u; :class:`GlmmPosterior` orders them
beta, covariance coordinates, u.  Both densities are compared at the same random points
(PyTensor's Python implementations, no compile), the gradient against central differences;
the compiled kernel (:mod:`.fast_glmm_kernel`) and the C callback nutpie calls against the
NumPy density.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymc.blocking import DictToArrayBijection, RaveledVars

import bayesmixed
from bayesmixed import datasets
from bayesmixed.engines.bayes import fast_glmm_kernel
from bayesmixed.engines.bayes.build import build_model
from bayesmixed.engines.bayes.fast_glmm import GlmmPosterior, glmm_covers, glmm_model
from bayesmixed.engines.bayes.priors import resolve_priors

from .helpers import toy_design
from .test_fast_cfunc import call
from .test_glmm import _with_family


def _design(family, link, command, cov="unstructured", seed=0):
    d = _with_family(toy_design(cov, seed=seed, n_groups=8), family, link, command)
    rng = np.random.default_rng(seed)
    eta = 0.3 + 0.8 * d.X[:, 0]
    if family == "poisson":
        d.y = rng.poisson(np.exp(eta)).astype(float)
    elif family == "binomial":
        d.y = rng.binomial(4, 1 / (1 + np.exp(-eta))).astype(float)
    else:
        d.y = (rng.uniform(size=d.n) < 1 / (1 + np.exp(-eta))).astype(float)
    return d


CASES = [
    ("logit uns", "bernoulli", "logit", "melogit", "unstructured", None, None, None),
    ("probit exchangeable", "bernoulli", "probit", "meprobit", "exchangeable", None, None, None),
    ("cloglog independent", "bernoulli", "cloglog", "mecloglog", "independent", None, None,
     {"beta": "t(0, 4, 5)", "sd[g:x]": "halfcauchy(1)"}),
    ("binomial trials offset", "binomial", "logit", "meglm", "unstructured", 4.0, 0.2, None),
    ("poisson offset", "poisson", "log", "mepoisson", "identity", None, -0.3,
     {"beta": "cauchy(0, 2)", "sd[g]": "exponential(1)"}),
]  # fmt: skip


def _both(family, link, command, cov, trials, offset, priors):
    d = _design(family, link, command, cov)
    tr = None if trials is None else np.full(d.n, trials)
    off = None if offset is None else np.full(d.n, offset)
    resolved = resolve_priors(d, priors)
    built = glmm_model(d, resolved, False, False, off, tr)
    assert built is not None and glmm_covers(built)
    return GlmmPosterior(built), build_model(d, resolved, False, False, off, tr)


@pytest.mark.parametrize(("label", "family", "link", "command", "cov", "trials", "offset",
                          "priors"), CASES, ids=[c[0] for c in CASES])  # fmt: skip
def test_glmm_log_posterior_equals_pymc(label, family, link, command, cov, trials, offset, priors):
    ours, pymc_built = _both(family, link, command, cov, trials, offset, priors)
    model = pymc_built.model
    logp = model.compile_logp(jacobian=True, mode="FAST_COMPILE")
    start = model.initial_point()
    info = DictToArrayBijection.map(start).point_map_info
    assert sum(size for _, _, size, _ in info) == ours.n
    rng = np.random.default_rng(5)
    x0 = ours.initial()
    for x in [x0, *(x0 + 0.4 * rng.standard_normal(ours.n) for _ in range(4))]:
        beta, ws, us = ours.split(x)
        theirs, theta = [], np.concatenate(ws)
        for name, _, size, _ in info:  # their order, filled from ours by name
            if name == "beta":
                theirs.append(beta)
            elif name.startswith("u["):
                theirs.append(us[ours.built.names.index(name[2:-1])].ravel())
            else:
                theirs.append(theta[:size])
                theta = theta[size:]
        point = DictToArrayBijection.rmap(RaveledVars(np.concatenate(theirs), info), start)
        # PyMC's normal_lcdf (probit) is accurate to ~1e-7 relative per row (test_glmm)
        rel = 1e-7 if link == "probit" else 1e-9
        assert ours.logp_grad(x)[0] == pytest.approx(float(logp(point)), rel=rel, abs=1e-8)


@pytest.mark.parametrize(("label", "family", "link", "command", "cov", "trials", "offset",
                          "priors"), CASES, ids=[c[0] for c in CASES])  # fmt: skip
def test_glmm_gradient_is_the_derivative(label, family, link, command, cov, trials, offset, priors):
    d = _design(family, link, command, cov, seed=2)
    tr = None if trials is None else np.full(d.n, trials)
    off = None if offset is None else np.full(d.n, offset)
    post = GlmmPosterior(glmm_model(d, resolve_priors(d, priors), False, False, off, tr))
    x = post.initial() + 0.3 * np.random.default_rng(1).standard_normal(post.n)
    _, grad = post.logp_grad(x)
    h = 1e-6
    numeric = np.array(
        [
            (post.logp_grad(x + h * e)[0] - post.logp_grad(x - h * e)[0]) / (2 * h)
            for e in np.eye(post.n)
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_values_are_the_traced_variables():
    post, _ = _both("bernoulli", "logit", "melogit", "unstructured", None, None, None)
    x = post.initial() + 0.2
    vals = post.values(x)
    beta, ws, us = post.split(x)
    lam, _ = post.blocks[1].lam(ws[1], False)
    np.testing.assert_allclose(vals["cov[g]"], lam @ lam.T)
    np.testing.assert_allclose(vals["b[g]"], us[1] @ lam.T)
    assert vals["b[R.h]"].shape == (5, 1) and vals["b[g]"].shape == (8, 2)
    assert [n for n, _ in post.shapes()] == ["cov[R.h]", "cov[g]", "beta", "b[R.h]", "b[g]"]
    np.testing.assert_array_equal(vals["beta"], beta)


def test_models_the_numpy_density_does_not_cover_go_to_pymc():
    d = _with_family(toy_design(), "nbinomial", "log", "menbreg")
    d.y = np.round(np.abs(d.y))
    assert glmm_model(d, resolve_priors(d), False, False, None, None) is None  # alpha
    g = _design("bernoulli", "logit", "melogit")
    assert glmm_model(g, resolve_priors(g, {"beta": "uniform(-5, 5)"}), False, False,
                      None, None) is None  # fmt: skip


@pytest.mark.slow
def test_bangladesh_random_slope_samples_without_pymc_and_matches_ml():
    data = datasets.load("bangladesh")
    cmd = "melogit c_use urban age child* || district: urban, cov(unstructured)"
    ml = bayesmixed.stata(cmd, data)
    r = bayesmixed.stata("bayes: " + cmd, data, chains=2, seed=3, progressbar=False)
    assert r.sampler == "nutpie"
    post = r.idata["posterior"]
    beta = post["beta"].values.reshape(-1, r.design.p)
    z = np.abs(beta.mean(axis=0) - ml.coef.to_numpy()) / beta.std(axis=0)
    assert z.max() < 0.5
    diag = r.diagnostics()
    assert diag["r_hat"].max() < 1.02 and diag["ess_bulk"].min() > 300
    assert int(r.idata["sample_stats"]["diverging"].sum()) == 0
    again = bayesmixed.stata("bayes: " + cmd, data, chains=2, seed=3, progressbar=False,
                             draws=50, tune=50)  # fmt: skip
    same = bayesmixed.stata("bayes: " + cmd, data, chains=2, seed=3, progressbar=False,
                            draws=50, tune=50)  # fmt: skip
    np.testing.assert_array_equal(again.idata["posterior"]["beta"].values,
                                  same.idata["posterior"]["beta"].values)  # fmt: skip


COMPILED = [c for c in CASES if c[2] in ("logit", "log")]  # canonical links


@pytest.fixture(scope="module")
def glmm_kernel():
    found = fast_glmm_kernel.compiled()
    if found is None:
        pytest.skip("numba is not available")
    return found


@pytest.mark.parametrize(("label", "family", "link", "command", "cov", "trials", "offset",
                          "priors"), COMPILED, ids=[c[0] for c in COMPILED])  # fmt: skip
def test_compiled_kernel_and_its_callback_are_the_numpy_density(
    glmm_kernel, label, family, link, command, cov, trials, offset, priors
):
    post, _ = _both(family, link, command, cov, trials, offset, priors)
    args = fast_glmm_kernel.pack(post)
    comp = fast_glmm_kernel.CompiledGlmm(post, glmm_kernel[0], args, post.initial())
    header = comp.header()
    rng = np.random.default_rng(4)
    x0 = post.initial()
    for x in [x0, *(x0 + 0.5 * rng.standard_normal(post.n) for _ in range(3))]:
        want, want_grad = post.logp_grad(x)
        value, grad = comp.logp_grad(x)
        assert value == pytest.approx(want, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-10, atol=1e-10)
        code, c_value, c_grad = call(glmm_kernel[1], header, x)  # what nutpie calls
        assert code == 0 and c_value == value
        np.testing.assert_array_equal(c_grad, grad)


def test_non_canonical_links_keep_the_numpy_density():
    post, _ = _both("bernoulli", "probit", "meprobit", "exchangeable", None, None, None)
    assert post.family.cumulant is None and fast_glmm_kernel.pack(post) is None
