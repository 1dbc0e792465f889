"""Small-sample inference for linear mixed models: Stata's ``dfmethod()`` and ``estat df``.

A t reference distribution replaces the normal one, with per-coefficient
denominator degrees of freedom from one of Stata's five methods: the counting
rules ``residual``, ``repeated`` and ``anova`` (:mod:`.df_counting`), and
``satterthwaite`` and ``kroger`` (:mod:`.small_sample`), which need REML.
Kenward-Roger also inflates the covariance of the fixed effects (Phi_A), so
its standard errors differ from the model-based ones, and scales the F
statistic of a multi-row test.  Satterthwaite takes the expected information
by default, as Stata does, or the observed one with ``oim`` (lmerTest's choice).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from ..lazy_import import stats
from ..spec.dfmethod import REML_ONLY, DFMethod
from ..spec.options import DEFAULT_LEVEL
from . import small_sample as ss
from .df_counting import COUNTING_RULES
from .marginal_cov import marginal_cov

__all__ = ["DFMethod", "FTest", "SmallSample", "estat_df", "small_sample", "t_rows"]


@dataclass(frozen=True)
class FTest:
    """F test of L beta = 0 with a denominator df: ``stat`` ~ F(ndf, ddf)."""

    stat: float
    ndf: int
    ddf: float
    p: float


def check_method(result, method: DFMethod) -> None:
    """Refuse Satterthwaite and Kenward-Roger after ML, as Stata does."""
    if method.name in REML_ONLY and not result.reml:
        raise SpecificationError(
            f"dfmethod({method.name}) is only available with REML estimation; "
            "refit with the reml option"
        )


@dataclass
class SmallSample:
    """Per-coefficient dfs and the covariance they go with, for one fit and method."""

    method: DFMethod
    names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    pieces: ss.Pieces | None = None

    def table(self, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """coef, se, t, df, p, lower, upper (t reference with each coefficient's df)."""
        se = np.sqrt(np.diag(self.vcov))
        t = self.beta / se
        crit = stats.t.ppf(0.5 + level / 200.0, self.df)
        return pd.DataFrame(
            {
                "coef": self.beta,
                "se": se,
                "t": t,
                "df": self.df,
                "p": 2 * stats.t.sf(np.abs(t), self.df),
                "lower": self.beta - crit * se,
                "upper": self.beta + crit * se,
            },
            index=pd.Index(self.names, name="parameter"),
        )

    def test(self, lmat: np.ndarray, rhs: np.ndarray | None = None) -> FTest:
        """F test of ``lmat @ beta = rhs`` (rows: hypotheses; rhs 0 by default) with this
        method's ddf, which depends on ``lmat`` only."""
        lmat = np.atleast_2d(np.asarray(lmat, float))
        q = int(np.linalg.matrix_rank(lmat))
        lb = lmat @ self.beta
        if rhs is not None:
            lb = lb - np.asarray(rhs, float)
        wald = float(lb @ np.linalg.solve(lmat @ self.vcov @ lmat.T, lb))
        scale = 1.0
        if self.method.name == "kroger":
            ddf, scale = ss.kenward_roger_df(self.pieces, lmat)
        elif self.method.name == "satterthwaite":
            ddf = ss.satterthwaite_df(self.pieces, lmat, observed=self.method.oim)
        else:  # counting rules: the smallest df among the coefficients involved
            ddf = float(np.min(self.df[np.any(lmat != 0, axis=0)]))
        stat = scale * wald / q
        return FTest(stat, q, ddf, float(stats.f.sf(stat, q, ddf)))

    def model_test(self) -> FTest | None:
        """Stata's header test: every coefficient but the constant is zero."""
        keep = [i for i, n in enumerate(self.names) if n != "_cons"]
        if not keep:
            return None
        return self.test(np.eye(len(self.names))[keep])


# (id(result), method) -> (the result's beta object, its SmallSample).  Printing a fit
# asks for the same numbers three times (header, table, accessors); on jsp2 each costs
# ~0.2 s.  The entry goes when the result is collected (weakref.finalize).
_CACHE: dict[tuple[int, str], tuple[object, SmallSample]] = {}


def small_sample(result, dfmethod: str | DFMethod) -> SmallSample:
    """Degrees of freedom (and, for Kenward-Roger, the adjusted covariance) of a LMM fit."""
    method = DFMethod.parse(dfmethod)
    check_method(result, method)
    key = (id(result), str(method))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is result.beta:
        return hit[1]
    out = _small_sample(result, method)
    if key not in _CACHE:
        weakref.finalize(result, _CACHE.pop, key, None)
    _CACHE[key] = (result.beta, out)
    return out


def _small_sample(result, method: DFMethod) -> SmallSample:
    design = result.design
    names = list(design.fixed_names)
    beta = np.asarray(result.beta, float)
    if method.name in COUNTING_RULES:
        df = COUNTING_RULES[method.name](design)
        return SmallSample(method, names, beta, np.asarray(result.vcov_beta), df)
    pc = ss.pieces(marginal_cov(result))
    eye = np.eye(len(names))
    if method.name == "kroger":
        vcov = ss.kenward_roger_vcov(pc)
        df = np.array([ss.kenward_roger_df(pc, row)[0] for row in eye])
    else:
        vcov = pc.phi_beta
        df = np.array([ss.satterthwaite_df(pc, row, observed=method.oim) for row in eye])
    return SmallSample(method, names, beta, vcov, df, pc)


def estat_df(result, methods=None) -> pd.DataFrame:
    """Stata's ``estat df``: one column of dfs per method (default: the fit's dfmethod)."""
    if methods is None:
        if result.dfmethod is None:
            raise SpecificationError(
                "estat df: option method() is required when the model was fit without dfmethod()"
            )
        methods = [result.dfmethod]
    elif isinstance(methods, str | DFMethod):
        methods = [methods]
    parsed = [DFMethod.parse(m) for m in methods]
    cols = {m.label: small_sample(result, m).df for m in parsed}
    return pd.DataFrame(cols, index=pd.Index(result.design.fixed_names, name="parameter"))


def t_rows(result) -> list:
    """The printed coefficient rows under the fit's ``dfmethod()`` (t in the z slot)."""
    from ..results.coef import Row

    tab = small_sample(result, result.dfmethod).table(result.level)
    return [
        Row(name, r.coef, r.se, r.lower, r.upper, r.t, r.p)
        for name, r in zip(tab.index, tab.itertuples(index=False))
    ]


def post_df(result, method: str | DFMethod | None):
    """Stata's ``estat df, post``: a copy of ``result`` whose inference uses ``method``.

    The copy prints t statistics with the method's dfs, and ``test`` and
    ``testparm`` on it report F tests with the method's ddf, as after
    ``mixed ..., dfmethod()``; ``result`` itself is left as it was.
    """
    import copy

    if method is None:
        raise SpecificationError(
            "estat df, post: the model was fit without dfmethod(); name the method "
            "(estat df, method(kroger) post)"
        )
    parsed = DFMethod.parse(method)
    check_method(result, parsed)
    posted = copy.copy(result)
    posted.dfmethod = str(parsed)
    return posted


def estat_df_command(result, text: str) -> tuple[str, object | None]:
    """``estat df [, method(m1 m2 ...) post[(m)] eim oim]`` as a do-file writes it.

    Returns the printed table and, with ``post``, the posted result (see
    :func:`post_df`; ``post(m)`` names the method when ``method()`` lists several,
    plain ``post`` takes the one method given or the fit's own).
    """
    import re

    from ..results.render_df import estat_df_text

    _, _, opts = text.partition(",")
    found = re.search(r"\bmeth(?:o|od)?\(([^)]*)\)", opts)
    posting = re.search(r"\bpost(?:\(([^)]*)\))?(?![\w(])", opts)
    rest = re.sub(r"\bmeth(?:o|od)?\([^)]*\)|\bpost(?:\([^)]*\))?", " ", opts).split()
    unknown = [w for w in rest if w not in ("oim", "eim")]
    if unknown:
        raise SpecificationError(
            f"estat df: option {' '.join(unknown)} not allowed (method(), post, eim, oim)"
        )
    methods = found.group(1).split() if found else None
    if methods is not None and "oim" in rest:
        methods = [f"{m}, oim" if m.startswith("sat") else m for m in methods]
    shown = estat_df_text(estat_df(result, methods), result.design.spec.response)
    if posting is None:
        return shown, None
    return shown, post_df(result, _posted_method(result, methods, posting.group(1), "oim" in rest))


def _posted_method(result, methods: list[str] | None, named: str | None, oim: bool) -> str:
    """Which method ``post`` posts: ``post(m)``, the only ``method()``, or the fit's own."""
    if named and named.strip():
        chosen = named.strip()
        if oim and chosen.startswith("sat"):
            chosen = f"{chosen}, oim"
        listed = [DFMethod.parse(m) for m in methods or []]
        if methods is not None and DFMethod.parse(chosen) not in listed:
            raise SpecificationError(f"estat df: post({named}) must be one of the method() methods")
        return chosen
    if methods is None:
        return result.dfmethod
    if len(methods) > 1:
        raise SpecificationError(
            "estat df: with several methods in method(), say which to post: post(method)"
        )
    return methods[0]
