"""``estat icc`` and ``estat sd`` after ``bayes:``, in Stata's ``bayes`` layout.

Each quantity is computed at every posterior draw with the frequentist command's
definitions -- the ICCs of :func:`~bayesmixed.postestimation.estat.icc_draws`, the
standard deviations and correlations of each level's covariance matrix as
``estat sd`` labels them -- and the draws are summarised by
:func:`~bayesmixed.postestimation.bayesstats.summarize` (posterior mean, SD, MCSE,
median, equal-tailed or HPD interval).  Intervals come from the draws, so they stay
inside (0, 1) for an ICC and inside (-1, 1) for a correlation without the
log/atanh transformations the delta method needs.
"""

from __future__ import annotations

import numpy as np

from ..errors import NotSupportedError
from ..results.table import entry_label
from ..spec.options import DEFAULT_LEVEL
from .bayesstats import Item, PosteriorSummary, summarize
from .estat import icc_draws


def icc(result, level: float = DEFAULT_LEVEL, hpd: bool = False) -> PosteriorSummary:
    """Posterior summary of each level's residual intraclass correlation."""
    labels, draws = icc_draws(result)
    chosen = [Item("", label, label, draws[i]) for i, label in enumerate(labels)]
    notes = ["Residual intraclass correlation"]
    return summarize(chosen, level, hpd, title="Posterior summary of the ICC", notes=notes)


def sd(result, level: float = DEFAULT_LEVEL, hpd: bool = False) -> PosteriorSummary:
    """Posterior summary of the random effects' SDs and correlations, and of sd(Residual)."""
    post = result.posterior
    if "sigma_e" in post or "residual" in post:
        raise NotSupportedError("estat sd is not available with a residuals() structure yet")
    chosen: list[Item] = []
    for name, block in zip(result.block_names, result.design.blocks, strict=True):
        cov = np.asarray(post[f"cov[{name}]"].values, float)  # (chain, draw, k, k)
        for entry in block.structure.entries():
            label = entry_label(block.structure, block.effect_names, entry, True)
            chosen.append(Item(block.level, label, label, _sd_or_corr(cov, entry)))
    if "sigma" in post:
        sigma = np.asarray(post["sigma"].values, float)
        chosen.append(Item("Residual", "sd(e)", "sd(e)", sigma))
    return summarize(chosen, level, hpd, title="Posterior summary of SDs and correlations")


def _sd_or_corr(cov: np.ndarray, entry) -> np.ndarray:
    """One entry's draws: the SD of a variance, the correlation of a covariance."""
    i = 0 if entry.i is None else entry.i
    if entry.kind == "var":
        return np.sqrt(np.clip(cov[..., i, i], 0.0, None))
    j = 1 if entry.j is None else entry.j
    return cov[..., i, j] / np.sqrt(cov[..., i, i] * cov[..., j, j])
