"""The numbers Stata's ``mixed`` table prints, computed as data.

Rendering (text, HTML) only lays these rows out, so both renderers and any
later report print identical numbers (MixedModels.jl renders one table object
to several formats the same way).  Here live the Wald test of the fixed
effects, the coefficient rows grouped as Stata groups factor variables, the
random-effects rows with delta-method standard errors and Stata's confidence
intervals, and the LR test against the linear model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..lazy_import import stats
from ..maths import critical_value, wald_statistic
from ..spec.covariance import CovStructure, Entry
from .coef import CoefGroup, Row, coef_groups, parse_name
from .mixed import MixedResult

__all__ = [
    "CoefGroup",
    "RESection",
    "Row",
    "Tables",
    "TestStat",
    "build_tables",
    "coef_groups",
    "critical_value",
    "entry_label",
    "exp_or_nan",
    "log_scale_interval",
    "lr_vs_linear",
    "parse_name",
    "random_sections",
    "wald_test",
]

NAN = float("nan")
# A variance this small relative to the residual variance is a boundary fit.
BOUNDARY_RTOL = 1e-10


@dataclass
class RESection:
    """One random-effects equation (``title``) or the residual (``title=None``)."""

    title: str | None
    rows: list[Row]


@dataclass
class TestStat:
    """A chi-squared test as printed: ``chibar`` marks Stata's chibar2(01)."""

    chi2: float
    df: int
    p: float
    chibar: bool = False


@dataclass
class Tables:
    """Everything the renderers print, in Stata's order."""

    fixed: list[CoefGroup]
    random: list[RESection]
    wald: TestStat
    lr_linear: TestStat | None
    notes: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)


def build_tables(result: MixedResult) -> Tables:
    """Compute every printed number of ``result`` once."""
    sections, notes = random_sections(result)
    footnotes = _number_abbreviated(result, sections)
    return Tables(
        fixed=coef_groups(result),
        random=sections,
        wald=wald_test(result),
        lr_linear=lr_vs_linear(result),
        notes=notes,
        footnotes=footnotes,
    )


def _number_abbreviated(result: MixedResult, sections: list[RESection]) -> list[str]:
    """Mark ``var(a..z)`` labels ``(1)``, ``(2)``... and list the full effect names."""
    footnotes = []
    for block, section in zip(result.design.blocks, sections[:-1], strict=True):
        if not any(".." in row.label for row in section.rows):
            continue
        mark = f"({len(footnotes) + 1})"
        footnotes.append(f"{mark} {' '.join(block.effect_names)}")
        section.rows = [
            replace(row, label=row.label + mark) if ".." in row.label else row
            for row in section.rows
        ]
    return footnotes


# -- fixed effects ----------------------------------------------------------------


def wald_test(result: MixedResult) -> TestStat:
    """Wald chi2 that every fixed effect except ``_cons`` is zero.

    A singular covariance uses the pseudo-inverse and its rank as the degrees
    of freedom, as Stata's ``test`` does for collinear constraints.
    """
    names = result.design.fixed_names
    keep = [i for i, n in enumerate(names) if n != "_cons"]
    if not keep:
        return TestStat(NAN, 0, NAN)
    b = np.asarray(result.beta, float)[keep]
    v = np.asarray(result.vcov_beta, float)[np.ix_(keep, keep)]
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(v))):
        return TestStat(NAN, len(keep), NAN)
    return TestStat(*wald_statistic(b, v))


# -- random effects ---------------------------------------------------------------


def random_sections(result: MixedResult) -> tuple[list[RESection], list[str]]:
    """Random-effects rows per equation, then the residual, with notes.

    Estimates come from ``cov_blocks``/``sigma2``; standard errors come from
    the delta method on ``working_vcov``.  Confidence intervals follow
    Stata's ``_diparm`` transforms: variances and standard deviations on the
    log scale, correlations on the atanh scale, covariances symmetric.
    """
    stddev = result.display == "stddeviations"
    crit = critical_value(result.level)
    vcov = result.working_vcov
    notes: list[str] = []
    if vcov is None:
        notes.append(
            "Standard errors of the covariance parameters are not available "
            "(the information matrix is singular at the estimates)."
        )
    sections = []
    start = 0
    for block, cov in zip(result.design.blocks, result.cov_blocks, strict=True):
        structure, k = block.structure, block.k
        size = structure.n_theta
        piece = slice(start, start + size)
        start += size
        rows = []
        for entry in structure.entries():
            value = _entry_value(np.asarray(cov, float), entry, stddev)
            se = _delta_se(result, piece, structure, entry, stddev)
            label = entry_label(structure, block.effect_names, entry, stddev)
            row = _re_row(label, value, se, entry.kind, stddev, crit)
            if _on_boundary(entry, np.asarray(cov, float), result.sigma2):
                row = Row(label, value)
                if not result.boundary:  # the engine's own boundary notes say it already
                    notes.append(
                        f"{block.level}: {label} is on the boundary of the parameter space."
                    )
            rows.append(row)
        sections.append(RESection(f"{block.level}: {_structure_label(structure, k)}", rows))
    if result.residual_params is not None:
        sections.append(_structured_residual(result, start, stddev, crit))
    else:
        sections.append(RESection(None, [_residual_row(result, stddev, crit)]))
    return sections, notes


