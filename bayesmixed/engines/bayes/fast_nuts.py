"""NUTS on the NumPy log density: nutpie's Rust sampler calling :mod:`.fast_posterior`.

Why this path exists: a new user's first ``bayes: mixed`` waited a minute or more while
PyTensor compiled the model's log density to C (an empty compile cache), and a warm fit
still paid PyMC's per-leapfrog Python overhead.  For Gaussian models whose random effects
and fixed effects integrate out, the density and its exact gradient are small dense
linear algebra per component (:mod:`.fast_density`); the whole log posterior runs as one
numba function compiled once for every model and cached on disk (:mod:`.fast_compiled`,
~20 us an evaluation on jsp), which nutpie's sampler (Rust) calls as a C function
(:mod:`.fast_cfunc`): no Python per leapfrog step and no GIL, so the chains run on every
core.  Where no compiled kernel applies (components wider than
:data:`.fast_density.KERNEL_MAX_WIDTH`, big crossed designs, where BLAS beats compiled
loops, or numba missing) nutpie calls the NumPy density through a Python callback
(~20 us of overhead a call, one chain at a time).  Models with heteroskedastic residual
cells or AR(1) panels take :mod:`.fast_residual`'s density the same way (through Python,
its per-component loops compiled): the productivity AR(1) model of the workshop samples in
~33 s against ~150 s on PyMC's compiled graph.  GLMMs without an ancillary parameter
(Bernoulli, binomial, Poisson) take :mod:`.fast_glmm`'s non-centred density the same way,
instead of PyMC's graph compiled by PyTensor's numba backend.

Measured on the quick-start model (jsp, ``math5 math3 || school: math3, cov(uns)``,
4 chains x 1,000 draws after 1,000 tuning steps): see ``benchmarks/first_posterior.py``
and the README; before this path it was 101 s cold and 63-77 s warm.

Adaptation: nutpie's ``low_rank`` mass matrix, because these posteriors are small and
strongly correlated (jsp's log SDs of intercept and slope at 0.96): on the quick start it
takes 5.7 leapfrog steps a draw against 11.7 with nutpie's diagonal adaptation (0
divergences either way), the reason the PyMC path adapts a full matrix too
(:func:`.sample.init_method`).  Sampled random effects (GLMMs: hundreds of coordinates)
take the diagonal one, as on the PyMC path (:func:`adaptation`).

Seeds: the seed of the fit seeds nutpie and the jittered starts, so a seed gives the same
draws every time (tested).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import os

import numpy as np
import xarray as xr

from ...errors import SpecificationError
from ..quiet_import import import_nutpie
from . import fast_cfunc, fast_glmm_kernel
from .fast_compiled import CompiledPosterior, compiled, prefetch
from .fast_glmm import GlmmPosterior
from .fast_posterior import FastPosterior, fast_covers
from .fast_residual_posterior import ResidualPosterior
from .interrupt import watch_interrupts
from .sample import FULL_MASS_MAX_DIM

POLL = 0.02  # seconds between looks at the running sampler
JITTER = 0.5  # half-width of the uniform jitter around the ML start, working scale
#: nutpie's sampler statistics under ArviZ's schema names (the ones PyMC writes)
STATS = {
    "diverging": "diverging",
    "energy": "energy",
    "energy_error": "energy_error",
    "max_energy_error": "max_energy_error",
    "step_size": "step_size",
    "step_size_bar": "step_size_bar",
    "n_steps": "n_steps",
    "depth": "tree_depth",
    "maxdepth_reached": "reached_max_treedepth",
    "mean_tree_accept": "acceptance_rate",
    "logp": "lp",
}  # half-width of the uniform jitter around the ML start, on the working scale


MIN_NUTPIE = (0, 16)  # from_pyfunc with start points, low-rank adaptation, wait(timeout)


def available() -> bool:
    """nutpie (an optional extra: ``pip install bayesmixed[nutpie]``), recent enough."""
    if importlib.util.find_spec("nutpie") is None:
        return False
    try:
        parts = importlib.metadata.version("nutpie").split(".")[:2]
        return tuple(int(p) for p in parts) >= MIN_NUTPIE
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False


def use_fast(built, sampler: str) -> bool:
    """The NumPy density replaces PyMC's when the user did not ask for PyMC's sampler."""
    return sampler in ("auto", "nutpie") and available() and fast_covers(built)


def adaptation(dim: int) -> str:
    """nutpie's low-rank mass matrix for small posteriors, its diagonal one for sampled
    random effects (beyond :data:`.sample.FULL_MASS_MAX_DIM` coordinates, PyMC's path's
    rule too).

    Measured with nutpie 0.16: on a 129-dimensional standard normal low-rank adaptation
    cost ~190 us of the sampler's own time a gradient evaluation against ~25 us with the
    diagonal one; on the workshop's random-slope ``melogit`` (129 coordinates, compiled
    density, 2 chains x 1,000 draws) 13.8 s against 5.3-6.4 s, min bulk ESS 389 against
    336-527 (four seeds, R-hat <= 1.014): 2.4x the effective draws a second.
    """
    return "low_rank" if dim <= FULL_MASS_MAX_DIM else "diag"


def _compiled_density(post, x0: np.ndarray):
    """(the density to call, its C-callback header or None, the callbacks or None).

    The compiled whole-posterior kernels where they apply: the integrated Gaussian one on
    narrow components (:mod:`.fast_compiled`), the GLMM one for canonical links
    (:mod:`.fast_glmm_kernel`); otherwise ``post`` itself, called through Python.  ``x0``:
    the sampler's start, where a compiled density measures its left-out constants.
    """
    if isinstance(post, GlmmPosterior):
        args = fast_glmm_kernel.pack(post)
        found = None if args is None else fast_glmm_kernel.compiled()
        if found is None:
            return post, None, None
        density = fast_glmm_kernel.CompiledGlmm(post, found[0], args, x0)
        return density, density.header(), found[1:]
    if post.dens is None or post.dens.compiled is None:  # wide components: NumPy
        return post, None, None
    kernel = compiled()
    if kernel is None:
        return post, None, None
    density = CompiledPosterior(post, kernel)
    return density, fast_cfunc.Header(density.args, density.const), None


def posterior_of(built):
    """The log posterior nutpie samples: integrated Gaussian, residual structure or GLMM."""
    if not built.gaussian:
        return GlmmPosterior(built)
    return FastPosterior(built) if built.cells is None else ResidualPosterior(built)


def _wait(running):
    """The trace, waiting in Python so that Ctrl-C reaches us (nutpie's own blocking wait
    runs in Rust, where a SIGINT is not seen until sampling ends)."""
    try:
        while True:
            try:  # raises TimeoutError while sampling goes on (so does is_finished)
                return running.wait(timeout=POLL)
            except TimeoutError:
                continue
    except BaseException:  # Ctrl-C above all: stop the worker threads before leaving
        running.cancel()
        raise


def _trace_values(post, x: np.ndarray, shapes) -> dict[str, np.ndarray]:
    """The traced variables of every draw, from the working coordinates nutpie kept.

    Done once after sampling rather than in nutpie's per-draw ``expand`` callback, which
    runs under the GIL beside the density's callbacks and also evaluated the priors.
    """
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    out = {n: np.empty((len(flat),) + s) for n, s in shapes}
    for i, row in enumerate(flat):
        for name, value in post.obj.values(row).items():
            out[name][i] = value
    return {n: v.reshape(lead + v.shape[1:]) for n, v in out.items()}


def run_fast_nuts(
    built,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int | None,
    target_accept: float,
    progressbar: bool,
) -> tuple[dict[str, np.ndarray], xr.Dataset]:
    """Sample ``built`` with nutpie; the traced variables (chain, draw, ...) and stats."""
    if draws < 1 or tune < 0 or chains < 1:
        raise SpecificationError("draws and chains must be positive and tune non-negative")
    if not 0 < target_accept < 1:
        raise SpecificationError(f"target_accept must lie in (0, 1), got {target_accept}")
    # nutpie's import and the kernels' compile (or load), beside the density's set-up and
    # the ML start fit
    prefetch("glmm" if not built.gaussian else "gaussian" if built.cells is None else "residual")
    post = posterior_of(built)
    x_ml = post.obj.initial()
    density, header, callbacks = _compiled_density(post, x_ml)
    nutpie = import_nutpie()  # by prefetch's thread, usually done by now
    from nutpie.compiled_pyfunc import from_pyfunc

    shapes = post.shapes()
    rng = np.random.default_rng(seed)
    nut_seed = int(rng.integers(2**31 - 1))

    def make_logp():
        def logp(x):
            try:
                value, grad = density.logp_grad(x)
            except (np.linalg.LinAlgError, FloatingPointError, ValueError, OverflowError):
                return -np.inf, np.zeros_like(x)
            if not math.isfinite(value + float(grad.sum())):  # any NaN or inf (one check)
                return -np.inf, np.zeros_like(x)
            return value, grad

        return logp

    def make_expand(*_):
        def expand(x, **_kw):  # the trace keeps x; its values are found after sampling
            return {"x": np.array(x, float)}

        return expand

    def start(chain_seed):
        jitter = np.random.default_rng([nut_seed, int(chain_seed)]).uniform(-1, 1, len(x_ml))
        return x_ml + JITTER * jitter

    model = None
    if header is not None:  # a C callback: no Python per step, chains on every core
        model = fast_cfunc.nutpie_model(header, post.n, start, callbacks)
    if model is None:
        model = from_pyfunc(
            post.n,
            make_logp,
            make_expand,
            [np.dtype("float64")],
            [(post.n,)],
            ["x"],
            make_initial_point_fn=start,
        )
    with watch_interrupts(draws, chains) as watch:
        running = nutpie.sample(
            model,
            blocking=False,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=1 if getattr(density, "serial", False) else min(chains, os.cpu_count() or 1),
            seed=nut_seed,
            progress_bar=progressbar,
            adaptation=adaptation(post.n),
            target_accept=target_accept,
            save_warmup=False,
            return_raw_trace=True,  # converted here: nutpie's way goes through ArviZ
        )
        tree = watch.checked(kept_draws(_wait(running), post.n))
    raw = _trace_values(post, tree["posterior"]["x"].values, shapes)
    return raw, tree["sample_stats"]


def kept_draws(trace, n: int) -> dict[str, xr.Dataset]:
    """nutpie's raw (Arrow) trace as ``posterior`` (x: chain, draw, n) and ``sample_stats``.

    Tuning draws are dropped; the statistics are renamed to ArviZ's schema (:data:`STATS`).
    Chains cut short (an interrupt) are truncated to the shortest, so that
    :meth:`.interrupt.Watch.checked` sees the draws every chain has, not the longest.
    """
    import pyarrow  # nutpie's own dependency, already imported by it

    def column(batch, name: str) -> np.ndarray:
        return pyarrow.array(batch.column(name)).to_numpy(zero_copy_only=False)

    xs, stats = [], {k: [] for k in STATS}
    for draw, stat in zip(*trace.get_arrow_trace()):
        keep = ~column(stat, "tuning").astype(bool)
        flat = pyarrow.array(draw.column("x")).flatten().to_numpy(zero_copy_only=False)
        xs.append(flat.reshape(-1, n)[keep])
        names = set(stat.column_names)
        for k in STATS:
            if k in names:
                stats[k].append(column(stat, k)[keep])
    length = min((len(x) for x in xs), default=0)
    cd = ("chain", "draw")
    x = np.stack([a[:length] for a in xs]) if xs else np.zeros((0, 0, n))
    ss = {STATS[k]: (cd, np.stack([a[:length] for a in v])) for k, v in stats.items() if v}
    coords = {"chain": np.arange(len(x)), "draw": np.arange(length)}
    return {
        "posterior": xr.Dataset({"x": (cd + ("x_dim_0",), x)}, coords=coords),
        "sample_stats": xr.Dataset(ss, coords=coords),
    }
