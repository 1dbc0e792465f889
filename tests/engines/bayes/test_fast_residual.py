"""Residual cells and AR(1) panels in the fast density (issue 14): exact, and PyMC's posterior.

Oracles written here or in ``test_panels``, none reusing the engine's panel code: the dense
multivariate normal ``y ~ N(X m0, X S0 X' + Z G Z' + V)`` with V built row by row from the
shared structure's NumPy correlation (AR(1)) or a diagonal of cell variances; central
differences for every gradient; the PyMC model's compiled log density (FAST_COMPILE) at
random points for the whole log posterior, priors and transforms included.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymc.blocking import DictToArrayBijection, RaveledVars
from scipy.linalg import block_diag
from scipy.stats import multivariate_normal

import bayesmixed
from bayesmixed import datasets
from bayesmixed.engines.bayes.build import build_model
from bayesmixed.engines.bayes.fast_posterior import fast_covers
from bayesmixed.engines.bayes.fast_residual import ResidualGaussian, residual_terms
from bayesmixed.engines.bayes.fast_residual_posterior import ResidualPosterior, residual_model
from bayesmixed.engines.bayes.marginal import suff_stats
from bayesmixed.engines.bayes.panel_draws import PanelEvaluator
from bayesmixed.engines.bayes.panels import panel_crossproducts
from bayesmixed.engines.bayes.priors import resolve_priors

from ..oracles import richardson
from .test_panels import X, _data, _dense_oracle, _design

CASES = [
    ("ar 1, t(year)", "|| region: || state:"),  # two equations, nested components
    ("ar 1, t(year)", "|| state:", True),  # panels of 1 to 6 years: one-row panels too
    ("ar 1, t(year) by(half)", "|| state: emp"),  # two rhos and SDs, a random slope
    ("independent, by(half)", "|| state: emp"),  # heteroskedastic cells
]


def _unbalanced():
    """State s keeps 1970 .. 1970 + s mod 6: panels of every length from 1 to 6."""
    df = _data()
    codes = df.state.astype("category").cat.codes.astype(int)
    return df[df.year <= 1970 + codes % 6].copy()


def _built(residuals, levels, integrate=True, priors=None, unbalanced=False):
    if unbalanced:
        df = _unbalanced()
        cmd = f"mixed {X} {levels}, residuals({residuals})"
        design = bayesmixed.design.build_design(bayesmixed.syntax.stata_to_spec(cmd, df), df)
    else:
        design = _design(residuals, levels)
    return build_model(design, resolve_priors(design, priors), True, integrate)


def _density(built, use_kernel=True) -> ResidualGaussian:
    terms, groups = residual_terms(built)
    blocks = built.design.blocks
    return ResidualGaussian(terms, groups, [b.k for b in blocks], [b.n_groups for b in blocks],
                            built.prior_mean, built.prior_prec, bool(built.integrate_beta),
                            use_kernel=use_kernel)  # fmt: skip


def _cell_oracle(design, built, values) -> float:
    """The dense normal with a diagonal V of cell variances."""
    v = np.diag(values["sigma_e"][built.cells.of_obs] ** 2)
    z_mat = suff_stats(design).z.toarray()
    covs = [values[f"cov[{n}]"] for n in built.names]
    g = block_diag(*[np.kron(np.eye(b.n_groups), c) for b, c in zip(design.blocks, covs)])
    cov = design.X @ np.diag(1.0 / built.prior_prec) @ design.X.T + z_mat @ g @ z_mat.T + v
    return multivariate_normal(design.X @ built.prior_mean, cov).logpdf(design.y)


def _point(built, rng):
    n_cells = len(built.cells.keys)
    sds = rng.uniform(0.03, 0.1, n_cells)
    rhos = rng.uniform(-0.9, 0.95, n_cells)  # AR(1): one cell per by() group
    lams = []
    for b in built.design.blocks:
        a = rng.uniform(-0.05, 0.05, (b.k, b.k))
        lams.append(np.linalg.cholesky(a @ a.T + 0.002 * np.eye(b.k)))
    return sds, rhos, lams


@pytest.mark.parametrize("use_kernel", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: " ".join(map(str, c)))
def test_density_is_the_dense_normal(case, use_kernel):
    residuals, levels, *unbalanced = case
    # beta's default prior on _cons (variance ~1.5e4) leaves the oracle's 288 x 288
    # covariance too ill-conditioned for 1e-10 (it errs by ~1e-7 even at rho = 0)
    built = _built(residuals, levels, priors={"beta": "normal(0, 1)"}, unbalanced=bool(unbalanced))
    dens = _density(built, use_kernel)
    assert (dens.kernel is not None) == use_kernel
    rng = np.random.default_rng(7)
    for _ in range(2):
        sds, rhos, lams = _point(built, rng)
        values = {"sigma_e": sds, "resid_z": np.arctanh(rhos)[:, None]}
        values.update({f"cov[{n}]": lam @ lam.T for n, lam in zip(built.names, lams)})
        corr = built.panels is not None
        oracle = (_dense_oracle if corr else _cell_oracle)(built.design, built, values)
        assert dens(sds, rhos[: len(dens.groups)], lams)[0] == pytest.approx(oracle, rel=1e-10)


@pytest.mark.parametrize("use_kernel", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("integrate", [True, False], ids=["beta integrated", "beta given"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: " ".join(map(str, c)))
def test_gradient_is_central_differences(case, integrate, use_kernel):
    residuals, levels, *unbalanced = case
    built = _built(residuals, levels, integrate, unbalanced=bool(unbalanced))
    dens = _density(built, use_kernel)
    rng = np.random.default_rng(3)
    sds, rhos, lams = _point(built, rng)
    rhos = rhos[: len(dens.groups)]
    beta = None if integrate else rng.normal(0, 0.3, built.design.p)
    _, g_sd, g_rho, g_cov, g_beta = dens(sds, rhos, lams, beta)

    def f(sds=sds, rhos=rhos, lams=lams, beta=beta):
        return dens(sds, rhos, lams, beta)[0]

    def central(fun, x, h):
        return np.array([richardson(fun, x, i, h) for i in range(len(x))])

    # the density carries ~2e-8 of rounding (A0 - rho A1 + rho^2 A2 cancels some digits,
    # and beta's flat-ish prior on _cons conditions H badly): Richardson's O(h^4) error
    # allows steps large enough for that to stay near 1e-6 of each derivative
    assert g_sd == pytest.approx(central(lambda v: f(sds=v), sds, 1e-4), rel=2e-5)
    if built.panels is not None:
        assert g_rho == pytest.approx(central(lambda v: f(rhos=v), rhos, 1e-3), rel=2e-5)
    for i, lam in enumerate(lams):  # dl/dSigma_b: symmetric perturbations of Sigma_b
        sigma = lam @ lam.T
        k = len(sigma)
        for r, c in zip(*np.tril_indices(k)):
            e = np.zeros((k, k))
            e[r, c] = e[c, r] = 1.0

            def at(t, i=i, e=e, sigma=sigma):
                s = sigma + t[0] * e
                return f(lams=[np.linalg.cholesky(s) if j == i else m for j, m in enumerate(lams)])

            fd = richardson(at, np.zeros(1), 0, 0.02 * float(np.sqrt(sigma[r, r] * sigma[c, c])))
            assert g_cov[i][r, c] * (1 if r == c else 2) == pytest.approx(fd, rel=2e-5)
    if not integrate:
        assert g_beta == pytest.approx(central(lambda v: f(beta=v), beta, 1e-4), rel=2e-5)


PRIOR_CASES = [
    ("ar 1, t(year) by(half)", "|| state: emp", None, True),
    ("ar 1, t(year)", "|| region: || state:", {"sigma": "igamma(0.01, 0.01)",
     "corr[e]": "uniform(-0.5, 0.99)", "beta": "t(0, 100, 4)"}, False),
    ("independent, by(half)", "|| state: emp", {"sigma": "halfcauchy(2)"}, True),
]  # fmt: skip


@pytest.mark.parametrize(("residuals", "levels", "priors", "integrate"), PRIOR_CASES)
def test_log_posterior_is_pymcs(residuals, levels, priors, integrate):
    """Our working vector is PyMC's with the residual correlations moved after the blocks."""
    built = _built(residuals, levels, integrate, priors)
    design = built.design
    fast = residual_model(design, built.priors, True, integrate)
    assert fast is not None and fast.model is None
    post = ResidualPosterior(fast)
    model = built.model
    logp = model.compile_logp(jacobian=True, mode="FAST_COMPILE")
    start = model.initial_point()
    info = DictToArrayBijection.map(start).point_map_info
    n_sd, n_rho = len(post.scales), len(post.rho_of)
    n_blocks = sum(b.size for b in post.blocks)
    order = np.arange(post.n)  # ours -> PyMC's: sds, rhos, blocks, beta
    order[n_sd : n_sd + n_rho] = np.arange(n_sd + n_blocks, n_sd + n_blocks + n_rho)
    order[n_sd + n_rho : n_sd + n_rho + n_blocks] = np.arange(n_sd, n_sd + n_blocks)
    rng = np.random.default_rng(5)
    x0 = post.initial()
    offsets = []
    for x in [x0, *(x0 + 0.3 * rng.standard_normal(post.n) for _ in range(3))]:
        point = DictToArrayBijection.rmap(RaveledVars(x[order], info), start)
        value, grad = post.logp_grad(x)
        offsets.append(value - float(logp(point)))
        fd = [richardson(lambda v: post.logp_grad(v)[0], x, i) for i in range(post.n)]
        assert grad == pytest.approx(np.array(fd), rel=1e-5, abs=5e-5)  # 2e-8 of rounding
    assert offsets == pytest.approx([0.0] * len(offsets), abs=1e-7)
    values = post.values(x0)
    assert set(values) == {name for name, _ in post.shapes()}
    for name, shape in post.shapes():
        assert np.shape(values[name]) == shape


