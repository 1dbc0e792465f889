"""Stata's ``marginsplot``: the margins of the last ``margins`` with their intervals.

The x axis is what Stata puts there: the variable that ``at()`` varies (on
its own scale, so ``at(math3=(-10(5)10))`` gives a line over math3), else
the first margin-list factor (its levels as categories), else the over()
groups.  Every other dimension -- other factors, over() groups, dydx()
effects -- is its own connected plot, with its confidence intervals as
error bars, as Stata draws them ("Predictive margins with 95% CIs").
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .twoway import PALETTE

EFFECTS = "effects"  # the x axis of dydx() alone: one category per effect


def marginsplot(m, title: str = "") -> Figure:
    """The figure of a :class:`~bayesmixed.postestimation.margins.Margins` result."""
    xvar, xs, categorical = _x_axis(m)
    groups: dict[tuple, list[int]] = {}
    for i, row in enumerate(m.rows):
        groups.setdefault(_group_key(m, row, xvar), []).append(i)
    fig = Figure(figsize=(6.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    est = m.table["margin"].to_numpy(float)
    lower = m.table["lower"].to_numpy(float)
    upper = m.table["upper"].to_numpy(float)
    for colour, (key, idx) in enumerate(groups.items()):
        x = np.array([xs[i] for i in idx], float)
        order = np.argsort(x, kind="mergesort")
        idx = [idx[j] for j in order]
        x = x[order]
        err = np.vstack([est[idx] - lower[idx], upper[idx] - est[idx]])
        ax.errorbar(
            x, est[idx], yerr=err, fmt="o-", color=PALETTE[colour % len(PALETTE)],
            capsize=3, markersize=4, linewidth=1.2, label=_key_text(key),
        )  # fmt: skip
    if categorical:
        ticks = sorted(set(xs))
        ax.set_xticks(ticks, [categorical[t] for t in ticks])
    ax.set_xlabel(xvar or "")
    ax.set_ylabel(_ylabel(m))
    if len(groups) > 1:
        ax.legend(fontsize=8, frameon=False)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    fig.suptitle(title or _title(m), fontsize=11)
    return fig


def _x_axis(m) -> tuple[str | None, list[float], dict | None]:
    """(x variable, x value per row, {position: level label} if categorical)."""
    varying = [v for v in m.at_vars if len({r.settings.get(v) for r in m.rows}) > 1]
    if varying:
        var = varying[0]
        return var, [float(r.settings[var]) for r in m.rows], None
    if m.marginlist:
        var = m.marginlist[0][0]
        return var, *_categories([_level_of(r, var) for r in m.rows])
    if m.over:
        var = "#".join(m.over)
        return var, *_categories([" ".join(r.over) for r in m.rows])
    if m.dydx:
        return EFFECTS, *_categories([r.dydx for r in m.rows])
    return None, [0.0] * len(m.rows), {0.0: ""}


def _categories(labels: list[str]) -> tuple[list[float], dict]:
    levels = list(dict.fromkeys(labels))
    pos = {lab: float(i) for i, lab in enumerate(levels)}
    return [pos[lab] for lab in labels], {v: k for k, v in pos.items()}


def _level_of(row, var: str) -> str:
    return row.levels.get(var, "")


def _group_key(m, row, xvar: str | None) -> tuple:
    levels = tuple((v, lab) for v, lab in row.levels.items() if v != xvar)
    at = tuple((v, row.settings[v]) for v in m.at_vars if v != xvar and v in row.settings)
    over = () if xvar == "#".join(m.over) else row.over
    return ("" if xvar == EFFECTS else row.dydx, at, over, levels)


def _key_text(key: tuple) -> str:
    dydx, at, over, levels = key
    parts = [dydx] if dydx else []
    parts += [f"{v}={value:g}" for v, value in at]
    parts += [" ".join(over)] if over else []
    parts += [f"{v}={lab}" for v, lab in levels]
    return ", ".join(parts) or "margin"


def _ylabel(m) -> str:
    if m.dydx:
        return "Effects on " + m.expression.split(", predict(")[0]
    return m.expression.split(", predict(")[0]


def _title(m) -> str:
    what = m.title
    if m.dydx:
        what += " of " + " ".join(m.dydx)
    return f"{what} with {m.level:g}% CIs"
