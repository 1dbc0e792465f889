"""ML beside Bayes: one row per printed parameter, matched by equation and name.

ML rows come from the fit's own printed tables (so the numbers are those of the
Stata-style output); Bayesian rows from the posterior summary.  Parameters are matched
by (equation, label), e.g. ``("school", "var(_cons)")``; an unmatched parameter still
gets its row, with the other side blank, so nothing is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NAN = float("nan")


@dataclass
class CompareRow:
    equation: str
    label: str
    ml: float = NAN
    ml_se: float = NAN
    mean: float = NAN
    sd: float = NAN
    lo: float = NAN
    hi: float = NAN
    r_hat: float = NAN
    ess: float = NAN


def ml_rows(result) -> list[CompareRow]:
    """(equation, label, estimate, SE) of every parameter of an ML/REML/quadrature fit."""
    response = result.design.spec.response
    rows = [
        CompareRow(response, name, float(b), float(s))
        for name, b, s in zip(result.coef.index, result.coef, result.se, strict=True)
    ]
    from ..results.mixed import MixedResult

    if isinstance(result, MixedResult):
        return rows + _mixed_random(result)
    return rows + _cov_rows(result)


def _mixed_random(result) -> list[CompareRow]:
    from ..results.table import build_tables

    out = []
    for section in build_tables(result).random:
        eq = "Residual" if section.title is None else section.title.split(":")[0].strip()
        for r in section.rows:
            label = "var(e)" if r.label in ("var(Residual)", "var(e)") else r.label
            out.append(CompareRow(eq, label, float(r.estimate), float(r.se)))
    return out


def _cov_rows(result) -> list[CompareRow]:
    out = []
    for key, frame in result.re_cov.items():
        names = list(frame.index)
        for i, a in enumerate(names):
            out.append(CompareRow(key, f"var({a})", float(frame.iloc[i, i])))
        for i, a in enumerate(names):
            for j in range(i + 1, len(names)):
                out.append(CompareRow(key, f"cov({a},{names[j]})", float(frame.iloc[i, j])))
    return out


def bayes_rows(result) -> list[CompareRow]:
    summary = result.summary()
    return [
        CompareRow(
            eq,
            param,
            mean=row["mean"],
            sd=row["sd"],
            lo=row["eti_lo"],
            hi=row["eti_hi"],
            r_hat=row["r_hat"],
            ess=row["ess_bulk"],
        )
        for (eq, param), row in summary.iterrows()
    ]


def side_by_side(ml, bayes) -> list[CompareRow]:
    """Bayesian rows completed with the ML values of the same parameters (ML may be None)."""
    found = {_key(r): r for r in ml_rows(ml)} if ml is not None else {}
    rows = []
    for row in bayes_rows(bayes):
        twin = found.pop(_key(row), None)
        if twin is not None:
            row.ml, row.ml_se = twin.ml, twin.ml_se
        rows.append(row)
    return rows + list(found.values())


def _key(row: CompareRow) -> tuple[str, str]:
    return row.equation, row.label.replace(" ", "")


def same_model(ml_command: str, bayes_command: str) -> bool:
    """Whether ``bayes[, opts]: CMD`` reanalyses ``CMD`` (whitespace-insensitive)."""
    return _squash(ml_command) == _squash(strip_prefix(bayes_command))


def strip_prefix(command: str) -> str:
    depth = 0
    for i, ch in enumerate(command):
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(ch, 0)
        if ch == ":" and depth == 0:
            return command[i + 1 :]
    return command


def _squash(text: str) -> str:
    return " ".join(text.replace(",", " , ").split())


def finite(x: float) -> bool:
    return x is not None and bool(np.isfinite(x))
