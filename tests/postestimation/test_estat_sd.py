"""estat sd after mixed and me* (issue 15, item 5): SDs and correlations with delta-method SEs.

Reference: a numerical delta method written here from Stata's working metric
(sd = exp(w), corr = tanh(z), sigma_e = exp(w_e)), Richardson-extrapolated
central differences of that map times the fit's working covariance; and, for
mixed, the same numbers in the fit's own table printed with ``stddeviations``.
"""

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.datasets import load
from bayesmixed.dofile import DoFileError, run_do
from bayesmixed.dofile.session import Output
from bayesmixed.errors import BayesmixedError
from bayesmixed.postestimation.estat_sd import format_estat_sd


def _simulated():
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(30), 8)
    x = rng.normal(size=240)
    b = rng.multivariate_normal([0, 0], [[0.25, 0.2], [0.2, 1.0]], size=30)
    y = 1 + 0.5 * x + b[g, 0] * x + b[g, 1] + rng.normal(size=240)
    return pd.DataFrame({"y": y, "x": x, "g": g, "b": (y > 1).astype(int)})


def _richardson_jacobian(f, w, h=1e-4):
    cols = []
    for m in range(len(w)):
        e = np.zeros(len(w))

        def central(step, m=m, e=e):
            e[:] = 0
            e[m] = step
            return (f(w + e) - f(w - e)) / (2 * step)

        cols.append((4 * central(h / 2) - central(h)) / 3)
    return np.column_stack(cols)


@pytest.fixture(scope="module")
def unstructured():
    return bm.stata("mixed y x || g: x, cov(uns)", _simulated())


def test_unstructured_sds_and_correlation_match_the_numerical_delta_method(unstructured):
    fit = unstructured
    table = fit.estat_sd()
    w = np.asarray(fit.working, float)

    def stata_metric(v):  # sd(x), sd(_cons), corr(x,_cons), sd(Residual)
        return np.array([np.exp(v[0]), np.exp(v[1]), np.tanh(v[2]), np.exp(v[3])])

    jac = _richardson_jacobian(stata_metric, w)
    se = np.sqrt(np.diag(jac @ fit.working_vcov @ jac.T))
    np.testing.assert_allclose(table["estimate"], stata_metric(w), rtol=1e-10)
    np.testing.assert_allclose(table["se"], se, rtol=1e-7)
    assert list(table.index) == [
        ("g", "sd(x)"),
        ("g", "sd(_cons)"),
        ("g", "corr(x,_cons)"),
        ("Residual", "sd(Residual)"),
    ]
    sd, s = table.loc[("g", "sd(x)")], se[0]
    assert sd["lower"] == pytest.approx(
        sd["estimate"] * np.exp(-1.959963984540054 * s / sd["estimate"])
    )
    r = table.loc[("g", "corr(x,_cons)")]
    z = np.arctanh(r["estimate"]) + 1.959963984540054 * r["se"] / (1 - r["estimate"] ** 2)
    assert r["upper"] == pytest.approx(np.tanh(z))


def test_matches_the_fit_printed_with_stddeviations(unstructured):
    shown = bm.stata("mixed y x || g: x, cov(uns) stddeviations", _simulated()).summary()
    table = unstructured.estat_sd()
    rows = shown.drop(index="y", level=0)
    np.testing.assert_allclose(table["estimate"], rows["estimate"], rtol=1e-9)
    np.testing.assert_allclose(table["se"], rows["se"], rtol=1e-6)
    np.testing.assert_allclose(table["lower"], rows["lower"], rtol=1e-6)


def test_stata_layout(unstructured):
    lines = format_estat_sd(unstructured).splitlines()
    assert (
        lines[1] == "  Random-effects parameters  |   Estimate   Std. err.     [95% conf. interval]"
    )
    assert lines[3] == "g: Unstructured              |"
    assert lines[4].startswith("                       sd(x) |")
    assert lines[6].startswith("               corr(x,_cons) |")
    assert lines[8].startswith("                sd(Residual) |")
    assert all(len(line) == 78 for line in lines if not line.endswith("|"))


def test_melogit_identity_block(unstructured):
    fit = bm.stata("melogit b x || g:", _simulated())
    table = fit.estat_sd()
    w, v = fit.working[0], fit.working_vcov[0, 0]
    assert table["estimate"].iloc[0] == pytest.approx(np.exp(w), rel=1e-10)
    assert table["se"].iloc[0] == pytest.approx(np.exp(w) * np.sqrt(v), rel=1e-7)
    assert list(table.index) == [("g", "sd(_cons)")]


def test_robust_fits_say_so():
    fit = bm.stata("mixed weight size || litter:, vce(robust)", load("rats"))
    assert "|               Robust" in format_estat_sd(fit)


def test_dofile_dispatch(tmp_path, unstructured):
    path = tmp_path / "t.do"
    path.write_text("use rats\nmixed weight size || litter: female, cov(uns)\nestat sd\n")
    session = run_do(path)
    out = {e.command: e.text for e in session.log if isinstance(e, Output)}
    fit = bm.stata("mixed weight size || litter: female, cov(uns)", load("rats"))
    assert out["estat sd"] == format_estat_sd(fit)
    path.write_text("use rats\nmixed weight size || litter:\nestat sd, post\n")
    with pytest.raises(DoFileError, match="options not supported"):
        run_do(path)


def test_structured_residuals_are_refused():
    fit = bm.stata("mixed weight size || litter:, residuals(independent, by(female))", load("rats"))
    with pytest.raises(BayesmixedError, match="residuals"):
        fit.estat_sd()
