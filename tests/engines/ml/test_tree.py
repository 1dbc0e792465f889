"""The criterion of strictly nested levels, eliminated level by level (issue 13).

The reference is each design's own layout (component or blocked, themselves checked
against lme4 and a dense oracle): the tree must give the same log determinants, r2 and
fixed effects at random theta, and whole fits must not depend on which path ran.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.engines.ml import criterion
from bayesmixed.engines.ml.criterion import make_deviance
from bayesmixed.engines.ml.tree import detect_tree
from bayesmixed.syntax import formula_to_spec


def three_levels(seed: int = 2, regions: int = 6) -> pd.DataFrame:
    """Pupils in classes in schools in regions, unequal sizes, labels unique per level and
    numbered out of nesting order (so the tree must sort the groups itself)."""
    rng = np.random.default_rng(seed)
    rows = []
    school = klass = 0
    for r in range(regions):
        for _ in range(2 + r % 3):
            for _ in range(1 + (school % 3)):
                rows += [(r, school, klass)] * (2 + klass % 4)
                klass += 1
            school += 1
    r, s, c = np.array(rows).T
    n = r.size
    perm_s, perm_c = rng.permutation(s.max() + 1), rng.permutation(c.max() + 1)
    x, z = rng.normal(size=n), rng.normal(size=n)
    u = 0.5 * rng.normal(size=(s.max() + 1, 2))  # school intercepts and slopes
    y = (
        1 + x + rng.normal(size=regions)[r] + u[s, 0] + u[s, 1] * z
        + 0.8 * rng.normal(size=c.max() + 1)[c] + rng.normal(size=n)
    )  # fmt: skip
    return pd.DataFrame({"y": y, "x": x, "z": z, "r": r, "s": perm_s[s], "c": perm_c[c]})


CASES = [
    "y ~ x + (1 | r) + (1 | s) + (1 | c)",  # scalar levels
    "y ~ x + (z | r) + (1 | s) + (1 | c)",  # a vector level at the top
    "y ~ x + (1 | r) + (z | s) + (1 | c)",  # ... in the middle
    "y ~ 0 + x + (1 | r) + (1 | s) + (z | c)",  # ... at the bottom, p = 1
    "y ~ x + (1 | r) + (0 + z | r) + (1 | s) + (1 | c)",  # two blocks at one level
]


def _design(formula: str, frame: pd.DataFrame, reml: bool = False):
    return build_design(formula_to_spec(formula, frame, reml=reml), frame)


def _tree_dev(formula: str, reml: bool, monkeypatch):
    monkeypatch.setattr(criterion, "TREE_FROM_US", 0.0)  # the tree whenever nested
    dev = make_deviance(_design(formula, three_levels(), reml), reml)
    assert dev.tree is not None
    return dev


@pytest.mark.parametrize("formula", CASES)
@pytest.mark.parametrize("reml", [False, True])
def test_tree_criterion_equals_the_layouts_factor(formula, reml, monkeypatch):
    dev = _tree_dev(formula, reml, monkeypatch)
    rng = np.random.default_rng(4)
    for _ in range(5):
        theta = rng.uniform(0.05, 2.0, dev.n_theta)
        theta *= rng.choice([-1, 1], dev.n_theta)  # off-diagonal entries of either sign
        theta = np.where([lo == 0 for lo, _ in _bounds(dev)], np.abs(theta), theta)
        ref, fast = dev.factor(theta), dev.criterion_factor(theta)
        assert dev.criterion(fast) == pytest.approx(dev.criterion(ref), rel=1e-12)
        assert fast.logdet_re == pytest.approx(ref.logdet_re, rel=1e-11)
        assert fast.r2 == pytest.approx(ref.r2, rel=1e-10)
        assert fast.logdet_x == pytest.approx(ref.logdet_x, rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(fast.beta(), ref.beta(), rtol=1e-9, atol=1e-12)
        assert dev.loglik_parts(theta) == pytest.approx(
            (ref.logdet_re + (ref.logdet_x if reml else 0.0), ref.r2), rel=1e-11
        )


def _bounds(dev):
    return [b for s in dev.structures for b in s.theta_bounds()]


@pytest.mark.parametrize("formula", [CASES[0], CASES[2]])
def test_tree_equals_the_blocked_layout_too(formula, monkeypatch):
    from bayesmixed.engines.ml import components
    from bayesmixed.engines.ml.deviance import ProfiledDeviance

    monkeypatch.setattr(components, "PREFER", 0.0)  # never the component layout
    dev = _tree_dev(formula, True, monkeypatch)
    assert type(dev) is ProfiledDeviance
    theta = np.random.default_rng(5).uniform(0.1, 1.5, dev.n_theta)
    ref, fast = dev.factor(theta), dev.criterion_factor(theta)
    assert dev.criterion(fast) == pytest.approx(dev.criterion(ref), rel=1e-12)
    np.testing.assert_allclose(fast.beta(), ref.beta(), rtol=1e-9, atol=1e-12)


def test_a_zero_variance_gives_a_unit_pivot_not_a_failure(monkeypatch):
    dev = _tree_dev(CASES[0], False, monkeypatch)
    theta = np.array([0.0, 0.7, 0.0])
    ref, fast = dev.factor(theta), dev.criterion_factor(theta)
    assert dev.criterion(fast) == pytest.approx(dev.criterion(ref), rel=1e-12)


def test_a_pivot_that_is_not_positive_is_an_infinite_criterion_not_a_crash(monkeypatch):
    dev = _tree_dev(CASES[1], False, monkeypatch)
    theta = np.array([1.0, 0.5, np.nan, 0.7, 0.4])  # what an optimizer may probe
    with pytest.raises(np.linalg.LinAlgError):
        dev.criterion_factor(theta)
    assert dev(theta) == np.inf


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + (1 | s) + (1 | xg)",  # crossed with the schools
        "y ~ x + (1 | c)",  # one block: nothing to eliminate by levels
    ],
)
def test_designs_that_are_not_nested_have_no_tree(formula):
    frame = three_levels()
    frame["xg"] = np.arange(len(frame)) % 3
    design = _design(formula, frame)
    order = list(range(len(design.blocks)))
    assert detect_tree(design, order) is None


def test_partial_nesting_has_no_tree():
    frame = three_levels()
    frame.loc[0, "s"] = frame["s"].iloc[-1]  # one pupil's class now spans two schools
    design = _design("y ~ x + (1 | s) + (1 | c)", frame)
    assert detect_tree(design, list(range(len(design.blocks)))) is None


@pytest.mark.parametrize("formula", [CASES[1], CASES[2]])
@pytest.mark.parametrize("reml", [False, True])
def test_fits_do_not_depend_on_the_path(formula, reml, monkeypatch):
    frame = three_levels(regions=20)
    with monkeypatch.context() as m:
        m.setattr(criterion, "TREE_FROM_US", np.inf)  # the layout's own factor
        ref = bm.fit(formula, frame, reml=reml)
    monkeypatch.setattr(criterion, "TREE_FROM_US", 0.0)  # the tree
    fast = bm.fit(formula, frame, reml=reml)
    assert not ref.boundary and ref.working_vcov is not None
    assert fast.loglik == pytest.approx(ref.loglik, rel=1e-11)
    np.testing.assert_allclose(fast.beta, ref.beta, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fast.se, ref.se, rtol=1e-6)
    np.testing.assert_allclose(fast.working, ref.working, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        np.sqrt(np.diag(fast.working_vcov)), np.sqrt(np.diag(ref.working_vcov)), rtol=1e-5
    )


def test_four_level_design_takes_the_tree_by_default():
    from tests.engines.ml.test_components import FOUR_LEVELS, four_levels

    frame = four_levels()
    dev = make_deviance(_design(FOUR_LEVELS, frame), False)
    assert dev.tree is not None
    assert [dev.cp.n_groups[pos] for pos in dev.tree.levels] == [20_000, 10_000, 2_000]
