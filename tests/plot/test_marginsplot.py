"""``marginsplot``: one point and interval per margin, lines over a varying at() variable."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.plot import marginsplot


@pytest.fixture(scope="module")
def rats():
    data = bm.datasets.load("rats")
    return bm.stata("mixed weight i.dose size female || litter:", data), data


def drawn(fig):
    """(number of plots, x and y of every drawn point) from the errorbar containers."""
    ax = fig.axes[0]
    xs = np.concatenate([c.lines[0].get_xdata() for c in ax.containers])
    ys = np.concatenate([c.lines[0].get_ydata() for c in ax.containers])
    return len(ax.containers), xs, ys


def test_one_line_per_level_over_a_continuous_at(rats):
    fit, data = rats
    m = fit.margins("dose, at(size=(5 10 15))", data=data)
    fig = marginsplot(m)
    n_plots, xs, ys = drawn(fig)
    assert n_plots == 3 and len(xs) == 9  # three doses, each over three sizes
    assert sorted(set(xs)) == [5.0, 10.0, 15.0]
    assert sorted(ys) == pytest.approx(sorted(m.table["margin"]))
    assert fig.get_suptitle() == "Predictive margins with 95% CIs"
    assert fig.axes[0].get_xlabel() == "size"


def test_factor_levels_on_the_x_axis(rats):
    fit, data = rats
    fig = marginsplot(fit.margins("dose", data=data), title="Doses")
    n_plots, xs, _ = drawn(fig)
    assert n_plots == 1 and list(xs) == [0.0, 1.0, 2.0]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "1", "2"]
    assert fig.get_suptitle() == "Doses"