@pytest.mark.parametrize(
    ("residuals", "levels"),
    [("ar 2, t(year)", "|| state: emp"), ("unstructured, t(year)", "|| state:"),
     ("exchangeable, by(half)", "|| region: || state:")],
)  # fmt: skip
def test_numpy_panel_evaluator_is_the_graph(residuals, levels):
    """The draws' assembly whitens panels in NumPy; NUTS's PyTensor graph gives the same."""
    import pytensor.tensor as pt

    built = _built(residuals, levels)
    model = built.design.residual.model
    rng = np.random.default_rng(2)
    sd = rng.uniform(0.5, 1.5, len(built.cells.keys))
    z = 0.3 * rng.standard_normal((model.n_groups, model.structure.n_corr))
    zs = [pt.as_tensor_variable(z[g]) for g in range(model.n_groups)]
    graph, _, factors = panel_crossproducts(built.panels, model.structure, pt.as_tensor(sd), zs)
    cross, ours = PanelEvaluator(built)(sd, z)
    assert cross == pytest.approx(graph.eval(), rel=1e-10, abs=1e-10)
    for a, b in zip(ours, factors):
        assert a == pytest.approx(b.eval(), rel=1e-12, abs=1e-12)


def test_what_the_fast_path_takes():
    """AR(1) with unit steps and diagonal cells: ours; other structures and gaps: PyMC's."""
    for residuals in ["ar 1, t(year)", "independent, by(half)", "ar 1, t(year) by(half)"]:
        built = _built(residuals, "|| state:")
        assert fast_covers(residual_model(built.design, built.priors, True, True))
    for residuals in ["ar 2, t(year)", "ma 1, t(year)", "exchangeable", "toeplitz 1, t(year)"]:
        design = _design(residuals, "|| state:")
        assert residual_model(design, resolve_priors(design), True, True) is None
    df = _data()
    df = df[~((df.state == df.state.iloc[0]) & (df.year == 1972))]  # a gap in one panel
    cmd = "mixed gsp private emp unemp || state:, residuals(ar 1, t(year))"
    design = bayesmixed.design.build_design(bayesmixed.syntax.stata_to_spec(cmd, df), df)
    assert residual_model(design, resolve_priors(design), True, True) is None


