"""The result of a Bayesian fit (NUTS or Laplace), as data.

The draws are the Bayesian engine's
:class:`~bayesmixed.engines.bayes_estimates.BayesEstimates` (with their convergence
diagnostics); this class adds the summaries a user reads.  Everything is derived
from the ArviZ DataTree ``idata``, so a result can be rebuilt from a saved
DataTree.  Printed parameters follow the ML output's names: coefficients, then
each level's ``var(...)``/``cov(...)`` entries of its covariance structure, then
``var(e)``; rendering is in :mod:`.render_bayes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from ..engines.bayes_estimates import BayesEstimates, diagnose
from ..errors import BayesmixedError
from ..spec.options import DEFAULT_LEVEL
from .base import ResultBase, ResultKind


# repr=False: the short repr of ResultBase, not the DataTree's dump
@dataclass(repr=False)
class BayesResult(ResultBase, BayesEstimates):
    """Posterior draws of a mixed model and their summaries.

    The fields (design, idata, method, sampler, priors...) are documented on
    :class:`~bayesmixed.engines.bayes_estimates.BayesEstimates`.
    """

    kind: ClassVar[ResultKind] = ResultKind.BAYES

    # -- conventional accessors ------------------------------------------------------
    @property
    def coef(self) -> pd.Series:
        """Posterior means of the fixed effects, named like the ML fit's ``coef``."""
        beta = self.posterior["beta"].values.reshape(-1, self.design.p)
        return pd.Series(beta.mean(axis=0), index=self.design.fixed_names, name="coef")

    @property
    def mode(self) -> pd.Series | None:
        """Laplace: the fixed effects at the posterior mode (GLS at the mode when integrated)."""
        if self.mode_values is None:
            return None
        return pd.Series(self.mode_values["beta"], index=self.design.fixed_names, name="mode")

    @property
    def mode_re_cov(self) -> dict[str, pd.DataFrame] | None:
        """Laplace: each level's covariance matrix at the posterior mode."""
        if self.mode_values is None:
            return None
        return self._cov_frames([self.mode_values[f"cov[{n}]"] for n in self.block_names])

    @property
    def re_cov(self) -> dict[str, pd.DataFrame]:
        """Posterior means of each level's random-effects covariance matrix."""
        post = self.posterior
        means = [post[f"cov[{n}]"].values.mean(axis=(0, 1)) for n in self.block_names]
        return self._cov_frames(means)

    def _cov_frames(self, covs) -> dict[str, pd.DataFrame]:
        out = {}
        for name, block, cov in zip(self.block_names, self.design.blocks, covs):
            out[name] = pd.DataFrame(cov, index=block.effect_names, columns=block.effect_names)
        return out

    @property
    def sigma2(self) -> float:
        if "sigma" not in self.posterior:  # GLMMs have no residual variance
            return float("nan")
        return float((self.posterior["sigma"].values ** 2).mean())

    @property
    def acceptance_rate(self) -> float:
        if "sample_stats" not in self.idata.children:
            return float("nan")
        return float(self.idata["sample_stats"]["acceptance_rate"].values.mean())

    def random_effects(self, name: str | None = None):
        """Posterior means and SDs of the random effects, per group.

        With no argument, as the frequentist ``random_effects()``: a dict keyed by block
        name of frames indexed by group, with one column per effect (posterior mean) and
        one ``sd(effect)`` column per effect (posterior SD).  ``random_effects(name)``
        keeps the older form: one block's posterior means only (groups x effects).
        """
        if name is None:
            return super().random_effects()
        if name not in self.block_names:
            raise BayesmixedError(f"no random-effects level '{name}': use {self.block_names}")
        b = self.posterior[f"b[{name}]"]
        return b.mean(dim=("chain", "draw")).to_pandas()

    @property
    def se(self) -> pd.Series:
        """Posterior SDs of the fixed effects (what ``estimates table, se`` prints)."""
        beta = self.posterior["beta"].values.reshape(-1, self.design.p)
        return pd.Series(beta.std(axis=0, ddof=1), index=self.design.fixed_names, name="se")

    @property
    def pvalues(self) -> pd.Series:
        """Not defined for a posterior: raises, saying what to use instead."""
        raise BayesmixedError(
            "a Bayesian fit has no p-values: use conf_int() (equal-tailed credible intervals) "
            "or summary() (posterior mean, SD, interval, R-hat, ESS); compare models with "
            "bayesmixed.compare (PSIS-LOO)"
        )

    def conf_int(self, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """Equal-tailed credible intervals of the fixed effects: columns lower, upper."""
        beta = self.posterior["beta"].values.reshape(-1, self.design.p)
        tail = (100 - float(level)) / 2
        lower, upper = np.percentile(beta, [tail, 100 - tail], axis=0)
        return pd.DataFrame(
            {"lower": lower, "upper": upper}, index=pd.Index(self.design.fixed_names)
        )

    def _fit_line(self) -> str:
        if self.method == "nuts":
            how = f"NUTS ({self.sampler}), {self.chains} chains x {self.draws} draws"
            return f"Bayesian multilevel regression, {how}, {self.divergences} divergences"
        return f"Bayesian multilevel regression, Laplace approximation ({self.draws} draws)"

    def _residual_variance(self) -> float | None:
        return self.sigma2 if "sigma" in self.posterior else None

    # -- postestimation ----------------------------------------------------------------
    def posterior_predictive(self, draws: int | None = None, seed: int | None = None, data=None):
        """Replicated responses, one per posterior draw (``draws`` per chain; all by default).

        For the estimation sample (``data=None``) they are also stored in ``idata`` as the
        ``posterior_predictive`` group, where ArviZ's checks look for them.
        """
        from ..postestimation.bayes_replicate import replicate

        rep = replicate(self, draws, seed, data)
        if data is None:
            self.idata["posterior_predictive"] = xr.DataTree(rep.to_dataset())
        return rep

    # -- summaries ---------------------------------------------------------------------
    def summary(self, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """Mean, sd, MCSE, median, equal-tailed interval, R-hat and ESS per parameter."""
        rows = {}
        lo, hi = (100 - level) / 2, 100 - (100 - level) / 2
        for key, draws in self.parameter_draws().items():
            flat = draws.ravel()
            diag = diagnose(draws)
            rows[key] = {
                "mean": flat.mean(),
                "sd": flat.std(ddof=1),
                "mcse": diag["mcse"],
                "median": np.median(flat),
                "eti_lo": np.percentile(flat, lo),
                "eti_hi": np.percentile(flat, hi),
                "r_hat": diag["r_hat"],
                "ess_bulk": diag["ess_bulk"],
                "ess_tail": diag["ess_tail"],
            }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=["equation", "parameter"])
        return frame

    # -- bayesstats and bayestest, in Stata's parameter names (design.bayes_names) -----
    def stata_draws(self) -> dict[str, np.ndarray]:
        """Stata name (``{math5:math3}``, ``{U0:sigma2}``...) -> (chain, draw) draws."""
        from ..design.bayes_names import parameter_draws

        return parameter_draws(self)

    def bayesstats_summary(self, spec: str | list[str] | None = None,
                           level: float = DEFAULT_LEVEL, hpd: bool = False):  # fmt: skip
        """``bayesstats summary``: parameters or expressions, e.g. ``"(d: {y:x} - {y:_cons})"``.

        Random effects by Stata's names: ``{U0[school]}`` (every school's), ``{U0[3.school]}``
        (school 3's); ``hpd=True`` gives HPD instead of equal-tailed intervals.
        """
        from ..postestimation.bayesstats import summary

        return summary(self, spec, level, hpd)

    def estat_icc_summary(self, level: float = DEFAULT_LEVEL, hpd: bool = False):
        """``estat icc`` in Stata's ``bayes`` layout: mean, SD, MCSE, median, interval.

        ``estat_icc()`` keeps the frequentist frame's columns (ICC, Std. err., lower, upper).
        """
        from ..postestimation.bayes_estat import icc

        return icc(self, level, hpd)

    def estat_sd(self, level: float = DEFAULT_LEVEL, hpd: bool = False):
        """``estat sd``: posterior of the random effects' SDs and correlations, and sd(e)."""
        from ..postestimation.bayes_estat import sd

        return sd(self, level, hpd)

    def bayesgraph(self, kind: str = "diagnostics", spec: str | list[str] | None = None,
                   title: str = ""):  # fmt: skip
        """Stata's ``bayesgraph``: a matplotlib figure drawn by arviz-plots.

        ``kind`` is ``diagnostics``, ``trace``, ``ac``, ``histogram``, ``kdensity``,
        ``cusum`` or ``matrix``; ``spec`` names parameters as ``bayesstats`` does
        (``"{math5:math3} {U0:sigma2}"``, ``"{U0[3.school]}"``, ``"_all"``).  Like
        ``save`` (which imports ``io``), this method reaches a later stage, ``plot``,
        inside the function.
        """
        from ..plot.bayes_graphs import bayesgraph

        return bayesgraph(self, kind, spec, title)

    def caterpillar(self, ml=None, effect: str = "{U0}", level: float = DEFAULT_LEVEL):
        """Each group's posterior interval of one random effect, beside ML BLUPs +- z reses.

        ``ml`` is the same model fitted by ML/REML (``bayesmixed.mixed`` without
        ``method``); without it the posterior intervals are drawn alone.  ``effect`` is
        Stata's name: ``{U0}`` (the first level's intercepts), ``{U1}``, ``{UU0}``...
        """
        from ..plot.bayes_graphs import caterpillar_effects

        return caterpillar_effects(self, ml, effect, level)

    def bayesstats_ess(self, spec: str | list[str] | None = None):
        """``bayesstats ess``: effective sample sizes, correlation times and efficiencies."""
        from ..postestimation.bayesstats import ess

        return ess(self, spec)

    def bayesstats_grubin(self, spec: str | list[str] | None = None):
        """``bayesstats grubin``: R-hat of each parameter (two or more chains)."""
        from ..postestimation.bayesstats import grubin

        return grubin(self, spec)

    def bayesstats_ic(self):
        """``bayesstats ic``: DIC as Stata prints it, with WAIC and PSIS-LOO beside it."""
        from ..postestimation.bayesstats import ic

        return ic(self)

    def bayesstats_ppvalues(self, spec: str = "mean sd min max", draws: int | None = None,
                            seed: int | None = None):  # fmt: skip
        """``bayesstats ppvalues``: posterior predictive p-values P(T(y_rep) >= T(y)).

        ``spec`` lists Stata's items (``(mean:@mean({_ysim}))``, ``{_ysim[1/5]}``) or bare
        statistic names; ``draws`` per chain (all by default) give one replicate each.
        """
        from ..postestimation.bayes_ppvalues import ppvalues

        return ppvalues(self, spec, draws, seed)

    def bayestest_interval(self, spec: str):
        """``bayestest interval``: e.g. ``"{y:x}, lower(0) upper(1)"``; see its module."""
        from ..postestimation.bayestest import interval, parse_interval

        specs, joint, inclusive = parse_interval(spec)
        return interval(self, specs, joint, inclusive)

    def marginal_likelihood(self, seed: int | None = 0, n_proposal: int | None = None):
        """log p(y) of this model (bridge sampling of NUTS draws), with its Monte Carlo SE;
        needs proper priors.  See :mod:`bayesmixed.postestimation.marginal_likelihood`."""
        from ..postestimation.marginal_likelihood import log_marginal_likelihood

        return log_marginal_likelihood(self, seed, n_proposal)

    def bayestest_model(self, *others: BayesResult, names: list[str] | None = None,
                        prior: list[float] | None = None, seed: int | None = 0):  # fmt: skip
        """``bayestest model``: posterior probabilities of this model and ``others`` (fits
        of the same data), equal prior probabilities unless ``prior`` gives them."""
        from ..postestimation.bayestest import model

        results = [self, *others]
        names = names or [f"model{i}" for i in range(1, len(results) + 1)]
        return model(results, list(names), prior, seed)

    def loo(self):
        """PSIS-LOO from the pointwise log likelihood (conditional on the random effects)."""
        import arviz as az

        return az.loo(self.idata)

    def __str__(self) -> str:
        from .render_bayes import render_text

        return render_text(self)
