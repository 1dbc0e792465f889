"""``fweight()`` at higher levels after mixed (issue 15, item 3).

``mixed y x [fw=f] || school:, fweight(w3) || cls:, fweight(w2)``: each school
stands for w3 independent schools, each class (within every copy of its
school) for w2 independent classes, each row for f identical rows of its class.

Reference: the unweighted fit of the data expanded explicitly here (schools and
classes duplicated with fresh ids, rows repeated), which is what Stata's
documentation says the weights mean.  Checked: the profiled criterion at the
same theta (both factorization layouts, ML and REML), the fitted log likelihood
(1e-10 relative), fixed effects, variance components and all standard errors
(1e-8), Stata's counts of observations and groups, the BLUPs and their
conditional standard deviations of every copy, and vce(robust) (1e-8).
"""

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.api import fit_spec
from bayesmixed.design import build_design
from bayesmixed.engines.ml import components
from bayesmixed.engines.ml.criterion import make_deviance
from bayesmixed.engines.ml.deviance import ProfiledDeviance
from bayesmixed.errors import NotSupportedError
from bayesmixed.postestimation.blup import blups
from bayesmixed.syntax import stata_to_spec


def simulate(seed: int = 0, n_school: int = 14) -> pd.DataFrame:
    """Schools with a random intercept and slope, classes within them, weights per level."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_school):
        us, vs = rng.normal(0, 1.0), rng.normal(0, 0.5)
        w3 = rng.integers(0, 3) if s else 2  # some schools weigh 0: they leave the sample
        for c in range(rng.integers(2, 5)):
            uc, w2 = rng.normal(0, 0.7), rng.integers(1, 4)
            for _ in range(rng.integers(2, 6)):
                x = rng.normal()
                y = 1 + 0.5 * x + us + vs * x + uc + rng.normal(0, 0.8)
                rows.append(dict(school=s, cls=c, x=x, z=rng.normal(), y=y, w3=w3, w2=w2, f=0))
    data = pd.DataFrame(rows)
    data["f"] = rng.integers(1, 3, len(data))
    return data


def expand(data: pd.DataFrame, levels: tuple[str, ...], fw: str | None) -> pd.DataFrame:
    """The data Stata's weights stand for: copies of schools and classes with new ids."""
    parts = []
    for s, school in data.groupby("school"):
        for j in range(int(school["w3"].iloc[0]) if "w3" in levels else 1):
            for c, cls in school.groupby("cls"):
                for m in range(int(cls["w2"].iloc[0]) if "w2" in levels else 1):
                    copy = cls.assign(school=f"{s}_{j}", cls=f"{c}_{m}")
                    parts.append(copy.loc[copy.index.repeat(copy[fw])] if fw else copy)
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def data():
    return simulate()


# (weighted command, unweighted command, levels replicated, [fw=] variable)
CASES = [
    ("mixed y x || school:, fweight(w3)", "mixed y x || school:", ("w3",), None),
    (
        "mixed y x [fw=f] || school: x, cov(uns) fweight(w3)",
        "mixed y x || school: x, cov(uns)",
        ("w3",),
        "f",
    ),
    (
        "mixed y x || school: x || cls:, fweight(w2)",
        "mixed y x || school: x || cls:",
        ("w2",),
        None,
    ),
    (
        "mixed y x || school: x, fweight(w3) || cls:, fweight(w2)",
        "mixed y x || school: x || cls:",
        ("w3", "w2"),
        None,
    ),
    (
        "mixed y x [fw=f] || school: x, fweight(w3) || cls:, fweight(w2)",
        "mixed y x || school: x || cls:",
        ("w3", "w2"),
        "f",
    ),
]


def _components(result) -> np.ndarray:
    return np.concatenate([np.ravel(c) for c in result.cov_blocks] + [[result.sigma2]])


