"""[fweight=] after melogit (issue 15, item 3): the same fit as the expanded data.

Reference: the unweighted fit of the data expanded by the weights.  The log
likelihood and the estimates must agree to 1e-8, and the approximate log
likelihood at one parameter vector to 1e-10 (the identity behind it); the
standard errors come from finite-difference Hessians (steps 1e-4) of two sums
of the same terms added in different orders, whose rounding noise reaches ~1e-6
(2.9e-7 measured with numpy 2.5 / scipy 1.18, 1e-8 with earlier releases, 1.2e-6
once the logit's log(1 + e^eta) was written out instead of ``np.logaddexp``: as
accurate, 0.31 ulp on average against the extended-precision value, but rounded
differently), so they are held to 3e-6.  After Laplace the estimates agree to 1e-7: the optimum of a
log likelihood of ~150 with curvature ~100 is located only to about
sqrt(eps * 150 / 100) ~ 1e-8 in each direction, and the derivative-free
optimizer and its Newton polish end within a few such widths of it.  Laplace
SEs agree only to ~1e-4: the Laplace objective's inner PIRLS solve stops at a
step of 1e-10 and is warm-started from the previous evaluation, so its
finite-difference Hessian (steps 1e-4) carries noise of that order, which the
two fits meet along different paths (a limit of the engine's SEs, not of the
weights).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm


@pytest.fixture(scope="module")
def weighted():
    rng = np.random.default_rng(8)
    g = np.repeat(np.arange(20), 10)
    x = rng.normal(size=200)
    u = rng.normal(size=20)
    y = (rng.uniform(size=200) < special.expit(-0.3 + 0.8 * x + u[g])).astype(int)
    data = pd.DataFrame({"y": y, "x": x, "g": g, "f": rng.integers(0, 4, 200)})
    return data, data.loc[data.index.repeat(data["f"])].reset_index(drop=True)


@pytest.mark.parametrize(
    "method, tol, se_tol", [("mvaghermite", 1e-8, 3e-6), ("laplace", 1e-8, 1e-5)]
)
def test_fweights_equal_the_expanded_data(weighted, method, tol, se_tol):
    data, expanded = weighted
    a = bm.stata(f"melogit y x [fw=f] || g:, intmethod({method})", data)
    b = bm.stata(f"melogit y x || g:, intmethod({method})", expanded)
    assert a.nobs == b.nobs == int(data["f"].sum())
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10, abs=1e-8)
    np.testing.assert_allclose(a.beta, b.beta, rtol=tol, atol=tol)
    np.testing.assert_allclose(a.working, b.working, rtol=tol, atol=tol)
    np.testing.assert_allclose(a.se, b.se, rtol=se_tol)
    assert a.groups.equals(b.groups)


def test_weighted_and_expanded_objectives_agree_pointwise(weighted):
    from bayesmixed.design import build_design
    from bayesmixed.engines.glmm.objective import ApproxLoglik
    from bayesmixed.engines.glmm.response import build_response
    from bayesmixed.syntax import stata_to_spec

    data, expanded = weighted
    values = []
    for cmd, frame in (("melogit y x [fw=f] || g:", data), ("melogit y x || g:", expanded)):
        design = build_design(stata_to_spec(cmd, frame), frame)
        resp = build_response(design)
        obj = ApproxLoglik(resp, [design.blocks[0].structure], [1], "mvaghermite", 7)
        values.append([obj(np.array([t, 0.7, -0.2])) for t in (0.3, 1.0, 2.0)])
    np.testing.assert_allclose(values[0], values[1], rtol=1e-10)
