"""[fweight=] after mixed (issue 15, item 3): a row of weight f is f identical rows.

Reference: the unweighted fit of the data expanded by the weights (each row
repeated f times; rows of weight 0 dropped).  Log likelihood, estimates and
the fixed effects' standard errors must agree to 1e-8.  The variance
components' standard errors come from a finite-difference Hessian evaluated at
the two fits' own optima (which agree to ~1e-9), so they are held to 1e-6.
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
        rtol=1e-6,
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
