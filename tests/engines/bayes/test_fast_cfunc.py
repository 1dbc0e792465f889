"""The C callback nutpie calls: the compiled posterior's numbers, bit for bit.

:mod:`bayesmixed.engines.bayes.fast_cfunc` hands nutpie a numba ``cfunc`` that reads the
model's arrays through a header of addresses.  It must return exactly what
:class:`.fast_compiled.CompiledPosterior` returns (itself checked against the NumPy
density in ``test_fast_compiled.py``) on every layout, flag a broken point with a
positive (recoverable) code, and give the same draws as nutpie's Python-callback path
for the same seed.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from bayesmixed.engines.bayes import fast_cfunc, fast_compiled, fast_nuts
from bayesmixed.engines.bayes.fast_posterior import FastPosterior
from bayesmixed.engines.bayes.fit import estimate_bayes

from .helpers import jsp_design
from .test_fast_compiled import MORE
from .test_fast_density import CASES, built_for

DOUBLE_P = ctypes.POINTER(ctypes.c_double)


@pytest.fixture(scope="module")
def callbacks():
    found = fast_cfunc.compiled()
    if found is None:
        pytest.skip("numba is not available")
    return found


def call(logp, header, x: np.ndarray) -> tuple[int, float, np.ndarray]:
    grad, value = np.zeros_like(x), np.zeros(1)
    code = logp.ctypes(
        len(x), x.ctypes.data_as(DOUBLE_P), grad.ctypes.data_as(DOUBLE_P),
        value.ctypes.data_as(DOUBLE_P), ctypes.c_void_p(header.address),
    )  # fmt: skip
    return code, float(value[0]), grad


@pytest.mark.parametrize("label,design,priors", CASES + MORE, ids=[c[0] for c in CASES + MORE])
def test_the_callback_returns_the_compiled_posterior_exactly(callbacks, label, design, priors):
    post = FastPosterior(built_for(design(), priors))
    comp = fast_compiled.CompiledPosterior(post, fast_compiled.compiled())
    header = fast_cfunc.Header(comp.args, comp.const)
    rng = np.random.default_rng(8)
    x_ml = post.obj.initial()
    for x in [x_ml, *(x_ml + 0.4 * rng.standard_normal(len(x_ml)) for _ in range(3))]:
        code, value, grad = call(callbacks[0], header, x)
        want, want_grad = comp.logp_grad(x)
        assert code == 0 and value == want
        np.testing.assert_array_equal(grad, want_grad)


def test_a_broken_point_is_a_recoverable_code(callbacks):
    post = FastPosterior(built_for(jsp_design(), None))
    comp = fast_compiled.CompiledPosterior(post, fast_compiled.compiled())
    x = post.obj.initial()
    x[0] = -800.0  # sigma = e^-800: the factor's scale underflows
    code, _, _ = call(callbacks[0], fast_cfunc.Header(comp.args, comp.const), x)
    assert code > 0  # nutpie treats a positive code as a divergence, not a crash


@pytest.mark.skipif(not fast_nuts.available(), reason="nutpie is not installed")
def test_same_seed_same_draws_as_the_python_callback(callbacks, monkeypatch):
    options = dict(draws=150, tune=150, chains=2, seed=3, progressbar=False)
    design = jsp_design("unstructured")
    fast = estimate_bayes(design, **options).idata["posterior"]
    monkeypatch.setattr(fast_cfunc, "nutpie_model", lambda *a: None)
    python = estimate_bayes(design, **options).idata["posterior"]
    for name in ("sigma", "beta"):
        np.testing.assert_array_equal(fast[name].values, python[name].values)
