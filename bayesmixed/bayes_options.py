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
            out["priors"] = prior_changes(value if isinstance(value, tuple | list) else (value,))
        else:
            raise NotSupportedError(f"bayes prefix option {name}() is not supported yet")
    return out


def prior_changes(options: tuple | list) -> dict[str, str]:
    """``prior({math5:math3 _cons}, normal(0,100))`` texts -> ``{"{math5:math3 _cons}": ...}``.

    Each parameter group in braces becomes one key of the engine's ``priors`` dict (names
    resolve against the design at fit time: :mod:`bayesmixed.design.bayes_names`); a later
    ``prior()`` for the same parameter wins, as the options are applied in order.
    """
    out: dict[str, str] = {}
    for text in options:
        refs, dist = split_prior_option(str(text))
        for ref in refs:
            out.pop(ref, None)  # keep the order of application
            out[ref] = dist
    return out


class PriorSyntaxError(SpecificationError):
    """A ``prior()`` option that cannot be read; ``offset`` is where, in its text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def split_prior_option(text: str) -> tuple[list[str], str]:
    """``"{a:x} {a:_cons}, normal(0,1)"`` -> (``["{a:x}", "{a:_cons}"]``, ``"normal(0,1)"``)."""
    refs: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "{":
            end = text.find("}", i)
            if end < 0:
                raise PriorSyntaxError("prior(): '{' without its closing '}'", i)
            refs.append(text[i : end + 1])
            i = end + 1
        elif ch == ",":
            break
        else:
            raise PriorSyntaxError(
                "prior(): parameters are written in braces, like prior({math5:math3}, "
                "normal(0,100))",
                i,
            )
    if not refs:
        raise PriorSyntaxError("prior(): name a parameter in braces first, like {math5:math3}", 0)
    dist = text[i + 1 :].strip()
    if i >= len(text) or not dist:
        raise PriorSyntaxError("prior(): give a distribution after a comma, like normal(0,100)", i)
    name = dist.split("(", 1)[0].strip()
    if not name.isidentifier() or dist.count("(") != dist.count(")"):
        raise PriorSyntaxError(f"prior(): cannot read the distribution '{dist}'", i + 1)
    return refs, dist


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
