"""Adding chains until R-hat and ESS meet their targets (issue 19 item 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayesmixed.engines.bayes.extend import (
    ESS_TARGET,
    RHAT_TARGET,
    pool,
    round_seed,
    sample_until_converged,
    shortfall,
)
from bayesmixed.fitting import fit_bayes
from bayesmixed.results.render_bayes import render_text

from .helpers import slope_design


def _draws(chains: int, offset: float) -> tuple[dict, xr.Dataset]:
    raw = {"beta": np.full((chains, 5, 2), offset)}
    stats = xr.Dataset(
        {"diverging": (("chain", "draw"), np.zeros((chains, 5), bool))},
        coords={"chain": np.arange(chains), "draw": np.arange(5)},
    )
    return raw, stats


def test_pool_stacks_chains_and_renumbers_them():
    raw, stats = pool(_draws(2, 0.0), _draws(2, 1.0))
    assert raw["beta"].shape == (4, 5, 2)
    assert raw["beta"][:2].max() == 0.0 and raw["beta"][2:].min() == 1.0
    assert stats["chain"].values.tolist() == [0, 1, 2, 3]


def test_round_seeds_are_reproducible_distinct_and_random_stays_random():
    seeds = [round_seed(5, k) for k in (1, 2, 3)]
    assert seeds == [round_seed(5, k) for k in (1, 2, 3)]
    assert len(set(seeds + [5])) == 4
    assert round_seed(None, 1) is None


def test_shortfall_names_each_failing_parameter_and_lets_constants_pass():
    diag = pd.DataFrame(
        {
            "r_hat": [1.0, RHAT_TARGET + 0.001, 1.0, np.nan],
            "ess_bulk": [ESS_TARGET, 5000.0, ESS_TARGET - 1, np.nan],
        },
        index=["a", "b", "c", "const"],
    )
    assert shortfall(diag) == ["b", "c"]


class _Fake:
    """An assembled result whose ESS grows with the number of chains pooled."""

    def __init__(self, chains: int, per_chain: float):
        self.chains, self.info = chains, {}
        self._ess = per_chain * chains

    def diagnostics(self):
        return pd.DataFrame({"r_hat": [1.0], "ess_bulk": [self._ess]}, index=["x"])


def _loop(per_chain: float, rounds: int = 3):
    seeds = []

    def sample(seed):
        seeds.append(seed)
        return _draws(2, 0.0)

    result = sample_until_converged(
        sample, lambda d: _Fake(d[0]["beta"].shape[0], per_chain), seed=1, rounds=rounds
    )
    return result, seeds


def test_loop_stops_as_soon_as_the_targets_are_met():
    result, seeds = _loop(per_chain=150)  # 2 chains: 300 < 400; 4 chains: 600
    assert result.chains == 4 and result.info["extra_rounds"] == 1
    assert seeds == [1, round_seed(1, 1)]


def test_loop_adds_nothing_when_already_converged_or_not_asked():
    assert _loop(per_chain=250)[0].info["extra_rounds"] == 0
    assert _loop(per_chain=10, rounds=0)[0].chains == 2


def test_loop_gives_up_after_the_last_round():
    result, seeds = _loop(per_chain=10)
    assert result.chains == 8 and result.info["extra_rounds"] == 3 and len(seeds) == 4


@pytest.mark.slow
def test_real_fit_adds_chains_until_ess_is_met_and_says_so():
    # 1 chain x 100 draws cannot reach bulk ESS 400; each added chain brings at most 100 more
    design = slope_design()
    kw = dict(draws=100, tune=150, chains=1, seed=3, progressbar=False)
    plain = fit_bayes(design, **kw)
    assert plain.chains == 1 and "extra_rounds" in plain.info
    assert plain.info["extra_rounds"] == 0
    extended = fit_bayes(design, until_converged=True, **kw)
    assert extended.chains > 1
    assert extended.info["extra_rounds"] == extended.chains - 1
    # the first chain is the plain fit's chain: same seed, same sampled covariance draws
    name = f"cov[{plain.block_names[0]}]"
    np.testing.assert_array_equal(
        extended.posterior[name].values[0], plain.posterior[name].values[0]
    )
    # it stopped because the targets were met, or because the rounds ran out
    assert not shortfall(extended.diagnostics()) or extended.info["extra_rounds"] == 3
    assert "more were run and pooled" in render_text(extended)
    assert "more were run and pooled" not in render_text(plain)
