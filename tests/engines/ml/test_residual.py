"""Structured residuals: nlme's log likelihoods, and a dense multivariate-normal oracle.

The oracle below builds each panel's residual covariance from the *printed*
parameters with its own formulas (AR autocorrelations from the MA(infinity)
weights, toeplitz/banded/unstructured entries read off directly) and evaluates
the Gaussian likelihood with an explicit n x n covariance, so it shares no code
with the engine's whitening, batching or blocked Cholesky.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed.datasets as ds
from bayesmixed.design import build_design
from bayesmixed.engines.ml.residual import StructuredDeviance
from bayesmixed.fitting import fit_lmm
from bayesmixed.syntax import stata_to_spec

ROOT = Path(__file__).resolve().parents[3]
REF = json.loads((ROOT / "tests/reference/residuals.json").read_text())
FX = "mixed gsp private emp hwy water other unemp"
GAPS = "(state * 7 + year) % 5 != 0"


def _data(name: str, subset: str = "") -> pd.DataFrame:
    d = ds.load(name)
    if name == "productivity":
        d["tq"] = np.sqrt(d.year - 1969)
        d["west"] = (d.region > 5).astype(int)
        d["late"] = (d.year > 1978).astype(int)
    return d.query(subset).reset_index(drop=True) if subset else d


def _design(cmd: str, data: pd.DataFrame):
    return build_design(stata_to_spec(cmd, data), data)


_FITS: dict[str, object] = {}


def _fit(name: str):
    if name not in _FITS:
        case = REF[name]
        data = _data("rats" if name.startswith("rats") else "productivity", case["subset"])
        design = _design(case["stata"], data)
        _FITS[name] = fit_lmm(design, reml=design.spec.reml)
    return _FITS[name]


@pytest.mark.parametrize("name", list(REF))
def test_loglik_matches_nlme(name):
    r = _fit(name)
    assert r.reml == (REF[name]["method"] == "REML")
    assert r.loglik == pytest.approx(REF[name]["loglik"], rel=1e-6)
    assert r.converged


def test_rats_heteroskedastic_acceptance_numbers():
    r = _fit("rats_ind_by_ml")
    assert r.loglik == pytest.approx(-187.7130359, abs=1e-6)
    p = r.residual_params
    assert np.sqrt(p["1: var(e)"] / p["0: var(e)"]) == pytest.approx(1.172637, abs=1e-5)
    assert r.re_cov["litter"].iloc[0, 0] == pytest.approx(0.08648074, rel=1e-5)
    assert list(p.index) == ["0: var(e)", "1: var(e)"]
    assert r.n_cov_params == 3  # var(_cons), two residual variances


@pytest.mark.parametrize(
    "name,key,label",
    [
        ("prod_ar1_ml", "corr", "rho"),
        ("prod_exp_ml", "rho", "rho"),
        ("prod_ar1_ml", "var(e)", "var(e)"),
    ],
)
def test_printed_parameters_match_nlme(name, key, label):
    assert _fit(name).residual_params[label] == pytest.approx(REF[name][key], rel=1e-4)


def test_ar2_and_ma2_coefficients_match_nlme():
    assert _fit("prod_ar2_gaps_ml").residual_params[["phi1", "phi2"]].to_numpy() == pytest.approx(
        REF["prod_ar2_gaps_ml"]["corr"], rel=1e-3
    )
    assert _fit("prod_ma2_gaps_ml").residual_params[["theta1", "theta2"]].to_numpy() == (
        pytest.approx(REF["prod_ma2_gaps_ml"]["corr"], rel=1e-3)
    )


# -- the dense oracle ---------------------------------------------------------------


def _ar_acf_psi(phi, max_lag: int, terms: int = 3000) -> np.ndarray:
    """ACF of a stationary AR(p) from its MA(infinity) weights (no Yule-Walker)."""
    psi = np.zeros(terms)
    psi[0] = 1.0
    for j in range(1, terms):
        psi[j] = sum(phi[i] * psi[j - 1 - i] for i in range(len(phi)) if j - 1 - i >= 0)
    gam = np.array([psi[: terms - k] @ psi[k:] for k in range(max_lag + 1)])
    return gam / gam[0]


def _ma_acf_direct(theta, max_lag: int) -> np.ndarray:
    c = np.r_[1.0, theta]
    out = np.array([sum(c[j] * c[j + k] for j in range(len(c) - k)) for k in range(max_lag + 1)])
    return out / out[0]


def _corr(kind: str, pars: dict, t1: float, t2: float, labels) -> float:
    lag = abs(t1 - t2)
    if kind == "exchangeable":
        return pars["rho"]
    if kind in ("ar", "ma"):
        return pars["acf"][int(round(lag))] if lag < len(pars["acf"]) else 0.0
    if kind == "toeplitz":
        return pars["rho"][int(lag) - 1] if lag <= len(pars["rho"]) else 0.0
    if kind == "exponential":
        return pars["rho"] ** lag
    if kind in ("unstructured", "banded"):
        return pars["R"][labels.index(int(t1)), labels.index(int(t2))]
    return 0.0


def _dense_sigma(design, kind: str, pars_by_group: list, sds_by_group: list, labels) -> np.ndarray:
    """Relative residual covariance, n x n, from the printed parameters."""
    res = design.residual
    t = res.times if res.times is not None else np.zeros(design.n)
    n = design.n
    sig = np.zeros((n, n))
    for i in range(n):
        for j in np.flatnonzero(res.panel_codes == res.panel_codes[i]):
            gi, gj = res.groups[i], res.groups[j]
            lv_i = labels.index(int(t[i])) if labels else 0
            lv_j = labels.index(int(t[j])) if labels else 0
            r = 1.0 if i == j else _corr(kind, pars_by_group[gi], t[i], t[j], labels)
            sig[i, j] = r * sds_by_group[gi][lv_i] * sds_by_group[gj][lv_j]
    return sig


def _dense_deviance(design, theta_design: list[float], sigma_r: np.ndarray, reml: bool) -> float:
    """Profiled -2 log L (or REML criterion) with V0 = sum theta^2 ZZ' + Sigma_r."""
    v0 = sigma_r.copy()
    for th, block in zip(theta_design, design.blocks):
        same = block.codes[:, None] == block.codes[None, :]
        v0 += th**2 * same * (block.Z[:, 0][:, None] * block.Z[:, 0][None, :])
    x, y = design.X, design.y
    n, p = x.shape
    vi_x = np.linalg.solve(v0, x)
    xtvx = x.T @ vi_x
    beta = np.linalg.solve(xtvx, vi_x.T @ y)
    r = y - x @ beta
    q = r @ np.linalg.solve(v0, r)
    logdet = np.linalg.slogdet(v0)[1]
    if reml:
        dof = n - p
        return logdet + np.linalg.slogdet(xtvx)[1] + dof * (1 + np.log(2 * np.pi * q / dof))
    return logdet + n * (1 + np.log(2 * np.pi * q / n))


