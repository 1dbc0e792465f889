"""Stata's ``bayesgraph`` after ``bayes:``, drawn by arviz-plots, and the caterpillar of effects.

``bayesgraph diagnostics | trace | ac | histogram | kdensity | cusum | matrix`` takes
parameters as ``bayesstats`` names them (:mod:`bayesmixed.postestimation.bayesstats`:
``{math5:math3}``, ``{U0:sigma2}``, ``{e.math5:sigma2}``, random effects
``{U0[3.school]}``, expressions ``(d: {math5:math3} - {math5:_cons})``), or ``_all``.
Each panel is titled with the name without braces (``math5:math3``), which is also the
variable's name in the DataTree handed to ArviZ (a DataTree name cannot hold ``/``,
so a ``/`` becomes ``|``, as :func:`.diagnostics.stata_tree` does).

What ArviZ draws, it draws: ``trace`` is ``plot_trace`` (chains overlaid), ``ac``
``plot_autocorr``, ``histogram`` and ``kdensity`` ``plot_dist``, ``matrix``
``plot_pair``, and ``diagnostics`` -- Stata's four panels per parameter (trace,
histogram, autocorrelation, density) -- one row per parameter through
``combine_plots``.  ``cusum`` is not in arviz-plots and is drawn here: per chain, the
cumulative sum of the draws minus that chain's mean (Yu and Mykland 1998), which
wanders about zero and returns to it for a chain that mixes well and drifts in long
excursions for one that does not.

Figures are released from pyplot before they are returned (see :mod:`.diagnostics`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..errors import BayesmixedError, NotSupportedError
from ..maths import critical_value
from ..spec.options import DEFAULT_LEVEL
from .effects import caterpillar
from .twoway import PALETTE

KINDS = {  # name -> shortest abbreviation Stata accepts
    "diagnostics": 4, "trace": 2, "ac": 2, "histogram": 4, "kdensity": 4,
    "cusum": 5, "matrix": 6,
}  # fmt: skip
MAX_PANELS = 24  # parameters in one figure; Stata draws one graph per parameter instead


def kind_name(word: str) -> str:
    """Stata's abbreviation (``diag``, ``hist``, ``kdens``) -> the full kind."""
    for full, minimum in KINDS.items():
        if len(word) >= minimum and full.startswith(word):
            return full
    raise NotSupportedError(f"bayesgraph {word} is not available (available: {', '.join(KINDS)})")


def graph_tree(result, spec: str | list[str] | None = None) -> xr.DataTree:
    """The named quantities' draws as a DataTree (posterior, and sample_stats if any)."""
    from ..postestimation.bayesstats import items

    if isinstance(spec, str) and spec.strip() == "_all":
        spec = None
    chosen = items(result, spec)
    if len(chosen) > MAX_PANELS:
        raise BayesmixedError(
            f"bayesgraph: {len(chosen)} parameters named; draw at most {MAX_PANELS} at a time "
            "(name them, or one group's effects: {U0[3.school]})"
        )
    post = result.posterior
    coords = {"chain": post["chain"].values, "draw": post["draw"].values}
    data = {}
    for item in chosen:
        name = panel_name(item)
        data[name] = (("chain", "draw"), np.asarray(item.draws, float))
    groups = {"posterior": xr.Dataset(data, coords)}
    if "sample_stats" in result.idata.children:
        groups["sample_stats"] = result.idata["sample_stats"].to_dataset()
    return xr.DataTree.from_dict(groups)


def panel_name(item) -> str:
    """``math5:math3``, ``U0:sigma2``, ``U0[3.school]``, an expression's label."""
    text = item.label if item.expression or not item.equation else f"{item.equation}:{item.label}"
    return text.replace("/", "|")


def bayesgraph(result, kind: str = "diagnostics", spec=None, title: str = "") -> Figure:
    """One ``bayesgraph`` figure (see the module notes); ``kind`` may be abbreviated."""
    import warnings

    kind = kind_name(kind)
    tree = graph_tree(result, spec)
    rows = len(tree["posterior"].data_vars)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ArviZ on constant draws
        if kind == "cusum":
            return _cusum(tree, title)
        return _release(_draw(tree, kind, rows), title)


def _release(pc, title: str) -> Figure:
    """The PlotCollection's figure, titled and closed in pyplot (no reference kept)."""
    import matplotlib.pyplot as plt

    fig = pc.viz["figure"].item()
    if title:
        fig.suptitle(title, fontsize=10)
    plt.close(fig)
    return fig


