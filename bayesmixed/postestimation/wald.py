"""Stata's ``test``, ``testparm`` and ``lincom`` after ``mixed`` and ``me*``.

Linear hypotheses ``R b = r`` on the fixed effects, tested by Wald's
statistic ``W = (Rb - r)' (R V R')^-1 (Rb - r)`` against chi2 (Stata uses
chi2, not F, after ``mixed`` and ``me*``), and linear combinations ``c'b``
with standard error ``sqrt(c'Vc)``.  Hypotheses are written as Stata writes
them: coefficient names (``math3``, ``_cons``, ``1.dose``, ``_b[size]``),
numbers, ``+``, ``-``, ``*`` and one ``=``.  A constraint that is a linear
combination of earlier ones is dropped with Stata's note; a set that
contradicts itself is refused.

The header's "Wald chi2" of a fitted model (every coefficient but ``_cons``,
one helper for ``mixed`` and ``me*``) stays in
:func:`bayesmixed.results.table.wald_test`, which cannot import this module;
it equals ``test`` of all the slopes, and both compute the statistic with
:func:`bayesmixed.maths.wald_statistic`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..errors import BayesmixedError
from ..maths import critical_value, wald_statistic
from ..results.base import kind_of
from ..results.format import fmt_g
from ..results.render import ci_header
from ..spec.options import DEFAULT_LEVEL

EFORM_LABELS = {"or": "Odds ratio", "irr": "IRR", "eform": "exp(b)"}
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.#])")
_NAME = re.compile(r"_b\[([^\]]+)\]|(?:\[([^\]]+)\])?([A-Za-z0-9_.#]+)")
_RANK_TOL = 1e-10


class WaldError(BayesmixedError):
    """A hypothesis or linear combination that cannot be parsed or tested."""


# -- results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TestResult:
    """Outcome of :func:`test`; ``str()`` prints it as Stata does after ``mixed``."""

    __test__ = False  # not a pytest class, whatever its name

    chi2: float
    df: int
    p: float
    constraints: list[str] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [""]
        for i, text in enumerate(self.constraints, 1):
            lines.append(f" ({i:2d})  {text}")
            if i in self.dropped:
                lines.append(f"       Constraint {i} dropped")
        lines += [
            "",
            f"           chi2({self.df:3d}) ={self.chi2:8.2f}",
            f"         Prob > chi2 ={self.p:10.4f}",
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class LincomResult:
    """Outcome of :func:`lincom`: on the exponentiated scale when ``eform`` is set.

    ``z`` and ``p`` always test the linear combination against 0 (a ratio
    against 1), as Stata's table does.
    """

    estimate: float
    se: float
    z: float
    p: float
    lower: float
    upper: float
    constraint: str = ""
    depvar: str = ""
    level: float = DEFAULT_LEVEL
    eform: str | None = None

    def __str__(self) -> str:
        label = f"{EFORM_LABELS[self.eform]:>11} " if self.eform else " Coefficient"
        head = f"{self.depvar[:12]:>12} |{label}  Std. err.      z    P>|z|"
        head += f"{ci_header(self.level):>25}"
        z = "." if not math.isfinite(self.z) else f"{self.z:.2f}"
        p = "." if not math.isfinite(self.p) else f"{self.p:.3f}"
        row = (
            f"{'(1)':>12} |{fmt_g(self.estimate):>11}{fmt_g(self.se):>11}{z:>9}{p:>8}"
            f"{fmt_g(self.lower):>13}{fmt_g(self.upper):>12}"
        )
        return "\n".join(
            ["", f" ( 1)  {self.constraint}", "", "-" * 78, head, "-" * 13 + "+" + "-" * 64]
            + [row, "-" * 78]
        )


# -- parsing -----------------------------------------------------------------------------
def parse_linear(text: str, names: list[str], response: str = "") -> tuple[np.ndarray, float]:
    """``2*math3 + _cons - 1`` -> (coefficient vector over ``names``, constant)."""
    coef = np.zeros(len(names))
    const = 0.0
    pos, sign, seen_term = 0, 1.0, False
    src = text.strip()
    if not src:
        raise WaldError("empty expression: give coefficient names, e.g. 'math3 + 2*_cons'")
    while pos < len(src):
        pos = _skip(src, pos)
        if src[pos] in "+-":
            sign = sign * (-1.0 if src[pos] == "-" else 1.0)
            pos += 1
            continue
        mult, name, pos = _term(src, pos, names, response)
        if name is None:
            const += sign * mult
        else:
            coef[names.index(name)] += sign * mult
        sign, seen_term = 1.0, True
        pos = _skip(src, pos)
        if pos < len(src) and src[pos] not in "+-":
            raise WaldError(f"malformed expression '{text}': expected + or - at '{src[pos:]}'")
        if pos < len(src) and _skip(src, pos + 1) >= len(src):
            raise WaldError(f"malformed expression '{text}': it ends in an operator")
    if not seen_term:
        raise WaldError(f"malformed expression '{text}'")
    return coef, const


def _skip(src: str, pos: int) -> int:
    while pos < len(src) and src[pos].isspace():
        pos += 1
    return pos


def _term(src: str, pos: int, names: list[str], response: str) -> tuple[float, str | None, int]:
    """One product of numbers and at most one coefficient name."""
    mult, name = 1.0, None
    while True:
        pos = _skip(src, pos)
        number = _NUMBER.match(src, pos)
        if number:
            mult *= float(number.group())
            pos = number.end()
        else:
            if name is not None:
                raise WaldError(f"'{src}': a term may hold one coefficient (the test is linear)")
            name, pos = _name(src, pos, names, response)
        pos = _skip(src, pos)
        if pos < len(src) and src[pos] == "*":
            pos += 1
            continue
        return mult, name, pos


def _name(src: str, pos: int, names: list[str], response: str) -> tuple[str, int]:
    match = _NAME.match(src, pos)
    if not match or match.end() == pos:
        raise WaldError(f"malformed expression '{src}' at '{src[pos:]}'")
    name = match.group(1) or match.group(3)
    equation = match.group(2)
    if equation is not None and equation != response:
        raise WaldError(f"equation [{equation}] not found: the fixed effects are [{response}]")
    name = name.strip()
    if name not in names:
        raise WaldError(f"coefficient '{name}' not found; the coefficients are: {', '.join(names)}")
    return name, match.end()


def parse_hypotheses(spec: str, names: list[str], response: str = "") -> list[tuple]:
    """Stata's ``test`` syntax -> [(row of R, r)]: ``a b``, ``exp = exp``, ``(h1) (h2)``."""
    text = spec.strip()
    if not text:
        raise WaldError("test: give coefficients or a hypothesis, e.g. 'test math3 = 0.5'")
    if text.startswith("("):
        parts = re.findall(r"\(([^()]*)\)", text)
        if re.sub(r"\(([^()]*)\)", "", text).strip() or not parts:
            raise WaldError(f"malformed hypotheses '{spec}': write (exp = exp) (exp = exp)")
        return [_equation(p, names, response) for p in parts]
    if "=" not in text and not re.search(r"[-+*]", text):
        return [parse_linear(word, names, response) for word in text.split()]
    return [_equation(text, names, response)]


