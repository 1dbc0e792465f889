"""The compiled streaming Gram map equals the precomputed one and the plain product."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import bayesmixed as bm
from bayesmixed.engines.ml import gram
from bayesmixed.engines.ml.fit import make_deviance

pytest.importorskip("numba")


@pytest.mark.parametrize("k", [1, 2, 3])
def test_streaming_equals_precomputed_and_direct(k):
    rng = np.random.default_rng(k)
    a = sp.random(120, 80 * k, density=0.08, random_state=k, format="csr")
    g = rng.normal(size=(80, k, k))
    g = g @ g.transpose(0, 2, 1)
    direct = (a @ sp.block_diag([sp.csr_matrix(b) for b in g], format="csr") @ a.T).toarray()
    np.testing.assert_allclose(gram.StreamingGram.build(a, k)(g), direct, atol=1e-12)
    np.testing.assert_allclose(gram.SparseGram.build(a, k)(g), direct, atol=1e-12)


def _crossed(n=3000, users=150, items=90):
    rng = np.random.default_rng(0)
    u, i = rng.integers(0, users, n), rng.integers(0, items, n)
    x = rng.normal(size=n)
    y = x + rng.normal(size=users)[u] + rng.normal(size=items)[i] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "u": u, "i": i})


def test_deviance_with_streaming_map_is_unchanged(monkeypatch):
    df = _crossed()
    monkeypatch.setattr("bayesmixed.engines.ml.crossprod.DENSE_LIMIT", 0)  # force sparse A_r1
    ref = bm.fit("y ~ x + (1 | u) + (1 | i)", df)
    monkeypatch.setattr(gram, "MAX_PAIRS", 0)  # too large to precompute -> stream it
    streamed = bm.fit("y ~ x + (1 | u) + (1 | i)", df)
    dev = make_deviance(streamed.design, False)
    assert isinstance(dev._gram, gram.StreamingGram)
    assert streamed.loglik == pytest.approx(ref.loglik, abs=1e-8)
    np.testing.assert_allclose(streamed.theta, ref.theta, rtol=1e-6)


@pytest.mark.parametrize("k", [1, 2])
def test_precomputed_map_of_a_dense_pattern(k):
    """Few rows, many pairs: the pair keys are compacted by a presence table, not a sort."""
    rng = np.random.default_rng(10 + k)
    a = sp.random(30, 200 * k, density=0.3, random_state=k, format="csr")
    g = rng.normal(size=(200, k, k))
    g = g @ g.transpose(0, 2, 1)  # G_g = T_g T_g': symmetric, as the map assumes
    direct = (a @ sp.block_diag([sp.csr_matrix(b) for b in g], format="csr") @ a.T).toarray()
    np.testing.assert_allclose(gram.SparseGram.build(a, k)(g), direct, atol=1e-12)


def test_compact_is_unique_with_inverse():
    key = np.random.default_rng(0).integers(0, 900, 5000)
    ref_uniq, ref_inverse = np.unique(key, return_inverse=True)
    for space in (900, 10**6):  # the presence table, then the sort
        uniq, inverse = gram._compact(key, space)
        np.testing.assert_array_equal(uniq, ref_uniq)
        np.testing.assert_array_equal(inverse, ref_inverse)


def test_subtract_lower_from_is_exact_on_the_lower_triangle():
    """What the lower Cholesky reads is m - A G A'; a wider buffer (the bordered m) too."""
    rng = np.random.default_rng(4)
    a = sp.random(40, 60, density=0.2, random_state=4, format="csr")
    g = rng.normal(size=(30, 2, 2))
    g = g @ g.transpose(0, 2, 1)
    direct = (a @ sp.block_diag([sp.csr_matrix(b) for b in g], format="csr") @ a.T).toarray()
    m = rng.normal(size=(43, 43))
    before = m.copy()
    gram.StreamingGram.build(a, 2).subtract_lower_from(m, g)
    low = np.tril_indices(40)
    np.testing.assert_allclose(m[:40, :40][low], (before[:40, :40] - direct)[low], atol=1e-12)
    np.testing.assert_array_equal(m[40:], before[40:])
    np.testing.assert_array_equal(m[:, 40:], before[:, 40:])


@pytest.mark.parametrize("chunk", [1, 7, 10**9])
def test_precomputed_map_built_in_chunks(chunk, monkeypatch):
    """Chunks of whole groups (one pair each, a few, all at once): the same map."""
    monkeypatch.setattr(gram, "CHUNK", chunk)
    rng = np.random.default_rng(5)
    a = sp.random(50, 90, density=0.15, random_state=5, format="csr")
    g = rng.normal(size=(45, 2, 2))
    g = g @ g.transpose(0, 2, 1)
    direct = (a @ sp.block_diag([sp.csr_matrix(b) for b in g], format="csr") @ a.T).toarray()
    np.testing.assert_allclose(gram.SparseGram.build(a, 2)(g), direct, atol=1e-12)
