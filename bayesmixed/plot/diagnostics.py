"""MCMC diagnostics and posterior predictive checks, drawn from plain arrays.

Trace and rank plots take ``{name: (chain, draw) array}``; the rank plot (Vehtari et
al. 2021) histograms each chain's ranks within the pooled draws, so well-mixed chains
give flat, overlapping histograms.  The predictive check overlays the density of the
observed response on those of replicated data sets.  Working on arrays keeps this
module independent of how a result stores its draws (see :mod:`.from_results`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from ..errors import DataError
from .twoway import PALETTE


def trace_rank(draws: dict[str, np.ndarray], bins: int = 20, title: str = "") -> Figure:
    """One row per parameter: trace (left) and rank histogram per chain (right)."""
    if not draws:
        raise DataError("trace plot: no parameters given")
    names = list(draws)
    fig = Figure(figsize=(9, 1.5 * len(names) + 0.6), layout="constrained")
    axes = fig.subplots(len(names), 2, squeeze=False)
    for row, name in enumerate(names):
        values = np.atleast_2d(np.asarray(draws[name], float))
        _trace(axes[row, 0], values, name)
        _rank(axes[row, 1], values, bins)
    axes[0, 0].set_title("trace", fontsize=9)
    axes[0, 1].set_title("rank histogram by chain", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _trace(ax, values: np.ndarray, name: str) -> None:
    for c, chain in enumerate(values):
        ax.plot(chain, color=PALETTE[c % len(PALETTE)], linewidth=0.5, alpha=0.8)
    ax.set_ylabel(name, fontsize=8, rotation=0, ha="right")
    ax.tick_params(labelsize=6)


def rank_counts(values: np.ndarray, bins: int) -> np.ndarray:
    """(chain, bins) counts of each chain's ranks among all draws."""
    ranks = stats.rankdata(values.ravel()).reshape(values.shape)
    edges = np.linspace(0.5, values.size + 0.5, bins + 1)
    return np.stack([np.histogram(r, edges)[0] for r in ranks])


def _rank(ax, values: np.ndarray, bins: int) -> None:
    counts = rank_counts(values, bins)
    for c, row in enumerate(counts):
        ax.step(np.arange(bins), row, where="mid", color=PALETTE[c % len(PALETTE)], linewidth=0.9)
    ax.axhline(values.shape[1] / bins, color="grey", linestyle="--", linewidth=0.7)
    ax.set_yticks([])
    ax.tick_params(labelsize=6)


def ppc_density(y: np.ndarray, replicates: np.ndarray, title: str = "", limit: int = 50) -> Figure:
    """Histogram density of ``y`` (dark) over those of up to ``limit`` replicated data sets."""
    y = np.asarray(y, float)
    reps = np.atleast_2d(np.asarray(replicates, float))
    if reps.shape[1] != len(y):
        raise DataError("predictive check: replicated data do not match the observations")
    reps = reps[np.linspace(0, len(reps) - 1, min(limit, len(reps))).astype(int)]
    lo, hi = np.nanmin([y.min(), reps.min()]), np.nanmax([y.max(), reps.max()])
    edges = np.linspace(lo, hi, 31) if hi > lo else np.array([lo - 0.5, lo + 0.5])
    mids = (edges[:-1] + edges[1:]) / 2
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    for rep in reps:
        ax.plot(
            mids,
            np.histogram(rep, edges, density=True)[0],
            color=PALETTE[1],
            alpha=0.15,
            linewidth=0.8,
        )
    ax.plot(
        mids,
        np.histogram(y, edges, density=True)[0],
        color=PALETTE[0],
        linewidth=2,
        label="observed",
    )
    ax.plot([], [], color=PALETTE[1], alpha=0.5, label="replicated (posterior predictive)")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title or "Posterior predictive check", fontsize=10)
    return fig


def ppc_statistics(
    y: np.ndarray, replicates: np.ndarray, groups: np.ndarray, title: str = ""
) -> Figure:
    """Predictive check of a 0/1 or count response through two statistics.

    A density of 0/1 data shows two spikes whatever the model; what a multilevel model
    must reproduce is the overall rate and how much it varies between groups.  Each
    panel histograms a statistic over the replicated data sets, with the observed
    value as a vertical line (Gelman et al., BDA3 ch. 6).
    """
    y = np.asarray(y, float)
    reps = np.atleast_2d(np.asarray(replicates, float))
    codes = np.asarray(groups)
    if reps.shape[1] != len(y) or len(codes) != len(y):
        raise DataError("predictive check: replicated data do not match the observations")
    n = np.bincount(codes)
    keep = n > 0

    def spread(values: np.ndarray) -> float:
        return float(np.std(np.bincount(codes, weights=values)[keep] / n[keep]))

    stats_ = [
        ("mean of the response", y.mean(), reps.mean(axis=1)),
        ("SD of the group means", spread(y), np.array([spread(r) for r in reps])),
    ]
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    for ax, (name, observed, replicated) in zip(fig.subplots(1, 2), stats_, strict=True):
        ax.hist(replicated, bins=20, color=PALETTE[1], alpha=0.6, label="replicated")
        ax.axvline(observed, color=PALETTE[0], linewidth=2, label="observed")
        share = float(np.mean(replicated >= observed))
        ax.set_title(f"{name} (P(T_rep >= T_obs) = {share:.2f})", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.axes[0].legend(fontsize=8, frameon=False)
    fig.suptitle(title or "Posterior predictive check", fontsize=10)
    return fig
