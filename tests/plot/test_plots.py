"""Plots: the data drawn is the data given (segments, panels, intervals, ranks)."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesmixed as bm
from bayesmixed.errors import DataError
from bayesmixed.plot import (
    Layer,
    caterpillar,
    matrix,
    scores_by_school,
    shrinkage,
    to_png,
    twoway,
)
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


def test_layer_takes_one_name_or_a_list_of_names():
    """``Layer("scatter", "math5", "math3")`` is one y variable, not five letters."""
    assert Layer("scatter", "math5", "math3").ys == ("math5",)
    assert Layer("scatter", ["math5", "math4"], "math3").ys == ("math5", "math4")
    assert Layer("scatter", ("math5",), "math3") == Layer("scatter", "math5", "math3")
    data = bm.datasets.load("jsp2").head(30)
    fig = twoway(data, [Layer("scatter", "math5", "math3")])
    assert len(fig.axes[0].collections[0].get_offsets()) == 30
    with pytest.raises(TypeError, match="variable name"):
        Layer("scatter", [], "math3")


def test_caterpillar_draws_blup_and_posterior_intervals():
    blup, se = np.array([0.5, -1.0, 0.0]), np.array([0.1, 0.2, 0.3])
    draws = np.random.default_rng(1).normal(blup, se, size=(400, 3))
    fig = caterpillar(["a", "b", "c"], blup, se, draws)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"]  # sorted by BLUP
    with pytest.raises(DataError):
        caterpillar(["a"], blup, se)


def test_shrinkage_validates_shapes():
    shrinkage(np.zeros(3), np.zeros(3), np.zeros(3), sizes=np.array([1, 2, 3]))
    with pytest.raises(DataError):
        shrinkage(np.zeros(3), np.zeros(2))


def test_caterpillar_without_blups_sorts_by_posterior_mean():
    draws = np.random.default_rng(3).normal([2.0, -1.0, 0.5], 0.01, size=(200, 3))
    ax = caterpillar(["a", "b", "c"], None, None, draws).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "a"]
    (line,) = [c for c in ax.containers if c.lines[0].get_marker() == "s"]
    assert np.allclose(np.sort(line.lines[0].get_xdata()), [-1.0, 0.5, 2.0], atol=0.01)
    with pytest.raises(DataError):
        caterpillar(["a"], None, None, None)


def test_raw_group_means_of_a_logit_model_are_empirical_logits():
    """The shrinkage plot's raw column is on the BLUPs' (logit) scale (issue 17)."""
    from scipy.special import logit

    from bayesmixed.plot.from_results import ml_effects, raw_group_means

    data = bm.datasets.load("bangladesh")
    r = bm.stata("melogit c_use || district:", data)
    raw, n = raw_group_means(r, 0)
    codes = r.design.blocks[0].codes
    s = np.bincount(codes, weights=r.design.y)
    beta0 = float(np.asarray(r.coef)[0])
    np.testing.assert_allclose(
        raw, logit((s + 0.5) / (n + 1)) - logit((n * expit(beta0) + 0.5) / (n + 1))
    )
    blup = ml_effects(r)[0][0][:, 0]
    assert np.all(np.abs(blup) <= np.abs(raw) + 1e-9)  # shrinkage toward 0, same scale
    assert np.corrcoef(raw, blup)[0, 1] > 0.8
    fig = shrinkage(raw, blup, sizes=n, raw_label="raw (empirical logit)", ylabel="logit")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][0] == "raw (empirical logit)"


def test_raw_group_means_of_a_linear_model_are_mean_residuals():
    from bayesmixed.plot.from_results import raw_group_means

    data = bm.datasets.load("jsp2")
    r = bm.mixed("math5 math3 || school:", data=data)
    raw, n = raw_group_means(r, 0)
    resid = r.design.y - r.design.X @ np.asarray(r.coef)
    codes = r.design.blocks[0].codes
    np.testing.assert_allclose(raw, np.bincount(codes, weights=resid) / n)
