"""``estimate_bayes``: a Design becomes a posterior, by NUTS or by MAP/Laplace.

The composition: resolve the priors by name, choose the parameterization (random effects
integrated out for Gaussian models, non-centred otherwise), build the PyMC model, then
either sample it or find its mode, and hand the draws to one assembler so both methods
return the same ArviZ structure.
"""

from __future__ import annotations

import functools
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from ...design.bayes_names import stata_listing
from ...design.standardize import FixedScaling
from ...design.types import Design
from ...errors import EstimationError, NotSupportedError, SpecificationError
from ...spec.family import get_family
from ..bayes_estimates import BayesEstimates
from .build import build_model, trace_names
from .covariance import integrable_beta, structure_graph
from .extend import MAX_ROUNDS, sample_until_converged
from .fast_glmm import glmm_model
from .fast_nuts import run_fast_nuts, use_fast
from .fast_residual_posterior import residual_model
from .glmm import check_family
from .laplace import find_mode, laplace_draws, laplace_model
from .posterior import to_datatree
from .priors import resolve_priors
from .sample import run_nuts

METHODS = ("nuts", "laplace")


def _check_supported(design: Design, method: str, marginalize: bool | None) -> None:
    spec = design.spec
    check_family(spec)
    if not design.blocks:
        raise NotSupportedError("a mixed model needs at least one random-effects equation")
    if not get_family(spec.family, spec.link).closed_form:
        if marginalize:
            raise SpecificationError(
                f"the random effects of {spec.command} (family {spec.family}) cannot be "
                "integrated out analytically; use marginalize=False or leave it unset"
            )
        if method == "laplace":
            raise NotSupportedError(
                f"method='laplace' is available for Gaussian models only; fit {spec.command} "
                "with method='nuts'"
            )
    elif design.residual is not None and not design.residual.diagonal and marginalize is False:
        raise NotSupportedError(
            f"residuals({spec.residual.type}) under the Bayesian engine needs the random "
            "effects integrated out (marginalize=True, the default for Gaussian models)"
        )


class CenteringWarning(UserWarning):
    """A covariate far from zero relative to its spread: the Bayesian engine does not centre."""


SHIFT_RATIO = 1e4  # |mean| / SD of a covariate above which X'X loses ~8 of 16 digits


def warn_far_from_zero(design: Design) -> None:
    """Say which covariates to centre before a Bayesian fit.

    The ML and GLMM engines fit on centred, unit-scale columns
    (:mod:`bayesmixed.design.standardize`), so a shifted covariate (a year, a timestamp)
    leaves their answer unchanged.  This engine does not yet: its priors on beta are
    stated on the user's scale, and reparametrising them is still to do.  Measured on
    120 rows with x = N(0, 1) + 1e7, NUTS ended with R-hat 1e16 for var(_cons) while ML
    was exact, so the user is told up front what to do rather than left to decode the
    convergence warnings.
    """
    scaling = FixedScaling.of(design.X)
    if scaling.const is None:
        return
    ratio = np.abs(scaling.center) / scaling.scale
    far = [name for name, r in zip(design.fixed_names, ratio) if r > SHIFT_RATIO]
    if far:
        warnings.warn(
            f"{', '.join(far)} lie{'s' * (len(far) == 1)} far from zero relative to "
            f"{'its' if len(far) == 1 else 'their'} spread (|mean| / SD > {SHIFT_RATIO:g}); "
            "the Bayesian engine does not centre covariates internally, so sampling may "
            "fail to converge: centre them first (e.g. generate x_c = x - mean) -- the ML "
            "fit is unaffected",
            CenteringWarning,
            stacklevel=3,
        )


