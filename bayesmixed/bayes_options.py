"""Options of a Bayesian fit, from Stata's ``bayes`` prefix or from keywords.

Stata users write ``bayes, nchains(2) mcmcsize(500) burnin(300) rseed(1): mixed ...``;
Python users write ``method="nuts", chains=2, draws=500, tune=300, seed=1``.
Both reach the same keyword set of the Bayesian engine here, and options that
the engine cannot honour are refused by name rather than ignored.
"""

from __future__ import annotations

from .errors import NotSupportedError, SpecificationError
from .validate import COUNT, SEED, optional_whole_number, whole_number

#: keywords ``fit_bayes`` accepts besides the design
ENGINE_KEYWORDS = (
    "draws",
    "tune",
    "chains",
    "seed",
    "target_accept",
    "sampler",
    "priors",
    "marginalize",
    "progressbar",
    "until_converged",
)

#: Stata's bayes-prefix options -> engine keywords
STATA_TO_ENGINE = {"nchains": "chains", "mcmcsize": "draws", "burnin": "tune", "rseed": "seed"}

#: whole-number settings and their least value, by Stata and by engine name
#: (burn-in may be zero; a seed is any nonnegative integer, as in Stata)
INTEGER_MINIMUM = {
    "nchains": COUNT,
    "mcmcsize": COUNT,
    "burnin": SEED,
    "thinning": COUNT,
    "rseed": SEED,
    "chains": COUNT,
    "draws": COUNT,
    "tune": SEED,
    "seed": SEED,
}

#: prefix options that change only Stata's display and that we can safely accept
DISPLAY_ONLY = ("dots", "nodots", "notable", "noheader", "show", "noshow", "showreffects")


def from_prefix(prefix: dict) -> dict:
    """Translate the options of a ``bayes, ...:`` prefix into engine keywords."""
    out: dict = {}
    for name, value in prefix.items():
        if name in STATA_TO_ENGINE:
            out[STATA_TO_ENGINE[name]] = whole_number(value, f"{name}()", INTEGER_MINIMUM[name])
        elif name in DISPLAY_ONLY:
            continue
        elif name == "prior":
            raise NotSupportedError(
                "bayes prefix option prior() is not supported: pass priors={...} by parameter "
                "name (or priors='stata' / 'flat') to bayesmixed.stata() instead"
            )
        else:
            raise NotSupportedError(f"bayes prefix option {name}() is not supported yet")
    return out


def split_keywords(method: str | None, keywords: dict) -> tuple[str | None, dict]:
    """Check ``method`` and the sampler keywords a user passed to the API."""
    unknown = sorted(set(keywords) - set(ENGINE_KEYWORDS))
    if unknown:
        raise SpecificationError(f"unknown keyword argument(s): {', '.join(unknown)}")
    if method not in (None, "ml", "nuts", "laplace"):
        raise SpecificationError(f"method must be 'ml', 'nuts' or 'laplace' (got {method!r})")
    if method == "ml" and keywords:
        raise SpecificationError(
            f"{', '.join(sorted(keywords))} only apply to Bayesian fits (method='nuts' or "
            "'laplace')"
        )
    checked = {
        name: optional_whole_number(value, name, INTEGER_MINIMUM[name])
        for name, value in keywords.items()
        if name in INTEGER_MINIMUM
    }
    return method, {**keywords, **checked}
