"""log p(y | model) of a Bayesian fit, for ``bayestest model``.

The marginal likelihood is the integral of likelihood x prior over every parameter, so
the density integrated must be *exactly* log p(y | theta) + log p(theta) with all its
constants.  For Gaussian models that is what
:class:`~bayesmixed.engines.bayes.laplace_numpy.NumpyObjective` evaluates: the random
effects (and, under normal priors, the fixed effects) integrated out in closed form, the
normalized prior densities, on PyMC's unconstrained working coordinates with the
Jacobian of the transforms.  The posterior draws (sigma, each ``cov[<block>]`` and beta,
natural scale) are mapped back to those coordinates exactly
(:func:`~bayesmixed.engines.bayes.laplace_numpy.working_point`), and

* NUTS draws feed bridge sampling (:mod:`.bridge`);
* Laplace draws are not posterior draws -- they come from a Gaussian on the working
  scale -- so they only place the proposal of an importance-sampling estimate
  (:func:`.bridge.importance_sampler`), coarser (SE ~0.003 where bridge sampling of
  2 x 2000 NUTS draws gives 0.0005).

Refused, with the reason: an improper (``flat``) prior on any parameter, whose marginal
likelihood is not defined (Stata refuses the same), and every model the NumPy density
does not cover (GLMMs, residual cells or correlated ``residuals()``, inverse-Wishart or
uniform scale priors).  The priors are those of the fit: its listing
(``result.priors``) read back, at full precision where a built-in prior set produced
them, and checked against the printed ``Priors:`` lines, which say whether a scale
prior sits on the variance.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import BayesmixedError, NotSupportedError
from .bridge import BridgeEstimate, bridge_sampler, importance_sampler

PRIOR_SETS = ("default", "stata", "flat")


def log_marginal_likelihood(result, seed: int | None = 0,
                            n_proposal: int | None = None) -> BridgeEstimate:  # fmt: skip
    """log p(y) of a Bayesian fit and its Monte Carlo SE (bridge sampling for NUTS)."""
    objective = model_objective(result)
    draws = working_draws(result, objective)
    rng = np.random.default_rng(seed)
    sampler = importance_sampler if result.method == "laplace" else bridge_sampler
    return sampler(_log_density(objective), draws, rng, n_proposal)


def _log_density(objective):
    """log q(x), -inf where the objective fails (a proposal draw outside its domain)."""

    def log_q(x: np.ndarray) -> float:
        try:  # f catches NumPy's failures; math.exp overflows with an ArithmeticError
            value = objective.f(x)
        except ArithmeticError:
            return -np.inf
        return -np.inf if value >= 1e300 else -value

    return log_q


def fit_priors(result) -> dict:
    """The fit's resolved priors, read back from ``result.priors`` (see the module doc)."""
    from ..design.bayes_names import stata_listing
    from ..engines.bayes.distributions import parse_prior_text
    from ..engines.bayes.priors import resolve_priors

    design = result.design
    bases = [resolve_priors(design, name) for name in PRIOR_SETS]
    out = {}
    for key, text in result.priors.items():
        exact = [b[key] for b in bases if key in b and str(b[key]) == text]
        out[key] = exact[0] if exact else parse_prior_text(text)
    listed = result.info.get("prior_lines")
    if listed is None or len(listed) != len(out):  # a fit saved without its listing
        return out
    keys = list(out)
    on_var = {k: replace(p, variance=True) for k, p in out.items()}
    plain, variance = stata_listing(design, out), stata_listing(design, on_var)
    for i, key in enumerate(keys):
        if listed[i] == variance[i] and listed[i] != plain[i]:
            out[key] = on_var[key]
        elif listed[i] != plain[i]:
            raise BayesmixedError(
                f"bayestest model: cannot read back the prior of {key} ('{listed[i]}')"
            )
    return out


def _check_proper(design, priors: dict) -> None:
    from ..design.bayes_names import canonical_names

    names = canonical_names(design)
    flat = [names.get(k, k) for k, p in priors.items() if p.dist == "flat"]
    if flat:
        raise BayesmixedError(
            "bayestest model: the marginal likelihood is not defined under an improper "
            f"prior, and {', '.join(flat)} {'has' if len(flat) == 1 else 'have'} a flat "
            "prior; refit with proper priors (e.g. normal() on coefficients, igamma() or "
            "halfnormal() on variances), as Stata requires"
        )


def model_objective(result):
    """The exact log posterior density of ``result``'s model on the working scale."""
    from ..engines.bayes.laplace import laplace_model
    from ..engines.bayes.laplace_numpy import NumpyObjective

    priors = fit_priors(result)
    _check_proper(result.design, priors)
    coefs = [priors[f"beta[{n}]"] for n in result.design.fixed_names]
    integrate = all(p.dist == "normal" for p in coefs)
    built = laplace_model(result.design, priors, True, integrate)
    if built is None:
        raise NotSupportedError(
            "bayestest model computes the marginal likelihood from the exact log posterior "
            "with the random effects integrated out, which this version has for Gaussian "
            "models with independent homoskedastic residuals, normal/t/cauchy/laplace "
            "coefficient priors, halfnormal/halfcauchy/halft/igamma/gamma/lognormal/"
            "exponential scale priors and LKJ or uniform correlations; this fit is not one"
        )
    return NumpyObjective(built, jacobian=True)


def working_draws(result, objective) -> np.ndarray:
    """The posterior draws on the objective's working coordinates, (chain, draw, dim)."""
    from ..engines.bayes.laplace_numpy import working_point

    post = result.posterior
    names = ["sigma"] + [f"cov[{n}]" for n in result.block_names]
    names += [] if objective.integrate else ["beta"]
    arrays = {n: post[n].values for n in names}
    chains, draws = arrays["sigma"].shape[:2]
    out = np.empty((chains, draws, objective.n))
    for c in range(chains):
        for d in range(draws):
            out[c, d] = working_point(objective, {n: a[c, d] for n, a in arrays.items()})
    return out