def _structured_residual(result: MixedResult, start: int, stddev: bool, crit: float) -> RESection:
    """``Residual: AR(1)`` rows; SEs by the delta method on (psi, log sigma_e).

    Intervals as Stata's ``_diparm``: variances on the log scale, correlations
    (rho) on the atanh scale, covariances and AR/MA coefficients symmetric.
    """
    model = result.design.residual.model
    w = np.asarray(result.working, float)[start:]

    def rows_at(x: np.ndarray) -> list:
        return model.printed(x[:-1], float(np.exp(2 * x[-1])), stddev)

    vcov = result.working_vcov
    v = None if vcov is None else np.asarray(vcov, float)[start:, start:]
    rows = []
    for i, (label, value, kind) in enumerate(rows_at(w)):
        se = NAN
        if v is not None and np.all(np.isfinite(v)):
            se = _quad_se(_gradient(lambda x, i=i: rows_at(x)[i][1], w), v)
        as_corr = kind == "corr"
        rows.append(_re_row(label, value, se, "var" if kind == "var" else "cov", as_corr, crit))
    return RESection(model.title, rows)


def _structure_label(structure: CovStructure, k: int) -> str:
    """One effect has one variance: Stata calls that Identity whatever was asked."""
    return "Identity" if k == 1 else structure.label


def _entry_value(cov: np.ndarray, entry: Entry, stddev: bool) -> float:
    i = 0 if entry.i is None else entry.i
    if entry.kind == "var":
        v = float(cov[i, i])
        return math.sqrt(max(v, 0.0)) if stddev else v
    j = 1 if entry.j is None else entry.j
    c = float(cov[i, j])
    if not stddev:
        return c
    denom = math.sqrt(float(cov[i, i]) * float(cov[j, j]))
    return c / denom if denom > 0 else NAN


def _delta_se(result, piece, structure: CovStructure, entry, stddev) -> float:
    """Delta-method SE; boundary components (no finite working value) are held at ~0.

    An entry that does not depend on a boundary component (var(_cons) when
    var(math3) is zero under independence) keeps its standard error, as Stata.
    """
    if result.working_vcov is None:
        return NAN
    w = np.asarray(result.working, float)[piece]
    w = np.where(np.isfinite(w), w, -40.0)

    def f(x: np.ndarray) -> float:
        return _entry_value(structure.cov_from_working(x), entry, stddev)

    grad = _gradient(f, w)
    used = np.abs(grad) > 1e-12
    v = np.asarray(result.working_vcov, float)[piece, piece][np.ix_(used, used)]
    if not used.any() or not np.all(np.isfinite(v)):
        return NAN
    return _quad_se(grad[used], v)


def _gradient(f, w: np.ndarray) -> np.ndarray:
    """Central differences: the maps are smooth exp/tanh/logistic compositions."""
    grad = np.empty(len(w))
    for m in range(len(w)):
        h = 1e-5 * max(1.0, abs(float(w[m])))
        up, down = w.copy(), w.copy()
        up[m] += h
        down[m] -= h
        grad[m] = (f(up) - f(down)) / (2 * h)
    return grad


def _quad_se(grad: np.ndarray, v: np.ndarray) -> float:
    var = float(grad @ v @ grad)
    return math.sqrt(var) if math.isfinite(var) and var >= 0 else NAN


def _re_row(label, value, se, kind, stddev, crit) -> Row:
    if not (math.isfinite(se) and math.isfinite(value)):
        return Row(label, value, se)
    if kind == "var":
        if value <= 0:
            return Row(label, value, se)
        return Row(label, value, se, *log_scale_interval(value, se, crit))
    if stddev:
        if abs(value) >= 1:
            return Row(label, value, se)
        center = math.atanh(value)
        half = crit * se / (1 - value * value)
        return Row(label, value, se, math.tanh(center - half), math.tanh(center + half))
    return Row(label, value, se, value - crit * se, value + crit * se)


