"""Plots: the data drawn is the data given (segments, panels, intervals, ranks)."""

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.errors import DataError
from bayesmixed.plot import (
    Layer,
    caterpillar,
    matrix,
    ppc_density,
    ppc_statistics,
    scores_by_school,
    shrinkage,
    to_png,
    trace_rank,
    twoway,
)
from bayesmixed.plot.diagnostics import rank_counts
from bayesmixed.plot.twoway import segments


def test_connect_ascending_breaks_where_x_decreases():
    x = np.array([1.0, 2, 3, 1, 2, np.nan, 5])
    y = np.arange(7.0)
    pieces = segments(x, y, ascending=True)
    assert [list(p[0]) for p in pieces] == [[1, 2, 3], [1, 2, 5]]
    assert len(segments(x, y, ascending=False)) == 1


def test_by_draws_one_panel_per_group():
    data = bm.datasets.load("jsp2")
    fig = scores_by_school(data, first=4)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [
        f"school = {s}" for s in sorted(data.school.unique())[:4]
    ]
    assert (
        sum(len(ax.collections[0].get_offsets()) for ax in visible)
        == data.school.isin(sorted(data.school.unique())[:4]).sum()
    )
    assert to_png(fig)[:4] == b"\x89PNG"


def test_matrix_half_hides_the_upper_triangle():
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(20, 3)), columns=list("abc"))
    fig = matrix(frame, ["a", "b", "c"], half=True)
    assert sum(ax.get_visible() for ax in fig.axes) == 6


def test_missing_variable_is_a_data_error():
    with pytest.raises(DataError, match="zz"):
        twoway(pd.DataFrame({"a": [1.0]}), [Layer("scatter", ("zz",), "a")])


def test_caterpillar_draws_blup_and_posterior_intervals():
    blup, se = np.array([0.5, -1.0, 0.0]), np.array([0.1, 0.2, 0.3])
    draws = np.random.default_rng(1).normal(blup, se, size=(400, 3))
    fig = caterpillar(["a", "b", "c"], blup, se, draws)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"]  # sorted by BLUP
    with pytest.raises(DataError):
        caterpillar(["a"], blup, se)


def test_shrinkage_and_ppc_validate_shapes():
    shrinkage(np.zeros(3), np.zeros(3), np.zeros(3), sizes=np.array([1, 2, 3]))
    with pytest.raises(DataError):
        shrinkage(np.zeros(3), np.zeros(2))
    ppc_density(np.arange(5.0), np.ones((10, 5)))
    with pytest.raises(DataError):
        ppc_density(np.arange(5.0), np.ones((10, 4)))


def test_rank_counts_are_flat_for_mixed_chains_and_not_for_stuck_ones():
    rng = np.random.default_rng(2)
    good = rng.normal(size=(4, 1000))
    bad = good + np.arange(4)[:, None]
    assert rank_counts(good, 10).sum() == 4000
    assert rank_counts(good, 10).std() < 25 < rank_counts(bad, 10).std()
    fig = trace_rank({"mu": good, "sigma": np.abs(good)})
    assert len(fig.axes) == 4


def test_caterpillar_without_blups_sorts_by_posterior_mean():
    draws = np.random.default_rng(3).normal([2.0, -1.0, 0.5], 0.01, size=(200, 3))
    ax = caterpillar(["a", "b", "c"], None, None, draws).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"]
    (line,) = [c for c in ax.containers if c.lines[0].get_marker() == "s"]
    assert np.allclose(np.sort(line.lines[0].get_xdata()), [-1.0, 0.5, 2.0], atol=0.01)
    with pytest.raises(DataError):
        caterpillar(["a"], None, None, None)


def test_ppc_statistics_marks_the_observed_rate_and_group_spread():
    groups = np.repeat([0, 1, 2], 4)
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0], float)  # group rates 1, 0, .5
    reps = np.random.default_rng(4).integers(0, 2, size=(30, 12)).astype(float)
    fig = ppc_statistics(y, reps, groups)
    observed = [ax.lines[0].get_xdata()[0] for ax in fig.axes]
    assert observed == pytest.approx([0.5, np.std([1.0, 0.0, 0.5])])
    with pytest.raises(DataError):
        ppc_statistics(y, reps[:, :5], groups)
