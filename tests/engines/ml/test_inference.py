"""The covariance of the working parameters against a dense brute-force oracle.

The engine differences theta only and treats log sigma_e in closed form
(:mod:`bayesmixed.engines.ml.inference`); the oracle here differences the textbook
marginal (restricted) log likelihood of y ~ N(X beta, Z G Z' + sigma2 I), with beta
profiled by GLS, in the working vector itself, by Richardson-extrapolated central
differences.  Nothing of the engine's is used but the fitted working vector.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm


def _frame(seed: int = 11, groups: int = 15, per: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    h = np.tile(np.arange(per) % 3, groups)  # a second factor, crossed with g
    x, z = rng.normal(size=g.size), rng.normal(size=g.size)
    u = rng.normal(size=(groups, 2)) * [1.0, 0.6]
    y = 1 + x + u[g, 0] + u[g, 1] * z + 0.5 * rng.normal(size=3)[h] + rng.normal(size=g.size)
    return pd.DataFrame({"y": y, "x": x, "z": z, "g": g, "h": h})


def _z_full(block, n: int) -> np.ndarray:
    z = np.zeros((n, block.n_groups * block.k))
    for j in range(block.k):
        z[np.arange(n), block.codes * block.k + j] = block.Z[:, j]
    return z


def _oracle_loglik(design, reml: bool):
    n, p = design.n, design.p
    zs = [_z_full(b, n) for b in design.blocks]
    sizes = [b.structure.n_theta for b in design.blocks]
    cuts = np.cumsum(sizes)[:-1]
    X, y = design.X, design.y

    def loglik(w: np.ndarray) -> float:
        v = np.exp(2 * w[-1]) * np.eye(n)
        for b, z, part in zip(design.blocks, zs, np.split(w[:-1], cuts)):
            g = np.kron(np.eye(b.n_groups), b.structure.cov_from_working(part))
            v += z @ g @ z.T
        vi = np.linalg.inv(v)
        xtvx = X.T @ vi @ X
        beta = np.linalg.solve(xtvx, X.T @ vi @ y)
        r = y - X @ beta
        out = np.linalg.slogdet(v)[1] + r @ vi @ r + (n - p if reml else n) * np.log(2 * np.pi)
        if reml:
            out += np.linalg.slogdet(xtvx)[1]
        return -0.5 * out

    return loglik


def _richardson_hessian(f, x: np.ndarray, h: float = 2e-3) -> np.ndarray:
    def hess(step: float) -> np.ndarray:
        d = len(x)
        out = np.empty((d, d))
        e = np.eye(d) * step
        f0 = f(x)
        for i in range(d):
            out[i, i] = (f(x + e[i]) - 2 * f0 + f(x - e[i])) / step**2
            for j in range(i):
                out[i, j] = out[j, i] = (
                    f(x + e[i] + e[j]) - f(x + e[i] - e[j]) - f(x - e[i] + e[j])
                    + f(x - e[i] - e[j])
                ) / (4 * step**2)  # fmt: skip
        return out

    return (4 * hess(h / 2) - hess(h)) / 3


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + (z | g)",  # unstructured 2 x 2: log sds and a correlation
        "y ~ x + (1 | g) + (0 + z | g) + (1 | h)",  # three blocks, h crossed with g
    ],
)
@pytest.mark.parametrize("reml", [False, True])
def test_working_covariance_equals_the_dense_oracle(formula, reml):
    fit = bm.fit(formula, _frame(), reml=reml)
    assert not fit.boundary
    w = np.asarray(fit.working, float)
    loglik = _oracle_loglik(fit.design, reml)
    assert loglik(w) == pytest.approx(fit.loglik, rel=1e-9)  # the same likelihood
    expected = np.linalg.inv(-_richardson_hessian(loglik, w))
    np.testing.assert_allclose(fit.working_vcov, expected, rtol=2e-5, atol=1e-9)
