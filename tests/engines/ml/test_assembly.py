"""The assembled scaled Schur complement equals D (A_rr - A_r1 G A_r1') D formed directly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bayesmixed.engines.ml import gram
from bayesmixed.engines.ml.assembly import ScaledAssembly


def _case(k: int, sizes: tuple[int, ...], seed: int, border: int = 3):
    """A random sparse A_r1 (rest x first-block columns), a symmetric A_rr, G and scalings."""
    rng = np.random.default_rng(seed)
    q = sum(sizes)
    groups = 40
    a_r1 = sp.random(q, groups * k, density=0.15, random_state=seed, format="csr")
    a_rr = sp.random(q, q, density=0.1, random_state=seed + 1, format="csr")
    a_rr = (a_rr + a_rr.T + sp.identity(q)).tocsr()
    g = rng.normal(size=(groups, k, k))
    g = g @ g.transpose(0, 2, 1)
    scale = rng.uniform(0.2, 2.0, len(sizes))
    block_of = np.repeat(np.arange(len(sizes)), sizes)
    return a_r1, a_rr, g, scale, block_of, q + border


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("sizes", [(17,), (12, 5), (9, 4, 3)])
def test_assembly_equals_the_direct_product(k, sizes):
    a_r1, a_rr, g, scale, block_of, width = _case(k, sizes, seed=len(sizes) + 10 * k)
    q = a_rr.shape[0]
    out = ScaledAssembly.build(a_r1, k, a_rr, block_of, width)(scale, g)
    gg = sp.block_diag([sp.csr_matrix(b) for b in g], format="csr")
    d = scale[block_of]
    direct = d[:, None] * (a_rr.toarray() - (a_r1 @ gg @ a_r1.T).toarray()) * d[None, :]
    assert out.shape == (width, width) and out.flags["C_CONTIGUOUS"]
    low = np.tril_indices(q)
    np.testing.assert_allclose(out[:q, :q][low], direct[low], rtol=1e-13, atol=1e-12)
    above = np.triu(np.ones((width, width), bool), 1)
    assert not np.any(out[above])  # nothing above the diagonal
    assert not np.any(out[q:])  # nor in the border rows, which the caller fills


def test_assembly_with_a_block_at_zero_and_dense_a_rr():
    """A rest block's Lambda at the boundary (0) zeroes its rows; a dense A_rr works too."""
    a_r1, a_rr, g, scale, block_of, width = _case(1, (8, 6), seed=3)
    scale[1] = 0.0
    q = a_rr.shape[0]
    out = ScaledAssembly.build(a_r1, 1, a_rr.toarray(), block_of, width)(scale, g)
    assert not np.any(out[8:q])
    d = scale[block_of]
    direct = d[:, None] * (a_rr.toarray() - (a_r1 @ sp.diags(g[:, 0, 0]) @ a_r1.T).toarray())
    direct = direct * d[None, :]
    low = np.tril_indices(q)
    np.testing.assert_allclose(out[:q, :q][low], direct[low], rtol=1e-13, atol=1e-12)


def test_assembly_with_rest_effects_no_group_touches():
    """Rest effects sharing no first-block group with anything: only A_rr's entries."""
    a_r1, a_rr, g, scale, block_of, width = _case(1, (10, 4), seed=5)
    a_r1 = a_r1.tolil()
    a_r1[[2, 11], :] = 0.0
    a_r1 = a_r1.tocsr()
    q = a_rr.shape[0]
    out = ScaledAssembly.build(a_r1, 1, a_rr, block_of, width)(scale, g)
    d = scale[block_of]
    direct = d[:, None] * (a_rr.toarray() - (a_r1 @ sp.diags(g[:, 0, 0]) @ a_r1.T).toarray())
    direct = direct * d[None, :]
    low = np.tril_indices(q)
    np.testing.assert_allclose(out[:q, :q][low], direct[low], rtol=1e-13, atol=1e-12)


def test_assembly_is_none_beyond_the_size_limit(monkeypatch):
    """Too many terms to precompute: None (the deviance then streams the Gram map)."""
    a_r1, a_rr, _, _, block_of, width = _case(1, (8, 6), seed=6)
    monkeypatch.setattr(gram, "MAX_PAIRS", 0)
    assert ScaledAssembly.build(a_r1, 1, a_rr, block_of, width) is None


def test_assembly_without_shared_groups():
    """No first-block group touches a rest effect: A_rr alone (the map has no terms)."""
    _, a_rr, g, scale, block_of, width = _case(1, (5, 4), seed=7)
    a_r1 = sp.csr_matrix((9, 40))
    out = ScaledAssembly.build(a_r1, 1, a_rr, block_of, width)(scale, g)
    d = scale[block_of]
    direct = d[:, None] * a_rr.toarray() * d[None, :]
    low = np.tril_indices(9)
    np.testing.assert_allclose(out[:9, :9][low], direct[low], rtol=1e-13)
