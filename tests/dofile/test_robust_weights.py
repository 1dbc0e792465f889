"""vce(), weights and estat sd in a do-file (issue 15, items 2, 3 and 5): the same parser."""

import numpy as np

import bayesmixed as bm
from bayesmixed.dofile import run_do
from bayesmixed.dofile.session import Output


def run(tmp_path, text):
    path = tmp_path / "t.do"
    path.write_text(text)
    return run_do(path)


def test_weights_vce_and_estat_sd(tmp_path):
    session = run(
        tmp_path,
        "use rats\n"
        "generate f = 1 + female + (size > 10)\n"
        "mixed weight size female [fw=f] || litter:, vce(cluster dose)\n"
        "estat sd\n",
    )
    data = bm.datasets.load("rats")
    data["f"] = 1 + data["female"] + (data["size"] > 10)
    expected = bm.stata("mixed weight size female [fw=f] || litter:, vce(cluster dose)", data)
    fit = session.current.result
    np.testing.assert_allclose(fit.se, expected.se, rtol=1e-10)
    assert fit.nobs == int(data["f"].sum()) and fit.n_clusters == 3
    shown = str(fit)
    assert "(Std. err. adjusted for 3 clusters in dose)" in shown
    out = {e.command: e.text for e in session.log if isinstance(e, Output)}
    assert "sd(_cons)" in out["estat sd"] and "Robust" in out["estat sd"]


def test_pweights_in_a_dofile(tmp_path):
    session = run(
        tmp_path,
        "use rats\n"
        "generate w1 = 1 + female\n"
        "generate w2 = 1 + dose\n"
        "mixed weight size [pw=w1] || litter:, pweight(w2) pwscale(size)\n",
    )
    fit = session.current.result
    assert fit.vce == "robust" and fit.n_clusters == 27
    assert "Log pseudolikelihood" in str(fit)