def _equation(text: str, names: list[str], response: str) -> tuple[np.ndarray, float]:
    sides = text.split("=")
    if len(sides) > 2:
        raise WaldError(f"'{text}': one '=' per hypothesis; write (a = b) (b = c) for several")
    left, lconst = parse_linear(sides[0], names, response)
    if len(sides) == 1:
        return left, -lconst
    right, rconst = parse_linear(sides[1], names, response)
    return left - right, rconst - lconst


def expand_testparm(varlist: str, names: list[str]) -> list[str]:
    """``i.dose size`` -> the non-base coefficient names (``1.dose``, ``2.dose``, ``size``)."""
    out: list[str] = []
    for word in varlist.split():
        pattern = "#".join(_component(part) for part in word.split("#"))
        matched = [n for n in names if re.fullmatch(pattern, n) and n != "_cons"]
        if not matched:
            raise WaldError(
                f"testparm: '{word}' matches no coefficient; the coefficients are: "
                f"{', '.join(names)}"
            )
        out += [n for n in matched if n not in out]
    if not out:
        raise WaldError("testparm: give a varlist, e.g. 'testparm i.dose'")
    return out


def _component(part: str) -> str:
    if part.startswith("i."):
        return r"\d+\." + re.escape(part[2:])
    if part.startswith("c."):
        return r"(?:c\.)?" + re.escape(part[2:])
    return re.escape(part).replace(r"\*", r"[A-Za-z0-9_]*")


# -- statistics --------------------------------------------------------------------------
def wald_chi2(b, V, R, r) -> tuple[float, int, float, list[int]]:
    """W, df, p and the (0-based) rows dropped as dependent on earlier ones."""
    b, V = np.asarray(b, float), np.asarray(V, float)
    R, r = np.atleast_2d(np.asarray(R, float)), np.atleast_1d(np.asarray(r, float))
    kept: list[int] = []
    dropped: list[int] = []
    for i in range(len(R)):
        trial = R[kept + [i]]
        if np.linalg.matrix_rank(trial, tol=_RANK_TOL * max(1.0, np.abs(trial).max())) > len(kept):
            kept.append(i)
            continue
        if not np.any(R[i]):
            if r[i] != 0:
                raise WaldError(f"constraint {i + 1} is '0 = {fmt_g(r[i])}': inconsistent")
        else:
            coef, *_ = np.linalg.lstsq(R[kept].T, R[i], rcond=None)
            if abs(coef @ r[kept] - r[i]) > 1e-8 * max(1.0, abs(r[i])):
                raise WaldError(
                    f"constraint {i + 1} contradicts the earlier ones: the hypotheses are "
                    "inconsistent"
                )
        dropped.append(i)
    if not kept:
        raise WaldError("no testable constraint: every hypothesis is '0 = 0'")
    Rk, diff = R[kept], R[kept] @ b - r[kept]
    chi2, rank, p = wald_statistic(diff, Rk @ V @ Rk.T)
    if rank == 0:
        raise WaldError("the constrained coefficients have no sampling variance")
    return chi2, rank, p, dropped


