"""ArviZ-drawn diagnostics (issue 17): Stata-named parameters, headless figures, no side effects."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.plot import forest, ppc, ppc_tstat, rank, stata_tree, to_png, trace, trace_rank

NAMES = ["math5:math3", "math5:_cons", "school:var(_cons)", "Residual:var(e)"]


def _tiny(cmd: str, data: str):
    with warnings.catch_warnings():  # 2 x 100 draws: convergence warnings are expected
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.stata(
            cmd, bm.datasets.load(data), draws=100, tune=100, chains=2, seed=1, progressbar=False
        )


@pytest.fixture(scope="module")
def fit():
    return _tiny("bayes: mixed math5 math3 || school:", "jsp2")


@pytest.fixture(scope="module")
def logit_fit():
    return _tiny("bayes: melogit c_use urban || district:", "bangladesh")


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    """Nothing may call show, and no figure may stay registered with pyplot."""
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show called"))
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def _titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.axison]


def test_stata_tree_names_each_printed_parameter(fit):
    tree = stata_tree(fit)
    post = tree["posterior"].to_dataset()
    assert list(post.data_vars) == NAMES
    np.testing.assert_array_equal(
        post["school:var(_cons)"].values, fit.parameter_draws()[("school", "var(_cons)")]
    )
    assert "diverging" in tree["sample_stats"].to_dataset()  # trace plots mark divergences
    assert list(stata_tree(fit, limit=2)["posterior"].to_dataset().data_vars) == NAMES[:2]


def test_trace_rank_has_a_trace_and_a_rank_panel_per_parameter(fit):
    fig = trace_rank(fit, title="Trace and rank")
    assert len(fig.axes) == 2 * len(NAMES)
    assert sorted(_titles(fig)) == sorted(NAMES * 2)
    assert fig.get_suptitle() == "Trace and rank"
    for ax in fig.axes:  # the rank p-value label sits inside its own panel
        for text in ax.texts:
            assert ax.get_ylim()[0] < text.get_position()[1] < ax.get_ylim()[1]
    assert to_png(fig)[:4] == b"\x89PNG"


def test_trace_rank_keeps_the_first_parameters(fit):
    fig = trace_rank(fit, limit=2)
    assert sorted(_titles(fig)) == sorted(NAMES[:2] * 2)


def test_trace_and_rank_alone(fit):
    fig = trace(fit)
    assert len(fig.axes) == 2 * len(NAMES)
    labels = [ax.get_ylabel() for ax in fig.axes] + [ax.get_xlabel() for ax in fig.axes]
    assert set(NAMES) <= set(labels)
    assert _titles(rank(fit)) == NAMES


def test_forest_labels_parameters_as_stata_prints_them(fit):
    fig = forest(fit)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert set(NAMES) <= texts


def test_ppc_overlays_replicates_on_the_observed_density(fit):
    fig = ppc(fit, title="PPC")
    (ax,) = fig.axes
    assert ax.get_title() == "math5"
    assert len(ax.lines) == 51  # arviz-plots' 50 replicated densities + the observed one
    assert "posterior_predictive" not in fit.idata.children  # the result is left as it was
    assert to_png(fig)[:4] == b"\x89PNG"


def test_ppc_tstat_marks_the_observed_rate_and_group_spread(logit_fit):
    design = logit_fit.design
    y, codes = design.y, design.blocks[0].codes
    n = np.bincount(codes)
    spread = np.std(np.bincount(codes, weights=y) / n)
    fig = ppc_tstat(logit_fit)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("c_use (mean, P(T_rep >= T_obs) = ")
    assert titles[1].startswith("c_use (SD of district means, P(T_rep >= T_obs) = ")
    observed = [ax.collections[-1].get_offsets()[0][0] for ax in fig.axes]
    assert observed == pytest.approx([y.mean(), spread])


def test_one_chain_gets_a_trace_without_ranks(fit):
    from dataclasses import replace

    from bayesmixed.errors import NotSupportedError

    one = replace(fit, idata=fit.idata.isel(chain=[0], missing_dims="ignore"))
    assert one.chains == 1
    fig = trace_rank(one, title="Trace and rank")
    assert _titles(fig) == NAMES
    assert fig.get_suptitle() == "Trace and rank (one chain: no rank plot)"
    with pytest.raises(NotSupportedError, match="2"):
        rank(one)
