"""Stata's ``estimates store NAME`` and ``estimates table a b``.

A small registry of fitted models by name and a side-by-side table of their
coefficients.  It reads only the accessors every result shares (``coef``,
and where present ``se``, ``nobs``, ``loglik``, ``aic``, ``bic``), so ML,
REML, GLMM and Bayesian fits sit in one table: for a Bayesian fit ``coef``
is the posterior mean and ``se`` the posterior SD.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from ..results.base import kind_of
from ..results.format import fmt_g

STATS = {"N": "nobs", "ll": "loglik", "aic": "aic", "bic": "bic"}


class Estimates:
    """Named fitted models, in the order they were stored."""

    def __init__(self) -> None:
        self._store: dict[str, object] = {}

    def store(self, name: str, result: object) -> None:
        """``estimates store NAME``: keep ``result`` under ``name`` (replacing any)."""
        if not isinstance(name, str) or not name.strip() or " " in name.strip():
            raise SpecificationError(f"estimates store: {name!r} is not a valid name (one word)")
        if kind_of(result) is None:
            raise SpecificationError(
                f"estimates store: {type(result).__name__} is not a fitted model"
            )
        self._store[name.strip()] = result

    def get(self, name: str) -> object:
        """``estimates restore NAME``: the stored result."""
        if name not in self._store:
            known = ", ".join(self._store) or "none stored"
            raise SpecificationError(f"estimation result {name} not found ({known})")
        return self._store[name]

    def drop(self, *names: str) -> None:
        for name in names:
            self.get(name)
            del self._store[name]

    def clear(self) -> None:
        self._store.clear()

    def dir(self) -> list[str]:
        """``estimates dir``: the stored names."""
        return list(self._store)

    def table(self, *names: str, se: bool = False, stats=("N", "ll")) -> pd.DataFrame:
        """``estimates table a b``: see :func:`estimates_table`."""
        chosen = names or tuple(self._store)
        return estimates_table(
            *(self.get(n) for n in chosen), names=list(chosen), se=se, stats=stats
        )


def estimates_table(
    *results, names: list[str] | None = None, se: bool = False, stats=("N", "ll")
) -> pd.DataFrame:
    """Coefficients of several fits side by side, one column per model.

    Rows are the union of the coefficient names in first-seen order (a model
    without a coefficient shows NaN); with ``se=True`` each coefficient gets a
    second row of standard errors (posterior SDs for Bayesian fits).  ``stats``
    rows follow: ``N``, ``ll``, ``aic``, ``bic``.
    """
    if not results:
        raise SpecificationError("estimates table needs at least one model")
    names = names or [f"model{i + 1}" for i in range(len(results))]
    if len(names) != len(results):
        raise SpecificationError(f"{len(names)} names given for {len(results)} models")
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise SpecificationError(f"estimates table: unknown stats {unknown}; use {list(STATS)}")
    coefs = [r.coef for r in results]
    order = list(dict.fromkeys(n for c in coefs for n in c.index))
    order = [n for n in order if n != "_cons"] + [n for n in order if n == "_cons"]
    rows, labels = [], []
    for name in order:
        rows.append([c.get(name, np.nan) for c in coefs])
        labels.append((name, "b"))
        if se:
            rows.append([_se(r).get(name, np.nan) for r in results])
            labels.append((name, "se"))
    for stat in stats:
        rows.append([_stat(r, STATS[stat]) for r in results])
        labels.append((stat, ""))
    index = pd.MultiIndex.from_tuples(labels, names=["Variable", ""])
    return pd.DataFrame(np.array(rows, dtype=float), index=index, columns=names)


def _se(result) -> pd.Series:
    """Standard errors (posterior SDs for a Bayesian fit), every kind has them."""
    return result.se if kind_of(result) is not None else pd.Series(dtype=float)


def _stat(result, attr: str) -> float:
    """A row of statistics; a posterior has no maximized likelihood, so only N."""
    kind = kind_of(result)
    if kind is None or (attr != "nobs" and not kind.likelihood):
        return math.nan
    value = getattr(result, attr)
    return float(value) if value is not None else math.nan


def format_estimates_table(frame: pd.DataFrame) -> str:
    """Stata's ``estimates table`` layout (coefficients, then ``se`` rows, then stats)."""
    width = 12 * len(frame.columns)
    rule, mid = "-" * (14 + width), "-" * 13 + "+" + "-" * (width + 1)
    head = f"{'Variable':>12} |" + "".join(f"{str(c)[:11]:>12}" for c in frame.columns)
    lines = [rule, head, mid]
    first_stat = True
    for (name, stat), row in frame.iterrows():
        if stat == "" and first_stat:
            lines.append(mid)
            first_stat = False
        label = "" if stat == "se" else str(name)[:12]
        cells = "".join(f"{'' if math.isnan(v) else fmt_g(v, 9):>12}" for v in row.to_numpy())
        lines.append(f"{label:>12} |{cells}")
    lines.append(rule)
    if any(s == "se" for _, s in frame.index):
        lines.append(f"{'Legend: b/se':>{14 + width}}")
    return "\n".join(lines)


estimates = Estimates()
"""The session's registry, as Stata keeps one: ``estimates.store("ri", r)``."""
