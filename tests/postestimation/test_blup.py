"""The blocked BLUP algebra against a dense computation on a small crossed design.

Dense definitions: b = Lambda (Lambda'Z'Z Lambda + I)^-1 Lambda'Z'(y - X beta) and
Var(b | y) = sigma^2 Lambda (Lambda'Z'Z Lambda + I)^-1 Lambda'; for a GLMM
Lambda (Lambda'Z'WZ Lambda + I)^-1 Lambda' at the modes.  Both the dense and the
sparse layouts of the engine's factor, and the chunked formation of W, are run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg as sla

import bayesmixed as bm
from bayesmixed.engines.ml import crossprod
from bayesmixed.postestimation import blup


def _data(seed=1, n=500):
    rng = np.random.default_rng(seed)
    g1, g2 = rng.integers(0, 40, n), rng.integers(0, 15, n)
    x = rng.normal(size=n)
    u0, u1, v = rng.normal(0, 1.0, 40), rng.normal(0, 0.5, 40), rng.normal(0, 0.7, 15)
    y = 1 + 0.5 * x + u0[g1] + u1[g1] * x + v[g2] + rng.normal(0, 1.0, n)
    eta = -0.3 + 0.4 * x + 0.8 * u0[g1] + v[g2]
    yb = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "yb": yb, "x": x, "g1": g1, "g2": g2})


def _dense(result):
    design = result.design
    n = design.n
    zs, lams = [], []
    sizes = [b.structure.n_theta for b in design.blocks]
    thetas = np.split(np.asarray(result.theta), np.cumsum(sizes)[:-1])
    for block, theta in zip(design.blocks, thetas):
        z = np.zeros((n, block.q))
        for j in range(block.k):
            z[np.arange(n), block.codes * block.k + j] = block.Z[:, j]
        zs.append(z)
        lams.append(np.kron(np.eye(block.n_groups), block.structure.lam(theta)))
    return np.hstack(zs), sla.block_diag(*lams)


def _blocks(mat_or_vec, design, diag=True):
    out, start = [], 0
    for block in design.blocks:
        k, g = block.k, block.n_groups
        part = mat_or_vec[start : start + k * g]
        if diag:
            part = part[:, start : start + k * g]
            out.append(np.stack([part[i * k : (i + 1) * k, i * k : (i + 1) * k] for i in range(g)]))
        else:
            out.append(part.reshape(g, k))
        start += k * g
    return out


@pytest.mark.parametrize("layout", ["dense", "sparse", "chunked"])
def test_lmm_blups_equal_dense_algebra(monkeypatch, layout):
    if layout == "sparse":
        monkeypatch.setattr(crossprod, "DENSE_LIMIT", 0)
    if layout == "chunked":
        monkeypatch.setattr(blup, "CHUNK", 6)
    r = bm.fit("y ~ x + (x | g1) + (1 | g2)", _data())
    z, lam = _dense(r)
    d = r.design
    a = lam.T @ z.T @ z @ lam + np.eye(lam.shape[0])
    a_inv = np.linalg.inv(a)
    b = lam @ a_inv @ lam.T @ z.T @ (d.y - d.X @ r.beta)
    v = r.sigma2 * lam @ a_inv @ lam.T
    est = blup.lmm_blups(r)
    for got, want in zip(est.values, _blocks(b, d, diag=False)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    for got, want in zip(est.cond_cov, _blocks(v, d)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-14)


def test_glmm_cond_cov_equals_dense_inverse_for_crossed_blocks():
    r = bm.fit("yb ~ x + (1 | g1) + (1 | g2)", _data(), family="binomial", link="logit")
    z, lam = _dense(r)
    d = r.design
    eta = d.X @ r.beta + z @ np.concatenate([m.ravel() for m in r.modes])
    p = 1 / (1 + np.exp(-eta))
    h = lam.T @ z.T @ np.diag(p * (1 - p)) @ z @ lam + np.eye(lam.shape[0])
    v = lam @ np.linalg.inv(h) @ lam.T
    est = blup.glmm_blups(r)
    for got, want in zip(est.cond_cov, _blocks(v, d)):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-14)


def test_one_block_glmm_cond_cov_equals_dense_inverse():
    r = bm.fit("yb ~ x + (1 | g1)", _data(), family="binomial", link="logit")
    z, lam = _dense(r)
    d = r.design
    eta = d.X @ r.beta + z @ r.modes[0].ravel()
    p = 1 / (1 + np.exp(-eta))
    h = lam.T @ z.T @ np.diag(p * (1 - p)) @ z @ lam + np.eye(lam.shape[0])
    v = lam @ np.linalg.inv(h) @ lam.T
    np.testing.assert_allclose(blup.glmm_blups(r).cond_cov[0], _blocks(v, d)[0], rtol=1e-9)


def test_blups_are_cached_on_the_result():
    r = bm.fit("y ~ x + (1 | g2)", _data())
    assert blup.blups(r) is blup.blups(r)
