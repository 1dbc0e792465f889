"""What the Bayesian engine returns: posterior draws and whether they can be trusted.

A leaf at the engine stage (not inside :mod:`bayesmixed.engines.bayes`, whose
package imports PyMC), so that the result class extending it, and loading a
saved fit, never pay PyMC's import.  See :mod:`bayesmixed.engines.estimates`
for why results extend the engines' estimates.

The convergence diagnostics live here, not on the result, because the engine
itself reads them: :mod:`bayesmixed.engines.bayes.extend` samples more chains
while a printed parameter misses its targets, and the fit warns when it ends
short of them.  Everything is derived from the ArviZ DataTree ``idata``
(``posterior``, ``log_likelihood``, ``observed_data`` and, for NUTS,
``sample_stats``), so the estimates can be rebuilt from a saved DataTree.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from ..design.types import Design
from ..spec.family import get_family

ESS_MIN_PER_CHAIN = 100
RHAT_MAX = 1.01
BFMI_MIN = 0.3


# repr=False: the result's short repr must win over a dump of the DataTree
@dataclass(repr=False)
class BayesEstimates:
    """Posterior draws of a mixed model.

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
            for entry in block.structure.entries():
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
        out.update(self._ancillary_draws(post))
        return out

    def _ancillary_draws(self, post) -> dict:
        """A GLMM family's dispersion (``/alpha``) or cutpoints (``/cut1`` ...)."""
        spec = self.design.spec
        family = get_family(spec.family, spec.link)
        anc = None if family.closed_form else family.bound(self.design.y).ancillary
        if anc is None or anc.bayes_name not in post:
            return {}
        values = post[anc.bayes_name].values
        if anc.support == "positive":
            return {(spec.response, f"/{anc.bayes_name}"): values}
        return {(spec.response, f"/{label}"): values[..., i] for i, label in enumerate(anc.labels)}

    # -- convergence -------------------------------------------------------------------
    @property
    def divergences(self) -> int:
        if "sample_stats" not in self.idata.children:
            return 0
        stats = self.idata["sample_stats"]
        return int(stats["diverging"].values.sum()) if "diverging" in stats else 0

    def diagnostics(self) -> pd.DataFrame:
        """r_hat, ess_bulk and ess_tail for every printed parameter (index ``eq:param``)."""
        rows = {}
        for (eq, param), draws in self.parameter_draws().items():
            diag = diagnose(draws)
            rows[f"{eq}:{param}"] = {k: diag[k] for k in ("r_hat", "ess_bulk", "ess_tail")}
        return pd.DataFrame.from_dict(rows, orient="index")

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


def diagnose(draws: np.ndarray) -> dict[str, float]:
    """R-hat, bulk and tail ESS and MCSE of one parameter's (chain, draw) array.

    A constant (a fixed correlation, a parameter pinned by the model) has no
    variance to diagnose: NaN diagnostics and zero MCSE, which pass every check.
    """
    from .quiet_import import import_arviz_stats

    az = import_arviz_stats()  # what ArviZ's rhat/ess/mcse are, without its plotting stack
    if np.ptp(draws) == 0:
        return {"r_hat": np.nan, "ess_bulk": np.nan, "ess_tail": np.nan, "mcse": 0.0}
    return {
        "r_hat": float(az.rhat(draws)) if draws.shape[0] > 1 else np.nan,
        "ess_bulk": float(az.ess(draws)),
        "ess_tail": float(az.ess(draws, method="tail", prob=0.95)),
        "mcse": float(az.mcse(draws)),
    }