def log_scale_interval(value: float, se: float, crit: float) -> tuple[float, float]:
    """Stata's interval for a positive variance or SD, symmetric on the log scale.

    ``value * exp(+-crit * se / value)`` overflows when the value is tiny and
    its standard error is not (a near-boundary fit): ``crit * se / value`` is
    then astronomically large.  The endpoints are therefore formed as
    ``exp(log(value) -+ half)``; one that still exceeds the float range is
    returned as NaN, which prints as Stata's missing ``.``, and one that
    underflows is 0, its limit.
    """
    if not (value > 0 and math.isfinite(value) and math.isfinite(se)):
        return NAN, NAN
    centre = math.log(value)
    half = crit * se / value  # may be inf: float division saturates, exp does not
    return exp_or_nan(centre - half), exp_or_nan(centre + half)


def exp_or_nan(x: float) -> float:
    """``exp(x)``, or NaN (printed ``.``) where the result is not a finite float."""
    try:
        out = math.exp(x)
    except OverflowError:
        return NAN
    return out if math.isfinite(out) else NAN


def _on_boundary(entry: Entry, cov: np.ndarray, sigma2: float) -> bool:
    i = 0 if entry.i is None else entry.i
    j = (1 if entry.kind == "cov" else i) if entry.j is None else entry.j
    scale = BOUNDARY_RTOL * max(float(sigma2), np.finfo(float).tiny)
    if cov[i, i] <= scale or cov[j, j] <= scale:
        return True
    if entry.kind == "cov":
        r = cov[i, j] / math.sqrt(cov[i, i] * cov[j, j])
        return abs(r) > 1 - 1e-8
    return False


def _residual_row(result: MixedResult, stddev: bool, crit: float) -> Row:
    label = "sd(Residual)" if stddev else "var(Residual)"
    power = 1 if stddev else 2
    value = float(result.sigma2) ** (power / 2)
    se = NAN
    if result.working_vcov is not None:
        v = float(np.asarray(result.working_vcov, float)[-1, -1])
        # d exp(p * w) / dw = p * value
        se = power * value * math.sqrt(v) if math.isfinite(v) and v >= 0 else NAN
    return _re_row(label, value, se, "var", stddev, crit)


def entry_label(structure: CovStructure, names: tuple[str, ...], entry: Entry, sd: bool) -> str:
    """The parameter label as Stata's ``mixed`` prints it.

    Stata joins the effects of identity/exchangeable blocks with a space
    (``var(x z)``) but writes the single exchangeable covariance of two
    effects with a comma (``cov(x,z)``); with more effects it abbreviates to
    8 characters each and, past 20 characters, to ``first..last``.
    """
    kind = ("sd" if entry.kind == "var" else "corr") if sd else entry.kind
    if entry.i is not None:
        inner = names[entry.i] if entry.kind == "var" else f"{names[entry.i]},{names[entry.j]}"
        return f"{kind}({inner})"
    if len(names) <= 2:
        sep = "," if entry.kind == "cov" and len(names) == 2 else " "
        return f"{kind}({sep.join(names)})"
    short = [_short_name(n) for n in names]
    inner = " ".join(short)
    if len(inner) > 20:
        inner = f"{short[0]}..{short[-1]}"
    return f"{kind}({inner})"


def _short_name(name: str) -> str:
    if name.startswith("R."):
        return "R." + _abbrev8(name[2:])
    return _abbrev8(name)


def _abbrev8(name: str) -> str:
    return name if len(name) <= 8 else name[:6] + "~" + name[-1]


# -- LR test vs the linear model -------------------------------------------------


def lr_vs_linear(result: MixedResult) -> TestStat | None:
    """Stata's "LR test vs. linear model" footer.

    With one covariance parameter the null sits on the boundary and the
    statistic is a 50:50 mixture of chi2(0) and chi2(1) (chibar2(01));
    with more, Stata reports chi2(k) and calls it conservative.
    """
    k = len(result.working) - 1
    if k < 1 or result.loglik_linear is None or not math.isfinite(result.loglik_linear):
        return None
    stat = max(2.0 * (float(result.loglik) - float(result.loglik_linear)), 0.0)
    if k == 1:
        p = 1.0 if stat <= 0 else 0.5 * float(stats.chi2.sf(stat, 1))
        return TestStat(stat, 1, p, chibar=True)
    return TestStat(stat, k, float(stats.chi2.sf(stat, k)))
