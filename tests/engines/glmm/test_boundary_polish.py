"""Fixed effects at a zero-variance boundary reach the optimum (issue 13's glmernb case).

lme4's tests/test-glmernb.R fits ``y ~ f1*f2 + (1|g)`` where the group variance is
estimated at zero; the model is then a saturated negative-binomial cell-means model,
whose maximum-likelihood fixed effects are exactly the log cell means, whatever the
dispersion.  Here every group holds the same values in each cell (permuted), so the
group variance is exactly zero at the optimum and the oracle is exact.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm


def _cell_means_data(seed: int = 101) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cells = [(f1, f2, r) for f1 in (1, 2, 3) for f2 in (0, 1) for r in range(15)]
    base = pd.DataFrame(cells, columns=["f1", "f2", "rep"])
    mu = 5 * (-4 + base.f1 + 4 * (base.f2 + 1))
    base["y"] = rng.negative_binomial(0.5, 0.5 / (0.5 + mu))
    frames = []
    for g in range(1, 10):
        part = base.assign(g=g)
        part["y"] = part.groupby(["f1", "f2"]).y.transform(lambda s: rng.permutation(s.to_numpy()))
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("method", ["", ", intmethod(laplace)"])
def test_nbinomial_cell_means_at_zero_variance_are_exact(method):
    data = _cell_means_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the boundary warning is expected
        r = bm.stata("menbreg y i.f1##i.f2 || g:" + method, data)
    assert r.cov_blocks[0][0, 0] == 0.0
    means = data.groupby(["f1", "f2"]).y.mean()
    target = np.log(means.loc[list(map(tuple, data[["f1", "f2"]].to_numpy()))].to_numpy())
    exact = np.linalg.lstsq(r.design.X, target, rcond=None)[0]
    assert np.max(np.abs(r.beta - exact)) < 1e-5
