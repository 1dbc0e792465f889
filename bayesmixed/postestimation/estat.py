"""``estat ic``, ``group``, ``icc``, ``recovariance`` and ``wcorrelation`` after a fit.

Both return data frames (summaries are data) and have a ``format_*``
companion that prints them as Stata does.  ``ll(null)`` is missing for mixed
models, as in Stata, because no null model is fitted; BIC uses N = the
number of observations, Stata's default.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from ..errors import NotSupportedError, SpecificationError
from ..maths import critical_value
from ..results.base import ResultKind, kind_of
from ..results.format import fmt_fc, fmt_g
from ..results.mixed import MixedResult
from ..results.render import group_table_lines
from ..spec.family import get_family
from ..spec.options import DEFAULT_LEVEL

IC_COLUMNS = ["N", "ll(null)", "ll(model)", "df", "AIC", "BIC"]
IC_TITLE = "Akaike's information criterion and Bayesian information criterion"
IC_NOTE = "Note: BIC uses N = number of observations. See [R] BIC note."


def estat_ic(*results: MixedResult, names: list[str] | None = None) -> pd.DataFrame:
    """One row per model: N, ll(null), ll(model), df, AIC, BIC.

    ``names`` label the rows (Stata labels the active model ``.``).
    """
    if not results:
        raise SpecificationError("estat ic needs at least one fitted model")
    if names is None:
        names = ["."] if len(results) == 1 else [f"model{i + 1}" for i in range(len(results))]
    if len(names) != len(results):
        raise SpecificationError(f"{len(names)} names given for {len(results)} models")
    rows = [
        [r.nobs, math.nan, float(r.loglik), r.df_model, float(r.aic), float(r.bic)] for r in results
    ]
    frame = pd.DataFrame(rows, columns=IC_COLUMNS, index=pd.Index(names, name="Model"))
    return frame.astype({"N": int, "df": int})


def format_estat_ic(frame: pd.DataFrame) -> str:
    """Stata's ``estat ic`` table for a frame from :func:`estat_ic`."""
    rule = "-" * 77
    head = "       Model |          N   ll(null)  ll(model)      df        AIC        BIC"
    lines = [IC_TITLE, "", rule, head, "-" * 13 + "+" + "-" * 63]
    for name, row in frame.iterrows():
        cells = (
            f"{fmt_fc(row['N']):>11}{fmt_g(row['ll(null)'], 9):>11}"
            f"{fmt_g(row['ll(model)'], 9):>11}{int(row['df']):>8}"
            f"{fmt_g(row['AIC'], 9):>11}{fmt_g(row['BIC'], 9):>11}"
        )
        lines.append(f"{str(name)[:12]:>12} |{cells}")
    lines += [rule, IC_NOTE]
    return "\n".join(lines)


def estat_group(result: MixedResult) -> pd.DataFrame:
    """Groups and observations per group (min/avg/max) for every level."""
    if not result.design.group_info:
        raise SpecificationError("the model has no random effects, so no group information")
    return result.groups


def format_estat_group(result: MixedResult) -> str:
    """Stata's ``estat group`` table."""
    estat_group(result)
    return "\n".join(group_table_lines(result))


# -- estat icc -----------------------------------------------------------------------------
ICC_COLUMNS = ["ICC", "Std. err.", "lower", "upper"]


