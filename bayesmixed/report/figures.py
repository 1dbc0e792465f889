"""The figures a Bayesian fit adds to the report.

For each ``bayes:`` model: a caterpillar plot of the first level's effects (BLUP +- SE
of the ML twin beside the posterior intervals), a shrinkage plot for a random
intercept, trace and rank plots, and a posterior predictive check.  The last two are
ArviZ's own (drawn by arviz-plots, :mod:`bayesmixed.plot.diagnostics`).  A figure that
a model cannot have (no ML twin, replicates it cannot draw) is left out with a note
saying why, never drawn from made-up numbers.
"""

from __future__ import annotations

from ..errors import BayesmixedError
from ..plot import caterpillar, ppc, ppc_tstat, shrinkage, to_png, trace_rank
from ..plot.from_results import bayes_effect_draws, ml_effects, raw_group_means
from ..spec.family import get_family


def bayes_figures(bayes, ml, stem: str) -> tuple[list[tuple[str, bytes, str]], list[str]]:
    """([(file name, png, caption)], [notes on figures left out])."""
    figures, notes = [], []
    makers = [
        ("caterpillar", lambda: _caterpillar(bayes, ml)),
        ("shrinkage", lambda: _shrinkage(bayes, ml)),
        ("trace", lambda: _trace(bayes)),
        ("ppc", lambda: _ppc(bayes)),
    ]
    for kind, make in makers:
        try:
            made = make()
        except BayesmixedError as err:
            notes.append(f"{kind} plot not drawn: {err}")
            continue
        if made is not None:
            fig, caption = made
            figures.append((f"{stem}_{kind}.png", to_png(fig), caption))
    return figures, notes


def _labels(design, block: int) -> list[str]:
    return [str(g) for g in design.blocks[block].groups]


def _caterpillar(bayes, ml):
    """BLUP +- SE beside the posterior; the posterior alone when ML cannot give BLUPs."""
    block = bayes.design.blocks[0]
    j = block.k - 1  # _cons is last; the intercept is what users compare first
    draws = bayes_effect_draws(bayes, 0)[:, :, j]
    blup = se = None
    why = "no matching ML fit earlier in the do-file"
    if ml is not None and _same_blocks(ml, bayes):
        try:
            means, sds = ml_effects(ml)
            blup, se = means[0][:, j], sds[0][:, j]
        except BayesmixedError as err:
            why = str(err)
    name = f"{block.key}: {block.effect_names[j]}"
    if blup is None:
        title = f"{name} (posterior 95% CrI; no ML BLUPs: {why})"
        plot_title = f"{name} (posterior 95% CrI only)"
    else:
        title = plot_title = f"{name} (ML BLUP ± 1.96 SE vs posterior 95% CrI)"
    labels = _labels(bayes.design, 0)
    return caterpillar(labels, blup, se, draws, title=plot_title), title


def _shrinkage(bayes, ml):
    """Raw group intercepts, BLUPs and posterior means, all on the linear-predictor scale."""
    block = bayes.design.blocks[0]
    if block.k != 1 or ml is None or not _same_blocks(ml, bayes):
        return None
    raw, sizes = raw_group_means(ml, 0)
    means, _ = ml_effects(ml)
    post = bayes_effect_draws(bayes, 0)[:, :, 0].mean(axis=0)
    link = bayes.design.spec.link
    if link == "identity":
        raw_label, scale = "raw mean", "group effect"
        title = f"Shrinkage of {block.key} intercepts: raw means, BLUPs, posterior means"
    else:
        raw_label = f"raw ({'empirical logit' if link == 'logit' else link})"
        scale = f"group effect ({link} scale)"
        title = f"Shrinkage of {block.key} intercepts on the {link} scale"
    fig = shrinkage(
        raw, means[0][:, 0], post, sizes, title=title, raw_label=raw_label, ylabel=scale
    )
    return fig, title


def _trace(bayes):
    title = "Trace and rank plots (first parameters)"
    return trace_rank(bayes, title=title), title


def _ppc(bayes):
    design = bayes.design
    title = f"Posterior predictive check of {design.spec.response}"
    if get_family(design.spec.family, design.spec.link).closed_form:
        return ppc(bayes, title=title), title
    title += f" (rate and its spread across {design.blocks[0].key})"
    return ppc_tstat(bayes, title=title), title


def _same_blocks(ml, bayes) -> bool:
    a, b = ml.design.blocks, bayes.design.blocks
    return (
        len(a) == len(b)
        and all(x.n_groups == y.n_groups and x.k == y.k for x, y in zip(a, b, strict=True))
        and ml.design.n == bayes.design.n
    )
