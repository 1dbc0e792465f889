"""Random effects drawn the way Bayesian users read them.

* caterpillar plot: each group's effect with an interval, sorted by the estimate;
  BLUP +- z * SE beside the posterior mean and its equal-tailed credible interval;
* shrinkage plot: each group's raw mean, its BLUP and its posterior mean on three
  vertical axes, so the pull toward the grand mean (largest for small groups) shows.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..errors import DataError
from ..maths import critical_value
from .twoway import PALETTE


def caterpillar(
    labels: list[str],
    blup: np.ndarray | None,
    se: np.ndarray | None,
    posterior: np.ndarray | None = None,
    level: float = 0.95,
    title: str = "",
) -> Figure:
    """BLUPs with +- z SE bars; ``posterior`` (draws, groups) adds credible intervals.

    Either side may be missing (``blup=se=None`` draws the posterior alone, as after a
    model whose BLUPs postestimation cannot give yet); groups are sorted by the BLUP,
    or by the posterior mean without one.
    """
    if blup is None and posterior is None:
        raise DataError("caterpillar: give BLUPs, posterior draws or both")
    draws = None if posterior is None else np.asarray(posterior, float)
    centre = np.asarray(blup, float) if blup is not None else draws.mean(axis=0)
    if len(labels) != len(centre) or (blup is not None and len(np.asarray(se)) != len(centre)):
        raise DataError("caterpillar: labels, estimates and SEs differ in length")
    if draws is not None and draws.shape[1] != len(centre):
        raise DataError("caterpillar: posterior draws do not match the groups")
    order = np.argsort(centre)
    pos = np.arange(len(order))
    z = critical_value(100 * level)  # level is a fraction here (0.95)
    fig = Figure(figsize=(6.5, max(3.0, 0.13 * len(order) + 1.2)), layout="constrained")
    ax = fig.subplots()
    shift = 0.18 if blup is not None and draws is not None else 0.0
    if blup is not None:
        ax.errorbar(
            centre[order],
            pos - shift,
            xerr=z * np.asarray(se, float)[order],
            fmt="o",
            ms=3,
            color=PALETTE[0],
            elinewidth=0.9,
            label=f"BLUP ± {z:.2f} SE",
        )
    if draws is not None:
        lo, hi = np.percentile(draws, [50 * (1 - level), 50 * (1 + level)], axis=0)
        mean = draws.mean(axis=0)
        ax.errorbar(
            mean[order],
            pos + shift,
            xerr=[mean[order] - lo[order], hi[order] - mean[order]],
            fmt="s",
            ms=3,
            color=PALETTE[1],
            elinewidth=0.9,
            label=f"posterior mean, {level:.0%} CrI",
        )
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set_yticks(pos, [str(labels[i]) for i in order], fontsize=6)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_xlabel("random effect")
    ax.set_title(title, fontsize=10)
    return fig


def shrinkage(
    raw: np.ndarray,
    blup: np.ndarray,
    posterior_mean: np.ndarray | None = None,
    sizes: np.ndarray | None = None,
    title: str = "",
    raw_label: str = "raw mean",
    ylabel: str = "group effect",
) -> Figure:
    """Raw group means -> BLUPs (-> posterior means): one line per group.

    All three must be on the same scale (e.g. group mean of y minus the fitted fixed
    part, and the random intercepts; for a GLMM, the linear predictor's -- see
    :func:`bayesmixed.plot.from_results.raw_group_means`).  ``raw_label`` and
    ``ylabel`` name that scale.  Marker size shows the group size if given.
    """
    columns = [(raw_label, np.asarray(raw, float)), ("BLUP", np.asarray(blup, float))]
    if posterior_mean is not None:
        columns.append(("posterior mean", np.asarray(posterior_mean, float)))
    n = len(columns[0][1])
    if any(len(v) != n for _, v in columns):
        raise DataError("shrinkage: the estimates differ in length")
    values = np.column_stack([v for _, v in columns])
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    xs = np.arange(values.shape[1])
    size = 10 if sizes is None else 4 + 40 * np.asarray(sizes, float) / np.max(sizes)
    for row in values:
        ax.plot(xs, row, color=PALETTE[0], alpha=0.35, linewidth=0.8)
    for j in xs:
        ax.scatter(np.full(n, j), values[:, j], s=size, color=PALETTE[j % len(PALETTE)], zorder=3)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(xs, [name for name, _ in columns])
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Shrinkage toward the population mean", fontsize=10)
    return fig
