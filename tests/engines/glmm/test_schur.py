"""The Schur-complement factorization of the PIRLS curvature against H built densely.

Oracle: H = (Z Lambda)' W (Z Lambda) + I assembled as a dense matrix from the design
written out column by column here, its log determinant and solves by NumPy.  Designs:
crossed intercepts (VerbAgg's shape), nested intercepts whose pivot groups have one row
(grouseticks' shape), random slopes in the eliminated block and in a remaining block,
blocks of one group spanning all rows (whose products with each other are one BLAS
product), each through both ways of forming C' D^-1 C (dense product and pairs).
"""

import numpy as np
import pandas as pd
import pytest

from bayesmixed.engines.glmm import schur
from bayesmixed.engines.glmm.pirls import _LUCurvature, lambda_matrix, sparse_modes, z_matrix
from bayesmixed.engines.glmm.response import Response
from bayesmixed.spec.families.counts import Poisson


def _design(shape: str, rng):
    n = 600
    if shape == "crossed":  # subjects x items, intercepts
        codes = [rng.integers(0, 60, n), rng.integers(0, 12, n)]
        Z = [np.ones((n, 1)), np.ones((n, 1))]
    elif shape == "nested_single_rows":  # one row per pivot group, in broods in locations
        brood = rng.integers(0, 40, n)
        codes = [np.arange(n), brood, brood % 9]
        Z = [np.ones((n, 1)), np.ones((n, 1)), np.ones((n, 1))]
    elif shape == "slopes_in_pivot":
        x = rng.normal(size=n)
        codes = [rng.integers(0, 80, n), rng.integers(0, 15, n)]
        Z = [np.column_stack([np.ones(n), x]), np.ones((n, 1))]
    elif shape == "nested_slopes":  # classes in schools (slopes) in regions
        school = rng.integers(0, 60, 300)
        cls = rng.integers(0, 300, n)
        x = rng.normal(size=n)
        codes = [cls, school[cls], school[cls] % 7]
        Z = [np.ones((n, 1)), np.column_stack([np.ones(n), x]), np.ones((n, 1))]
        codes = [pd.factorize(c)[0] for c in codes]
    elif shape == "global_blocks":  # blocks of one group over all rows (``_all: x``, or X)
        x = rng.normal(size=(n, 3))
        codes = [rng.integers(0, 60, n), rng.integers(0, 12, n), np.zeros(n, int), np.zeros(n, int)]
        Z = [np.ones((n, 1)), np.ones((n, 1)), np.column_stack([np.ones(n), x[:, :2]]), x[:, 2:]]
    else:  # slopes in a remaining block, a third crossed factor
        x = rng.normal(size=n)
        codes = [rng.integers(0, 90, n), rng.integers(0, 10, n), rng.integers(0, 4, n)]
        Z = [np.ones((n, 1)), np.column_stack([np.ones(n), x]), np.ones((n, 1))]
    ngroups = [int(c.max()) + 1 for c in codes]
    lams = []
    for z in Z:
        k = z.shape[1]
        a = np.tril(rng.normal(size=(k, k))) * 0.6
        a[np.diag_indices(k)] = np.abs(a[np.diag_indices(k)]) + 0.3
        lams.append(a)
    return codes, Z, ngroups, lams


def _dense_h(codes, Z, ngroups, lams, w):
    cols = []
    for c, z, g, lam in zip(codes, Z, ngroups, lams):
        zl, k = z @ lam, z.shape[1]
        block = np.zeros((len(c), g * k))
        for j in range(k):
            block[np.arange(len(c)), c * k + j] = zl[:, j]
        cols.append(block)
    zlm = np.hstack(cols)
    return zlm, zlm.T @ (w[:, None] * zlm) + np.eye(zlm.shape[1])


SHAPES = [
    "crossed", "nested_single_rows", "slopes_in_pivot", "slopes_in_rest", "nested_slopes",
    "global_blocks",
]  # fmt: skip
NESTED = {"nested_single_rows", "nested_slopes"}  # S keeps the next block diagonal


