"""Saved results keep their weights, vce clusters and robust SEs (issue 15, items 2-3)."""

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.io import load, save


@pytest.mark.parametrize(
    "cmd",
    [
        "mixed weight size [fw=f] || litter:, vce(cluster dose)",
        "mixed weight size [pw=f] || litter:, pweight(w2)",
        "mixed weight size [fw=f] || litter:, fweight(w2) vce(robust)",
        "melogit female size [fw=f] || litter:, vce(robust)",
        "melogit female size [pw=f] || litter:, pweight(w2) intmethod(laplace)",
    ],
)
def test_round_trip(tmp_path, cmd):
    data = bm.datasets.load("rats")
    data["f"] = 1 + (data["size"] > 10)
    data["w2"] = 1.0 + data["dose"]
    fit = bm.stata(cmd, data)
    again = load(save(fit, tmp_path / "fit.bmx"))
    assert str(again) == str(fit)
    assert (again.vce, again.n_clusters, again.cluster_var, again.nobs) == (
        fit.vce,
        fit.n_clusters,
        fit.cluster_var,
        fit.nobs,
    )
    np.testing.assert_array_equal(again.design.weights.obs, fit.design.weights.obs)
    np.testing.assert_array_equal(again.design.weights.total, fit.design.weights.total)
    np.testing.assert_array_equal(again.se, fit.se)
