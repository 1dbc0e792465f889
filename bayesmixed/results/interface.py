"""Layout helpers every result kind shares: the short repr and the summary frame.

The shared behaviour itself (kind, accessors, postestimation) is
:class:`bayesmixed.results.base.ResultBase`; these two functions lay out its
numbers: :func:`short_repr` backs ``repr(result)`` and :func:`summary_frame`
the likelihood fits' ``summary()``.
"""

from __future__ import annotations

import pandas as pd

SUMMARY_COLUMNS = ["estimate", "se", "z", "p", "lower", "upper"]


def short_repr(result) -> str:
    """A few lines: kind, command, sample, criterion, and where the numbers are."""
    spec = result.design.spec
    command = " ".join(str(spec.source).split()) or spec.command
    if len(command) > 200:
        command = command[:197] + "..."
    groups = ", ".join(f"{g.level} ({g.n_groups:,})" for g in result.design.group_info)
    lines = [
        f"<{type(result).__name__}: {command}>",
        f"  {result._fit_line()}",
        f"  Number of obs = {result.nobs:,}" + (f"; groups: {groups}" if groups else ""),
        f"  {_count(len(result.design.fixed_names), 'fixed effect')}; "
        f"{_count(_n_random(result), 'random-effects parameter')}",
        "  print(result) for Stata's output; result.summary() for the table as data",
    ]
    return "\n".join(lines)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _n_random(result) -> int:
    return sum(len(b.structure.entries()) for b in result.design.blocks)


def summary_frame(rows: list[tuple[str, object]]) -> pd.DataFrame:
    """(equation, Row) pairs -> the summary frame, indexed by (equation, parameter)."""
    data = [[row.estimate, row.se, row.z, row.p, row.lower, row.upper] for _, row in rows]
    index = pd.MultiIndex.from_tuples(
        [(eq, row.label) for eq, row in rows], names=["equation", "parameter"]
    )
    return pd.DataFrame(data, index=index, columns=SUMMARY_COLUMNS, dtype=float)