@pytest.mark.parametrize("dense_c", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_factor_is_the_dense_curvature(shape, dense_c):
    rng = np.random.default_rng(SHAPES.index(shape))
    codes, Z, ngroups, lams = _design(shape, rng)
    w = rng.uniform(0.05, 2.0, len(codes[0]))
    layout = schur.SchurCurvature(codes, Z, ngroups)
    layout.dense_c = dense_c
    assert (layout.second is not None) == (shape in NESTED)
    at = layout.at(lams)
    zlm, h = _dense_h(codes, Z, ngroups, lams, w)
    fac = at.factor(w)
    assert fac.logdet == pytest.approx(np.linalg.slogdet(h)[1], rel=1e-12, abs=1e-9)
    rhs = rng.normal(size=h.shape[0])
    np.testing.assert_allclose(fac.solve(rhs), np.linalg.solve(h, rhs), rtol=1e-9, atol=1e-11)
    u, s = rng.normal(size=h.shape[0]), rng.normal(size=len(w))
    np.testing.assert_allclose(at.matvec(u), zlm @ u, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(at.rmatvec(s), zlm.T @ s, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_modes_equal_the_sparse_lu_path(shape):
    """The whole PIRLS on a Poisson response: same modes, log|H| and log likelihood."""
    rng = np.random.default_rng(10 + SHAPES.index(shape))
    codes, Z, ngroups, lams = _design(shape, rng)
    n = len(codes[0])
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.poisson(np.exp(0.3 + 0.2 * X[:, 1] + 0.5 * rng.normal(size=n))).astype(float)
    resp = Response(
        family=Poisson(), y=y, X=X, offset=np.zeros(n), trials=None,
        perm=np.arange(n), starts=np.array([0]), codes=codes, Z=Z, n_groups=ngroups,
    )  # fmt: skip
    eta0 = X @ np.array([0.3, 0.2])
    q = sum(z.shape[1] * g for z, g in zip(Z, ngroups))
    zl = z_matrix(resp) @ lambda_matrix(lams, ngroups)
    ref = sparse_modes(resp, zl, eta0, np.zeros(q), polish=True, curvature=_LUCurvature(zl))
    new = sparse_modes(
        resp, None, eta0, np.zeros(q), polish=True,
        curvature=schur.SchurCurvature(codes, Z, ngroups).at(lams),
    )  # fmt: skip
    np.testing.assert_allclose(new.u, ref.u, rtol=1e-9, atol=1e-10)
    assert new.logdet == pytest.approx(ref.logdet, rel=1e-11)
    assert new.loglik == pytest.approx(ref.loglik, rel=1e-12)


def test_suits_only_a_small_remainder():
    assert schur.suits([1, 1], [316, 24])  # VerbAgg
    assert schur.suits([1, 1, 1], [403, 118, 63])  # grouseticks
    assert schur.suits([1, 1, 1], [2972, 1128, 30])  # InstEval's shape: S is 1,158 dense
    assert not schur.suits([1, 1], [20000, 5000])  # S of 5,000^2 doubles: SuperLU stays
    assert not schur.suits([2], [50])  # one block: the grouped path


@pytest.mark.parametrize("shape", SHAPES)
def test_build_counts_the_pairs_before_making_them(shape, monkeypatch):
    """build() refuses a design whose pairs would not fit, by the count it makes first."""
    codes, Z, ngroups, _ = _design(shape, np.random.default_rng(3))
    layout = schur.build(codes, Z, ngroups)
    pairs = layout.n_pairs  # every ordered pair, as build() counts them (fewer are formed)
    monkeypatch.setattr(schur, "MAX_PAIRS", pairs)
    assert schur.build(codes, Z, ngroups) is not None
    monkeypatch.setattr(schur, "MAX_PAIRS", pairs - 1)
    assert schur.build(codes, Z, ngroups) is None


def test_a_whole_fit_is_the_sparse_lu_fit(monkeypatch):
    """melogit with crossed factors and a random slope: the same estimates either way."""
    import bayesmixed as bm

    rng = np.random.default_rng(7)
    n, subjects, items = 900, 60, 15
    s, i, x = rng.integers(0, subjects, n), rng.integers(0, items, n), rng.normal(size=n)
    eta = -0.3 + 0.5 * x + rng.normal(0, 0.8, subjects)[s] + rng.normal(0, 0.5, items)[i]
    eta = eta + rng.normal(0, 0.4, items)[i] * x
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    data = pd.DataFrame({"y": y, "x": x, "s": s, "i": i})
    command = "melogit y x || _all: R.s || i: x, cov(unstructured)"
    new = bm.stata(command, data)
    monkeypatch.setattr(schur, "build", lambda *args: None)
    old = bm.stata(command, data)
    assert new.loglik == pytest.approx(old.loglik, rel=1e-12)
    np.testing.assert_allclose(new.coef, old.coef, rtol=1e-7, atol=1e-9)
