"""sampler="numpyro": JAX in float64 on CPU, and the same posterior as PyMC's NUTS."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.syntax import stata_to_spec

jax = pytest.importorskip("jax")
pytest.importorskip("numpyro")

from bayesmixed.engines.bayes.jax_sampler import (  # noqa: E402
    chain_method,
    device_kind,
    numpyro_options,
)


@pytest.fixture(autouse=True)
def _restore_precision():
    before = bool(jax.config.jax_enable_x64)
    yield
    jax.config.update("jax_enable_x64", before)  # JAX's precision is process-global


def test_options_switch_jax_to_float64_and_pick_a_chain_method():
    opts = numpyro_options(chains=4)
    assert jax.config.jax_enable_x64
    assert jax.numpy.asarray(1.0).dtype == np.float64
    assert opts["chain_method"] in ("parallel", "vectorized", "sequential")
    numpyro_options(chains=1, float64=False)
    assert jax.numpy.asarray(1.0).dtype == np.float32
    if device_kind() == "cpu" and jax.device_count() == 1:
        assert chain_method(4) == "sequential"
    assert chain_method(1) == "sequential"


@pytest.mark.slow
def test_numpyro_posterior_matches_pymc_on_jsp():
    az = pytest.importorskip("arviz")
    from bayesmixed.fitting import fit_bayes

    numpyro_options(chains=2)
    df = bm.datasets.load("jsp2")
    design = build_design(stata_to_spec("mixed math5 math3 || school:", df), df)
    kw = dict(draws=1000, tune=1000, chains=2, seed=3, progressbar=False)
    fits = {s: fit_bayes(design, sampler=s, **kw).posterior for s in ("pymc", "numpyro")}
    assert fits["numpyro"]["beta"].dtype == np.float64
    for name in ("beta", "sigma", "sd[school]"):
        a = fits["pymc"][name].values.reshape(2, 1000, -1)
        b = fits["numpyro"][name].values.reshape(2, 1000, -1)
        for j in range(a.shape[-1]):
            se = np.hypot(float(az.mcse(a[..., j])), float(az.mcse(b[..., j])))
            assert abs(a[..., j].mean() - b[..., j].mean()) < 3 * se, name
