"""Stata's ``contrast`` and ``pwcompare`` of a factor after ``mixed`` and ``me*``.

Both compare the *marginal linear predictions* of a factor's levels, as
Stata does by default ("Margins: asbalanced"): at each level, the linear
prediction with every other factor's levels weighted equally and every
continuous covariate at its mean.  The linear prediction is linear in the
design columns, so that margin is ``xbar_k' beta`` where each column of
``xbar_k`` is the product of its components' balanced means (indicator of
the contrasted factor: 0 or 1; of another factor: 1/L; a covariate: its
sample mean) -- no averaging over rows is needed, and the Jacobian is
``xbar_k`` itself.  Without interactions of the factor the contrasts are
differences of coefficients whatever the averaging; with them, the balanced
weighting is what makes the result Stata's.

``contrast dose`` uses Stata's default ``r.`` operator (each level against
the base level) and reports the joint Wald chi2 of all of them;
``pwcompare dose`` reports every pairwise difference (later level minus
earlier), unadjusted unless ``mcompare(bonferroni)`` or ``mcompare(sidak)``.
``effects`` adds z statistics and p-values to the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..maths import wald_statistic
from ..spec.options import DEFAULT_LEVEL
from .margins_design import estimation_frame, model_factors
from .margins_spec import MarginsError, split_options

MCOMPARE = ("noadjust", "bonferroni", "sidak")


@dataclass
class Comparison:
    """``contrast`` or ``pwcompare`` output; ``str()`` prints Stata's layout."""

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


def balanced_rows(result, frame: pd.DataFrame, var: str) -> tuple[list[str], np.ndarray]:
    """Level labels of factor ``var`` and the balanced X row at each level (L x p)."""
    factors = model_factors(result, frame)
    if var not in factors:
        raise MarginsError(
            f"{var}: factor variables required ({var} must enter the model as i.{var})"
        )
    target = factors[var]
    out = np.ones((target.n_levels, result.design.p))
    for k, label in enumerate(target.labels):
        for j, name in enumerate(result.design.fixed_names):
            if name == "_cons":
                continue
            for part in name.split("#"):
                out[k, j] *= _balanced_mean(frame, factors, part, var, label)
    return target.labels, out


def _balanced_mean(frame, factors, part: str, var: str, label: str) -> float:
    name = part[2:] if part.startswith("c.") else part
    if name in frame.columns and name not in factors:
        return float(pd.to_numeric(frame[name]).mean())
    level, _, fvar = part.partition(".")
    if fvar == var:
        return float(level == label)
    if fvar in factors:
        return 1.0 / factors[fvar].n_levels
    raise MarginsError(f"cannot read the design column part '{part}'")


def _parse(text: str, command: str) -> tuple[str, dict]:
    body, options = split_options(text)
    words = body.split()
    if len(words) != 1:
        raise MarginsError(f"{command}: give one factor variable, e.g. '{command} dose'")
    prefix = re.match(r"^([a-z]+)\.", words[0])
    if prefix and prefix.group(1) not in ("i", "r"):
        raise MarginsError(
            f"{command} {words[0]}: only the r. operator (each level vs the base) is supported"
        )
    term = words[0][prefix.end() :] if prefix else words[0]
    if "#" in term:
        raise MarginsError(f"{command}: interactions are not supported yet; give one factor")
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
    return term, opts


def contrast(result, data: pd.DataFrame | None, spec: str) -> Comparison:
    """Stata's ``contrast var`` (``r.`` contrasts: each level vs the base) with the joint test."""
    var, opts = _parse(spec, "contrast")
    frame = estimation_frame(result, data)
    labels, rows = balanced_rows(result, frame, var)
    base = model_factors(result, frame)[var].base or 0
    pairs = [(k, base) for k in range(len(labels)) if k != base]
    return _compare(result, "contrast", var, labels, rows, pairs, opts)


def pwcompare(result, data: pd.DataFrame | None, spec: str) -> Comparison:
    """Stata's ``pwcompare var``: every pair of levels, later minus earlier."""
    var, opts = _parse(spec, "pwcompare")
    frame = estimation_frame(result, data)
    labels, rows = balanced_rows(result, frame, var)
    pairs = [(j, i) for i in range(len(labels)) for j in range(i + 1, len(labels))]
    return _compare(result, "pwcompare", var, labels, rows, pairs, opts)


def _compare(result, kind, var, labels, rows, pairs, opts) -> Comparison:
    L = np.array([rows[a] - rows[b] for a, b in pairs])
    beta = np.asarray(result.beta, float)
    V = np.asarray(result.vcov_beta, float)
    est = L @ beta
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", L, V, L), 0, None))
    z = est / se
    m = len(pairs)
    adjust = opts["mcompare"] if kind == "pwcompare" else "noadjust"
    p = _adjust_p(2 * stats.norm.sf(np.abs(z)), adjust, m)
    crit = _critical(opts["level"], adjust, m)
    table = pd.DataFrame(
        {"estimate": est, "se": se, "z": z, "p": p, "lower": est - crit * se,
         "upper": est + crit * se}
    )  # fmt: skip
    fmt = "({} vs {})" if kind == "contrast" else "{} vs {}"
    text = [fmt.format(labels[a], labels[b]) for a, b in pairs]
    chi2, df, p_joint = wald_statistic(est, L @ V @ L.T)
    return Comparison(
        kind, var, text, table, L, chi2, df, p_joint, opts["level"], opts["effects"],
        "none" if adjust == "noadjust" else adjust, result.nobs,
    )  # fmt: skip


def _adjust_p(p: np.ndarray, method: str, m: int) -> np.ndarray:
    if method == "bonferroni":
        return np.minimum(1.0, p * m)
    if method == "sidak":
        return 1.0 - (1.0 - p) ** m
    return p


def _critical(level: float, method: str, m: int) -> float:
    alpha = 1.0 - level / 100.0
    if method == "bonferroni":
        alpha = alpha / m
    elif method == "sidak":
        alpha = 1.0 - (1.0 - alpha) ** (1.0 / m)
    return float(stats.norm.ppf(1.0 - alpha / 2.0))