@pytest.mark.parametrize("weighted, plain, levels, fw", CASES)
def test_fit_equals_the_fit_of_the_expanded_data(data, weighted, plain, levels, fw):
    expanded = expand(data, levels, fw)
    a = bm.stata(weighted, data)
    b = bm.stata(plain, expanded)
    assert a.nobs == b.nobs == len(expanded)
    assert a.groups.equals(b.groups)  # Stata counts the expanded groups and their rows
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-8)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-8)
    scale = np.max(np.abs(_components(b)))
    np.testing.assert_allclose(_components(a), _components(b), rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(
        np.sqrt(np.diag(a.working_vcov)), np.sqrt(np.diag(b.working_vcov)), rtol=1e-8
    )
    assert a.loglik_linear == pytest.approx(b.loglik_linear, rel=1e-10)  # the LR test's base


def _eval_theta(dev, design, theta: np.ndarray) -> np.ndarray:
    sizes = [b.structure.n_theta for b in design.blocks]
    parts = np.split(theta, np.cumsum(sizes)[:-1])
    return np.concatenate([parts[i] for i in dev.cp.order])


@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("prefer", [1.0, 0.0])  # component layout, then the blocked one forced
@pytest.mark.parametrize(
    "weighted, plain",
    [
        (
            "mixed y x [fw=f] || school: x, fweight(w3) || cls:, fweight(w2)",
            "mixed y x || school: x || cls:",
        ),
        # the upper level has more effects than the lower: its default place would be first
        (
            "mixed y x [fw=f] || school: x z, cov(uns) fweight(w3) || cls:, fweight(w2)",
            "mixed y x || school: x z, cov(uns) || cls:",
        ),
    ],
)
def test_criterion_equals_the_expanded_criterion(data, monkeypatch, reml, prefer, weighted, plain):
    """The algebra itself, free of the optimizer: the same theta, the same criterion."""
    monkeypatch.setattr(components, "PREFER", prefer)
    expanded = expand(data, ("w3", "w2"), "f")
    da = build_design(stata_to_spec(weighted, data), data)
    db = build_design(stata_to_spec(plain, expanded), expanded)
    va, vb = make_deviance(da, reml), make_deviance(db, reml)
    layout = components.ComponentDeviance if prefer else ProfiledDeviance
    assert isinstance(va, layout)  # each layout of the weighted criterion is checked
    rng = np.random.default_rng(7)
    for _ in range(4):
        theta = rng.uniform(-0.5, 1.5, va.n_theta)
        fa = va(_eval_theta(va, da, theta))
        fb = vb(_eval_theta(vb, db, theta))
        assert fa == pytest.approx(fb, rel=1e-12)


def test_four_levels_criterion_and_fit(data):
    """Two levels above the lowest in the dense Schur complement: each eliminated upward.

    The criteria agree at the same theta to 1e-12; the two fits stop where BOBYQA's
    criterion tolerance lets them (theta 2e-8 apart on a ridge flat to 1e-12), which
    moves the constant's standard error by 1.3e-8 relative: hence 1e-7 here.
    """
    data = data.assign(dist=data["school"] // 4)
    data["w4"] = 1 + data["dist"] % 2
    parts = []
    for k, district in data.groupby("dist"):
        if (district["w3"] > 0).any():
            copy = expand(district, ("w3", "w2"), "f")
            parts += [copy.assign(dist=f"{k}_{a}") for a in range(int(district["w4"].iloc[0]))]
    expanded = pd.concat(parts, ignore_index=True)
    weighted = "mixed y x [fw=f] || dist:, fweight(w4) || school: x, fweight(w3) || cls:, fw(w2)"
    plain = "mixed y x || dist: || school: x || cls:"
    da = build_design(stata_to_spec(weighted, data), data)
    db = build_design(stata_to_spec(plain, expanded), expanded)
    va, vb = make_deviance(da, False), make_deviance(db, False)
    assert va.cp.order == [2, 1, 0]
    theta = np.array([0.6, 0.9, 0.4, 0.7])
    assert va(_eval_theta(va, da, theta)) == pytest.approx(
        vb(_eval_theta(vb, db, theta)), rel=1e-12
    )
    a, b = bm.stata(weighted, data), bm.stata(plain, expanded)
    assert a.nobs == len(expanded) and a.groups.equals(b.groups)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-7)


@pytest.mark.parametrize("prefer", [1.0, 0.0])
def test_blups_are_those_of_every_copy(data, monkeypatch, prefer):
    monkeypatch.setattr(components, "PREFER", prefer)
    weighted, plain, levels, fw = CASES[-1]
    a = bm.stata(weighted, data)
    b = bm.stata(plain, expand(data, levels, fw))
    ea, eb = blups(a), blups(b)
    for i, (block_a, block_b) in enumerate(zip(a.design.blocks, b.design.blocks)):
        where = {tuple(map(str, g)): j for j, g in enumerate(_paths(block_b.groups))}
        rows = [where[tuple(f"{v}_0" for v in g)] for g in _paths(block_a.groups)]
        np.testing.assert_allclose(ea.values[i], eb.values[i][rows], rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(ea.cond_sd()[i], eb.cond_sd()[i][rows], rtol=1e-7)


def _paths(groups) -> list[tuple]:
    return [g if isinstance(g, tuple) else (g,) for g in groups]


def test_the_fit_takes_the_lowest_level_first(data):
    spec = stata_to_spec("mixed y x || school: x z, fweight(w3) || cls:, fweight(w2)", data)
    dev = make_deviance(build_design(spec, data), False)
    assert dev.cp.order == [1, 0]  # cls before school, though school has more effects


@pytest.mark.parametrize("weighted, plain, levels, fw", CASES)
def test_robust_standard_errors_equal_those_of_the_expanded_data(data, weighted, plain, levels, fw):
    """vce(robust): every copy of a top-level group is a cluster with the same scores.

    The reference is the sandwich of the expanded data's fit (its own clusters, scores
    and Hessian by finite differences of its own per-cluster log likelihoods).  Those
    differences carry the rounding of each side's own arithmetic, so the working standard
    errors agree to ~1e-8 even when the fits agree to 2e-11 in theta (measured: 8.2e-9 and
    1.15e-8 on the [fw=] case, with two different starts); they are held to 3e-8.
    """
    a = bm.stata(weighted + " vce(robust)", data)
    b = bm.stata(plain + ("" if "," in plain.split("||")[-1] else ",") + " vce(robust)",
                 expand(data, levels, fw))  # fmt: skip
    assert a.n_clusters == b.n_clusters and a.vce == b.vce == "robust"
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-9)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-8)
    np.testing.assert_allclose(
        np.sqrt(np.diag(a.working_vcov)), np.sqrt(np.diag(b.working_vcov)), rtol=3e-8
    )


