"""What every fitted result shares, whatever engine made it: its kind and its accessors.

``MixedResult`` (ML/REML), ``GLMMResult`` (Laplace/quadrature) and
``BayesResult`` (NUTS/Laplace) each extend the estimates their engine returns
(:mod:`bayesmixed.engines.estimates`) with this base, and answer the same
questions the same way:

- ``kind`` (a :class:`ResultKind`) says which of the three a result is.  Code
  that must tell them apart reads it (or :func:`kind_of` for objects that may
  not be results at all, such as a do-file's ``regress`` fit), never
  ``hasattr``: an attribute that happens to exist on one kind today says
  nothing about a kind added tomorrow;
- ``repr(result)`` is a few lines (command, sample size, criterion, where to
  look next) -- the dataclass dump it replaces ran to 22,723 characters for
  one ML fit -- while ``str(result)`` stays Stata's full output and
  ``_repr_html_`` shows it in a notebook;
- lme4's accessors sit beside Stata's: ``fixef()``, ``ranef()``, ``varcorr()``,
  ``nobs``, ``groups``;
- postestimation is one set of methods (``predict``, ``random_effects``,
  ``estat_*``, ``test``, ``testparm``, ``lincom``, ``margins``, ``contrast``,
  ``pwcompare``) served through the single
  table :data:`bayesmixed.postestimation.dispatch.TABLE`, which says which
  implementation serves which kind (or why a kind has none).  The table lives
  with the implementations, at the postestimation stage; the methods import
  it inside the function -- the one upward import the package allows.

Each kind supplies ``_fit_line()`` (its criterion in one line), ``coef``,
``re_cov`` and the numbers; this base lays them out.  Dataclasses generate a
``__repr__`` of their own, so the result classes are declared with
``repr=False``.
"""

from __future__ import annotations

import math
from dataclasses import fields
from enum import StrEnum
from html import escape
from typing import ClassVar

import numpy as np
import pandas as pd

from .interface import short_repr


class ResultKind(StrEnum):
    """Which engine's result: ``mixed`` (ML/REML), ``glmm`` (me*), ``bayes`` (posterior)."""

    MIXED = "mixed"
    GLMM = "glmm"
    BAYES = "bayes"

    @property
    def likelihood(self) -> bool:
        """Whether the fit maximized a likelihood (so has ``loglik``, ``vcov``, Wald tests)."""
        return self is not ResultKind.BAYES


