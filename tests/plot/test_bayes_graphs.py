"""``bayesgraph`` figures and the caterpillar of random effects (issue 16, items 3 and 6).

Each figure is checked for what a reader sees: one panel per parameter and kind,
titled with Stata's name, and drawn lines that are the draws (or the cumulative sums
computed here from ``idata``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

import bayesmixed as bm
from bayesmixed.plot.bayes_graphs import cusum_values, kind_name


@pytest.fixture(scope="module")
def jsp():
    return bm.datasets.load("jsp2")


@pytest.fixture(scope="module")
def fit(jsp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.mixed("math5 math3 || school:", data=jsp, method="laplace", draws=200, seed=2)


def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes if ax.get_visible()]


@pytest.mark.parametrize(
    ("kind", "per_parameter"),
    [("trace", 1), ("ac", 1), ("histogram", 1), ("kdensity", 1), ("cusum", 1),
     ("diagnostics", 4)],
)  # fmt: skip
def test_one_panel_per_parameter_titled_with_statas_name(fit, kind, per_parameter):
    fig = fit.bayesgraph(kind, "{math5:math3} {U0:sigma2} {U0[3.school]}")
    assert isinstance(fig, Figure)
    names = ["math5:math3", "U0:sigma2", "U0[3.school]"]
    assert sorted(_titles(fig)) == sorted(n for n in names for _ in range(per_parameter))


def test_all_parameters_and_the_trace_lines_are_the_draws(fit):
    fig = fit.bayesgraph("trace", "_all")
    assert _titles(fig) == ["math5:math3", "math5:_cons", "U0:sigma2", "e.math5:sigma2"]
    ax = fig.axes[0]
    drawn = np.concatenate([line.get_ydata() for line in ax.get_lines()])
    slope = fit.posterior["beta"].values[..., 0].ravel()
    np.testing.assert_allclose(np.sort(drawn)[-len(slope) :], np.sort(slope))


def test_cusum_is_each_chains_cumulative_deviation_from_its_mean(fit):
    draws = fit.posterior["sigma"].values ** 2
    expected = np.cumsum(draws[0] - draws[0].mean())
    np.testing.assert_allclose(cusum_values(draws)[0], expected, rtol=1e-12, atol=1e-9)
    fig = fit.bayesgraph("cusum", "{e.math5:sigma2}")
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12, atol=1e-9)
    assert abs(expected[-1]) < 1e-8  # a deviation from the mean sums to zero


def test_matrix_is_a_pair_plot_and_needs_two_parameters(fit):
    fig = fit.bayesgraph("matrix", "{math5:math3} {math5:_cons}")
    assert len(fig.axes) == 4  # 2 x 2, upper triangle hidden
    with pytest.raises(bm.BayesmixedError, match="two or more"):
        fit.bayesgraph("matrix", "{math5:math3}")


def test_too_many_panels_say_how_to_name_fewer(fit):
    with pytest.raises(bm.BayesmixedError, match="at most 24"):
        fit.bayesgraph("trace", "{U0}")  # 48 schools


def test_abbreviations_and_unknown_kinds():
    assert kind_name("diag") == "diagnostics" and kind_name("kdens") == "kdensity"
    with pytest.raises(bm.BayesmixedError, match="available"):
        kind_name("rank")


def test_caterpillar_puts_the_ml_blups_beside_the_posterior(fit, jsp):
    ml = bm.mixed("math5 math3 || school:", data=jsp)
    fig = fit.caterpillar(ml)
    ax = fig.axes[0]
    blups = ml.predict("reffects").groupby(jsp.loc[ml.design.rows, "school"]).first()
    drawn = ax.containers[0].lines[0].get_xdata()  # the BLUP markers, sorted by BLUP
    np.testing.assert_allclose(np.sort(drawn), np.sort(blups.to_numpy().ravel()), rtol=1e-8)
    post = ax.containers[1].lines[0].get_xdata()
    means = fit.posterior["b[school]"].values[..., 0].mean(axis=(0, 1))
    np.testing.assert_allclose(np.sort(post), np.sort(means), rtol=1e-12)
    assert "1.96 reses" in ax.get_title()
    alone = fit.caterpillar()  # no ML twin: the posterior intervals only
    assert len(alone.axes[0].containers) == 1
    other = bm.mixed("math5 || school:", data=jsp.iloc[:500])
    with pytest.raises(bm.BayesmixedError, match="not the same model"):
        fit.caterpillar(other)
