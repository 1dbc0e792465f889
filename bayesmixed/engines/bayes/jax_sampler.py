"""What ``sampler="numpyro"`` needs beyond PyMC's own JAX bridge.

PyMC compiles the model to JAX and hands it to numpyro's NUTS; two things it
leaves to the caller matter here:

* **Precision.**  JAX computes in float32 unless told otherwise, and PyMC
  does not tell it: the marginal likelihood of a mixed model (a Cholesky of
  Lambda'Z'Z Lambda + I, log-determinants of sums over thousands of rows)
  loses digits in float32 and the draws drift from the float64 samplers'.
  We switch JAX to float64 by default; ``float64=False`` keeps float32 for
  users who want a GPU's single-precision speed and accept the error.
* **How chains run.**  numpyro runs chains in parallel only with one device
  per chain.  On a CPU (one device unless ``XLA_FLAGS`` says otherwise) we
  run them ``sequential`` -- each chain is a compiled loop already -- instead
  of letting numpyro warn and fall back; on one GPU chains are
  ``vectorized`` (one batched program, the GPU's strength).

When it pays: the JAX path compiles the model once (seconds) and then costs
little per gradient, so it wins when gradients are expensive -- many
observations in the non-marginalized parameterization, many random effects
(q in the thousands) -- and on a GPU.  On the workshop's jsp random-intercept
model on 2 shared CPU cores (2 chains x 2,000 iterations) PyMC's sampler took
6 s and numpyro 25 s, nearly all of it JAX compilation: for workshop-sized
marginalized models the default sampler finishes first.
"""

from __future__ import annotations

import importlib.util

from ...errors import NotSupportedError

INSTALL = "install it with `pip install bayesmixed[numpyro]` (numpyro and jax)"


def _jax():
    if importlib.util.find_spec("jax") is None or importlib.util.find_spec("numpyro") is None:
        raise NotSupportedError(f"sampler='numpyro' needs JAX and numpyro; {INSTALL}")
    import jax

    return jax


def configure_precision(float64: bool = True) -> None:
    """Set JAX's default precision for the arrays created from now on."""
    _jax().config.update("jax_enable_x64", bool(float64))


def device_kind() -> str:
    """``"gpu"``, ``"tpu"`` or ``"cpu"``: where JAX will run the sampler."""
    return str(_jax().default_backend())


def chain_method(chains: int) -> str:
    """``parallel`` with a device per chain, ``vectorized`` on one accelerator, else sequential."""
    jax = _jax()
    if chains > 1 and jax.device_count() >= chains:
        return "parallel"
    if chains > 1 and jax.default_backend() != "cpu":
        return "vectorized"
    return "sequential"


def numpyro_options(chains: int, float64: bool = True) -> dict:
    """Prepare JAX and return the extra options for ``pm.sample(..., nuts_sampler="numpyro")``.

    The result goes into PyMC's NUTS keyword arguments (``nuts_sampler_kwargs``
    / ``nuts=``), beside ``target_accept``.
    """
    configure_precision(float64)
    return {"chain_method": chain_method(chains)}
