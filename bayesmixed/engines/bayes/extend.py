"""Sample more chains until every printed parameter meets the convergence targets.

A fixed number of draws cannot promise convergence: with the workshop's 2 chains x 1000
draws, bangladesh's ``|| district: urban, cov(unstructured)`` ends with bulk ESS 500-700
for the variance components and, for some seeds, R-hat above 1.01 -- two chains make
R-hat itself noisy.  Asked to (``until_converged=True``; the workshop runner does), the
engine runs the same number of chains again from fresh seeds and pools them, up to
``MAX_ROUNDS`` extra rounds, until R-hat <= 1.01 and bulk ESS >= 400 everywhere
(Vehtari et al. 2021's targets).  New chains, rather than longer ones, because PyMC cannot
resume a chain; each new chain is adapted afresh, so the pooled draws are an ordinary
multi-chain sample and R-hat keeps its meaning.  A run that still falls short keeps the
usual warnings, so nothing is hidden.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

RHAT_TARGET = 1.01
ESS_TARGET = 400
MAX_ROUNDS = 3

Draws = tuple[dict[str, np.ndarray], xr.Dataset]


def round_seed(seed: int | None, k: int) -> int | None:
    """An independent, reproducible seed for extra round ``k`` (``None`` stays random)."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def shortfall(diagnostics) -> list[str]:
    """Printed parameters that miss a target (NaN diagnostics -- constants -- pass)."""
    bad = (diagnostics["r_hat"] > RHAT_TARGET) | (diagnostics["ess_bulk"] < ESS_TARGET)
    return diagnostics.index[bad.to_numpy()].tolist()


def pool(first: Draws, more: Draws) -> Draws:
    """Stack two runs' chains: raw draws along axis 0, sampler statistics along ``chain``."""
    raw = {k: np.concatenate([first[0][k], more[0][k]], axis=0) for k in first[0]}
    n = first[1].sizes["chain"]
    stats = xr.concat(
        [first[1], more[1].assign_coords(chain=more[1]["chain"].values + n)], dim="chain"
    )
    return raw, stats


def sample_until_converged(
    sample: Callable[[int | None], Draws],
    assemble: Callable[[Draws], object],
    seed: int | None,
    rounds: int = MAX_ROUNDS,
):
    """Sample, assemble, and add rounds of chains while the result misses a target.

    Returns the assembled result; its ``info["extra_rounds"]`` says how many rounds were
    added, so the printed notes can tell the user why there are more chains than asked.
    """
    draws = sample(seed)
    result = assemble(draws)
    done = 0
    while done < rounds and shortfall(result.diagnostics()):
        done += 1
        draws = pool(draws, sample(round_seed(seed, done)))
        result = assemble(draws)
    result.info["extra_rounds"] = done
    return result