def _single_threaded_blas(fn):
    """Multithreaded BLAS on matrices of this size is ~30x slower than one thread.

    PyTensor also warns, at its first compilation, that it "could not link to a BLAS
    installation" when installed from pip: its C code then leaves matrix products to
    NumPy, which has its own BLAS, so for these small graphs the warning is noise and is
    kept from the user.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "PyTensor could not link to a BLAS")
            return fn(*args, **kwargs)

    return wrapper


@_single_threaded_blas
def estimate_bayes(
    design: Design,
    *,
    method: str = "nuts",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    target_accept: float | None = None,
    sampler: str = "auto",
    priors: str | dict | None = None,
    marginalize: bool | None = None,
    reml: bool | None = None,
    progressbar: bool = True,
    offset: np.ndarray | None = None,
    trials: np.ndarray | float | None = None,
    until_converged: bool = False,
) -> BayesEstimates:
    """Fit ``design`` the Bayesian way.

    Parameters
    ----------
    method : ``"nuts"`` (MCMC) or ``"laplace"`` (posterior mode + Gaussian approximation
        on the unconstrained scale, returned as ``draws`` draws in one chain).
    priors : ``None`` (weakly informative, scale-aware), ``"stata"``, ``"flat"`` or a dict
        of changes by the engine's prior names or Stata's (``{math5:math3}``), values in
        Stata's parametrization (see :mod:`.priors`).
    marginalize : integrate the random effects out (default for Gaussian models);
        ``False`` samples them, non-centred.
    target_accept : NUTS's target acceptance; ``None`` takes 0.9, or 0.95 when random
        effects with an unstructured covariance are sampled (non-centred GLMMs: correlations
        near +-1 curve the posterior of the effects themselves).  Integrated-out models
        need no more: their correlations are unconstrained through tanh'd partial
        correlations (:mod:`.cpc`), which leaves jsp's boundary-hugging posterior
        (corr ~ -0.995) 0 divergences at 0.9 for seeds 1-8.
    reml : Laplace only: integrate the fixed effects out too, so the flat-prior mode is the
        REML estimate; defaults to ``design.spec.reml``.  NUTS always integrates them out
        when marginalizing (exact under normal or flat priors, and faster).
    sampler : ``"auto"`` (the default) samples integrated-out Gaussian models and GLMMs
        without an ancillary parameter with nutpie on our own log density
        (:mod:`.fast_nuts`: no per-model compile; the densities are compiled once by numba
        and cached, the GLMM one for the logit and log links, :mod:`.fast_glmm`) when nutpie is
        installed and the model is covered, and everything else with PyMC's sampler;
        ``"pymc"``, ``"nutpie"`` or ``"numpyro"`` ask for one (``"nutpie"`` still takes
        our density where it covers the model).
    until_converged : NUTS only: while a printed parameter has R-hat above 1.01 or bulk
        ESS below 400, run ``chains`` more chains and pool them, at most three times
        (:mod:`.extend`); the workshop runner asks for this.
    offset, trials : GLMMs only, in the design's row order (offset with log exposure
        included): what :func:`bayesmixed.engines.glmm.glm_extras` reads from the data.
    """
    start = time.perf_counter()
    if method not in METHODS:
        raise SpecificationError(f"unknown method '{method}': use 'nuts' or 'laplace'")
    _check_supported(design, method, marginalize)
    warn_far_from_zero(design)
    resolved = resolve_priors(design, priors)
    gaussian = get_family(design.spec.family, design.spec.link).closed_form
    marginal = gaussian if marginalize is None else bool(marginalize)
    if reml is None:
        reml = bool(design.spec.reml)
    # beta integrates out exactly only under normal or flat priors (t, cauchy... are sampled)
    exact = integrable_beta(list(design.fixed_names), resolved)
    if method == "nuts":
        integrate = marginal and exact
    else:
        integrate = bool(reml)
        if integrate and not marginal:
            raise SpecificationError("reml=True needs marginalize=True in Laplace mode")
        if integrate and not exact:
            raise SpecificationError("reml=True needs normal or flat priors on the coefficients")
    # Laplace, and NUTS through nutpie, on an integrated Gaussian model need no PyMC graph
    # (:mod:`.laplace_numpy`, :mod:`.laplace_residual`, :mod:`.fast_nuts`)
    built = laplace_model(design, resolved, marginal, integrate)
    if built is None:  # residual cells, AR(1) panels (:mod:`.fast_residual`)
        built = residual_model(design, resolved, marginal, integrate)
    if built is None and method == "nuts":  # GLMMs without an ancillary (:mod:`.fast_glmm`)
        built = glmm_model(design, resolved, marginal, integrate, offset, trials)
    if method == "nuts":
        fast = built is not None and use_fast(built, sampler)
        built = built if fast else None
        sampler = "nutpie" if fast else _pymc_sampler(sampler)
    if built is None:
        built = build_model(design, resolved, marginal, integrate, offset, trials)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    if target_accept is None:
        target_accept = _default_target_accept(design, marginal)

    def assemble(raw, stats, mode_values=None, info=None) -> BayesEstimates:
        tree = to_datatree(built, raw, rng, stats, attrs={"method": method, "sampler": sampler})
        return BayesEstimates(
            design=design,
            idata=tree,
            method=method,
            sampler=sampler if method == "nuts" else "laplace",
            priors={k: str(v) for k, v in resolved.items()},
            block_names=built.names,
            marginalized=marginal,
            tune=tune if method == "nuts" else 0,
            mode_values=mode_values,
            sampling_seconds=time.perf_counter() - t0,
            info=info or {},
        )

    if method == "nuts":
        nuts = functools.partial(
            _nuts_draws,
            built,
            draws=draws,
            tune=tune,
            chains=chains,
            target_accept=target_accept,
            sampler=sampler,
            progressbar=progressbar,
        )
        rounds = MAX_ROUNDS if until_converged else 0
        result = sample_until_converged(nuts, lambda d: assemble(*d), seed, rounds)
    else:
        mode, fit, jacobian = _laplace_mode(built)
        raw = laplace_draws(built, fit, draws, rng)
        info = {
            "logp_mode": mode.logp,
            "iterations": mode.iterations,
            "converged": mode.converged,
            "reml": bool(built.integrate_beta),
            "jacobian": jacobian,
            "boundary": jacobian,
        }
        result = assemble(raw, None, _mode_values(built, mode, rng), info)
    result.info["prior_lines"] = stata_listing(design, resolved)
    result.seconds = time.perf_counter() - start
    result.warn()
    return result


def _pymc_sampler(sampler: str) -> str:
    """The sampler for a model the NumPy density does not cover (``auto``: PyMC's)."""
    return "pymc" if sampler == "auto" else sampler


def _nuts_draws(built, seed: int | None, **options):
    """One NUTS run: the traced variables (chain, draw, ...) and the sampler statistics."""
    if built.model is None:  # no PyMC graph: our own density (see estimate_bayes)
        options.pop("sampler")
        return run_fast_nuts(built, seed=seed, **options)
    tree = run_nuts(built.model, seed=seed, **options)
    post = tree["posterior"]
    return {n: post[n].values for n in trace_names(built)}, tree["sample_stats"].to_dataset()


def _default_target_accept(design: Design, marginal: bool) -> float:
    """0.95 for sampled effects under an LKJ correlation (unstructured), else 0.9."""
    lkj = any(structure_graph(b.structure).lkj and b.k > 1 for b in design.blocks)
    return 0.95 if lkj and not marginal else 0.9


def _laplace_mode(built):
    """The natural-scale mode, and the fit whose Gaussian approximation gives the draws.

    On the boundary (jsp's ML correlation is -1) the mode is still reported -- with flat
    priors it is the ML/REML estimate -- but no Gaussian approximation exists there, so
    the draws come from the one at the mode on the unconstrained scale, which is interior.
    """
    try:
        mode = find_mode(built)
    except EstimationError:  # the search ran out of the space (a boundary it cannot reach)
        mode = None
    if mode is not None and mode.cov is not None:
        return mode, mode, False
    warnings.warn(
        "the posterior mode of the natural parameters lies on the boundary (a variance at zero "
        "or a correlation at +-1); it is reported as the mode, but the Laplace draws come from "
        "the Gaussian approximation at the mode on the unconstrained scale instead (Jacobian "
        "included). Prefer method='nuts' here.",
        RuntimeWarning,
        stacklevel=4,
    )
    approx = find_mode(built, jacobian=True)
    if approx.cov is None:
        raise EstimationError(
            "the posterior has no interior mode on the unconstrained scale either, so no "
            "Laplace approximation exists; use method='nuts' or proper priors"
        )
    return mode or approx, approx, True


def _mode_values(built, fit, rng) -> dict:
    """Natural-scale values at the mode; beta is its conditional mean (GLS) if integrated."""
    from .marginal import conditional_draws

    mode = dict(fit.mode)
    covs = [np.asarray(mode[f"cov[{n}]"])[None] for n in built.names]
    sigma = np.atleast_1d(mode["sigma"])
    beta = None if built.integrate_beta else np.asarray(mode["beta"])[None]
    if built.panels is not None:
        from .panel_draws import evaluator, panel_conditional

        sd, z = np.atleast_2d(mode["sigma_e"]), np.asarray(mode["resid_z"])[None]
        _, beta_hat = panel_conditional(built, evaluator(built), sd, z, covs, rng, beta, False)
        mode["beta"] = beta_hat[0]
        return mode
    weights = None if built.cells is None else 1.0 / np.atleast_2d(mode["sigma_e"]) ** 2
    _, beta_hat = conditional_draws(
        built.stats,
        built.design,
        sigma,
        covs,
        rng,
        beta,
        built.prior_mean,
        built.prior_prec,
        noise=False,
        parts=built.parts,
        weights=weights,
    )
    mode["beta"] = beta_hat[0]
    return mode
