"""Factoring one connected component of the random effects at a time (issue 13).

The reference is the blocked layout of :mod:`bayesmixed.engines.ml.deviance`, itself
checked against lme4 and a dense oracle in ``test_deviance.py``; here the component
layout must reproduce it to rounding, at random theta and at the fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.engines.ml import components
from bayesmixed.engines.ml.criterion import make_deviance
from bayesmixed.engines.ml.crossprod import build_crossproducts
from bayesmixed.engines.ml.deviance import ProfiledDeviance
from bayesmixed.postestimation.blup import lmm_blups
from bayesmixed.syntax import formula_to_spec

VCOMP2 = "y ~ x1 + x2 + (0 + z1 + z2 | groups) + (1 | v1) + (1 | v2)"


def vcomp2(seed: int = 6241, n_groups: int = 100) -> pd.DataFrame:
    """statsmodels' ``test_vcomp_2`` data: v1 and v2 nested in groups, unique labels."""
    rng = np.random.default_rng(seed)
    n = 16 * n_groups
    x = rng.normal(size=(n, 2))
    z = rng.normal(size=(n, 2))
    slopes = np.repeat(rng.normal(size=(n_groups, 2)), 16, axis=0)
    e = (slopes * z).sum(1) + np.repeat(2 * rng.normal(size=n // 4), 4)
    e += np.repeat(2 * rng.normal(size=n // 2), 2) + rng.normal(size=n)
    return pd.DataFrame(
        {
            "y": x.sum(1) + e,
            "groups": np.repeat(np.arange(n_groups), 16),
            "x1": x[:, 0],
            "x2": x[:, 1],
            "z1": z[:, 0],
            "z2": z[:, 1],
            "v1": np.repeat(np.arange(n // 4), 4),
            "v2": np.repeat(np.arange(n // 2), 2),
        }
    )


def nested(seed: int = 3, groups: int = 24, unequal: bool = False) -> pd.DataFrame:
    """Subgroups labelled 0, 1, ... within each group (the nesting is in the formula).

    With ``unequal`` half the groups have 2 subgroups and half 3, of 3 or 5 rows:
    components of two different sizes.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(groups):
        n_sub = 2 + (g % 2 if unequal else 0)
        for s in range(n_sub):
            m = 3 + 2 * (s % 2) if unequal else 4
            rows += [(g, s)] * m
    g, s = np.array(rows).T
    n = g.size
    x, z = rng.normal(size=n), rng.normal(size=n)
    u = rng.normal(size=(groups, 2))
    v = rng.normal(size=(groups, 3))
    y = 1 + x + u[g, 0] + u[g, 1] * z + v[g, s] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "z": z, "g": g, "s": s})


FOUR_LEVELS = "y ~ x + (1 | r) + (1 | s) + (1 | c)"


def four_levels(seed: int = 5) -> pd.DataFrame:
    """2 pupils in each of 20,000 classes, 2 classes a school, 5 schools a region (2,000):
    SDs 1, 0.7 and 0.5, unique labels at every level."""
    rng = np.random.default_rng(seed)
    region = np.repeat(np.arange(2000), 20)
    school = np.repeat(np.arange(10_000), 4)
    klass = np.repeat(np.arange(20_000), 2)
    x = rng.normal(size=40_000)
    y = (x + rng.normal(size=2000)[region] + 0.7 * rng.normal(size=10_000)[school]
         + 0.5 * rng.normal(size=20_000)[klass] + rng.normal(size=40_000))  # fmt: skip
    return pd.DataFrame({"y": y, "x": x, "r": region, "s": school, "c": klass})


def _design(formula: str, frame: pd.DataFrame):
    return build_design(formula_to_spec(formula, frame, reml=False), frame)


def _both(design, reml: bool):
    cp = build_crossproducts(design)
    structures = [design.blocks[i].structure for i in cp.order]
    layout = components.detect_components(design, cp.order)
    assert layout is not None
    comp = components.ComponentDeviance(cp, structures, reml, layout)
    return ProfiledDeviance(cp, structures, reml), comp


CASES = [
    ("y ~ x + (z | g) + (1 | g:s)", {}),
    ("y ~ x + (1 | g) + (0 + z | g) + (1 | g:s)", {"unequal": True}),
    ("y ~ x + (z | g) + (1 | g:s)", {"unequal": True}),
    ("y ~ 0 + x + (1 | g) + (z | g:s)", {"unequal": True}),  # vector block first, p = 1
]


@pytest.mark.parametrize(("formula", "kw"), CASES)
@pytest.mark.parametrize("reml", [False, True])
@pytest.mark.parametrize("bucket_us", [None, 0.0])
def test_component_deviance_equals_blocked(formula, kw, reml, bucket_us, monkeypatch):
    if bucket_us is not None:  # size groups free: one per distinct size, no padding
        monkeypatch.setattr(components, "BUCKET_US", bucket_us)
    design = _design(formula, nested(**kw))
    old, new = _both(design, reml)
    assert new.layout.n_components == 24
    sizes = [b.size for b in new.layout.buckets]
    if kw.get("unequal") and bucket_us is not None:  # one size group per component size
        assert len(sizes) == 2
    if kw.get("unequal") and bucket_us is None:  # small sizes are padded together
        assert len(sizes) == 1
    rng = np.random.default_rng(1)
    for _ in range(5):
        theta = rng.uniform(0.05, 2.0, old.n_theta)
        theta[1::3] *= rng.choice([-1, 1])  # off-diagonal Cholesky entries of either sign
        f_old, f_new = old.factor(theta), new.factor(theta)
        assert new(theta) == pytest.approx(old(theta), rel=1e-10)
        assert f_new.logdet_re == pytest.approx(f_old.logdet_re, rel=1e-10)
        assert old.sigma2(f_new) == pytest.approx(old.sigma2(f_old), rel=1e-10)
        np.testing.assert_allclose(f_new.beta(), f_old.beta(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(f_new.vcov_beta(1.0), f_old.vcov_beta(1.0), rtol=1e-9)


def test_unique_labels_and_nested_formula_give_the_same_components():
    frame = nested()
    frame["s_unique"] = frame["g"] * 10 + frame["s"]
    a = _design("y ~ x + (z | g) + (1 | g:s)", frame)
    b = _design("y ~ x + (z | g) + (1 | s_unique)", frame)
    la = components.detect_components(a, build_crossproducts(a).order)
    lb = components.detect_components(b, build_crossproducts(b).order)
    assert la.n_components == lb.n_components == 24
    assert [bk.size for bk in la.buckets] == [bk.size for bk in lb.buckets] == [2 + 2]


def test_crossed_labels_are_one_component_and_keep_the_blocked_layout():
    frame = nested()  # s coded 0, 1 in every group and used alone: crossed with g
    design = _design("y ~ x + (z | g) + (1 | s)", frame)
    assert components.detect_components(design, build_crossproducts(design).order) is None
    assert type(make_deviance(design, False)) is ProfiledDeviance


def test_single_block_keeps_the_blocked_layout():
    design = _design("y ~ x + (z | g)", nested())
    assert type(make_deviance(design, True)) is ProfiledDeviance


def test_cost_rule_takes_components_for_vcomp2():
    design = build_design(formula_to_spec(VCOMP2, vcomp2(), reml=True), vcomp2())
    dev = make_deviance(design, True)
    assert isinstance(dev, components.ComponentDeviance)
    assert dev.layout.n_components == 100
    assert [b.size for b in dev.layout.buckets] == [14]


def _fit_both(formula, frame, monkeypatch, reml):
    new = bm.fit(formula, frame, reml=reml)
    with monkeypatch.context() as m:
        m.setattr(components, "PREFER", 0.0)  # never cheaper: the blocked layout
        old = bm.fit(formula, frame, reml=reml)
        blups_old = lmm_blups(new)  # at the same estimates, through the blocked factor
    assert type(make_deviance(new.design, reml)) is components.ComponentDeviance
    return new, old, blups_old


@pytest.mark.parametrize("unequal", [False, True])
def test_blups_equal_blocked(unequal, monkeypatch):
    formula = "y ~ x + (z | g) + (1 | g:s)"
    new, _, blups_old = _fit_both(formula, nested(unequal=unequal), monkeypatch, False)
    blups_new = lmm_blups(new)
    for a, b in zip(blups_new.values, blups_old.values):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for a, b in zip(blups_new.cond_cov, blups_old.cond_cov):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.slow  # the blocked fit alone takes ~10 s
def test_vcomp2_reml_fit_equals_blocked(monkeypatch):
    new, old, _ = _fit_both(VCOMP2, vcomp2(), monkeypatch, True)
    assert new.loglik == pytest.approx(old.loglik, abs=1e-7)
    np.testing.assert_allclose(new.beta, old.beta, rtol=1e-5)
    np.testing.assert_allclose(new.sigma2, old.sigma2, rtol=1e-5)


def test_large_rest_blocks_stay_sparse(monkeypatch):
    """A_rr (the blocks after the first) is kept sparse, and A_r1 too past DENSE_LIMIT; the
    blocked and component layouts built on them give the dense version's deviance."""
    from dataclasses import replace

    import scipy.sparse as sp

    from bayesmixed.engines.ml import crossprod

    design = _design("y ~ x + (z | g) + (1 | g:s)", nested(unequal=True))
    cp = build_crossproducts(design)
    assert sp.issparse(cp.a_rr) and not sp.issparse(cp.a_r1)
    dense = replace(cp, a_rr=cp.a_rr.toarray())
    monkeypatch.setattr(crossprod, "DENSE_LIMIT", 0)
    thin = build_crossproducts(design)
    assert sp.issparse(thin.a_rr) and sp.issparse(thin.a_r1)
    structures = [design.blocks[i].structure for i in dense.order]
    layout = components.detect_components(design, thin.order)
    devs = [ProfiledDeviance(dense, structures, False), ProfiledDeviance(thin, structures, False),
            components.ComponentDeviance(thin, structures, False, layout)]  # fmt: skip
    rng = np.random.default_rng(2)
    for _ in range(3):
        theta = rng.uniform(0.05, 2.0, devs[0].n_theta)
        ref = devs[0](theta)
        assert [d(theta) for d in devs[1:]] == pytest.approx([ref, ref], rel=1e-10)


def test_ten_thousand_nested_groups_below_the_first_fit_in_little_memory():
    """Classes in schools in regions: 12,000 effects after the first factor were a 1.2 GB
    dense A_rr before the layout was chosen; sparse, the cross-products take a few MB and
    the component layout fits the model."""
    import tracemalloc

    frame = four_levels()
    design = _design(FOUR_LEVELS, frame)
    tracemalloc.start()
    cp = build_crossproducts(design)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert cp.q_rest == 12_000 and peak < 100e6
    fit = bm.fit(FOUR_LEVELS, frame, reml=False)
    sds = np.sqrt([np.asarray(c).item() for c in fit.cov_blocks])
    assert sds == pytest.approx([1.0, 0.7, 0.5], abs=0.12)


@pytest.mark.parametrize(("count", "size"), [(1, 1), (5, 2), (40, 14)])
def test_lower_inverse_inverts_a_batch_of_factors(count, size):
    rng = np.random.default_rng(size)
    a = rng.normal(size=(count, size, size))
    low = np.linalg.cholesky(a @ a.transpose(0, 2, 1) + size * np.eye(size))
    inv = components.lower_inverse(low)
    np.testing.assert_allclose(inv @ low, np.broadcast_to(np.eye(size), low.shape), atol=1e-13)
    assert np.all(np.triu(inv, 1) == 0)
