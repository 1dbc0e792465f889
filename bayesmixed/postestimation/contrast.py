"""Stata's ``contrast`` and ``pwcompare`` of factors and interactions after ``mixed`` and ``me*``.

Both compare the *marginal linear predictions* of factor cells, as Stata does
by default ("Margins: asbalanced"): at each cell, the linear prediction with
every other factor's levels weighted equally and every continuous covariate at
its mean.  The linear prediction is linear in the design columns, so that margin
is ``xbar' beta`` where each column of ``xbar`` is the product of its
components' balanced means (indicator of a factor held at a level: 0 or 1; of
another factor: 1/L; a covariate: its sample mean) -- no averaging over rows is
needed, and the contrast's row of ``L`` is a combination of those ``xbar``.

``contrast`` takes one or more terms: ``dose`` (a factor's main effect),
``dose#female`` (an interaction) or ``dose female dose#female``.  Without an
operator each term gets its joint Wald test only (Stata's ANOVA-style table);
with ``r.`` on every part (``r.dose``, ``r.dose#r.female``) the individual
contrasts are listed too: each level against the base level, and for an
interaction the products of those (the interaction contrast
``(1 vs 0) (1 vs 0)`` is ``mu_11 - mu_10 - mu_01 + mu_00``).  The joint test of a
term is the Wald chi2 of all its contrasts (for an interaction, on
``(L_a - 1)(L_b - 1)`` df when the model has the interaction).

``pwcompare dose`` reports every pairwise difference of one factor's margins
(later level minus earlier), unadjusted unless ``mcompare(bonferroni)`` or
``mcompare(sidak)``.  ``effects`` adds z statistics and p-values to the table.

After ``mixed ..., dfmethod()`` (or ``estat df, post``) the inference is Stata's
small-sample one: each joint test is an F test with the method's denominator df
for its rows (Kenward-Roger: adjusted covariance and scaled F), and each
contrast a t test with the method's df for that row.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..lazy_import import stats
from ..maths import wald_statistic
from ..spec.options import DEFAULT_LEVEL
from .margins_design import estimation_frame, model_factors
from .margins_spec import MarginsError, split_options

MCOMPARE = ("noadjust", "bonferroni", "sidak")


@dataclass(frozen=True)
class Term:
    """One term of ``contrast``: its factors, and whether the contrasts are listed (``r.``)."""

    variables: tuple[str, ...]
    listed: bool  # r. on every part: list the contrasts, not only the joint test

    @property
    def name(self) -> str:
        return "#".join(self.variables)


@dataclass(frozen=True)
class JointTest:
    """The Wald test of one term's contrasts: chi2 on ``df`` degrees of freedom.

    After ``dfmethod()``: ``f`` on (``df``, ``ddf``) degrees of freedom, and ``p`` is its.
    """

    term: str
    chi2: float
    df: int
    p: float
    f: float | None = None
    ddf: float | None = None


@dataclass
class Comparison:
    """``contrast`` or ``pwcompare`` output; ``str()`` prints Stata's layout.

    ``table`` holds every contrast of every term (estimate, se, z, p, lower,
    upper), ``labels`` their row labels and ``sections`` the term each row
    belongs to; ``tests`` the joint test of each term.  ``chi2``, ``df`` and
    ``p_joint`` test all the contrasts together (the term's own with one term).
    """

    kind: str  # "contrast" or "pwcompare"
    term: str
    labels: list[str]
    table: pd.DataFrame  # estimate, se, z, p, lower, upper
    L: np.ndarray  # rows: the contrasts as combinations of beta
    chi2: float
    df: int
    p_joint: float
    level: float
    effects: bool
    adjustment: str = "none"
    nobs: int = 0
    tests: list[JointTest] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    term_listed: list[bool] = field(default_factory=list)  # r.: the term's contrasts shown
    dfmethod: str = ""  # the small-sample method's label: t and F tests (table gains "df")

    @property
    def listed(self) -> bool:
        """Whether the contrasts table is printed (some term has ``r.``)."""
        return any(self.term_listed)

    @property
    def title(self) -> str:
        what = "Contrasts" if self.kind == "contrast" else "Pairwise comparisons"
        return f"{what} of marginal linear predictions"

    @property
    def margins_line(self) -> str:
        return "Margins: asbalanced"

    def __str__(self) -> str:
        from .margins_render import render_contrast, render_pwcompare

        return render_contrast(self) if self.kind == "contrast" else render_pwcompare(self)


# -- balanced margins ------------------------------------------------------------------------
def balanced_row(result, frame: pd.DataFrame, factors: dict, held: dict[str, str]) -> np.ndarray:
    """The balanced X row with each factor in ``held`` at its level (label)."""
    out = np.ones(result.design.p)
    for j, name in enumerate(result.design.fixed_names):
        if name == "_cons":
            continue
        for part in name.split("#"):
            out[j] *= _balanced_mean(frame, factors, part, held)
    return out


def balanced_rows(result, frame: pd.DataFrame, var: str) -> tuple[list[str], np.ndarray]:
    """Level labels of factor ``var`` and the balanced X row at each level (L x p)."""
    factors = _factors(result, frame, (var,))
    labels = factors[var].labels
    return labels, np.array([balanced_row(result, frame, factors, {var: lab}) for lab in labels])


def _factors(result, frame: pd.DataFrame, names: tuple[str, ...]) -> dict:
    factors = model_factors(result, frame)
    for var in names:
        if var not in factors:
            raise MarginsError(
                f"{var}: factor variables required ({var} must enter the model as i.{var})"
            )
    return factors


def _balanced_mean(frame, factors, part: str, held: dict[str, str]) -> float:
    name = part[2:] if part.startswith("c.") else part
    if name in frame.columns and name not in factors:
        return float(pd.to_numeric(frame[name]).mean())
    level, _, fvar = part.partition(".")
    if fvar in held:
        return float(level == held[fvar])
    if fvar in factors:
        return 1.0 / factors[fvar].n_levels
    raise MarginsError(f"cannot read the design column part '{part}'")


def interaction_rows(result, frame: pd.DataFrame, term: Term) -> tuple[list[str], np.ndarray]:
    """The ``r.`` contrasts of a term: each non-base level (combination) against the base.

    For factors ``a`` and ``b`` the row of level pair (j, k) is
    ``x(j,k) - x(j,0) - x(0,k) + x(0,0)`` (the base levels 0), and in general the
    signed sum over the cells that put each factor at its level or its base.
    """
    factors = _factors(result, frame, term.variables)
    chosen = [factors[v] for v in term.variables]
    bases = [f.base if f.base is not None else 0 for f in chosen]
    levels = [[k for k in range(f.n_levels) if k != b] for f, b in zip(chosen, bases)]
    labels, rows = [], []
    for combo in itertools.product(*levels):
        row = np.zeros(result.design.p)
        for mask in itertools.product((0, 1), repeat=len(combo)):
            held = {
                v: f.labels[k if on else b]
                for v, f, k, b, on in zip(term.variables, chosen, combo, bases, mask)
            }
            sign = (-1) ** (len(combo) - sum(mask))
            row += sign * balanced_row(result, frame, factors, held)
        rows.append(row)
        labels.append(" ".join(f"({f.labels[k]} vs {f.labels[b]})" for f, k, b in
                               zip(chosen, combo, bases)))  # fmt: skip
    return labels, np.array(rows)


# -- parsing ---------------------------------------------------------------------------------
_PART = re.compile(r"^(?:([A-Za-z]+)\.)?([A-Za-z_][A-Za-z0-9_]*)$")


def _terms(body: str, command: str) -> list[Term]:
    words = body.split()
    if not words:
        raise MarginsError(f"{command}: give a factor variable, e.g. '{command} dose'")
    out = []
    for word in words:
        if "##" in word:
            raise MarginsError(f"{command} {word}: write the terms out (a b a#b) instead of ##")
        ops, names = [], []
        for part in word.split("#"):
            match = _PART.match(part)
            if not match:
                raise MarginsError(f"{command}: cannot read the term '{word}'")
            op = (match.group(1) or "").lower()
            if op not in ("", "i", "r"):
                raise MarginsError(
                    f"{command} {word}: only the r. operator (each level vs the base) is supported"
                )
            ops.append(op == "r")
            names.append(match.group(2))
        if len(set(names)) < len(names):
            raise MarginsError(f"{command} {word}: a factor appears twice in the term")
        if len(names) > 1 and any(ops) and not all(ops):
            raise MarginsError(
                f"{command} {word}: give r. on every factor of an interaction (r.a#r.b) or on "
                "none (a#b, the joint test)"
            )
        out.append(Term(tuple(names), all(ops)))
    return out


def _parse(text: str, command: str) -> tuple[list[Term], dict]:
    body, options = split_options(text)
    terms = _terms(body, command)
    if command == "pwcompare" and (len(terms) > 1 or len(terms[0].variables) > 1):
        raise MarginsError("pwcompare: give one factor variable, e.g. 'pwcompare dose'")
    opts: dict = {"effects": False, "level": DEFAULT_LEVEL, "mcompare": "noadjust"}
    for name, arg in options:
        if name.startswith("eff"):
            opts["effects"] = True
        elif name.startswith("l") and "level".startswith(name):
            opts["level"] = float(arg or DEFAULT_LEVEL)
        elif name.startswith("mcomp") and command == "pwcompare":
            method = (arg or "").strip()
            if method not in MCOMPARE:
                raise MarginsError(f"mcompare({method}): use {', '.join(MCOMPARE)}")
            opts["mcompare"] = method
        else:
            raise MarginsError(f"{command}: option {name} not supported")
    return terms, opts


# -- the commands ----------------------------------------------------------------------------
def contrast(result, data: pd.DataFrame | None, spec: str) -> Comparison:
    """Stata's ``contrast`` of factors and interactions (see the module notes)."""
    terms, opts = _parse(spec, "contrast")
    frame = estimation_frame(result, data)
    labels, blocks, sections, tests = [], [], [], []
    inference = _inference(result)
    V = np.asarray(result.vcov_beta if inference is None else inference.vcov, float)
    beta = np.asarray(result.beta, float)
    for term in terms:
        names, rows = interaction_rows(result, frame, term)
        chi2, df, p = wald_statistic(rows @ beta, rows @ V @ rows.T)
        if df == 0:
            raise MarginsError(
                f"contrast {term.name}: not testable -- the model has no {term.name} "
                f"{'interaction' if len(term.variables) > 1 else 'effect'}"
            )
        if inference is None:
            tests.append(JointTest(term.name, chi2, df, p))
        else:
            ft = inference.test(rows)
            tests.append(JointTest(term.name, chi2, ft.ndf, ft.p, ft.stat, ft.ddf))
        labels += names
        blocks.append(rows)
        sections += [term.name] * len(names)
    out = _compare(result, "contrast", " ".join(t.name for t in terms), labels,
                   np.vstack(blocks), opts)  # fmt: skip
    out.tests, out.sections, out.term_listed = tests, sections, [t.listed for t in terms]
    return out


def pwcompare(result, data: pd.DataFrame | None, spec: str) -> Comparison:
    """Stata's ``pwcompare var``: every pair of levels, later minus earlier."""
    terms, opts = _parse(spec, "pwcompare")
    var = terms[0].variables[0]
    frame = estimation_frame(result, data)
    labels, rows = balanced_rows(result, frame, var)
    pairs = [(j, i) for i in range(len(labels)) for j in range(i + 1, len(labels))]
    L = np.array([rows[a] - rows[b] for a, b in pairs])
    text = [f"{labels[a]} vs {labels[b]}" for a, b in pairs]
    out = _compare(result, "pwcompare", var, text, L, opts)
    out.sections = [var] * len(text)
    return out


def _inference(result):
    """The fit's small-sample inference (``dfmethod()``), or ``None`` for z and chi2."""
    method = getattr(result, "dfmethod", None)
    if method is None:
        return None
    from .dfmethod import small_sample

    return small_sample(result, method)


def _compare(result, kind, term, labels, L, opts) -> Comparison:
    inference = _inference(result)
    beta = np.asarray(result.beta, float)
    V = np.asarray(result.vcov_beta if inference is None else inference.vcov, float)
    est = L @ beta
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", L, V, L), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    m = len(labels)
    adjust = opts["mcompare"] if kind == "pwcompare" else "noadjust"
    # t with each row's own df after dfmethod(); the normal (df = inf) otherwise
    dfs = np.full(m, np.inf) if inference is None else np.array([inference.test(r).ddf for r in L])
    p = _adjust_p(2 * stats.t.sf(np.abs(z), dfs), adjust, m)
    crit = _critical(opts["level"], adjust, m, dfs)
    table = pd.DataFrame(
        {"estimate": est, "se": se, "z": z, "p": p, "lower": est - crit * se,
         "upper": est + crit * se}
    )  # fmt: skip
    if inference is not None:
        table["df"] = dfs
    chi2, df, p_joint = wald_statistic(est, L @ V @ L.T)
    out = Comparison(
        kind, term, labels, table, L, chi2, df, p_joint, opts["level"], opts["effects"],
        "none" if adjust == "noadjust" else adjust, result.nobs,
    )  # fmt: skip
    out.dfmethod = "" if inference is None else inference.method.label
    return out


def _adjust_p(p: np.ndarray, method: str, m: int) -> np.ndarray:
    if method == "bonferroni":
        return np.minimum(1.0, p * m)
    if method == "sidak":
        return 1.0 - (1.0 - p) ** m
    return p


def _critical(level: float, method: str, m: int, dfs: np.ndarray) -> np.ndarray:
    """Each row's critical value: normal (df inf) or t, at the (adjusted) level."""
    alpha = 1.0 - level / 100.0
    if method == "bonferroni":
        alpha = alpha / m
    elif method == "sidak":
        alpha = 1.0 - (1.0 - alpha) ** (1.0 / m)
    return stats.t.ppf(1.0 - alpha / 2.0, dfs)
