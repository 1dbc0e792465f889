"""The result of a Bayesian fit (NUTS or Laplace), as data.

Everything is derived from the ArviZ DataTree ``idata`` (``posterior``,
``log_likelihood``, ``observed_data`` and, for NUTS, ``sample_stats``), so a result
can be rebuilt from a saved DataTree.  Printed parameters follow the ML output's names:
coefficients, then each level's ``var(...)``/``cov(...)`` entries of its covariance
structure, then ``var(e)``; rendering is in :mod:`.render_bayes`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from ..design.types import Design
from ..errors import BayesmixedError
from .interface import ResultInterface

ESS_MIN_PER_CHAIN = 100
_WALD_BAYES = (
    "{} is a Wald test for ML/REML and me* fits: for a Bayesian fit use the posterior "
    "summaries (result.summary(), credible intervals) or the draws in result.posterior"
)
RHAT_MAX = 1.01
BFMI_MIN = 0.3


@dataclass(repr=False)  # repr: the short one of ResultInterface, not the DataTree's dump
class BayesResult(ResultInterface):
    """Posterior draws of a mixed model and their summaries.

    Attributes
    ----------
    design : the numeric design the model was built from.
    idata : ArviZ DataTree (posterior, log_likelihood, observed_data[, sample_stats]).
    method : ``"nuts"`` or ``"laplace"``.
    sampler : the NUTS implementation (``pymc``, ``nutpie``, ``numpyro``) or ``"laplace"``.
    priors : prior name -> description, as used (see ``engines.bayes.priors``).
    block_names : posterior names of the random-effect blocks, in design order.
    marginalized : whether the random effects were integrated out while sampling.
    mode_values : Laplace only: ``beta``, ``sigma`` and ``cov[<block>]`` at the mode.
    seconds : wall time of the whole fit; ``sampling_seconds`` of the sampler alone.
    """

    design: Design
    idata: xr.DataTree
    method: str
    sampler: str
    priors: dict[str, str]
    block_names: list[str]
    marginalized: bool
    tune: int = 0
    mode_values: dict | None = None
    seconds: float = float("nan")
    sampling_seconds: float = float("nan")
    info: dict = field(default_factory=dict)

    # -- draws ---------------------------------------------------------------------
    @property
    def posterior(self) -> xr.Dataset:
        return self.idata["posterior"].to_dataset()

    @property
    def chains(self) -> int:
        return int(self.posterior.sizes["chain"])

    @property
    def draws(self) -> int:
        return int(self.posterior.sizes["draw"])

    def parameter_draws(self) -> dict[tuple[str, str], np.ndarray]:
        """(equation, parameter) -> (chain, draw) array for every printed parameter."""
        post = self.posterior
        out: dict[tuple[str, str], np.ndarray] = {}
        beta = post["beta"].values
        for j, name in enumerate(self.design.fixed_names):
            out[(self.design.spec.response, name)] = beta[..., j]
        for name, block in zip(self.block_names, self.design.blocks):
            cov = post[f"cov[{name}]"].values
            for entry in block.structure.entries(block.effect_names):
                i = 0 if entry.i is None else entry.i
                j = (1 if entry.kind == "cov" else 0) if entry.j is None else entry.j
                out[(name, entry.label)] = cov[..., i, j]
        if "residual" in post:  # a correlated structure: Stata's rows, computed per draw
            for i, label in enumerate(post["residual"].coords["residual_rows"].values):
                out[("Residual", str(label))] = post["residual"].values[..., i]
        elif "sigma_e" in post:  # heteroskedastic residual cells, labelled as Stata prints
            for i, label in enumerate(post["sigma_e"].coords["residual_cells"].values):
                out[("Residual", str(label))] = post["sigma_e"].values[..., i] ** 2
        elif "sigma" in post:
            out[("Residual", "var(e)")] = post["sigma"].values ** 2
        for name in ("alpha", "phi"):  # GLMM dispersion
            if name in post:
                out[(self.design.spec.response, f"/{name}")] = post[name].values
        return out

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
    def nobs(self) -> int:
        return self.design.n

    @property
    def divergences(self) -> int:
        if "sample_stats" not in self.idata.children:
            return 0
        stats = self.idata["sample_stats"]
        return int(stats["diverging"].values.sum()) if "diverging" in stats else 0

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
            from ..postestimation.bayes_predict import bayes_random_effects

            return bayes_random_effects(self)
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

    def conf_int(self, level: float = 95.0) -> pd.DataFrame:
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
    def save(self, path):
        """Save to ``path`` (the DataTree as netCDF members); see :mod:`bayesmixed.io`."""
        from ..io import save

        return save(self, path)

    def estat_icc(self, level: float = 95.0) -> pd.DataFrame:
        """Stata's ``estat icc`` for a posterior: the ICC of every draw, summarized.

        Columns as after ML, but ``Std. err.`` is the posterior SD and the interval
        the equal-tailed credible interval; see
        :func:`bayesmixed.postestimation.estat.estat_icc_bayes`.
        """
        from ..postestimation.estat import estat_icc_bayes

        return estat_icc_bayes(self, level)

    def estat_recovariance(self, correlation: bool = False) -> dict[str, pd.DataFrame]:
        """Posterior means of each level's covariance (or of it as a correlation matrix)."""
        from ..postestimation.estat import estat_recovariance

        return estat_recovariance(self, correlation)

    def test(self, spec: str):
        """Not available after a Bayesian fit: raises, saying what to use instead."""
        raise BayesmixedError(_WALD_BAYES.format("test"))

    def testparm(self, varlist: str):
        """Not available after a Bayesian fit: raises, saying what to use instead."""
        raise BayesmixedError(_WALD_BAYES.format("testparm"))

    def lincom(self, expr: str, level: float | None = None, eform: str | None = None):
        """Not available after a Bayesian fit: raises, saying what to use instead."""
        raise BayesmixedError(_WALD_BAYES.format("lincom"))

    def estat_ic(self):
        """Not defined for a posterior: raises, saying what to use instead."""
        raise BayesmixedError(
            "estat ic needs a maximized likelihood: for a Bayesian fit use result.loo() or "
            "bayesmixed.compare(...) (PSIS-LOO)"
        )

    def estat_wcorrelation(self, at: dict | None = None, covariance: bool = False):
        """Not available after a Bayesian fit: raises, saying what to use instead."""
        raise BayesmixedError(
            "estat wcorrelation is available after ML/REML fits only: fit the model with "
            "bayesmixed.mixed(...) (no bayes: prefix), or use result.re_cov for the posterior "
            "means of the covariance matrices"
        )

    def predict(
        self,
        kind: str | None = None,
        data=None,
        relevel: str | None = None,
        *,
        interval: float | None = None,
        **options,
    ):
        """Stata's ``predict`` as posterior means (SDs for ``stdp``/``reses``).

        ``interval=0.95`` adds equal-tailed credible intervals; see
        :func:`bayesmixed.postestimation.bayes_predict.bayes_predict`.
        """
        from ..postestimation.bayes_predict import bayes_predict

        return bayes_predict(self, kind, data, relevel, interval=interval, **options)

    def posterior_predictive(self, draws: int | None = None, seed: int | None = None, data=None):
        """Replicated responses, one per posterior draw (``draws`` per chain; all by default).

        For the estimation sample (``data=None``) they are also stored in ``idata`` as the
        ``posterior_predictive`` group, where ArviZ's checks look for them.
        """
        from ..postestimation.bayes_predict import replicate

        rep = replicate(self, draws, seed, data)
        if data is None:
            self.idata["posterior_predictive"] = xr.DataTree(rep.to_dataset())
        return rep

    # -- summaries ---------------------------------------------------------------------
    def summary(self, level: float = 95.0) -> pd.DataFrame:
        """Mean, sd, MCSE, median, equal-tailed interval, R-hat and ESS per parameter."""
        rows = {}
        lo, hi = (100 - level) / 2, 100 - (100 - level) / 2
        for key, draws in self.parameter_draws().items():
            flat = draws.ravel()
            diag = _diagnose(draws)
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

    def diagnostics(self) -> pd.DataFrame:
        """r_hat, ess_bulk and ess_tail for every printed parameter."""
        frame = self.summary()[["r_hat", "ess_bulk", "ess_tail"]]
        frame.index = [f"{eq}:{p}" for eq, p in frame.index]
        return frame

    def bfmi(self) -> np.ndarray:
        """Energy Bayesian fraction of missing information per chain (NaN for Laplace)."""
        if "sample_stats" not in self.idata.children:
            return np.full(1, np.nan)
        energy = self.idata["sample_stats"]["energy"].values
        num = np.mean(np.diff(energy, axis=1) ** 2, axis=1)
        return num / np.var(energy, axis=1)

    def check(self) -> list[str]:
        """Messages, with advice, for every failed convergence check (NUTS only)."""
        if self.method != "nuts":
            return []
        msgs = []
        if self.divergences:
            msgs.append(
                f"{self.divergences} divergent transitions after tuning: raise target_accept "
                "(e.g. 0.99), or keep marginalize=True for Gaussian models"
            )
        diag = self.diagnostics()
        bad = diag.index[diag["r_hat"] > RHAT_MAX].tolist()
        if bad:
            msgs.append(f"R-hat above {RHAT_MAX} for {', '.join(bad)}: run more tune/draws")
        low = diag.index[diag["ess_bulk"] < ESS_MIN_PER_CHAIN * self.chains].tolist()
        if low:
            msgs.append(
                f"bulk ESS below {ESS_MIN_PER_CHAIN * self.chains} for {', '.join(low)}: "
                "run more draws; summaries of these parameters are imprecise"
            )
        bfmi = self.bfmi()
        if np.any(bfmi < BFMI_MIN):
            msgs.append(
                f"low energy BFMI ({np.round(bfmi, 2).tolist()}) : the sampler explores the "
                "posterior poorly (heavy tails or a funnel); try stronger priors or "
                "marginalize=True"
            )
        return msgs

    def warn(self) -> None:
        for msg in self.check():
            warnings.warn(msg, RuntimeWarning, stacklevel=4)

    def loo(self):
        """PSIS-LOO from the pointwise log likelihood (conditional on the random effects)."""
        import arviz as az

        return az.loo(self.idata)

    def __str__(self) -> str:
        from .render_bayes import render_text

        return render_text(self)


def _diagnose(draws: np.ndarray) -> dict[str, float]:
    import arviz as az

    if np.ptp(draws) == 0:
        return {"r_hat": np.nan, "ess_bulk": np.nan, "ess_tail": np.nan, "mcse": 0.0}
    return {
        "r_hat": float(az.rhat(draws)) if draws.shape[0] > 1 else np.nan,
        "ess_bulk": float(az.ess(draws)),
        "ess_tail": float(az.ess(draws, method="tail", prob=0.95)),
        "mcse": float(az.mcse(draws)),
    }
