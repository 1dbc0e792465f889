"""Text rendering of a :class:`GLMMResult` in the layout of Stata's ``melogit``/``mepoisson``.

As in Stata's ``me`` commands, the random-effects parameters sit in the
same table as the fixed effects, under a line naming their level; the header
adds the integration method and points, and the footer the LR test against
the model without random effects.  ``or``/``irr``/``eform`` show exp(b)
with delta-method standard errors exp(b) se(b) and exponentiated interval
limits, as Stata does.  Numbers use :mod:`.format` (Stata's ``%9.0g``).
"""

from __future__ import annotations

import math

import numpy as np

from ..lazy_import import stats
from ..maths import critical_value
from .coef import Row, coef_row
from .format import abbrev, fmt_chi2, fmt_f, fmt_fc, fmt_g, stat_pair, two_columns
from .glmm import GLMMResult
from .render import ci_header, group_header_lines
from .render_robust import adjusted_lines, is_robust, pseudo, robust_heading
from .table import RESection, exp_or_nan, log_scale_interval, wald_test

WIDTH = 78
STUB = 12

_EFORM = {"or": "Odds ratio", "irr": "IRR", "eform": "exp(b)"}
_METHOD = {"laplace": "laplace", "mvaghermite": "mvaghermite", "mcaghermite": "mcaghermite"}


def title(result: GLMMResult) -> str:
    name = result.family.titles.get(result.link)
    return f"Mixed-effects {name[0]}" if name else "Mixed-effects GLM"


def comparison_model(result: GLMMResult) -> str:
    name = result.family.titles.get(result.link)
    return name[1] if name else "GLM"


def header_lines(result: GLMMResult) -> list[str]:
    lines = [two_columns(title(result), stat_pair("Number of obs", fmt_fc(result.nobs)))]
    if result.link not in result.family.titles:
        fam = result.family.name
        if result.family.uses_trials:
            fam += f" {result.design.spec.trials}"
        lines += [two_columns(f"Family: {fam:>17}"), two_columns(f"Link:   {result.link:>17}")]
    lines += group_header_lines(result, pad=16)
    method = f"Integration method: {result.intmethod:>11}"
    lines += ["", two_columns(method, stat_pair("Integration pts.", str(result.intpoints)))]
    wald = wald_test(result)  # the same Wald chi2 (all but _cons) as after mixed
    chi2, df, p = wald.chi2, wald.df, wald.p
    lines += ["", " " * 48 + stat_pair(f"Wald chi2({df})", fmt_f(chi2, 2))]
    ll = f"{pseudo('Log likelihood', result)} = {fmt_g(result.loglik, 10):>10}"
    lines.append(two_columns(ll, stat_pair("Prob > chi2", fmt_f(p, 4))))
    return lines


# -- the printed numbers, as data (also behind GLMMResult.summary) ---------------------------
def fixed_rows(result: GLMMResult) -> list[Row]:
    """Coefficient rows on the linear-predictor scale, then the family's ancillary rows.

    ``or``/``irr``/``eform`` are a display transform applied by :func:`fixed_lines`.
    """
    crit = critical_value(result.level)
    rows = [coef_row(result, i, name, crit) for i, name in enumerate(result.design.fixed_names)]
    return rows + ancillary_rows(result, crit)


def ancillary_rows(result: GLMMResult, crit: float) -> list[Row]:
    """``/lnalpha`` (tested, as before) or ``/cut1 ...`` (no test, as Stata prints cutpoints).

    Standard errors are the delta method through the family's working ->
    shown map (the identity for a log dispersion).
    """
    anc = result.family.ancillary
    if anc is None:
        return []
    working = np.asarray(result.working[len(result.working) - len(anc.labels) :], float)
    shown = result.family.anc_shown(working)
    cov = _ancillary_cov(result, working)
    rows = []
    for i, label in enumerate(anc.labels):
        se = math.sqrt(cov[i, i]) if cov is not None and cov[i, i] >= 0 else float("nan")
        if anc.shown == "working":
            rows.append(wald_row("/" + label, float(shown[i]), se, crit))
        else:
            b = float(shown[i])
            rows.append(Row("/" + label, b, se, b - crit * se, b + crit * se))
    return rows


