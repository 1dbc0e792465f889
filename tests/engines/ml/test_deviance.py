"""The profiled deviance against lme4's devfun and an independent dense oracle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmixed.design.types import Design, REBlock
from bayesmixed.engines.ml.fit import make_deviance
from bayesmixed.fitting import fit_lmm
from bayesmixed.spec.model import Component, ModelSpec, RandomEquation, Term

ROOT = Path(__file__).resolve().parents[3]
REF = json.loads((ROOT / "tests/reference/spine_lmm.json").read_text())


def _block(eq: RandomEquation, frame: pd.DataFrame, keys: list[str], z: np.ndarray) -> REBlock:
    if len(keys) > 1:
        codes, groups = pd.factorize(pd.MultiIndex.from_frame(frame[keys]), sort=True)
    else:
        codes, groups = pd.factorize(frame[keys[0]], sort=True)
    return REBlock(eq, codes, pd.Index(groups), z, eq.effect_names, eq.structure)


def _design(y, x, names, blocks) -> Design:
    spec = ModelSpec("y", (), tuple(b.equation for b in blocks))
    return Design(
        spec, np.asarray(y, float), np.asarray(x, float), names, blocks, pd.RangeIndex(len(y))
    )


def jsp_uns(reml: bool = False, cov: str = "unstructured") -> Design:
    d = pd.read_csv(ROOT / "data/jsp2.csv")
    eq = RandomEquation(("school",), (Term((Component("math3"),)),), True, cov)
    z = np.column_stack([d.math3, np.ones(len(d))])
    x = np.column_stack([d.math3, np.ones(len(d))])
    return _design(d.math5, x, ["math3", "_cons"], [_block(eq, d, ["school"], z)])


def productivity_nested() -> Design:
    d = pd.read_csv(ROOT / "data/productivity.csv")
    xs = "private emp hwy water other unemp".split()
    x = np.column_stack([d[v] for v in xs] + [np.ones(len(d))])
    ones = np.ones((len(d), 1))
    region = _block(RandomEquation(("region",)), d, ["region"], ones)
    state = _block(RandomEquation(("region", "state")), d, ["region", "state"], ones)
    return _design(d.gsp, x, xs + ["_cons"], [region, state])


def test_dyestuff_deviance_matches_lme4():
    d = pd.read_csv(ROOT / "tests/reference/dyestuff.csv")
    block = _block(RandomEquation(("Batch",)), d, ["Batch"], np.ones((len(d), 1)))
    r = fit_lmm(_design(d.Yield, np.ones((len(d), 1)), ["_cons"], [block]))
    assert r.deviance == pytest.approx(REF["dyestuff"]["deviance"], rel=1e-9)


def test_jsp_uns_deviance_at_lme4_thetas():
    dev = make_deviance(jsp_uns(), reml=False)
    for point in REF["devfun"]["jsp_uns_ml"]["points"]:
        l11, l21, l22 = point["theta"]  # lme4: intercept first
        # Same covariance with slopes first: Sigma = P L L' P, re-factor.
        lam = np.array([[l11, 0.0], [l21, l22]])
        sigma = lam @ lam.T
        ours = np.linalg.cholesky(sigma[::-1, ::-1] + 1e-300 * np.eye(2))
        theta = ours[np.tril_indices(2)]
        assert dev(theta) == pytest.approx(point["deviance"], rel=1e-9)


def test_productivity_deviance_at_lme4_thetas():
    design = productivity_nested()
    dev = make_deviance(design, reml=False)
    for point in REF["devfun"]["prod_nested_ml"]["points"]:
        state, region = point["theta"]
        by_block = {"region": region, "state": state}
        theta = np.array([by_block[design.blocks[i].key] for i in dev.cp.order])
        assert dev(theta) == pytest.approx(point["deviance"], rel=1e-9)


def _dense_deviance(design: Design, theta_by_block: list[np.ndarray], reml: bool) -> float:
    """Brute force: V = I + sum Z_j Lambda_j Lambda_j' Z_j', GLS, no blocking."""
    n = design.n
    v = np.eye(n)
    for block, theta in zip(design.blocks, theta_by_block):
        lam = block.structure.lam(theta)
        z = np.zeros((n, block.q))
        for a in range(block.k):
            z[np.arange(n), block.codes * block.k + a] = block.Z[:, a]
        big = np.kron(np.eye(block.n_groups), lam)
        v += z @ big @ big.T @ z.T
    vi = np.linalg.inv(v)
    x, y = design.X, design.y
    xtvx = x.T @ vi @ x
    beta = np.linalg.solve(xtvx, x.T @ vi @ y)
    res = y - x @ beta
    r2 = res @ vi @ res
    logdet = np.linalg.slogdet(v)[1]
    if reml:
        dof = n - design.p
        return logdet + np.linalg.slogdet(xtvx)[1] + dof * (1 + np.log(2 * np.pi * r2 / dof))
    return logdet + n * (1 + np.log(2 * np.pi * r2 / n))


def _check_against_oracle(design, dev, reml: bool, rng) -> None:
    """dev at three random theta (within bounds, evaluation order) = the dense oracle."""
    for _ in range(3):
        parts = []
        for block in design.blocks:
            s = block.structure
            lo = np.array([b[0] if b[0] is not None else -1.0 for b in s.theta_bounds()])
            parts.append(np.maximum(rng.uniform(-1, 1.5, s.n_theta), lo + 0.05))
        theta_eval = np.concatenate([parts[i] for i in dev.cp.order])
        assert dev(theta_eval) == pytest.approx(_dense_deviance(design, parts, reml), rel=1e-10)


@pytest.mark.parametrize("cov", ["unstructured", "independent", "exchangeable", "identity"])
@pytest.mark.parametrize("reml", [False, True])
def test_blocked_deviance_equals_dense_oracle_crossed(cov: str, reml: bool):
    rng = np.random.default_rng(1)
    n = 120
    frame = pd.DataFrame(
        {"a": rng.integers(0, 7, n), "b": rng.integers(0, 5, n), "c": rng.integers(0, 3, n)}
    )
    x1 = rng.normal(size=n)
    z_slope = np.column_stack([x1, np.ones(n)])
    eq_a = RandomEquation(("a",), (Term((Component("x1"),)),), True, cov)
    eq_b = RandomEquation(("b",), (Term((Component("x1"),)),), True, cov)
    eq_c = RandomEquation(("b", "c"))
    blocks = [
        _block(eq_a, frame, ["a"], z_slope),
        _block(eq_b, frame, ["b"], z_slope),
        _block(eq_c, frame, ["b", "c"], np.ones((n, 1))),
    ]
    x = np.column_stack([x1, rng.normal(size=n), np.ones(n)])
    y = x @ [1.0, -0.5, 2.0] + rng.normal(size=n)
    design = _design(y, x, ["x1", "x2", "_cons"], blocks)
    dev = make_deviance(design, reml=reml)
    _check_against_oracle(design, dev, reml, rng)


def test_boundary_fit_is_snapped_and_reported():
    r = fit_lmm(jsp_uns(cov="independent"))
    assert r.theta[0] == 0.0
    assert r.boundary and "school" in r.boundary[0]
    assert np.isnan(r.working_vcov[0, 0])
    assert np.isfinite(r.working_vcov[1, 1])


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("slope", [False, True])
@pytest.mark.parametrize("streamed", [False, True])
def test_sparse_gram_path_equals_dense_oracle(reml: bool, slope: bool, streamed: bool,
                                              monkeypatch):  # fmt: skip
    """Sparse A_r1 (the Gram map): all-scalar rest blocks take the assembled path
    (``_assembled_factor``; with the streamed map ``_scalar_rest_factor``), a vector rest
    block the general one; all equal the oracle."""
    from bayesmixed.engines.ml import crossprod, gram

    monkeypatch.setattr(crossprod, "DENSE_LIMIT", 0)  # force the sparse cross-products
    if streamed:
        monkeypatch.setattr(gram, "MAX_PAIRS", 0)  # too large to precompute: streamed
    rng = np.random.default_rng(7)
    n = 150
    frame = pd.DataFrame(
        {"a": rng.integers(0, 9, n), "b": rng.integers(0, 4, n), "c": rng.integers(0, 3, n)}
    )  # a first (9 effects); b's 4 groups x 2 = 8 stay in the rest
    x1 = rng.normal(size=n)
    eq_b = (
        RandomEquation(("b",), (Term((Component("x1"),)),), True, "unstructured")
        if slope
        else RandomEquation(("b",))
    )
    z_b = np.column_stack([x1, np.ones(n)]) if slope else np.ones((n, 1))
    blocks = [
        _block(RandomEquation(("a",)), frame, ["a"], np.ones((n, 1))),
        _block(eq_b, frame, ["b"], z_b),
        _block(RandomEquation(("c",)), frame, ["c"], np.ones((n, 1))),
    ]
    x = np.column_stack([x1, np.ones(n)])
    y = x @ [1.0, 2.0] + rng.normal(size=n)
    design = _design(y, x, ["x1", "_cons"], blocks)
    dev = make_deviance(design, reml=reml)
    assert dev._scalar_rest is (not slope)
    if slope or streamed:
        assert dev._assembly is None and dev._gram is not None
        assert isinstance(dev._gram, gram.StreamingGram) is streamed
    else:
        assert dev._assembly is not None and dev._gram is None
    _check_against_oracle(design, dev, reml, rng)