ORACLE_CASES = [
    ("ar 1, t(year)", "ar"),
    ("ar 2, t(year)", "ar"),
    ("ma 2, t(year)", "ma"),
    ("toeplitz 2, t(year)", "toeplitz"),
    ("banded 1, t(year)", "banded"),
    ("unstructured, t(year)", "unstructured"),
    ("exponential, t(tq)", "exponential"),
    ("exchangeable", "exchangeable"),
    ("independent, by(late)", "independent"),
    ("ar 1, t(year) by(west)", "ar"),
    ("toeplitz 1, t(year) by(west)", "toeplitz"),
]


def _random_natural(kind: str, structure, rng) -> dict:
    if kind in ("ar", "ma"):
        coef = structure.natural(rng.normal(scale=0.5, size=structure.n_corr))
        acf = _ar_acf_psi(coef, 20) if kind == "ar" else _ma_acf_direct(coef, 20)
        return {"coef": coef, "acf": acf}
    if kind == "toeplitz":
        return {"rho": rng.uniform(-0.3, 0.3, size=structure.n_corr)}
    if kind in ("exchangeable", "exponential"):
        return {"rho": float(rng.uniform(0.1, 0.8))}
    if kind in ("unstructured", "banded"):
        n = structure.n_levels
        a = rng.normal(size=(n, n + 3))
        cov = a @ a.T
        r = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
        if kind == "banded":
            lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
            r = np.where(lag <= structure.order, 0.3 * r, 0.0) + 0.7 * np.eye(n)
        return {"R": r}
    return {}


def _to_working(kind: str, structure, nat: dict) -> np.ndarray:
    if kind in ("ar", "ma"):
        return structure.working(nat["coef"])
    if kind == "toeplitz":
        return structure.working(nat["rho"])
    if kind in ("exchangeable", "exponential"):
        return structure.working(np.array([nat["rho"]]))
    if kind in ("unstructured", "banded"):
        return structure.working(nat["R"][structure.pairs])
    return np.zeros(0)


@pytest.mark.parametrize("rspec,kind", ORACLE_CASES)
@pytest.mark.parametrize("reml", [False, True])
def test_deviance_equals_dense_oracle_at_random_parameters(rspec, kind, reml):
    data = _data("productivity", f"year <= 1977 and {GAPS}")
    design = _design(f"{FX} || region: || state:, residuals({rspec})", data)
    model = design.residual.model
    s = model.structure
    rng = np.random.default_rng(abs(hash((rspec, reml))) % 2**32)
    nats = [_random_natural(kind, s, rng) for _ in range(model.n_groups)]
    log_sd = rng.normal(scale=0.3, size=(model.n_groups, s.n_levels))
    log_sd[0, 0] = 0.0
    z = np.array([_to_working(kind, s, nat) for nat in nats]).reshape(model.n_groups, -1)
    psi = model.pack(z, log_sd)
    theta_design = [0.7, 1.3]  # region, state (relative sds)
    dev = StructuredDeviance(design, reml)
    theta_eval = np.array([theta_design[i] for i in dev.plain.cp.order])
    ours = dev(np.concatenate([theta_eval, psi]))
    labels = list(s.level_labels)
    sigma_r = _dense_sigma(design, kind, nats, list(np.exp(log_sd)), labels)
    assert ours == pytest.approx(_dense_deviance(design, theta_design, sigma_r, reml), rel=1e-9)


