"""Random-effect blocks: nested and crossed codes, Z, R.var, group table, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from design_helpers import i, level, spec, term

from bayesmixed.design import build_design, group_codes
from bayesmixed.errors import DataError, NotSupportedError, SpecificationError
from bayesmixed.spec.covariance import Identity, Unstructured

REGION_SIZES = [6, 3, 5, 8, 4, 7, 4, 6, 5]  # 48 states in 9 regions


@pytest.fixture
def panel():
    """Productivity-shaped data: 48 states in 9 regions, 17 years each (816 rows)."""
    region = np.repeat(np.arange(1, 10), REGION_SIZES)
    within = np.concatenate([np.arange(1, k + 1) for k in REGION_SIZES])
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "region": np.repeat(region, 17),
            "state": np.repeat(np.arange(1, 49), 17),
            "substate": np.repeat(within, 17),  # 1..k within each region
            "year": np.tile(np.arange(1970, 1987), 48),
        }
    )
    frame["x"] = rng.normal(size=len(frame))
    frame["y"] = rng.normal(size=len(frame))
    return frame.sample(frac=1.0, random_state=2)  # row order must not matter


def check_codes(block, frame, variables):
    observed = list(zip(*(frame[v] for v in variables), strict=True))
    labels = [block.groups[k] for k in block.codes]
    if len(variables) == 1:
        observed = [o[0] for o in observed]
    assert labels == observed
    assert list(block.groups) == sorted(set(observed))


def test_nested_levels_region_state(panel):
    s = spec(fixed=["x"], random=[level("region"), level("region", "state")])
    d = build_design(s, panel)
    reg, st = d.blocks
    assert (reg.n_groups, st.n_groups) == (9, 48)
    check_codes(reg, panel, ["region"])
    check_codes(st, panel, ["region", "state"])
    assert st.groups[0] == (1, 1) and isinstance(st.groups, pd.MultiIndex)
    assert [g.level for g in d.group_info] == ["region", "state"]
    info = {g.level: g for g in d.group_info}
    assert (info["region"].min, info["region"].max) == (3 * 17, 8 * 17)
    assert info["region"].avg == pytest.approx(816 / 9)
    assert (info["state"].n_groups, info["state"].min, info["state"].max) == (48, 17, 17)


def test_nested_path_distinguishes_repeated_codes(panel):
    d = build_design(spec(random=[level("region"), level("region", "substate")]), panel)
    assert d.blocks[1].n_groups == 48
    assert panel["substate"].nunique() == 8
    check_codes(d.blocks[1], panel, ["region", "substate"])


def test_crossed_levels_are_independent(panel):
    s = spec(random=[level("state"), level("year")], command="formula")
    d = build_design(s, panel)
    assert [b.n_groups for b in d.blocks] == [48, 17]
    check_codes(d.blocks[1], panel, ["year"])
    assert [(g.level, g.n_groups, g.min, g.max) for g in d.group_info] == [
        ("state", 48, 17, 17),
        ("year", 17, 48, 48),
    ]


def test_all_with_r_year_is_one_intercept_per_year(panel):
    s = spec(
        random=[level("_all", factor="year", covariance="identity"), level("state")],
    )
    d = build_design(s, panel)
    ry = d.blocks[0]
    assert ry.key == "R.year" and ry.effect_names == ("R.year",)
    assert ry.n_groups == 17 and ry.k == 1
    assert isinstance(ry.structure, Identity)
    check_codes(ry, panel, ["year"])
    np.testing.assert_array_equal(ry.Z, np.ones((816, 1)))
    assert [(g.level, g.n_groups, g.min, g.avg, g.max) for g in d.group_info] == [
        ("_all", 1, 816, 816.0, 816),
        ("state", 48, 17, 17.0, 17),
    ]


def test_r_var_within_a_level_uses_the_combinations(panel):
    panel["half"] = (panel["year"] > 1978).astype(int)
    s = spec(random=[level("region"), level("region", factor="half", covariance="id")])
    d = build_design(s, panel)
    assert d.blocks[1].n_groups == 18
    check_codes(d.blocks[1], panel, ["region", "half"])
    assert [g.level for g in d.group_info] == ["region"]


def test_plain_all_level_is_allowed(panel):
    d = build_design(spec(random=[level("_all", slopes=["x"])]), panel)
    b = d.blocks[0]
    assert b.n_groups == 1 and list(b.groups) == ["_all"]
    assert not b.codes.any()
    np.testing.assert_array_equal(b.Z, np.column_stack([panel.x, np.ones(816)]))


def test_z_has_slopes_first_then_cons(panel):
    eq = level("state", slopes=["x", term("x", "year")], covariance="unstructured")
    d = build_design(spec(random=[eq]), panel)
    b = d.blocks[0]
    assert b.effect_names == ("x", "c.x#c.year", "_cons") == eq.effect_names
    expected = np.column_stack([panel.x, panel.x * panel.year, np.ones(816)])
    np.testing.assert_allclose(b.Z, expected)
    assert isinstance(b.structure, Unstructured) and b.q == 3 * 48


def test_noconstant_equation(panel):
    b = build_design(spec(random=[level("state", slopes=["x"], constant=False)]), panel).blocks[0]
    assert b.effect_names == ("x",)
    np.testing.assert_array_equal(b.Z[:, 0], panel.x)


def test_text_grouping_variable(panel):
    panel["name"] = "S" + panel["state"].astype(str).str.zfill(2)
    d = build_design(spec(random=[level("name")]), panel)
    assert d.blocks[0].groups[:3].tolist() == ["S01", "S02", "S03"]
    check_codes(d.blocks[0], panel, ["name"])


def test_single_group_is_not_identified(panel):
    panel["one"] = 1
    with pytest.raises(DataError, match="single one group.*not identified"):
        build_design(spec(random=[level("one")]), panel)


def test_single_group_after_if_is_not_identified(panel):
    class Region1:
        def evaluate(self, frame):
            return (frame["region"] == 1).to_numpy()

    with pytest.raises(DataError, match="level region.*not identified"):
        build_design(spec(random=[level("region")], sample_if=Region1()), panel)


def test_r_var_with_one_level_is_not_identified(panel):
    panel["one"] = 1
    with pytest.raises(DataError, match="R.one"):
        build_design(spec(random=[level("_all", factor="one", covariance="identity")]), panel)


@pytest.mark.parametrize("cov", ["independent", "exchangeable", "unstructured"])
def test_r_var_needs_identity(panel, cov):
    with pytest.raises(NotSupportedError, match=f"R.year with {cov}"):
        build_design(spec(random=[level("_all", factor="year", covariance=cov)]), panel)


def test_factor_variable_in_random_equation_not_supported(panel):
    with pytest.raises(NotSupportedError, match="factor variables in random-effects"):
        build_design(spec(random=[level("state", slopes=[term(i("region"))])]), panel)


def test_equation_without_effects(panel):
    with pytest.raises(SpecificationError, match="no effects"):
        build_design(spec(random=[level("state", constant=False)]), panel)


def test_group_codes_alone():
    frame = pd.DataFrame({"a": ["b", "a", "b", "a"], "b": [2, 1, 1, 2]})
    codes, groups = group_codes(frame, ("a", "b"))
    assert list(groups) == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
    assert codes.tolist() == [3, 0, 2, 1]
    codes, groups = group_codes(frame, ())
    assert codes.tolist() == [0, 0, 0, 0] and list(groups) == ["_all"]


@pytest.mark.slow
def test_million_rows_ten_thousand_groups_builds_compact_blocks():
    rng = np.random.default_rng(0)
    n = 1_000_000
    frame = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "d": rng.integers(0, 3, n),
            "r": rng.integers(0, 100, n),
            "g": rng.integers(0, 10_000, n),
        }
    )
    s = spec(
        fixed=["x", term(i("d"))],
        random=[level("r"), level("r", "g", slopes=["x"]), level("g")],
    )
    d = build_design(s, frame)  # speed is measured in benchmarks/scale_bench.py, not here
    assert d.blocks[2].n_groups == 10_000 and d.blocks[1].n_groups > 600_000
    assert d.blocks[1].Z.shape == (n, 2) and d.X.shape == (n, 4)
