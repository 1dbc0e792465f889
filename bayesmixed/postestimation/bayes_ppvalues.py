"""``bayespredict`` and ``bayesstats ppvalues``: posterior predictive p-values, in Stata's words.

A posterior predictive p-value (Gelman, Meng and Stern 1996) is P(T(y_rep) >= T(y)) over
the joint posterior of the parameters and the replicated data: each kept draw gives one
replicate of the estimation sample (:func:`.bayes_replicate.replicate`, which draws
from the family object), the statistic is computed on it and compared with the same
statistic of the observed response.  Values near 0 or 1 say the model does not
reproduce that feature of the data.

Items, as Stata writes them:

- ``(label:@func({_ysim}))``: a built-in statistic of the replicated sample
  (:data:`STATISTICS`; ``@sd`` and ``@variance`` use n - 1, ``@skewness`` and
  ``@kurtosis`` the moment estimators of Stata's ``summarize``);
- ``{_ysim}`` or ``{_ysim[numlist]}``: the replicated observations themselves, one row
  each (``{_ysim1}`` is the same: a ``bayes: mixed`` model has one outcome);
- ``{label}``: a statistic saved by an earlier ``bayespredict ..., saving(name)``
  (with ``using name``).

Our extension: a bare statistic name (``mean``, ``sd``...) is ``(name:@name({_ysim}))``,
and without ``using`` the replicates are drawn on the spot.  Statistics of parameters
(``{_resid}``, ``{_mu}``) are refused with a message: E(T_obs) then needs the
per-draw mean, which the replicates do not carry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import BayesmixedError, NotSupportedError
from .margins_spec import numlist


def _moment_ratio(power: int) -> Callable[[np.ndarray], np.ndarray]:
    def stat(y: np.ndarray) -> np.ndarray:
        dev = y - y.mean(axis=-1, keepdims=True)
        m2 = np.mean(dev**2, axis=-1)
        return np.mean(dev**power, axis=-1) / m2 ** (power / 2)

    return stat


STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda y: y.mean(axis=-1),
    "sd": lambda y: y.std(axis=-1, ddof=1),
    "variance": lambda y: y.var(axis=-1, ddof=1),
    "min": lambda y: y.min(axis=-1),
    "max": lambda y: y.max(axis=-1),
    "median": lambda y: np.median(y, axis=-1),
    "sum": lambda y: y.sum(axis=-1),
    "q1": lambda y: np.percentile(y, 25, axis=-1),
    "q3": lambda y: np.percentile(y, 75, axis=-1),
    "iqr": lambda y: np.subtract(*np.percentile(y, [75, 25], axis=-1)),
    "skewness": _moment_ratio(3),
    "kurtosis": _moment_ratio(4),
}
"""Statistics of the replicated sample (the last axis); Stata's ``@func`` names."""

_FUNCTION = re.compile(r"^\(\s*(?:([A-Za-z_]\w*)\s*:)?\s*@(\w+)\(\s*\{\s*(\w+)\s*\}\s*\)\s*\)$")
_YSIM = re.compile(r"^\{\s*_ysim1?\s*(?:\[([^\]]*)\])?\s*\}$")
_SAVED = re.compile(r"^\{\s*([A-Za-z_]\w*)\s*\}$")
_OUTCOME = {"_ysim", "_ysim1"}


@dataclass
class Predictions:
    """``bayespredict``'s saved result: the replicates and the statistics defined on them."""

    ysim: np.ndarray  # (chain, draw, obs)
    observed: np.ndarray  # (obs,)
    statistics: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (func, text)


@dataclass
class PPValues:
    """One row per statistic: posterior predictive mean and SD of T, E(T_obs), P(T >= T_obs)."""

    table: pd.DataFrame  # index: label; columns mean, sd, t_obs, p
    definitions: list[tuple[str, str]]
    sample_size: int

    def __str__(self) -> str:
        stub = min(max([12] + [len(s) for s in self.table.index]), 28)
        width = stub + 2 + 4 * 13
        lines = [f"{'Posterior predictive summary':<50}MCMC sample size = {self.sample_size:>10,}"]
        lines += [""] + [f"{label:>12} : {text}" for label, text in self.definitions]
        lines += [""] if self.definitions else []
        heads = ("Mean", "Std. dev.", "E(T_obs)", "P(T>=T_obs)")
        lines += ["-" * width, f"{'T':>{stub}} |" + "".join(f"{h:>13}" for h in heads)]
        lines += ["-" * stub + "-+" + "-" * (width - stub - 2)]
        for label, row in self.table.iterrows():
            cells = "".join(f" {row[k]:>12.6g}" for k in ("mean", "sd", "t_obs", "p"))
            lines.append(f"{label[-stub:]:>{stub}} |{cells}")
        lines += ["-" * width, "Note: P(T>=T_obs) close to 0 or 1 indicates lack of fit."]
        return "\n".join(lines) + "\n"


def predictions(result, spec: str = "", draws: int | None = None, seed: int | None = None):
    """``bayespredict {_ysim} (label:@func({_ysim})) ...``: replicates plus named statistics.

    Every kept draw (``draws`` per chain; all by default) gives one replicate of the
    estimation sample; the statistics listed in ``spec`` are computed on each.
    """
    from .bayes_replicate import replicate

    ysim = np.asarray(replicate(result, draws, seed).values)
    observed = observed_response(result)
    stats = {}
    for text in _split(spec):
        if _YSIM.match(text):
            continue
        label, func = _function(text)
        stats[label] = (func, f"@{func}({{_ysim}})")
    return Predictions(ysim, observed, stats)