@pytest.mark.slow
def test_rats_cells_end_to_end():
    df = datasets.load("rats")
    cmd = "mixed weight i.dose size female || litter:, residuals(independent, by(female))"
    ml = bayesmixed.stata(cmd, df)
    r = bayesmixed.stata("bayes: " + cmd, df, draws=400, tune=400, chains=2, seed=4,
                         progressbar=False)  # fmt: skip
    assert r.idata["posterior"].attrs["sampler"] == "nutpie" and r.divergences == 0
    assert np.all(np.abs(r.coef.to_numpy() - ml.coef.to_numpy()) < 0.5 * ml.se.to_numpy())
    sd_e = r.idata["posterior"]["sigma_e"].mean(("chain", "draw")).values
    assert sd_e[1] > sd_e[0]  # females' residual SD is the larger, as in the ML fit


@pytest.mark.parametrize(
    ("residuals", "levels", "integrate"),
    [("ar 1, t(year)", "|| region: || state:", True), ("ar 1, t(year) by(half)", "|| state: emp",
     False)],
)  # fmt: skip
def test_ar1_conditional_draws_are_the_panels(residuals, levels, integrate):
    """(b, beta) | draw from the weighted terms equal the per-panel whitening's (the
    draws' assembly takes the first for AR(1), the second for other structures)."""
    from bayesmixed.engines.bayes.fast_residual import term_weights
    from bayesmixed.engines.bayes.marginal import conditional_draws
    from bayesmixed.engines.bayes.panel_draws import evaluator, panel_conditional

    built = _built(residuals, levels, integrate)
    terms, groups = residual_terms(built)
    rng = np.random.default_rng(4)
    draws = 5
    sd = rng.uniform(0.03, 0.1, (draws, len(built.cells.keys)))
    z = np.arctanh(rng.uniform(-0.9, 0.97, (draws, len(groups), 1)))
    covs = []
    for b in built.design.blocks:
        a = rng.uniform(-0.05, 0.05, (draws, b.k, b.k))
        covs.append(a @ np.swapaxes(a, 1, 2) + 0.002 * np.eye(b.k))
    beta = None if integrate else rng.normal(0, 0.3, (draws, built.design.p))
    b_ref, beta_ref = panel_conditional(built, evaluator(built), sd, z, covs, rng, beta, False)
    weights = term_weights(groups, sd, np.tanh(z[:, :, 0]))
    b_new, beta_new = conditional_draws(built.stats, built.design, sd[:, 0], covs, rng, beta,
                                        built.prior_mean, built.prior_prec, noise=False,
                                        parts=terms, weights=weights)  # fmt: skip
    assert b_new == pytest.approx(b_ref, rel=1e-7, abs=1e-9)
    assert beta_new == pytest.approx(beta_ref, rel=1e-7, abs=1e-9)
