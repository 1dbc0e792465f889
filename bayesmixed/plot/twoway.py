"""Stata's ``graph twoway`` (scatter and line layers, ``by()``) and ``graph matrix``.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), never
``pyplot``, so nothing depends on a display or a global backend and a report can
render them in a headless run.  ``connect(ascending)`` follows Stata: a line is drawn
between successive observations only while x does not decrease, which after
``sort school math3`` gives one line per school.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import DataError

PALETTE = ("#1a476f", "#90353b", "#55752f", "#e37e00", "#6e8e84", "#c10534", "#938dd2")


@dataclass(frozen=True)
class Layer:
    """One plot of a twoway graph: ``scatter y1 [y2 ...] x`` or ``line ...``."""

    kind: str  # "scatter" or "line"
    ys: str | tuple[str, ...]
    x: str
    ascending: bool = False
    sort: bool = False  # draw in ascending order of x (Stata's ``sort`` option)

    def __post_init__(self) -> None:
        """``ys`` may be one variable name or several: ``"math5"`` is ``("math5",)``."""
        ys = (self.ys,) if isinstance(self.ys, str) else tuple(self.ys)
        if not ys or not all(isinstance(y, str) for y in ys):
            raise TypeError(f"Layer ys must be a variable name or a list of names, got {self.ys!r}")
        object.__setattr__(self, "ys", ys)


def twoway(
    frame: pd.DataFrame, layers: list[Layer], by: str | None = None, title: str = ""
) -> Figure:
    """Draw ``layers`` from ``frame``; with ``by``, one panel per value of ``by``."""
    _check_columns(frame, layers, by)
    if frame.empty:
        raise DataError("graph: no observations to plot")
    panels = [(None, frame)] if by is None else list(frame.groupby(by, sort=True))
    ncols = int(np.ceil(np.sqrt(len(panels))))
    nrows = int(np.ceil(len(panels) / ncols))
    fig = Figure(figsize=(min(3.2 * ncols, 12), min(2.6 * nrows + 0.8, 12)), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for ax, (value, part) in zip(axes.flat, panels, strict=False):
        _draw_panel(ax, part, layers)
        if by is not None:
            ax.set_title(f"{by} = {_label(value)}", fontsize=9)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    _labels(fig, axes, layers)
    if title:
        fig.suptitle(title)
    return fig


def _label(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_columns(frame: pd.DataFrame, layers: list[Layer], by: str | None) -> None:
    needed = [c for layer in layers for c in (*layer.ys, layer.x)] + ([by] if by else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"graph: variable(s) not found: {', '.join(missing)}")


def _draw_panel(ax, part: pd.DataFrame, layers: list[Layer]) -> None:
    colour = 0
    for layer in layers:
        if layer.sort:
            part = part.sort_values(layer.x, kind="mergesort")
        x = part[layer.x].to_numpy(float)
        for y_name in layer.ys:
            y = part[y_name].to_numpy(float)
            c = PALETTE[colour % len(PALETTE)]
            colour += 1
            if layer.kind == "scatter":
                ax.scatter(x, y, s=9, color=c, alpha=0.75, label=y_name)
            else:
                for xs, ys in segments(x, y, layer.ascending):
                    ax.plot(xs, ys, color=c, linewidth=1.1)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)


def segments(x: np.ndarray, y: np.ndarray, ascending: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pieces of a line: split at missing values and, if ``ascending``, where x decreases."""
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if len(x) == 0:
        return []
    breaks = np.flatnonzero(np.diff(x) < 0) + 1 if ascending else np.array([], int)
    return list(zip(np.split(x, breaks), np.split(y, breaks), strict=True))


def _labels(fig: Figure, axes: np.ndarray, layers: list[Layer]) -> None:
    ys = list(dict.fromkeys(y for layer in layers for y in layer.ys))
    xs = list(dict.fromkeys(layer.x for layer in layers))
    fig.supxlabel(" / ".join(xs), fontsize=10)
    fig.supylabel(" / ".join(ys), fontsize=10)
    if len(ys) > 1:
        axes.flat[0].legend(fontsize=7, frameon=False)


def matrix(frame: pd.DataFrame, names: list[str], half: bool = False, title: str = "") -> Figure:
    """Scatter-plot matrix; ``half`` draws only the lower triangle, as Stata's option."""
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise DataError(f"graph matrix: variable(s) not found: {', '.join(missing)}")
    if len(names) < 2:
        raise DataError("graph matrix needs at least two variables")
    k = len(names)
    fig = Figure(figsize=(2.1 * k, 2.1 * k), layout="constrained")
    axes = fig.subplots(k, k, squeeze=False)
    for i, row in enumerate(names):
        for j, col in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.text(0.5, 0.5, row, ha="center", va="center", fontsize=11, weight="bold")
                ax.set_xticks([])
                ax.set_yticks([])
            elif half and j > i:
                ax.set_visible(False)
            else:
                ax.scatter(frame[col], frame[row], s=3, color=PALETTE[0], alpha=0.5)
                ax.tick_params(labelsize=6)
    if title:
        fig.suptitle(title)
    return fig


def to_png(fig: Figure, dpi: int = 96) -> bytes:
    """The figure as PNG bytes (what the report stores)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