@pytest.mark.parametrize(
    "cmd, message",
    [
        ("mixed y x || school:, fweight(w3) reml", "not allowed with reml"),
        ("mixed y x || school:, fweight(w3) vce(cluster cls)", "vce\\(cluster\\) is not"),
    ],
)
def test_reml_and_vce_cluster_are_refused(data, cmd, message):
    with pytest.raises(bm.BayesmixedError, match=message):
        bm.stata(cmd, data)


def test_the_engine_refuses_vce_cluster_for_a_spec_built_in_python(data):
    from dataclasses import replace

    spec = stata_to_spec("mixed y x || school:, fweight(w3)", data)
    spec = replace(spec, estimation=replace(spec.estimation, vce="cluster", cluster="school"))
    with pytest.raises(NotSupportedError, match="fweight"):
        fit_spec(spec, data)


def test_margins_average_over_the_expanded_rows(data):
    """Predictive margins weigh each row by the rows it stands for, copies included."""
    data = data.assign(g=(data["x"] > 0).astype(int))
    weighted, plain, levels, fw = CASES[-1]
    expanded = expand(data, levels, fw)
    a = bm.stata(weighted.replace("y x", "y x i.g"), data).margins("g", data=data)
    b = bm.stata(plain.replace("y x", "y x i.g"), expanded).margins("g", data=expanded)
    assert a.nobs == b.nobs == len(expanded)
    np.testing.assert_allclose(a.margin, b.margin, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(a.vcov)), np.sqrt(np.diag(b.vcov)), rtol=1e-8)


def test_a_new_response_rebuilds_the_weighted_cross_products(data):
    """Refits (bootstrap, power) swap y in the cross-products: the same as a rebuild."""
    import dataclasses

    from bayesmixed.engines.ml.crossprod import build_crossproducts, with_response

    cmd = CASES[-1][0]
    design = build_design(stata_to_spec(cmd, data), data)
    y = np.random.default_rng(2).normal(size=design.n)
    new = with_response(build_crossproducts(design), design, y)
    rebuilt = build_crossproducts(dataclasses.replace(design, y=y))
    for name in ("a_xy1", "a_xyr", "a_xyxy", "beta_shift"):
        np.testing.assert_allclose(getattr(new, name), getattr(rebuilt, name), rtol=1e-13)


def test_simulation_from_a_weighted_fit_is_refused(data):
    """Drawing one response per row would make the copies of a group share their draws."""
    fit = bm.stata(CASES[0][0], data)
    with pytest.raises(NotSupportedError, match="weighted fit"):
        bm.simulate(fit, seed=1)