def _ancillary_cov(result: GLMMResult, working: np.ndarray) -> np.ndarray | None:
    v = result.working_vcov
    m = len(working)
    if v is None:
        return None
    block = v[-m:, -m:]
    jac = np.empty((m, m))
    for j in range(m):
        h = 1e-6 * max(1.0, abs(working[j]))
        up, down = working.copy(), working.copy()
        up[j] += h
        down[j] -= h
        jac[:, j] = (result.family.anc_shown(up) - result.family.anc_shown(down)) / (2 * h)
    return jac @ block @ jac.T


def wald_row(label: str, b: float, se: float, crit: float) -> Row:
    """Estimate, se, z, p and a symmetric interval; no se, no test."""
    if not (math.isfinite(se) and se > 0):
        return Row(label, b, se)
    z = b / se
    p = float(2 * stats.norm.sf(abs(z)))
    return Row(label, b, se, b - crit * se, b + crit * se, z, p)


def random_sections(result: GLMMResult) -> list[RESection]:
    """Each level's variances and covariances with delta-method SEs (working scale).

    Intervals as Stata's: variances on the log scale, covariances symmetric.
    """
    crit = critical_value(result.level)
    sections = []
    start = 0
    for block, cov in zip(result.design.blocks, result.cov_blocks, strict=True):
        size = block.structure.n_theta
        piece = slice(start, start + size)
        start += size
        rows = []
        for entry in block.structure.entries():
            value, se = _entry(result, block, cov, entry, piece)
            rows.append(re_row(entry.label, value, se, entry.kind, crit))
        sections.append(RESection(block.key, rows))
    return sections


def re_row(label: str, value: float, se: float, kind: str, crit: float) -> Row:
    """A variance (interval on the log scale) or covariance (symmetric) row."""
    lo = hi = float("nan")
    if math.isfinite(se) and kind == "var" and value > 0:
        lo, hi = log_scale_interval(value, se, crit)
    elif math.isfinite(se):
        lo, hi = value - crit * se, value + crit * se
    return Row(label, value, se, lo, hi)


# -- text ---------------------------------------------------------------------------------
def _cells(row: Row, eform: bool) -> str:
    est, se, lo, hi = row.estimate, row.se, row.lower, row.upper
    if not (math.isfinite(se) and se > 0):
        value = exp_or_nan(est) if eform else est
        return f"{fmt_g(value):>11}{'.':>11}{'.':>9}{'.':>8}{'.':>13}{'.':>12}"
    if not math.isfinite(row.z):  # cutpoints: Stata prints no test
        return f"{fmt_g(est):>11}{fmt_g(se):>11}{'':>17}{fmt_g(lo):>13}{fmt_g(hi):>12}"
    if eform:
        # a separated logit has huge b and se: exp() past the float range prints "."
        est, lo, hi = exp_or_nan(est), exp_or_nan(lo), exp_or_nan(hi)
        se = est * se
    return (
        f"{fmt_g(est):>11}{fmt_g(se):>11}{row.z:>9.2f}{row.p:>8.3f}{fmt_g(lo):>13}{fmt_g(hi):>12}"
    )


def fixed_lines(result: GLMMResult) -> list[str]:
    eform = result.eform
    # Stata 17's headings; "Coefficient" fills 11 columns, so Stata shifts it one left
    label = f"{_EFORM[eform]:>11} " if eform else " Coefficient"
    depvar = abbrev(result.design.spec.response, STUB)
    head = f"{depvar:>{STUB}} |{label}  Std. err.      z    P>|z|{ci_header(result.level):>25}"
    top = adjusted_lines(result, WIDTH) + ["-" * WIDTH] + robust_heading(result, STUB, 21)
    lines = [*top, head, "-" * (STUB + 1) + "+" + "-" * 64]
    rows = fixed_rows(result)
    n_fixed = len(result.design.fixed_names)
    for i, row in enumerate(rows):
        anc = result.family.ancillary
        if i == n_fixed and anc is not None and anc.shown == "natural":
            lines.append("-" * (STUB + 1) + "+" + "-" * 64)  # cutpoints get their own block
        name = abbrev(row.label, STUB)
        lines.append(f"{name:>{STUB}} |" + _cells(row, bool(eform) and i < n_fixed))
    return lines


