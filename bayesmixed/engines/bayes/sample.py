"""Run NUTS with an explicitly chosen sampler.

PyMC 6 silently switches ``pm.sample`` to nutpie when nutpie is installed, so the sampler
is always passed explicitly: the user gets the sampler they asked for, and a clear error
(with the install command) when an optional one is missing.
"""

from __future__ import annotations

import importlib.util
import os
import warnings

import numpy as np

from ...errors import NotSupportedError, SpecificationError
from .interrupt import watch_interrupts
from .lazy import pm

SAMPLERS = {"pymc": None, "nutpie": "nutpie", "numpyro": "numpyro"}
FULL_MASS_MAX_DIM = 60


def init_method(model: pm.Model) -> str:
    """A dense mass matrix when the sampled space is small, else a diagonal one.

    Integrated-out Gaussian models leave NUTS a handful of parameters (jsp: 4) whose
    posterior is strongly correlated -- the log standard deviations of a random intercept
    and slope at 0.96 -- which a diagonal mass matrix cannot undo: on jsp it needed ~39
    leapfrog steps a draw against ~6 with a dense one.  Estimating a d x d matrix needs
    many more draws than d, so sampled random effects (hundreds of dimensions) keep the
    diagonal.
    """
    dim = sum(int(np.size(v)) for v in model.initial_point().values())
    return "jitter+adapt_full" if dim <= FULL_MASS_MAX_DIM else "jitter+adapt_diag"


def check_sampler(sampler: str) -> None:
    if sampler not in SAMPLERS:
        raise SpecificationError(f"unknown sampler '{sampler}': use 'pymc', 'nutpie' or 'numpyro'")
    module = SAMPLERS[sampler]
    if module is not None and importlib.util.find_spec(module) is None:
        extra = "nutpie" if sampler == "nutpie" else "numpyro"
        raise NotSupportedError(
            f"sampler='{sampler}' needs the optional package {module}, which is not installed; "
            f"install it with `pip install bayesmixed[{extra}]` or use sampler='pymc'"
        )


def run_nuts(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int | None,
    target_accept: float,
    sampler: str,
    progressbar: bool,
):
    """Sample ``model`` and return PyMC's DataTree (posterior and sample_stats)."""
    check_sampler(sampler)
    if draws < 1 or tune < 0 or chains < 1:
        raise SpecificationError("draws and chains must be positive and tune non-negative")
    if not 0 < target_accept < 1:
        raise SpecificationError(f"target_accept must lie in (0, 1), got {target_accept}")
    cores = min(chains, os.cpu_count() or 1)
    kwargs = {}
    if sampler == "pymc":
        kwargs["target_accept"] = target_accept
        kwargs["init"] = init_method(model)
        # Under PyTensor 3 "FAST_RUN" is its numba mode, as is the default: kept by
        # measurement against the C backend (mode "CVM"), which on the workshop's melogit
        # random-slope model compiled no faster on an empty cache (107 against 93 s) and
        # sampled at half the speed (46 against 22 s).
        kwargs["compile_kwargs"] = {"mode": "FAST_RUN"}
    else:
        # PyMC 6 deprecates nuts_sampler_kwargs for nuts={...}; for numpyro it lifts
        # chain_method (and target_accept) to the JAX driver.
        kwargs["nuts"] = {"target_accept": target_accept}
        if sampler == "numpyro":
            from .jax_sampler import numpyro_options

            kwargs["nuts"].update(numpyro_options(chains))
    with model, warnings.catch_warnings(), watch_interrupts(draws, chains) as watch:
        # PyMC labels its dense-mass adaptation experimental; it is what we choose for
        # small models on purpose (init_method), so the label is not the user's concern
        warnings.filterwarnings("ignore", "QuadPotentialFullAdapt is an experimental")
        tree = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            progressbar=progressbar,
            nuts_sampler=sampler,
            compute_convergence_checks=False,
            **kwargs,
        )
        # Ctrl-C must stop the fit: PyMC swallows it and returns the draws made so far
        return watch.checked(tree)
