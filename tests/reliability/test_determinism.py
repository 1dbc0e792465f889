"""Same inputs, same bits; and no network access at import or fit time."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import bayesmixed as bm

FIT_AND_HASH = textwrap.dedent(
    """
    import hashlib, socket, sys
    def refuse(*args, **kwargs):
        raise RuntimeError("network access attempted")
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.socket.sendto = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    import bayesmixed as bm
    h = hashlib.sha256()
    jsp = bm.datasets.load("jsp2")
    for cmd in ["math5 math3 || school: math3, cov(un)", "math5 math3 || school:, reml"]:
        r = bm.mixed(cmd, jsp)
        for a in (r.beta, r.vcov_beta, r.theta, r.working, [r.loglik, r.sigma2]):
            h.update(__import__("numpy").asarray(a, float).tobytes())
    g = bm.stata("melogit c_use urban age || district:", bm.datasets.load("bangladesh"))
    h.update(g.beta.tobytes()); h.update(g.theta.tobytes())
    print(h.hexdigest())
    """
)


def _run() -> str:
    out = subprocess.run(
        [sys.executable, "-c", FIT_AND_HASH], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_ml_results_are_bit_identical_across_processes_without_network():
    first, second = _run(), _run()
    assert len(first) == 64
    assert first == second


def test_ml_results_are_bit_identical_within_a_process():
    df = bm.datasets.load("productivity")
    cmd = "gsp private emp hwy water other unemp || region: || state:"
    a, b = bm.mixed(cmd, df), bm.mixed(cmd, df)
    for x, y in [(a.beta, b.beta), (a.theta, b.theta), (a.vcov_beta, b.vcov_beta)]:
        assert np.array_equal(x, y)
    assert a.loglik == b.loglik and str(a) == str(b)


def test_laplace_draws_repeat_with_the_seed():
    pytest.importorskip("pymc")
    from bayesmixed.design import build_design
    from bayesmixed.fitting import fit_bayes
    from bayesmixed.syntax import stata_to_spec

    df = bm.datasets.load("rats")
    design = build_design(stata_to_spec("mixed weight female || litter:", df), df)
    a = fit_bayes(design, method="laplace", draws=40, seed=11)
    b = fit_bayes(design, method="laplace", draws=40, seed=11)
    c = fit_bayes(design, method="laplace", draws=40, seed=12)
    pa, pb, pc = a.posterior, b.posterior, c.posterior
    assert all(np.array_equal(pa[v].values, pb[v].values) for v in pa.data_vars)
    assert not np.array_equal(pa["beta"].values, pc["beta"].values)


def test_nuts_draws_repeat_with_the_seed():
    """Same seed, same draws -- bit for bit, chains run in parallel processes included."""
    pytest.importorskip("pymc")
    df = bm.datasets.load("rats")
    cmd = "bayes, nchains(2) mcmcsize(60) burnin(60) rseed(5): mixed weight female || litter:"
    a = bm.stata(cmd, df, progressbar=False)
    b = bm.stata(cmd, df, progressbar=False)
    c = bm.stata(cmd.replace("rseed(5)", "rseed(6)"), df, progressbar=False)
    pa, pb, pc = a.posterior, b.posterior, c.posterior
    assert all(np.array_equal(pa[v].values, pb[v].values) for v in pa.data_vars)
    assert not np.array_equal(pa["sigma"].values, pc["sigma"].values)