def observed_response(result) -> np.ndarray:
    """The estimation sample's response, on the replicates' scale and in their order.

    The fit's ``observed_data`` group holds it as the replicates come out (counts for
    binomial trials, the observed codes for ordinal models); a result built by hand
    without that group falls back to the design's response.
    """
    if "observed_data" in result.idata.children:
        return np.asarray(result.idata["observed_data"][result.design.spec.response].values, float)
    return np.asarray(result.design.y, float)


def ppvalues(result, spec: str = "", draws: int | None = None, seed: int | None = None,
             using: Predictions | None = None) -> PPValues:  # fmt: skip
    """``bayesstats ppvalues items [using name]``: P(T(y_rep) >= T(y)) for each item.

    Without ``using`` the replicates are drawn here (``draws`` per chain, ``seed``).
    """
    texts = _split(spec)
    if not texts:
        raise BayesmixedError(
            "bayesstats ppvalues: name the statistics, e.g. (mean:@mean({_ysim})) "
            "(sd:@sd({_ysim})) or {_ysim[1/5]}"
        )
    pred = using if using is not None else predictions(result, "", draws, seed)
    rows, defs = {}, []
    for text in texts:
        for label, t_rep, t_obs, definition in _item(text, pred):
            rows[label] = _row(t_rep, t_obs)
            defs += [(label, definition)] if definition else []
    table = pd.DataFrame.from_dict(rows, orient="index")
    return PPValues(table, defs, int(np.prod(pred.ysim.shape[:2])))


def _row(t_rep: np.ndarray, t_obs: float) -> dict[str, float]:
    flat = t_rep.ravel()
    return {
        "mean": float(flat.mean()),
        "sd": float(flat.std(ddof=1)) if flat.size > 1 else float("nan"),
        "t_obs": float(t_obs),
        "p": float(np.mean(flat >= t_obs)),
    }


def _item(text: str, pred: Predictions):
    """(label, T over the replicates, T of the data, definition line) for one item."""
    match = _YSIM.match(text)
    if match:
        n = pred.observed.size
        index = _observations(match.group(1), n) if match.group(1) else range(1, n + 1)
        return [(f"_ysim1_{i}", pred.ysim[..., i - 1], pred.observed[i - 1], "") for i in index]
    saved = _SAVED.match(text)
    if saved:
        label = saved.group(1)
        if label not in pred.statistics:
            known = ", ".join(f"{{{k}}}" for k in pred.statistics) or "none"
            raise BayesmixedError(
                f"bayesstats ppvalues: {text} is not a statistic saved by bayespredict "
                f"(saved: {known})"
            )
        func, definition = pred.statistics[label]
    else:
        label, func = _function(text)
        definition = f"@{func}({{_ysim}})"
    stat = STATISTICS[func]
    return [(label, stat(pred.ysim), float(stat(pred.observed)), definition)]


def _function(text: str) -> tuple[str, str]:
    """``(label:@func({_ysim}))`` or a bare ``func`` -> (label, func)."""
    bare = text.strip()
    if bare in STATISTICS:
        return bare, bare
    match = _FUNCTION.match(bare)
    if match is None:
        raise BayesmixedError(
            f"cannot read '{text}': write (label:@func({{_ysim}})) with func one of "
            f"{', '.join(STATISTICS)}, or {{_ysim[numlist]}}"
        )
    label, func, outcome = match.groups()
    if outcome not in _OUTCOME:
        raise NotSupportedError(
            f"{{{outcome}}} in '{text}': posterior predictive statistics take the replicated "
            "outcome {_ysim}; statistics of {_resid} or {_mu} are not available"
        )
    if func not in STATISTICS:
        raise BayesmixedError(
            f"@{func}() in '{text}' is not a built-in statistic (available: "
            f"{', '.join('@' + s for s in STATISTICS)})"
        )
    return label or func, func


def _observations(text: str, n: int) -> list[int]:
    try:
        values = numlist(text)
    except BayesmixedError:
        raise BayesmixedError(f"{{_ysim[{text}]}}: observations are a numlist (1/5, 2 4)") from None
    out = [int(v) for v in values]
    bad = [v for v, w in zip(out, values, strict=True) if v != w or not 1 <= v <= n]
    if bad:
        raise BayesmixedError(f"{{_ysim[{text}]}}: observations run from 1 to {n}, not {bad[0]:g}")
    return out


def _split(spec: str) -> list[str]:
    """Items at depth 0: parenthesised groups, braced names and bare words."""
    out, depth, start = [], 0, None
    for i, ch in enumerate(spec + " "):
        depth += {"(": 1, "{": 1, "[": 1, ")": -1, "}": -1, "]": -1}.get(ch, 0)
        if depth < 0:
            raise BayesmixedError(f"unbalanced brackets in '{spec}'")
        if start is None and not ch.isspace():
            start = i
        if start is None or depth:
            continue
        group_closed = ch in ")}" and spec[start] in "({"
        if group_closed or ch.isspace():
            out.append(spec[start : i + group_closed])
            start = None
    if depth:
        raise BayesmixedError(f"unbalanced brackets in '{spec}'")
    return out
