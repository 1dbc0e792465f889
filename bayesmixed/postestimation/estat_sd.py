"""Stata's ``estat sd``: random-effect standard deviations and correlations with SEs.

After ``mixed`` (and ``me*``) Stata reports variance components as variances
and covariances unless told ``stddeviations``; ``estat sd`` redisplays them as
standard deviations and correlations without refitting.  Standard errors are
the delta method on the covariance of the working parameters (log standard
deviations, atanh correlations, log sigma_e), and the intervals are Stata's:
standard deviations on the log scale, correlations on the atanh scale, then
transformed back.  With robust standard errors the working covariance is the
sandwich, so ``estat sd`` is robust too, and says so in its heading.

The map from a structure's working vector to its standard deviations and
correlations is differentiated numerically (central differences, step 1e-6
relative): it is a composition of exp, tanh and the logistic, smooth
everywhere, and differentiating it numerically needs no per-structure algebra.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..errors import NotSupportedError
from ..maths import critical_value
from ..results.coef import Row
from ..results.table import RESection, entry_label

COLUMNS = ["estimate", "se", "lower", "upper"]


def estat_sd(result, level: float | None = None) -> pd.DataFrame:
    """SDs and correlations of each level's random effects (and the residual SD).

    Returns a frame indexed by (equation, parameter), with columns estimate,
    se, lower, upper, in the order Stata prints them.
    """
    rows = [(title, row) for title, section in _sections(result, level) for row in section.rows]
    index = pd.MultiIndex.from_tuples(
        [(title, row.label) for title, row in rows], names=["equation", "parameter"]
    )
    values = [[row.estimate, row.se, row.lower, row.upper] for _, row in rows]
    return pd.DataFrame(values, index=index, columns=COLUMNS)


def format_estat_sd(result, level: float | None = None) -> str:
    """The table ``estat sd`` prints: the random-effects table in SDs and correlations."""
    from ..results.render import random_lines

    sections = [section for _, section in _sections(result, level)]
    shown = SimpleNamespace(
        level=float(result.level if level is None else level),
        vce=getattr(result, "vce", "oim"),
    )
    return "\n".join(random_lines(shown, SimpleNamespace(random=sections)))


def _sections(result, level: float | None) -> list[tuple[str, RESection]]:
    if getattr(result, "residual_params", None) is not None:
        raise NotSupportedError("estat sd is not available with a residuals() structure yet")
    if not hasattr(result, "working_vcov"):
        raise NotSupportedError("estat sd is available after mixed and me* fits")
    crit = critical_value(float(result.level if level is None else level))
    w = np.asarray(result.working, float)
    v = result.working_vcov
    out, start = [], 0
    for block in result.design.blocks:
        s = block.structure
        piece = slice(start, start + s.n_theta)
        start += s.n_theta
        rows = _block_rows(
            block, w[piece], None if v is None else np.asarray(v)[piece, piece], crit
        )
        label = "Identity" if block.k == 1 else s.label
        out.append((block.level, RESection(f"{block.level}: {label}", rows)))
    if hasattr(result, "sigma2"):  # mixed: log sigma_e is the last working parameter
        se_w = math.nan if v is None else math.sqrt(float(np.asarray(v)[-1, -1]))
        sd = math.sqrt(float(result.sigma2))
        out.append(("Residual", RESection(None, [_sd_row("sd(Residual)", sd, sd * se_w, crit)])))
    return out


def _block_rows(block, w: np.ndarray, v: np.ndarray | None, crit: float) -> list[Row]:
    s = block.structure
    w = np.where(np.isfinite(w), w, -40.0)  # a zero variance: sd ~0, no SE
    entries = s.entries()
    values = _sd_corr(s, w, entries)
    jac = _jacobian(lambda x: _sd_corr(s, x, entries), w)
    rows = []
    for m, entry in enumerate(entries):
        se = math.nan
        if v is not None:
            used = np.abs(jac[m]) > 1e-12
            sub = v[np.ix_(used, used)]
            if used.any() and np.all(np.isfinite(sub)):
                se = math.sqrt(max(float(jac[m, used] @ sub @ jac[m, used]), 0.0))
        label = entry_label(s, block.effect_names, entry, True)
        make = _sd_row if entry.kind == "var" else _corr_row
        rows.append(make(label, float(values[m]), se, crit))
    return rows


def _sd_corr(structure, w: np.ndarray, entries) -> np.ndarray:
    cov = structure.cov_from_working(w)
    out = []
    for entry in entries:
        i = 0 if entry.i is None else entry.i
        if entry.kind == "var":
            out.append(math.sqrt(max(float(cov[i, i]), 0.0)))
        else:
            j = 1 if entry.j is None else entry.j
            out.append(float(cov[i, j]) / math.sqrt(float(cov[i, i]) * float(cov[j, j])))
    return np.array(out)


def _jacobian(f, w: np.ndarray) -> np.ndarray:
    cols = []
    for m in range(len(w)):
        h = 1e-6 * max(1.0, abs(float(w[m])))
        up, down = w.copy(), w.copy()
        up[m] += h
        down[m] -= h
        cols.append((f(up) - f(down)) / (2 * h))
    return np.column_stack(cols) if cols else np.zeros((0, 0))


def _sd_row(label: str, sd: float, se: float, crit: float) -> Row:
    if not (math.isfinite(se) and sd > 1e-12):
        return Row(label, sd, se if sd > 1e-12 else math.nan)
    half = crit * se / sd
    return Row(label, sd, se, sd * math.exp(-half), sd * math.exp(half))


def _corr_row(label: str, r: float, se: float, crit: float) -> Row:
    if not (math.isfinite(se) and abs(r) < 1):
        return Row(label, r, se)
    z, half = math.atanh(r), crit * se / (1 - r * r)
    return Row(label, r, se, math.tanh(z - half), math.tanh(z + half))
