"""Stata's ``test``, ``testparm`` and ``lincom`` after ``mixed`` and ``me*``.

Linear hypotheses ``R b = r`` on the fixed effects, tested by Wald's
statistic ``W = (Rb - r)' (R V R')^-1 (Rb - r)`` against chi2 (Stata uses
chi2, not F, after ``mixed`` and ``me*``), and linear combinations ``c'b``
with standard error ``sqrt(c'Vc)``.  After ``mixed ..., dfmethod()`` (or
``estat df, post``) ``test`` and ``testparm`` report ``F(q, ddf)`` instead, as
Stata does (``small``): ``W / q`` against F with the method's denominator df
for the tested rows (Satterthwaite's and Kenward-Roger's multi-row ddf, KR's
adjusted covariance and F scaling; :meth:`.dfmethod.SmallSample.test`).
Hypotheses are written as Stata writes them: coefficient names (``math3``,
``_cons``, ``1.dose``, ``_b[size]``), numbers, ``+``, ``-``, ``*`` and one ``=``.
A constraint that is a linear combination of earlier ones is dropped with
Stata's note; a set that contradicts itself is refused.

The header's "Wald chi2" of a fitted model (every coefficient but ``_cons``,
one helper for ``mixed`` and ``me*``) stays in
:func:`bayesmixed.results.table.wald_test`, which cannot import this module;
it equals ``test`` of all the slopes, and both compute the statistic with
:func:`bayesmixed.maths.wald_statistic`.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..errors import BayesmixedError
from ..lazy_import import stats
from ..maths import critical_value, wald_statistic
from ..results.base import kind_of
from ..results.format import fmt_g
from ..spec.options import DEFAULT_LEVEL
from .wald_output import EFORM_LABELS, LincomResult, TestResult

__all__ = ["EFORM_LABELS", "LincomResult", "TestResult", "WaldError", "lincom", "test", "testparm"]

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.#])")
_NAME = re.compile(r"_b\[([^\]]+)\]|(?:\[([^\]]+)\])?([A-Za-z0-9_.#]+)")
_RANK_TOL = 1e-10


class WaldError(BayesmixedError):
    """A hypothesis or linear combination that cannot be parsed or tested."""


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


def test(result, spec: str, small: bool | str | None = None) -> TestResult:
    """Stata's ``test``: ``"math3"``, ``"math3 = 0.5"``, ``"1.dose 2.dose"``,
    ``"1.dose = 2.dose"``, ``"2*math3 + _cons = 1"``, ``"(a = 0) (b = c)"``.

    ``small``: ``None`` (the default) reports F with the fit's ``dfmethod()``
    ddf when it has one, chi2 otherwise; ``True`` insists on F (Stata's
    ``small``, an error without a ``dfmethod()``); ``False`` asks for chi2; a
    method name (``"kroger"``, ``"satterthwaite, oim"``) uses that method.
    """
    b, V, names, response = _parts(result)
    hyps = parse_hypotheses(spec, names, response)
    return _run(b, V, names, response, hyps, _small_inference(result, small))


def testparm(result, varlist: str, small: bool | str | None = None) -> TestResult:
    """Stata's ``testparm``: every named coefficient is 0 (``i.dose`` = its non-base levels).

    ``small`` as for :func:`test`.
    """
    b, V, names, response = _parts(result)
    hyps = [parse_linear(n, names, response) for n in expand_testparm(varlist, names)]
    return _run(b, V, names, response, hyps, _small_inference(result, small))


def _small_inference(result, small: bool | str | None):
    """The :class:`~.dfmethod.SmallSample` an F test uses, or ``None`` for chi2."""
    from .dfmethod import small_sample

    if small is False:
        return None
    method = getattr(result, "dfmethod", None)
    if isinstance(small, str):
        method = small
    elif small is True and method is None:
        raise WaldError(
            "test, small: the model was fit without dfmethod(); refit mixed with "
            "dfmethod(residual|repeated|anova|satterthwaite|kroger) or run "
            "'estat df, method(...) post' first"
        )
    if method is None:
        return None
    if not hasattr(result, "dfmethod"):
        raise WaldError("test, small: small-sample F tests are available after mixed only")
    return small_sample(result, method)


def _run(b, V, names, response, hyps, inference=None) -> TestResult:
    R = np.array([h[0] for h in hyps])
    r = np.array([h[1] for h in hyps])
    chi2, df, p, dropped = wald_chi2(b, V, R, r)
    texts = [constraint_text(R[i], r[i], names, response) for i in range(len(R))]
    gone = [i + 1 for i in dropped]
    if inference is None:
        return TestResult(chi2, df, p, texts, gone)
    kept = [i for i in range(len(R)) if i not in dropped]
    ftest = inference.test(R[kept], r[kept])
    return TestResult(chi2, df, ftest.p, texts, gone, ftest.stat, ftest.ddf, inference.method.label)


def lincom(result, expr: str, level: float | None = None, eform: str | None = None) -> LincomResult:
    """Stata's ``lincom``: estimate, SE, z, p and CI of ``c'b`` (plus any constant).

    ``eform`` (``"or"``, ``"irr"``, ``"eform"``) reports ``exp`` of the estimate
    and interval, with SE ``exp(estimate) * se`` (delta method), as Stata.  After
    ``mixed ..., dfmethod()`` the statistic is t with the method's df for ``c``
    (and Kenward-Roger's adjusted covariance), as Stata's small-sample ``lincom``.
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
    inference = _small_inference(result, None)
    df = None
    if inference is not None:  # t with the method's df (and KR's covariance)
        V = inference.vcov
        df = inference.test(c[None, :]).ddf if np.any(c) else None
    est = float(c @ b + const)
    var = float(c @ V @ c)
    se = math.sqrt(var) if var > 0 else float("nan")
    z = est / se if se > 0 else float("nan")
    ref = stats.norm if df is None else stats.t(df)
    p = float(2 * ref.sf(abs(z))) if math.isfinite(z) else float("nan")
    crit = critical_value(level) if df is None else float(stats.t.ppf(0.5 + level / 200, df))
    lo, hi = est - crit * se, est + crit * se
    if eform:
        est, lo, hi = math.exp(est), math.exp(lo), math.exp(hi)
        se = est * se
    text = constraint_text(c, -const, names, response)
    return LincomResult(est, se, z, p, lo, hi, text, response, level, eform, df)