def estat_icc(result, level: float | None = None) -> pd.DataFrame:
    """Stata's ``estat icc``: residual intraclass correlations of a nested model.

    The level-j ICC is the correlation of two responses sharing the groups of
    the top j levels: (sum of those levels' intercept variances) / (all
    intercept variances + residual variance), the residual variance being
    sigma_e^2, or pi^2/3 (logit) and 1 (probit) on the latent scale of a
    binary GLMM.  Random slopes enter at covariates equal to zero, as Stata.
    Standard errors come from the delta method on the working scale; the
    interval is computed for logit(ICC) and transformed back, so it stays
    inside (0, 1) (Stata's method; its ``normal`` option is not offered).
    """
    levels, var_resid = _icc_levels(result)
    level = float(result.level if level is None else level)
    if not 10 <= level <= 99.99:
        raise SpecificationError(f"level({level:g}) must be between 10 and 99.99")
    w_hat = np.asarray(result.working, float)

    def iccs(w: np.ndarray) -> np.ndarray:
        return _icc_values(result, w, levels, var_resid)

    est = iccs(w_hat)
    se = np.full(len(est), np.nan)
    vcov = result.working_vcov
    if vcov is not None and np.all(np.isfinite(w_hat)):
        grad = _gradient(iccs, w_hat)
        se = np.sqrt(np.einsum("ij,jk,ik->i", grad, vcov, grad))
    z = critical_value(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(est / (1 - est))
        half = z * se / (est * (1 - est))
    lower, upper = special.expit(logit - half), special.expit(logit + half)
    labels = ["|".join(reversed(levels[: j + 1])) for j in range(len(levels))]
    frame = pd.DataFrame(
        np.column_stack([est, se, lower, upper]),
        columns=ICC_COLUMNS,
        index=pd.Index(labels, name="Level"),
    )
    frame.attrs["level"] = level
    return frame


def _icc_levels(result) -> tuple[list[str], float | None]:
    """Levels (top first) and the residual variance (None: sigma_e^2 from the working vector)."""
    design = result.design
    if getattr(design, "residual", None) is not None:
        raise NotSupportedError(
            "estat icc is not available with a residuals() structure other than independent"
        )
    paths = [b.equation.path for b in design.blocks]
    longest = max(paths, key=len)
    if any(b.equation.factor or "_all" in b.equation.path for b in design.blocks) or any(
        longest[: len(p)] != p for p in paths
    ):
        raise NotSupportedError("estat icc is not available for crossed-effects models")
    spec = design.spec
    family = get_family(spec.family, spec.link)
    if not family.closed_form:
        latent = family.latent_variance()
        if latent is None:
            raise NotSupportedError(
                "estat icc after a GLMM is available for logit and probit models only "
                f"(this model is {spec.family} with a {spec.link} link)"
            )
        return list(spec.levels), latent
    return list(spec.levels), None


def estat_icc_bayes(result, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """``estat icc`` after a Bayesian fit: the ICC of each posterior draw, summarized.

    The same ICCs as :func:`estat_icc`, computed per draw from the draws of each
    level's covariance matrix and of sigma_e (or the latent logit/probit
    variance); ``ICC`` is their posterior mean, ``Std. err.`` their posterior SD
    and ``lower``/``upper`` the equal-tailed credible interval.
    """
    level = float(level)
    if not 10 <= level <= 99.99:
        raise SpecificationError(f"level({level:g}) must be between 10 and 99.99")
    labels, draws = icc_draws(result)
    draws = draws.reshape(len(labels), -1)
    tail = (100 - level) / 2
    lower, upper = np.percentile(draws, [tail, 100 - tail], axis=1)
    frame = pd.DataFrame(
        np.column_stack([draws.mean(axis=1), draws.std(axis=1, ddof=1), lower, upper]),
        columns=ICC_COLUMNS,
        index=pd.Index(labels, name="Level"),
    )
    frame.attrs["level"] = level
    return frame


def icc_draws(result) -> tuple[list[str], np.ndarray]:
    """Each level's ICC per posterior draw: (labels, (levels, chain, draw) array).

    The definitions of :func:`estat_icc` (intercept variances of the top j levels over
    all of them plus the residual or latent variance), applied to each draw of the
    covariance matrices and of sigma_e.
    """
    levels, var_resid = _icc_levels(result)
    post = result.posterior
    by_level = {lev: 0.0 for lev in levels}
    for name, block in zip(result.block_names, result.design.blocks, strict=True):
        if "_cons" in block.effect_names:
            j = block.effect_names.index("_cons")
            by_level[block.level] = by_level[block.level] + post[f"cov[{name}]"].values[..., j, j]
    resid = post["sigma"].values ** 2 if var_resid is None else var_resid
    *variances, resid = np.broadcast_arrays(*[by_level[lev] for lev in levels], resid)
    stacked = np.stack(variances)
    labels = ["|".join(reversed(levels[: j + 1])) for j in range(len(levels))]
    return labels, np.cumsum(stacked, axis=0) / (stacked.sum(axis=0) + resid)


def _icc_values(result, w: np.ndarray, levels: list[str], var_resid: float | None):
    """ICC of every level from a working vector (blocks' working values, then log sigma_e)."""
    blocks = result.design.blocks
    sizes = [b.structure.n_theta for b in blocks]
    parts = np.split(w[: sum(sizes)], np.cumsum(sizes)[:-1])
    by_level = dict.fromkeys(levels, 0.0)
    for block, part in zip(blocks, parts):
        if "_cons" in block.effect_names:
            cov = block.structure.cov_from_working(part)
            j = block.effect_names.index("_cons")
            by_level[block.level] += float(cov[j, j])
    resid = float(np.exp(2 * w[-1])) if var_resid is None else var_resid
    variances = np.array([by_level[lev] for lev in levels])
    return np.cumsum(variances) / (variances.sum() + resid)


def _gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian of a vector function."""
    cols = []
    for i in range(len(x)):
        step = h * max(1.0, abs(x[i]))
        e = np.zeros(len(x))
        e[i] = step
        cols.append((f(x + e) - f(x - e)) / (2 * step))
    return np.column_stack(cols)


def format_estat_icc(frame: pd.DataFrame) -> str:
    """Stata's ``estat icc`` table."""
    level = frame.attrs.get("level", DEFAULT_LEVEL)
    rule = "-" * 78
    lines = [
        "Residual intraclass correlation",
        "",
        rule,
        f"{'Level':>20} |        ICC   Std. err.     [{level:g}% conf. interval]",
        "-" * 21 + "+" + "-" * 56,
    ]
    for name, row in frame.iterrows():
        cells = "".join(f"{fmt_g(v, 9):>11}" for v in row.to_numpy())
        lines.append(f"{str(name)[:20]:>20} |{cells}")
    lines.append(rule)
    return "\n".join(lines)


# -- estat recovariance / wcorrelation -----------------------------------------------------
def estat_recovariance(result, correlation: bool = False) -> dict[str, pd.DataFrame]:
    """Stata's ``estat recovariance``: each level's random-effects covariance (or correlation)."""
    out = {}
    for key, cov in result.re_cov.items():
        if correlation:
            sd = np.sqrt(np.diag(cov.to_numpy()))
            with np.errstate(divide="ignore", invalid="ignore"):
                corr = cov.to_numpy() / np.outer(sd, sd)
            cov = pd.DataFrame(corr, index=cov.index, columns=cov.columns)
        out[key] = cov
    return out


def estat_wcorrelation(result, at: dict | None = None, covariance: bool = False) -> pd.DataFrame:
    """Stata's ``estat wcorrelation``: the model-implied correlation of one cluster's responses.

    V = sum over blocks of (Z_b Sigma_b Z_b') restricted to rows sharing a group,
    plus sigma_e^2 I.  ``at={level: group}`` picks the cluster (a group label of
    that level, a tuple for nested levels); by default the first group of the
    top level, as Stata.  ``covariance=True`` returns V itself.
    """
    design = result.design
    if kind_of(result) is not ResultKind.MIXED:
        raise NotSupportedError("estat wcorrelation is available after mixed only")
    if design.residual is not None:
        raise NotSupportedError(
            "estat wcorrelation with a residuals() structure is not available yet"
        )
    rows = _cluster_rows(design, at)
    v = float(result.sigma2) * np.eye(len(rows))
    for block, cov in zip(design.blocks, result.cov_blocks):
        z, codes = block.Z[rows], block.codes[rows]
        v += (z @ cov @ z.T) * (codes[:, None] == codes[None, :])
    if not covariance:
        sd = np.sqrt(np.diag(v))
        v = v / np.outer(sd, sd)
    labels = design.rows[rows]
    return pd.DataFrame(v, index=labels, columns=labels)


def _cluster_rows(design, at: dict | None) -> np.ndarray:
    top = [b for b in design.blocks if b.level != "_all"]
    if at is None:
        if not top:
            return np.arange(design.n)
        block = top[0]
        return np.flatnonzero(block.codes == 0)
    if len(at) != 1:
        raise SpecificationError("at() takes one level: at={'school': 1}")
    ((level, value),) = at.items()
    matches = [b for b in top if b.level == level]
    if not matches:
        names = ", ".join(dict.fromkeys(b.level for b in top))
        raise SpecificationError(f"at(): {level} is not a level of the model (levels: {names})")
    block = matches[0]
    hits = np.flatnonzero([_same(g, value) for g in block.groups])
    if not hits.size:
        raise SpecificationError(
            f"at(): {level} = {value!r} is not a group of the estimation sample"
        )
    return np.flatnonzero(block.codes == hits[0])


def _same(label, value) -> bool:
    if isinstance(label, tuple):
        return (
            isinstance(value, tuple)
            and len(value) == len(label)
            and all(_same(a, b) for a, b in zip(label, value))
        )
    try:
        return bool(label == value) or str(label) == str(value)
    except (TypeError, ValueError):
        return False
