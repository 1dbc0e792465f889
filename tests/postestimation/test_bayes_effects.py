"""``bayesstats summary {U0[school]}``: each random effect's posterior by Stata's name (issue 16).

The summaries are compared with the engine's ``b[<level>]`` draws read straight from
``idata`` (chain, draw, group, effect), the group picked by its label in the data.
"""

from __future__ import annotations

import numpy as np
import pytest
from laplace_fits import laplace_fit

import bayesmixed as bm
from bayesmixed.postestimation.bayes_effects import expand_effects, group_labels


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


def _fit(command, data):
    return laplace_fit(command, data, seed=5)


@pytest.fixture(scope="module")
def slopes(jsp):
    return _fit("math5 math3 || school: math3, cov(un)", jsp)


@pytest.fixture(scope="module")
def nested(jsp):
    return _fit("math5 math3 || school: || class:", jsp)


def _b(result, level: str, group, effect: str) -> np.ndarray:
    b = result.posterior[f"b[{level}]"]
    g = list(result.design.blocks[result.block_names.index(level)].groups).index(group)
    j = list(b.coords[f"{level}_effects"].values).index(effect)
    return b.values[..., g, j]


def test_one_school_intercept_and_slope(slopes):
    table = slopes.bayesstats_summary("{U0[3.school]} {U1[3.school]}").table
    for label, effect in (("U0[3.school]", "_cons"), ("U1[3.school]", "math3")):
        draws = _b(slopes, "school", 3, effect).ravel()
        row = table.loc[("", label)]
        assert row["mean"] == pytest.approx(draws.mean(), rel=1e-12)
        assert row["sd"] == pytest.approx(draws.std(ddof=1), rel=1e-12)
        assert row["eti_hi"] == pytest.approx(np.percentile(draws, 97.5), rel=1e-12)


def test_a_level_names_every_group_in_order(slopes):
    groups = list(slopes.design.blocks[0].groups)
    table = slopes.bayesstats_summary("{U0[school]}").table
    assert list(table.index.get_level_values(1)) == [f"U0[{g}.school]" for g in groups]
    bare = slopes.bayesstats_summary("{U0}").table
    assert bare.equals(table)
    means = slopes.posterior["b[school]"].values[..., 1].mean(axis=(0, 1))  # _cons is last
    np.testing.assert_allclose(table["mean"].to_numpy(), means, rtol=1e-12)


def test_expressions_of_effects_are_computed_draw_by_draw(slopes):
    table = slopes.bayesstats_summary("(gap: {U0[3.school]} - {U0[1.school]})").table
    gap = _b(slopes, "school", 3, "_cons") - _b(slopes, "school", 1, "_cons")
    assert table.loc[("", "gap"), "mean"] == pytest.approx(gap.mean(), rel=1e-12)


def test_nested_levels_are_written_with_a_chevron(nested):
    block = nested.design.blocks[1]
    labels = group_labels(block)
    assert labels[0] == f"{block.groups[0][0]}.school>{block.groups[0][1]}.class"
    assert len(expand_effects(nested, "{UU0[school>class]}")) == block.n_groups
    one = nested.bayesstats_summary("{UU0[" + labels[1] + "]}").table.iloc[0]
    assert one["mean"] == pytest.approx(_b(nested, "class", block.groups[1], "_cons").mean())


def test_unknown_effects_and_groups_say_what_exists(slopes):
    with pytest.raises(bm.BayesmixedError, match=r"\{U0\[school\]\}"):
        slopes.bayesstats_summary("{UU0[school]}")
    with pytest.raises(bm.BayesmixedError, match="no group 999.school"):
        slopes.bayesstats_summary("{U0[999.school]}")