def _mvn_loglik(design, result) -> float:
    """Full log likelihood at the printed estimates (beta, variances, residual rows)."""
    res, p = design.residual, result.residual_params
    s = res.model.structure
    labels = list(s.level_labels)
    kind = s.name if s.name != "unstructured" or s.order is None else "banded"
    if kind == "toeplitz":
        pars = {"rho": [p[f"rho{k + 1}"] for k in range(s.order)]}
        sds = [[np.sqrt(p["var(e)"])]]
    else:
        n = len(labels)
        var = np.array([p[f"var(e{lab})"] for lab in labels])
        r = np.eye(n)
        for i in range(n):
            for j in range(i + 1, n):
                key = f"cov(e{labels[i]},e{labels[j]})"
                r[i, j] = r[j, i] = p.get(key, 0.0) / np.sqrt(var[i] * var[j])
        pars, sds = {"R": r}, [np.sqrt(var)]
    v = _dense_sigma(design, kind, [pars], sds, labels)
    for block, cov in zip(design.blocks, result.cov_blocks):
        same = block.codes[:, None] == block.codes[None, :]
        v += float(cov[0, 0]) * same
    r = design.y - design.X @ result.beta
    return -0.5 * (len(r) * np.log(2 * np.pi) + np.linalg.slogdet(v)[1] + r @ np.linalg.solve(v, r))


def _simulated_banded(seed: int = 11) -> pd.DataFrame:
    """60 panels x 5 times, random intercept, banded-1 errors with unequal variances."""
    rng = np.random.default_rng(seed)
    n_panel, m = 60, 5
    sd = np.array([1.0, 1.2, 0.8, 1.5, 1.1])
    r = np.eye(m) + 0.45 * (np.eye(m, k=1) + np.eye(m, k=-1))
    e = rng.multivariate_normal(np.zeros(m), r * np.outer(sd, sd), size=n_panel)
    u = rng.normal(scale=0.8, size=n_panel)
    x = rng.normal(size=(n_panel, m))
    y = 1.0 + 0.5 * x + u[:, None] + e
    keep = rng.uniform(size=(n_panel, m)) > 0.1  # unbalanced panels, missing times
    ids, times = np.meshgrid(np.arange(n_panel), np.arange(1, m + 1), indexing="ij")
    return pd.DataFrame({"y": y[keep], "x": x[keep], "id": ids[keep], "t": times[keep]})


@pytest.mark.parametrize(
    "cmd,data",
    [
        (f"{FX} || state:, residuals(toeplitz 2, t(year))", "productivity"),
        ("mixed y x || id:, residuals(banded 1, t(t))", "simulated"),
    ],
)
def test_fitted_toeplitz_and_banded_loglik_equals_dense_oracle(cmd, data):
    frame = _data("productivity", "year <= 1975") if data == "productivity" else _simulated_banded()
    design = _design(cmd, frame)
    r = fit_lmm(design)
    assert r.converged
    assert r.loglik == pytest.approx(_mvn_loglik(design, r), rel=1e-9)
    # and it is a maximum: nudging any residual parameter lowers the likelihood
    dev = StructuredDeviance(design, False)
    x = np.concatenate([r.theta, r.working[len(r.theta) : -1]])
    for i in range(len(r.theta), len(x)):
        for h in (1e-3, -1e-3):
            bumped = x.copy()
            bumped[i] += h
            assert dev(bumped) >= -2 * r.loglik - 1e-7


def test_residual_section_is_printed():
    from bayesmixed.results.render import render_text

    text = render_text(_fit("rats_ind_by_ml"))
    assert "Residual: Independent," in text and "by female" in text
    assert "0: var(e)" in text and "1: var(e)" in text
    text = render_text(_fit("prod_ar1_ml"))
    assert "Residual: AR(1)" in text and "rho" in text and "var(Residual)" not in text


def test_sparse_maps_follow_the_whitened_design(monkeypatch):
    """Whitening replaces A_r1; the Gram map / assembly of the old one must not be reused.

    States in regions with AR(1) residuals: the criterion with sparse cross-products (the
    precomputed maps, rebuilt for each whitened design) equals the dense path's.
    """
    from bayesmixed.engines.ml import crossprod

    data = _data("productivity", "year <= 1978")
    cmd = f"{FX} || region: || state:, residuals(ar 1, t(year))"
    dense = StructuredDeviance(_design(cmd, data), False)
    monkeypatch.setattr(crossprod, "DENSE_LIMIT", 0)
    sparse = StructuredDeviance(_design(cmd, data), False)
    assert sparse.inner._assembly is not None  # the path under test
    for x in ([0.4, 0.3, 0.2], [0.6, 0.1, -0.3], [0.2, 0.5, 0.6]):
        assert sparse(np.array(x)) == pytest.approx(dense(np.array(x)), rel=1e-11)
