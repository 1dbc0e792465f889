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
