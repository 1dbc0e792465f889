"""The interface every fitted result shares, whatever engine made it.

``MixedResult`` (ML/REML), ``GLMMResult`` (Laplace/quadrature) and
``BayesResult`` (NUTS/Laplace) answer the same questions the same way:

- ``repr(result)`` is a few lines (command, sample size, criterion, where to
  look next) -- the dataclass dump it replaces ran to 22,723 characters for
  one ML fit -- while ``str(result)`` stays Stata's full output and
  ``_repr_html_`` shows it in a notebook;
- ``summary(level)`` is a data frame indexed by (equation, parameter), as
  Stata prints the parameters; ``conf_int(level)`` and ``pvalues`` cover the
  fixed effects;
- lme4's accessors sit beside Stata's: ``fixef()``, ``ranef()``, ``varcorr()``.

Each kind supplies ``_fit_line()`` (its criterion in one line) and the
numbers; this mixin lays them out.  Dataclasses generate a ``__repr__`` of
their own, so the result classes are declared with ``repr=False``.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["estimate", "se", "z", "p", "lower", "upper"]


class ResultInterface:
    """Mixin: needs ``design``, ``coef``, ``re_cov``, ``random_effects()``,
    ``_fit_line()`` and ``_residual_variance()``."""

    # -- display -------------------------------------------------------------------------
    def __repr__(self) -> str:
        return short_repr(self)

    def _repr_html_(self) -> str:
        return f'<pre class="bm-result">{escape(str(self))}</pre>'

    # -- lme4's accessors ------------------------------------------------------------------
    def fixef(self) -> pd.Series:
        """Fixed effects (lme4's ``fixef``): the same numbers as ``coef``."""
        return self.coef.rename("fixef")

    def ranef(self) -> dict[str, pd.DataFrame]:
        """Predicted random effects per grouping factor (lme4's ``ranef``).

        BLUPs / conditional modes for likelihood fits, posterior means for
        Bayesian ones: one frame per level, indexed by group, one column per
        effect.  ``random_effects()`` adds their conditional (posterior) SDs.
        """
        out = {}
        for key, frame in self.random_effects().items():
            out[key] = frame[[c for c in frame.columns if not str(c).startswith("sd(")]]
        return out

    def varcorr(self) -> pd.DataFrame:
        """Variances, SDs and correlations of the random effects (lme4's ``VarCorr``).

        Indexed by (group, term); ``corr(<term>)`` columns hold the correlation
        with an earlier term of the same group (the lower triangle lme4
        prints).  The residual variance, where the model has a single one, is
        the last row (group ``Residual``, term ``""``); a ``residuals()``
        structure's parameters are in ``summary()``.  Bayesian fits report
        posterior means of the covariance matrices.
        """
        rows: dict[tuple[str, str], dict[str, float]] = {}
        for group, cov in self.re_cov.items():
            values = cov.to_numpy(dtype=float)
            sd = np.sqrt(np.clip(np.diag(values), 0.0, None))
            for i, term in enumerate(cov.index):
                row = {"variance": values[i, i], "sd": sd[i]}
                for j in range(i):
                    denom = sd[i] * sd[j]
                    row[f"corr({cov.index[j]})"] = values[i, j] / denom if denom > 0 else math.nan
                rows[(str(group), str(term))] = row
        resid = self._residual_variance()
        if resid is not None and math.isfinite(resid):
            rows[("Residual", "")] = {"variance": resid, "sd": math.sqrt(max(resid, 0.0))}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=["group", "term"])
        return frame

    def _residual_variance(self) -> float | None:
        return None


def short_repr(result) -> str:
    """A few lines: kind, command, sample, criterion, and where the numbers are."""
    spec = result.design.spec
    command = " ".join(str(spec.source).split()) or spec.command
    if len(command) > 200:
        command = command[:197] + "..."
    groups = ", ".join(f"{g.level} ({g.n_groups:,})" for g in result.design.group_info)
    lines = [
        f"<{type(result).__name__}: {command}>",
        f"  {result._fit_line()}",
        f"  Number of obs = {result.nobs:,}" + (f"; groups: {groups}" if groups else ""),
        f"  {_count(len(result.design.fixed_names), 'fixed effect')}; "
        f"{_count(_n_random(result), 'random-effects parameter')}",
        "  print(result) for Stata's output; result.summary() for the table as data",
    ]
    return "\n".join(lines)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _n_random(result) -> int:
    return sum(len(b.structure.entries(b.effect_names)) for b in result.design.blocks)


def summary_frame(rows: list[tuple[str, object]]) -> pd.DataFrame:
    """(equation, Row) pairs -> the summary frame, indexed by (equation, parameter)."""
    data = [[row.estimate, row.se, row.z, row.p, row.lower, row.upper] for _, row in rows]
    index = pd.MultiIndex.from_tuples(
        [(eq, row.label) for eq, row in rows], names=["equation", "parameter"]
    )
    return pd.DataFrame(data, index=index, columns=SUMMARY_COLUMNS, dtype=float)
