"""The prior distributions of the Bayesian engine: one table, Stata's parametrization.

Distributions (one parametrization, Stata's, in ``prior()``, the ``priors=`` dict and
every listing; the last three are our extension, Stata has no half distributions):

==================  ==========================================================
``normal(m, v)``    mean ``m``, *variance* ``v``
``t(m, s2, df)``    location ``m``, squared scale ``s2``, degrees of freedom ``df``
``cauchy(a, b)``    location ``a``, scale ``b``
``laplace(m, b)``   location ``m``, scale ``b``
``uniform(a, b)``   lower ``a``, upper ``b``
``flat``            improper uniform (on the positive half-line for scales)
``igamma(a, b)``    shape ``a``, scale ``b`` (mean ``b / (a - 1)``)
``gamma(a, b)``     shape ``a``, scale ``b`` (mean ``a b``)
``lognormal(m, s2)`` mean ``m`` and variance ``s2`` of the log
``exponential(b)``  scale ``b`` (the mean)
``iwishart(d, m)``  dimension ``d``, degrees of freedom ``m``, identity scale (Stata's
                    ``iwishart(d, m, I(d))``; the dict's older ``iwishart(m)`` is the same)
``lkj(d, eta)``     dimension ``d``, shape ``eta`` (``lkj(eta)`` is the same)
``halfnormal(v)``   ``|normal(0, v)|``: *variance* ``v`` of the normal it folds
``halfcauchy(b)``   ``|cauchy(0, b)|``: scale ``b``
``halft(s2, df)``   ``|t(0, s2, df)|``: squared scale ``s2``, degrees of freedom ``df``
==================  ==========================================================

A prior applies to the parameter its name names: Stata's names of variances
(``{U0:sigma2}``, ``{e.y:sigma2}``, see :mod:`bayesmixed.design.bayes_names`) put it on
the variance, the engine's ``sd[...]``/``sigma`` on the standard deviation -- except that
``igamma`` is always on the variance (Stata's reading) and the half distributions
always on the standard deviation (their conventional reading).
``halfstudentt(nu, s)`` of earlier versions meant a scale, not Stata's squared scale,
so it is refused with the new spelling rather than silently reread.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import SpecificationError

# distribution -> numbers of parameters it takes (the module docstring's table), and
# which parameter kinds accept it
ARITY: dict[str, tuple[int, ...]] = {
    "normal": (2,),
    "t": (3,),
    "cauchy": (2,),
    "laplace": (2,),
    "uniform": (2,),
    "flat": (0,),
    "igamma": (2,),
    "gamma": (2,),
    "lognormal": (2,),
    "exponential": (1,),
    "iwishart": (1, 2),
    "lkj": (1, 2),
    "halfnormal": (1,),
    "halfcauchy": (1,),
    "halft": (2,),
}
#: distributions over the real line, for coefficients
COEF_PRIORS = {"normal", "t", "cauchy", "laplace", "uniform", "flat"}
#: distributions of a positive scale (on the sd, or on the variance: :attr:`Prior.on_variance`)
SCALE_PRIORS = {
    "igamma", "gamma", "lognormal", "exponential", "uniform", "flat",
    "halfnormal", "halfcauchy", "halft",
}  # fmt: skip
#: the half distributions: always on the standard deviation
HALF = {"halfnormal", "halfcauchy", "halft"}
RENAMED = {
    "halfstudentt": "halfstudentt(nu, s) is now halft(s^2, nu): Stata's t(m, s2, df) order, "
    "squared scale",
}


@dataclass(frozen=True)
class Prior:
    """One prior: a distribution name and its parameters (this module docstring's table).

    ``variance`` puts a scale prior on the variance rather than the standard deviation
    (what Stata's ``{U0:sigma2}`` names); ``igamma`` is on the variance either way and
    the half distributions on the standard deviation either way (:attr:`on_variance`).
    """

    dist: str
    params: tuple[float, ...] = ()
    variance: bool = False

    @property
    def on_variance(self) -> bool:
        """Whether a scale parameter's prior density is that of its variance."""
        return self.dist == "igamma" or (self.variance and self.dist not in HALF)

    def __str__(self) -> str:
        if not self.params:
            return self.dist
        return f"{self.dist}({', '.join(f'{p:.6g}' for p in self.params)})"  # 10000, not 1e+04


def parse_prior_text(text: str) -> Prior:
    """``"normal(0, 100)"`` or ``"flat"`` -> a Prior (no checks of arity or use here).

    Stata's ``iwishart(2, 3, I(2))`` is read as ``iwishart(2, 3)`` (only the identity
    scale is supported: another matrix is refused).
    """
    body = text.strip()
    name, paren, rest = body.partition("(")
    name = name.strip().lower()
    if not name.isidentifier() or (paren and not rest.rstrip().endswith(")")):
        raise SpecificationError(f"cannot read the prior distribution '{text}'")
    args = [a.strip() for a in rest.rstrip()[:-1].split(",")] if paren else []
    if name == "iwishart" and len(args) == 3:
        d = args[0]
        if args[2].replace(" ", "").lower() not in (f"i({d})", f"i({d}.)"):
            raise SpecificationError(
                f"iwishart(): only the identity scale matrix I({d}) is supported, got {args[2]}"
            )
        args = args[:2]
    try:
        params = tuple(float(a) for a in args if a != "" or len(args) > 1)
    except ValueError:
        raise SpecificationError(f"prior {name}() takes numbers, got '{rest[:-1]}'") from None
    return Prior(name, params)


def check_values(prior: Prior, name: str) -> None:
    """Positive scales and degrees of freedom, ordered bounds (Stata refuses the same)."""
    d, p = prior.dist, prior.params
    positive = {
        "normal": p[1:], "t": p[1:], "cauchy": p[1:], "laplace": p[1:], "igamma": p,
        "gamma": p, "lognormal": p[1:], "exponential": p, "halfnormal": p, "halfcauchy": p,
        "halft": p, "lkj": p[-1:], "iwishart": p,
    }.get(d, ())  # fmt: skip
    if any(not v > 0 for v in positive):
        raise SpecificationError(f"prior {prior} for {name}: its scale parameters must be > 0")
    if d == "uniform" and not p[0] < p[1]:
        raise SpecificationError(f"prior {prior} for {name}: the lower bound must be below")
    if d == "uniform" and name.startswith(("sd", "sigma")) and p[0] < 0:
        raise SpecificationError(f"prior {prior} for {name}: a scale's bounds must be >= 0")
