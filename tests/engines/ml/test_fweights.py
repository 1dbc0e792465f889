"""[fweight=] after mixed (issue 15, item 3): a row of weight f is f identical rows.

Reference: the unweighted fit of the data expanded by the weights (each row
repeated f times; rows of weight 0 dropped).  Log likelihood, estimates and
the fixed effects' standard errors must agree to 1e-8, and so must the
variance components' standard errors: they come from a seven-point
finite-difference Hessian (:func:`bayesmixed.engines.ml.inference._hessian`,
error O(h^6) at a step where rounding is amplified little), evaluated at the two
fits' own optima, which agree to ~1e-8; the old three-point rule (h = 1e-4)
differed by up to 8e-7 between the two fits.
"""

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.datasets import load


@pytest.fixture(scope="module")
def weighted():
    data = load("rats")
    rng = np.random.default_rng(3)
    data["f"] = rng.integers(0, 4, len(data))
    return data, data.loc[data.index.repeat(data["f"])].reset_index(drop=True)


MODELS = [
    "mixed weight size female {w}|| litter:",
    "mixed weight size female {w}|| litter: female, cov(uns)",
    "mixed weight size female {w}|| dose: || litter:",
    "mixed weight size female {w}|| litter:, vce(robust)",
]


@pytest.mark.parametrize("cmd", MODELS)
def test_fweights_equal_the_expanded_data(weighted, cmd):
    data, expanded = weighted
    a = bm.stata(cmd.format(w="[fw=f] "), data)
    b = bm.stata(cmd.format(w=""), expanded)
    assert a.nobs == b.nobs == int(data["f"].sum())
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10, abs=1e-8)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-8)
    np.testing.assert_allclose(a.working, b.working, rtol=1e-6, atol=1e-8)
    finite = np.isfinite(np.diag(b.working_vcov))
    np.testing.assert_allclose(
        np.sqrt(np.diag(a.working_vcov)[finite]),
        np.sqrt(np.diag(b.working_vcov)[finite]),
        rtol=1e-8,
    )
    assert a.groups.equals(b.groups)  # Stata's obs per group count the expanded rows


def test_weights_of_one_change_nothing():
    data = load("rats").assign(one=1)
    a = bm.stata("mixed weight size || litter:", data)
    b = bm.stata("mixed weight size [fw=one] || litter:", data)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-10)


def test_header_counts_the_expanded_observations(weighted):
    data, _ = weighted
    text = str(bm.stata("mixed weight size [fw=f] || litter:", data))
    assert f"Number of obs     = {int(data['f'].sum()):>10,}" in text
    assert isinstance(data, pd.DataFrame)


def test_the_hessian_rule_is_accurate_on_a_known_function():
    """The seven-point derivatives of two log-likelihood-like parts of known derivatives, to 1e-9.

    f = -n log(s2) / 2 - S / (2 s2) with s2 = exp(2 w0) + exp(2 w1) + w0 w1 terms: smooth,
    with values of ~1e3 like a log likelihood, so rounding noise is exercised too; the
    second part g = 500 exp(w0 + 2 w1) checks the gradient and the pairing of the parts.
    """
    from bayesmixed.engines.ml.inference import _parts_derivatives

    n, total = 300.0, 450.0

    def f(w):
        s2 = np.exp(2 * w[0]) + np.exp(2 * w[1]) + 0.1 * w[0] * w[1]
        return -0.5 * n * np.log(s2) - total / (2 * s2)

    def parts(w):
        return np.array([f(w), 500 * np.exp(w[0] + 2 * w[1])])

    x = np.array([-0.3, 0.2])
    e0, e1 = np.exp(2 * x[0]), np.exp(2 * x[1])
    s2 = e0 + e1 + 0.1 * x[0] * x[1]
    grad = np.array([2 * e0 + 0.1 * x[1], 2 * e1 + 0.1 * x[0]])
    second = np.array([[4 * e0, 0.1], [0.1, 4 * e1]])
    dg = -0.5 * n / s2 + total / (2 * s2**2)  # d f / d s2
    dgg = 0.5 * n / s2**2 - total / s2**3  # d2 f / d s2^2
    exact = dgg * np.outer(grad, grad) + dg * second
    g0 = 500 * np.exp(x[0] + 2 * x[1])
    h_f, h_g, g_g, value = _parts_derivatives(parts, x)
    np.testing.assert_allclose(h_f, exact, rtol=1e-9)
    np.testing.assert_allclose(h_g, g0 * np.array([[1.0, 2.0], [2.0, 4.0]]), rtol=1e-9)
    np.testing.assert_allclose(g_g, g0 * np.array([1.0, 2.0]), rtol=1e-10)
    assert value == g0