class ResultBase:
    """Mixin: needs ``design``, ``coef``, ``re_cov``, ``_fit_line()``, and the
    kind's fields; supplies the accessors and postestimation every kind shares."""

    kind: ClassVar[ResultKind]

    @classmethod
    def from_estimates(cls, estimates: object, **settings: object):
        """The result of an engine's ``estimates`` (their fields, copied), plus display settings.

        ``settings`` are the fields the result adds to its estimates (``level``,
        ``eform``...); see :mod:`bayesmixed.fitting`, which builds every result.
        """
        values = {f.name: getattr(estimates, f.name) for f in fields(estimates)}
        return cls(**values, **settings)

    # -- display -------------------------------------------------------------------------
    def __repr__(self) -> str:
        return short_repr(self)

    def _repr_html_(self) -> str:
        return f'<pre class="bm-result">{escape(str(self))}</pre>'

    # -- the sample ----------------------------------------------------------------------
    @property
    def nobs(self) -> int:
        """Stata's "Number of obs": the rows, or with frequency weights the expanded count."""
        return self.design.nobs

    @property
    def groups(self) -> pd.DataFrame:
        """Number of groups and obs per group (min/avg/max) for each level."""
        rows = [(g.level, g.n_groups, g.min, g.avg, g.max) for g in self.design.group_info]
        return pd.DataFrame(rows, columns=["level", "groups", "min", "avg", "max"]).set_index(
            "level"
        )

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

    # -- files ---------------------------------------------------------------------------
    def save(self, path):
        """Save to ``path`` in open formats (Stata's ``estimates save``); see bayesmixed.io."""
        from ..io import save

        return save(self, path)

    # -- postestimation, served by kind (imports stay inside: the one upward import) -------
    def predict(self, kind: str | None = None, data=None, relevel: str | None = None, **options):
        """Stata's ``predict``: see :func:`bayesmixed.postestimation.dispatch.predict`.

        Likelihood fits: BLUP/mode-based predictions (``marginal=True`` integrates a
        GLMM's effects out); Bayesian fits: posterior means (SDs for ``stdp``/``reses``),
        with ``interval=0.95`` adding equal-tailed credible intervals.
        """
        from ..postestimation.dispatch import predict

        return predict(self, kind, data, relevel, **options)

    def random_effects(self) -> dict[str, pd.DataFrame]:
        """Per-group BLUPs (posterior means) with their conditional (posterior) SDs."""
        return self._served("random_effects")(self)

    def estat_icc(self, level: float | None = None) -> pd.DataFrame:
        """Stata's ``estat icc``: intraclass correlations with their intervals."""
        return self._served("estat_icc")(self, level)

    def estat_recovariance(self, correlation: bool = False) -> dict[str, pd.DataFrame]:
        """Stata's ``estat recovariance``: each level's random-effects covariance."""
        return self._served("estat_recovariance")(self, correlation)

    def estat_wcorrelation(self, at: dict | None = None, covariance: bool = False):
        """Stata's ``estat wcorrelation``: model-implied correlation within one cluster."""
        return self._served("estat_wcorrelation")(self, at, covariance)

    def estat_ic(self) -> pd.DataFrame:
        """Stata's ``estat ic``: N, ll(model), df, AIC, BIC."""
        return self._served("estat_ic")(self)

    def test(self, spec: str, small: bool | str | None = None):
        """Stata's ``test``: Wald chi2 of hypotheses (``"math3 = 0.5"``, ``"1.dose 2.dose"``).

        After ``mixed ..., dfmethod()`` an F test with the method's ddf (Stata's
        ``small``); ``small`` chooses (see :func:`bayesmixed.postestimation.wald.test`).
        """
        return self._served("test")(self, spec, small)

    def testparm(self, varlist: str, small: bool | str | None = None):
        """Stata's ``testparm``: the named coefficients (``"i.dose"``) are jointly 0.

        ``small`` as for :meth:`test`.
        """
        return self._served("testparm")(self, varlist, small)

    def lincom(self, expr: str, level: float | None = None, eform: str | None = None):
        """Stata's ``lincom``: estimate, SE, z, p and CI of a linear combination.

        ``eform`` (``"or"``, ``"irr"``, ``"eform"``) exponentiates, as Stata's options.
        See :func:`bayesmixed.postestimation.wald.lincom`; after a Bayesian fit, the
        posterior summary of the combination computed at each draw
        (:func:`bayesmixed.postestimation.bayes_margins.lincom`).
        """
        return self._served("lincom")(self, expr, level, eform)

    def margins(self, spec: str = "", data: pd.DataFrame | None = None):
        """Stata's ``margins``: ``r.margins("dose, at(size=(5 10))", data=df)``.

        ``spec`` is what follows the command (margin list, ``at()``, ``atmeans``,
        ``over()``, ``dydx()``, ``predict()``, ``level()``); ``data`` is the frame
        the model was fitted on.  ``bayesmixed.plot.marginsplot`` draws the result.
        See :mod:`bayesmixed.postestimation.margins`; after a Bayesian fit each margin's
        posterior summary (:mod:`bayesmixed.postestimation.bayes_margins`, option ``hpd``).
        """
        return self._served("margins")(self, data, spec)

    def contrast(self, spec: str, data: pd.DataFrame | None = None):
        """Stata's ``contrast``: joint tests of factors and interactions (``"dose#female"``),
        and with ``r.`` each level (combination) vs the base (``"r.dose#r.female"``).

        See :mod:`bayesmixed.postestimation.contrast`.
        """
        return self._served("contrast")(self, data, spec)

    def pwcompare(self, spec: str, data: pd.DataFrame | None = None):
        """Stata's ``pwcompare``: every pairwise difference of a factor's margins."""
        return self._served("pwcompare")(self, data, spec)

    def _served(self, name: str):
        from ..postestimation.dispatch import served

        return served(self, name)


def kind_of(obj: object) -> ResultKind | None:
    """The kind of a bayesmixed result, or ``None`` for anything else (a ``regress`` fit)."""
    return obj.kind if isinstance(obj, ResultBase) else None