def _draw(tree: xr.DataTree, kind: str, rows: int):
    import arviz_plots as azp

    size = {"figure_kwargs": {"figsize": _figsize(kind, rows), "layout": "constrained"}}
    if kind == "trace":
        return azp.plot_trace(tree, backend="matplotlib", **size)
    if kind == "ac":
        return azp.plot_autocorr(tree, backend="matplotlib", **size)
    if kind in ("histogram", "kdensity"):
        dist = "hist" if kind == "histogram" else "kde"
        return azp.plot_dist(tree, kind=dist, backend="matplotlib", **size)
    if kind == "matrix":
        if rows < 2:
            raise BayesmixedError("bayesgraph matrix needs two or more parameters")
        return azp.plot_pair(tree, backend="matplotlib", **size)
    panels = [
        (azp.plot_trace, {}),
        (azp.plot_dist, {"kind": "hist"}),
        (azp.plot_autocorr, {}),
        (azp.plot_dist, {"kind": "kde"}),
    ]
    names = ["trace", "histogram", "autocorrelation", "density"]
    return azp.combine_plots(tree, panels, plot_names=names, backend="matplotlib", **size)


def _figsize(kind: str, rows: int) -> tuple[float, float]:
    if kind == "diagnostics":
        return (12.0, 2.2 * rows + 0.6)
    if kind == "matrix":
        return (2.2 * rows + 1.0, 2.2 * rows + 1.0)
    columns = min(rows, 3)
    return (3.6 * columns + 0.6, 2.4 * -(-rows // columns) + 0.6)


def _cusum(tree: xr.DataTree, title: str) -> Figure:
    """Per parameter, each chain's cumulative sum of (draw - that chain's mean)."""
    post = tree["posterior"].to_dataset()
    names = list(post.data_vars)
    columns = min(len(names), 3)
    nrows = -(-len(names) // columns)
    fig = Figure(figsize=(3.6 * columns + 0.6, 2.4 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, columns, squeeze=False)).ravel()
    for ax, name in zip(axes, names):
        values = post[name].values  # (chain, draw)
        for c, chain in enumerate(values):
            ax.plot(np.cumsum(chain - chain.mean()), color=PALETTE[c % len(PALETTE)], lw=0.8)
        ax.axhline(0.0, color="grey", linewidth=0.6)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("Iteration", fontsize=8)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def cusum_values(draws: np.ndarray) -> np.ndarray:
    """(chain, draw) -> each chain's cumulative sum of its draws minus its mean."""
    draws = np.asarray(draws, float)
    return np.cumsum(draws - draws.mean(axis=-1, keepdims=True), axis=-1)


# -- caterpillar of one random effect: posterior beside the ML BLUPs -----------------------
def caterpillar_effects(bayes, ml=None, effect: str = "{U0}", level: float = DEFAULT_LEVEL):
    """Posterior mean and equal-tailed interval of each group's effect, beside ML BLUPs.

    The BLUPs and their SDs are ``predict reffects`` and ``predict reses`` of the ML
    fit (:func:`~bayesmixed.postestimation.blup.blups`), drawn as BLUP +- z reses at
    the same ``level``.
    """
    from ..postestimation.bayes_effects import effect_block
    from .from_results import bayes_effect_draws, ml_effects

    b, j = effect_block(bayes, effect)
    block = bayes.design.blocks[b]
    draws = bayes_effect_draws(bayes, b)[:, :, j]
    blup = se = None
    if ml is not None:
        _check_twin(ml, bayes)
        means, sds = ml_effects(ml)
        blup, se = means[b][:, j], sds[b][:, j]
    name = f"{block.key}: {block.effect_names[j]}"
    z = critical_value(level)
    head = f"ML BLUP ± {z:.2f} reses vs posterior {level:g}% CrI" if ml is not None else None
    title = f"{name} ({head or f'posterior {level:g}% CrI'})"
    labels = [str(g) for g in block.groups]
    return caterpillar(labels, blup, se, draws, level=level / 100, title=title)


def _check_twin(ml, bayes) -> None:
    a, b = ml.design.blocks, bayes.design.blocks
    same = len(a) == len(b) and ml.design.n == bayes.design.n
    same = same and all(
        x.key == y.key and x.effect_names == y.effect_names and x.n_groups == y.n_groups
        for x, y in zip(a, b, strict=True)
    )
    if not same:
        raise BayesmixedError(
            "caterpillar: the ML fit is not the same model as the Bayesian one (levels, "
            "effects, groups or sample differ)"
        )