def constraint_text(row: np.ndarray, rhs: float, names: list[str], response: str) -> str:
    """Stata's display of a constraint: ``2*[math5]math3 + [math5]_cons = 1``."""
    parts: list[str] = []
    for c, name in zip(row, names, strict=True):
        if c == 0:
            continue
        size = "" if abs(c) == 1 else f"{fmt_g(abs(c))}*"
        op = ("- " if c < 0 else "") if not parts else ("- " if c < 0 else "+ ")
        parts.append(f"{op}{size}[{response}]{name}")
    return f"{' '.join(parts) or '0'} = {fmt_g(rhs) if rhs != 0 else '0'}"


# -- the commands ------------------------------------------------------------------------
def _parts(result) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    kind = kind_of(result)
    if kind is None or not kind.likelihood:
        raise BayesmixedError(
            f"test, testparm and lincom need a likelihood fit (mixed, me*), not a "
            f"{type(result).__name__}: for a Bayesian fit summarize the posterior of the "
            "combination instead (result.summary(), or the draws in result.posterior)"
        )
    names = list(result.design.fixed_names)
    return (
        np.asarray(result.beta, float),
        np.asarray(result.vcov_beta, float),
        names,
        str(result.design.spec.response),
    )


def test(result, spec: str) -> TestResult:
    """Stata's ``test``: ``"math3"``, ``"math3 = 0.5"``, ``"1.dose 2.dose"``,
    ``"1.dose = 2.dose"``, ``"2*math3 + _cons = 1"``, ``"(a = 0) (b = c)"``."""
    b, V, names, response = _parts(result)
    hyps = parse_hypotheses(spec, names, response)
    return _run(b, V, names, response, hyps)


def testparm(result, varlist: str) -> TestResult:
    """Stata's ``testparm``: every named coefficient is 0 (``i.dose`` = its non-base levels)."""
    b, V, names, response = _parts(result)
    hyps = [parse_linear(n, names, response) for n in expand_testparm(varlist, names)]
    return _run(b, V, names, response, hyps)


def _run(b, V, names, response, hyps) -> TestResult:
    R = np.array([h[0] for h in hyps])
    r = np.array([h[1] for h in hyps])
    chi2, df, p, dropped = wald_chi2(b, V, R, r)
    texts = [constraint_text(R[i], r[i], names, response) for i in range(len(R))]
    return TestResult(chi2, df, p, texts, [i + 1 for i in dropped])


def lincom(result, expr: str, level: float | None = None, eform: str | None = None) -> LincomResult:
    """Stata's ``lincom``: estimate, SE, z, p and CI of ``c'b`` (plus any constant).

    ``eform`` (``"or"``, ``"irr"``, ``"eform"``) reports ``exp`` of the estimate
    and interval, with SE ``exp(estimate) * se`` (delta method), as Stata.
    """
    b, V, names, response = _parts(result)
    if "=" in expr:
        raise WaldError(f"lincom '{expr}': give an expression, not an equation (use test)")
    if eform is not None and eform not in EFORM_LABELS:
        raise WaldError(f"lincom: eform must be one of {', '.join(EFORM_LABELS)}, not '{eform}'")
    level = float(getattr(result, "level", DEFAULT_LEVEL) if level is None else level)
    if not 10 <= level <= 99.99:
        raise WaldError(f"level({level:g}) must be between 10 and 99.99")
    c, const = parse_linear(expr, names, response)
    est = float(c @ b + const)
    var = float(c @ V @ c)
    se = math.sqrt(var) if var > 0 else float("nan")
    z = est / se if se > 0 else float("nan")
    p = float(2 * stats.norm.sf(abs(z))) if math.isfinite(z) else float("nan")
    crit = critical_value(level)
    lo, hi = est - crit * se, est + crit * se
    if eform:
        est, lo, hi = math.exp(est), math.exp(lo), math.exp(hi)
        se = est * se
    text = constraint_text(c, -const, names, response)
    return LincomResult(est, se, z, p, lo, hi, text, response, level, eform)
