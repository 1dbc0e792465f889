"""The inverse-Wishart prior's density and Jacobian, and each structure's covariance."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from scipy.stats import invwishart

from bayesmixed.engines.bayes.build import build_model
from bayesmixed.engines.bayes.priors import resolve_priors

from .helpers import toy_design


def _raw_to_sigma(raw, k):
    chol = np.zeros((k, k))
    rows, cols = np.tril_indices(k)
    chol[rows, cols] = np.where(rows == cols, np.exp(raw), raw)
    return chol @ chol.T


def test_inverse_wishart_potential_is_density_times_jacobian():
    k, df = 3, 6.0
    raw = np.array([0.1, 0.3, -0.2, -0.4, 0.5, 0.2])
    with pm.Model() as model:
        from bayesmixed.engines.bayes.covariance import _inverse_wishart

        _inverse_wishart("g", k, df)
    value = model.compile_logp()({"cov[g]_raw": raw})
    sigma = _raw_to_sigma(raw, k)
    rows, cols = np.tril_indices(k)

    def vech(r):
        return _raw_to_sigma(r, k)[rows, cols]

    jac = np.empty((len(raw), len(raw)))
    for i in range(len(raw)):
        e = np.zeros(len(raw))
        e[i] = 1e-6
        jac[:, i] = (vech(raw + e) - vech(raw - e)) / 2e-6
    expected = invwishart(df, np.eye(k)).logpdf(sigma) + np.linalg.slogdet(jac)[1]
    assert value == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("cov", ["independent", "exchangeable", "identity", "unstructured"])
def test_each_structure_yields_a_valid_covariance_of_its_shape(cov):
    design = toy_design(cov)
    built = build_model(design, resolve_priors(design), True, True)
    point = built.model.initial_point()
    model = built.model
    out = model.replace_rvs_by_values([model["cov[g]"]])
    fn = model.compile_fn(out, inputs=model.value_vars, point_fn=False, on_unused_input="ignore")
    sigma = np.asarray(fn(*[point[v.name] for v in model.value_vars])[0])
    assert sigma.shape == (2, 2)
    assert np.allclose(sigma, sigma.T) and np.all(np.linalg.eigvalsh(sigma) > 0)
    if cov in ("independent", "identity"):
        assert sigma[0, 1] == 0
    if cov in ("identity", "exchangeable"):
        assert sigma[0, 0] == pytest.approx(sigma[1, 1])