def random_lines(result: GLMMResult) -> list[str]:
    lines = ["-" * (STUB + 1) + "+" + "-" * 64]
    for section in random_sections(result):
        lines.append(f"{abbrev(section.title, STUB):<{STUB}} |")
        for row in section.rows:
            lines.append(f"{abbrev(row.label, STUB + 1):>{STUB + 1}}|" + _re_cells(row))
        lines.append("-" * (STUB + 1) + "+" + "-" * 64)
    lines[-1] = "-" * WIDTH
    return lines


def _entry(result, block, cov, entry, piece) -> tuple[float, float]:
    i = 0 if entry.i is None else entry.i
    j = (1 if entry.kind == "cov" else i) if entry.j is None else entry.j
    value = float(cov[i, j])
    v = result.working_vcov
    if v is None:
        return value, float("nan")
    w = np.asarray(result.working[piece], float)
    w = np.where(np.isfinite(w), w, -40.0)  # a variance at zero: held at ~0, as in table.py
    grad = np.empty(len(w))
    for m in range(len(w)):
        h = 1e-6 * max(1.0, abs(w[m]))
        up, down = w.copy(), w.copy()
        up[m] += h
        down[m] -= h
        f_up = block.structure.cov_from_working(up)[i, j]
        f_down = block.structure.cov_from_working(down)[i, j]
        grad[m] = (f_up - f_down) / (2 * h)
    used = np.abs(grad) > 1e-12  # one held at zero (NaN after vce(robust)) does not enter
    var = float(grad[used] @ v[piece, piece][np.ix_(used, used)] @ grad[used])
    return value, math.sqrt(var) if var >= 0 and used.any() else float("nan")


def _re_cells(row: Row) -> str:
    pad = " " * 17
    return (
        f" {fmt_g(row.estimate):>10}{fmt_g(row.se):>11}{pad}"
        f"{fmt_g(row.lower):>13}{fmt_g(row.upper):>12}"
    )


def footer_lines(result: GLMMResult) -> list[str]:
    if is_robust(result):
        return robust_footer(result)
    chi2, df, p, chibar = result.lr_test()
    model = comparison_model(result)
    if chibar:
        left = f"LR test vs. {model}: chibar2(01) = {fmt_chi2(chi2)}"
        right, col = f"Prob >= chibar2 = {fmt_f(p, 4)}", 54
    else:
        left = f"LR test vs. {model}: chi2({df}) = {fmt_chi2(chi2)}"
        right, col = f"Prob > chi2 = {fmt_f(p, 4)}", 58
    lines = [f"{left:<{col}}{right}" if len(left) < col else f"{left} {right}"]
    notes = list(result.design.notes) + list(result.boundary) + list(result.notes)
    if not chibar:
        notes.insert(0, "LR test is conservative and provided only for reference.")
    if result.eform and result.design.spec.constant:
        what = {"or": "odds", "irr": "incidence rate", "eform": "exp(b)"}[result.eform]
        notes.append(f"_cons estimates baseline {what} (conditional on zero random effects).")
    lines += ["", *[f"Note: {n}" for n in notes]] if notes else []
    if not result.converged:
        lines += ["", "Warning: convergence not achieved"]
    return lines


def robust_footer(result: GLMMResult) -> list[str]:
    """Notes and warnings only: no LR test after robust standard errors (as Stata)."""
    notes = list(result.design.notes) + list(result.boundary) + list(result.notes)
    lines = ["", *[f"Note: {n}" for n in notes]] if notes else []
    if not result.converged:
        lines += ["", "Warning: convergence not achieved"]
    return lines


def render_text(result: GLMMResult) -> str:
    """Stata-style text output of a fitted GLMM."""
    lines = header_lines(result) + fixed_lines(result) + random_lines(result)
    return "\n".join(lines + footer_lines(result)) + "\n"
