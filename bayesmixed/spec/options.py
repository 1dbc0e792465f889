"""Typed options of a model specification: how to estimate it, how to show it.

A command line carries two kinds of options besides the model itself.  Some
change the numbers an engine computes (``intmethod()``, ``intpoints()``, the
``bayes:`` prefix); others change only how a fitted result is printed
(``level()``, ``or``, ``stddeviations``, ``baselevels``).  They used to travel
together in one untyped dict that every front end filled with its own copy of
the defaults and every engine copied into its result.  Here each kind is a
frozen dataclass with one place for each default and a check of each value,
so a front end can only write what an engine or a renderer understands:

* :class:`EstimationOptions` is read by the engines (through the API);
* :class:`DisplayOptions` is never seen by an engine: the API attaches it to
  the result an engine returns, and the renderers read it from there.

Neither takes part in ``ModelSpec.__eq__``, which says whether two specs are
the same *model*; compare ``spec.estimation`` itself to ask whether two fits
were computed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..errors import SpecificationError

#: the confidence level Stata prints unless ``level()`` says otherwise
DEFAULT_LEVEL = 95.0
#: the range Stata accepts for ``level()``
LEVEL_RANGE = (10.0, 99.99)
#: quadrature points per random effect unless ``intpoints()`` says otherwise
DEFAULT_INTPOINTS = 7
#: Stata's integration methods for ``me*`` models
INTMETHODS = ("mvaghermite", "mcaghermite", "ghermite", "laplace")
#: the two parametrisations of the negative binomial's dispersion
DISPERSIONS = ("mean", "constant")
#: the exponentiated-coefficient displays and the link each needs
EFORMS = ("or", "irr", "eform")
#: Stata's ``dfmethod()`` choices for ``mixed``, as stored (``oim``: Satterthwaite's dfopt)
DFMETHODS = ("residual", "repeated", "anova", "satterthwaite", "satterthwaite, oim", "kroger")
#: Stata's ``vce()`` types for ``mixed`` and ``me*`` (``cluster`` names its variable apart)
VCETYPES = ("oim", "robust", "cluster")
#: observation-level weight kinds Stata's ``mixed`` and ``me*`` take (``[fw=]``, ``[pw=]``)
WEIGHT_KINDS = ("fweight", "pweight")
#: ``pwscale()`` methods for the level-one weights of a two-level model
PWSCALES = ("size", "effective", "gk")

PrefixValue = bool | int | float | str | tuple[str, ...]


@dataclass(frozen=True)
class EstimationOptions:
    """Options that change what an engine computes.

    Parameters
    ----------
    intmethod : Stata's ``intmethod()`` for ``me*`` models, or ``None`` when
        none was written.  ``None`` is kept apart from any method because
        Stata's default depends on the design (mean-variance adaptive
        quadrature for one level, Laplace for crossed effects), which only the
        GLMM engine sees.
    intpoints : quadrature points per random effect (``intpoints()``); Laplace
        ignores it.  The lme4-formula front end writes 1 with ``laplace``, the
        meaning of glmer's default ``nAGQ = 1``.
    dispersion : the negative binomial's parametrisation, ``"mean"``
        (Var = mu (1 + alpha mu), ``menbreg``'s default) or ``"constant"``
        (Var = mu (1 + delta)); recorded for every family so that a spec read
        back from a file or re-rendered as a command says which one was asked.
    bayes_prefix : the options of Stata's ``bayes, ...:`` prefix as written
        (name, value) pairs, in order, or ``None`` when the command had no
        prefix.  They stay in Stata's vocabulary (``nchains``, ``mcmcsize``)
        so that a saved spec reproduces the command; the API translates them
        into engine keywords and refuses the ones the engine cannot honour.
    vce : Stata's ``vce()``: ``"oim"`` (the observed information, the default),
        ``"robust"`` (a sandwich on the top-level clusters' scores) or
        ``"cluster"`` (the same on the groups of ``cluster``).
    cluster : the ``vce(cluster var)`` variable, ``None`` otherwise.
    weight : the ``[fweight=var]`` or ``[pweight=var]`` of the observations as
        (kind, variable), or ``None``.
    level_weights : ``pweight(var)`` or ``fweight(var)`` of random-effects
        equations as (level, variable) pairs, highest level first.
    level_weight_kind : what ``level_weights`` are: ``"pweight"`` (sampling
        weights of the groups) or ``"fweight"`` (each group stands for that many
        independent groups).  One kind for all levels: Stata does not mix
        frequency and sampling weights, so ``[fw=]`` goes with ``fweight()``
        and ``[pw=]`` with ``pweight()``.
    pwscale : ``pwscale()`` of two-level sampling weights, or ``None``.
    """

    intmethod: str | None = None
    intpoints: int = DEFAULT_INTPOINTS
    dispersion: Literal["mean", "constant"] = "mean"
    bayes_prefix: tuple[tuple[str, PrefixValue], ...] | None = None
    vce: str = "oim"
    cluster: str | None = None
    weight: tuple[str, str] | None = None
    level_weights: tuple[tuple[str, str], ...] = ()
    pwscale: str | None = None
    level_weight_kind: str = "pweight"

    def __post_init__(self) -> None:
        if self.intmethod is not None and self.intmethod not in INTMETHODS:
            raise SpecificationError(
                f"unknown integration method {self.intmethod!r}; use {', '.join(INTMETHODS)}"
            )
        if isinstance(self.intpoints, bool) or not isinstance(self.intpoints, int):
            raise SpecificationError(f"intpoints() must be a whole number, got {self.intpoints!r}")
        if self.intpoints < 1:
            raise SpecificationError(f"intpoints() must be at least 1, got {self.intpoints}")
        if self.dispersion not in DISPERSIONS:
            raise SpecificationError(
                f"dispersion must be 'mean' or 'constant', got {self.dispersion!r}"
            )
        if self.bayes_prefix is not None:
            object.__setattr__(self, "bayes_prefix", _prefix_pairs(self.bayes_prefix))
        _check_vce(self.vce, self.cluster)
        object.__setattr__(self, "weight", _weight(self.weight))
        object.__setattr__(self, "level_weights", _level_weights(self.level_weights))
        if self.pwscale is not None and self.pwscale not in PWSCALES:
            raise SpecificationError(f"pwscale() must be one of {', '.join(PWSCALES)}")
        if self.pwscale is not None and not self.pweighted:
            raise SpecificationError("pwscale() needs sampling weights ([pweight=] or pweight())")
        _check_level_kind(self.level_weight_kind, self.level_weights, self.weight)

    @property
    def pweighted(self) -> bool:
        """Whether the fit is a pseudo-likelihood with sampling weights at some level."""
        if self.weight is not None and self.weight[0] == "pweight":
            return True
        return bool(self.level_weights) and self.level_weight_kind == "pweight"

    @property
    def level_fweighted(self) -> bool:
        """Whether some higher level carries ``fweight()`` (groups replicated)."""
        return bool(self.level_weights) and self.level_weight_kind == "fweight"

    @property
    def weighted(self) -> bool:
        """Whether any weight was given, at level one or above."""
        return self.weight is not None or bool(self.level_weights)

    @property
    def robust(self) -> bool:
        """Whether the standard errors are a sandwich: asked for, or implied by pweights."""
        return self.vce != "oim" or self.pweighted

    @property
    def weight_variables(self) -> tuple[str, ...]:
        """The data columns the weights and ``vce(cluster)`` read."""
        names = [] if self.weight is None else [self.weight[1]]
        names += [var for _, var in self.level_weights]
        return tuple(names) + ((self.cluster,) if self.cluster else ())

    @property
    def bayes(self) -> bool:
        """Whether the command asked for the Bayesian engine with a ``bayes:`` prefix."""
        return self.bayes_prefix is not None

    @property
    def prefix_options(self) -> dict[str, PrefixValue]:
        """The ``bayes:`` prefix's options as a dict (empty without a prefix)."""
        return dict(self.bayes_prefix or ())

    @classmethod
    def with_prefix(cls, options: Mapping[str, object], **fields: object) -> EstimationOptions:
        """Options of a command written with a ``bayes, options:`` prefix."""
        return cls(bayes_prefix=tuple(options.items()), **fields)


@dataclass(frozen=True)
class DisplayOptions:
    """Options that change only how a fitted result is printed.

    Parameters
    ----------
    level : confidence level of the printed intervals, in percent
        (``level()``); also the default of ``conf_int()`` and ``estat``.
    stddeviations : print random-effect standard deviations and correlations
        instead of variances and covariances (``stddeviations``, as opposed to
        the default ``variance``).
    base : print the omitted base levels of factor variables (``baselevels``
        or ``allbaselevels``).
    eform : ``"or"``, ``"irr"`` or ``"eform"`` to print exponentiated
        coefficients of an ``me*`` model, or ``None``; the parser checks that
        the link allows it (odds ratios need a logit link).
    log : ``True``/``False`` when ``log``/``nolog`` was written, ``None``
        otherwise; nothing prints an iteration log, but the choice is kept so
        that a re-rendered command reads as written.
    dfmethod : ``mixed``'s ``dfmethod()`` (one of :data:`DFMETHODS`) or ``None``:
        t and F references with small-sample degrees of freedom instead of z
        and chi2.  The estimates do not change, so it is a display option.
    """

    level: float = DEFAULT_LEVEL
    stddeviations: bool = False
    base: bool = False
    eform: str | None = None
    log: bool | None = None
    dfmethod: str | None = None

    def __post_init__(self) -> None:
        level = self.level
        if isinstance(level, bool) or not isinstance(level, int | float):
            raise SpecificationError(f"level() must be a number, got {level!r}")
        low, high = LEVEL_RANGE
        if not low <= level <= high:
            raise SpecificationError(f"level() must be between {low:g} and {high:g}")
        object.__setattr__(self, "level", float(level))
        if self.eform is not None and self.eform not in EFORMS:
            raise SpecificationError(
                f"eform must be one of {', '.join(EFORMS)}, got {self.eform!r}"
            )
        for name in ("stddeviations", "base"):
            if not isinstance(getattr(self, name), bool):
                raise SpecificationError(f"{name} must be True or False")
        if self.log is not None and not isinstance(self.log, bool):
            raise SpecificationError("log must be True, False or None")
        if self.dfmethod is not None and self.dfmethod not in DFMETHODS:
            raise SpecificationError(f"dfmethod must be one of {', '.join(DFMETHODS)}")

    @property
    def component_scale(self) -> Literal["variance", "stddeviations"]:
        """How random-effect parameters are printed, in Stata's option words."""
        return "stddeviations" if self.stddeviations else "variance"


def _check_vce(vce: object, cluster: object) -> None:
    if vce not in VCETYPES:
        raise SpecificationError(f"vce() must be one of {', '.join(VCETYPES)}, got {vce!r}")
    if (vce == "cluster") != (cluster is not None):
        raise SpecificationError("vce(cluster) needs exactly one cluster variable")
    if cluster is not None and not (isinstance(cluster, str) and cluster):
        raise SpecificationError(f"the cluster variable must be a name, got {cluster!r}")


def _weight(weight: object) -> tuple[str, str] | None:
    if weight is None:
        return None
    if not isinstance(weight, list | tuple) or len(weight) != 2:
        raise SpecificationError(f"weight must be (kind, variable), got {weight!r}")
    kind, var = weight
    if kind not in WEIGHT_KINDS:
        raise SpecificationError(f"weights must be one of {', '.join(WEIGHT_KINDS)}, got {kind!r}")
    if not isinstance(var, str) or not var:
        raise SpecificationError(f"the weight variable must be a name, got {var!r}")
    return (kind, var)


def _check_level_kind(kind: object, levels: tuple, weight: tuple[str, str] | None) -> None:
    """One weight kind throughout: Stata refuses frequency weights beside sampling weights."""
    if kind not in WEIGHT_KINDS:
        raise SpecificationError(
            f"level weights must be one of {', '.join(WEIGHT_KINDS)}, got {kind!r}"
        )
    if levels and weight is not None and weight[0] != kind:
        raise SpecificationError(
            f"{kind}() at higher levels cannot be combined with [{weight[0]}=]: "
            "fweights and pweights may not be mixed (Stata)"
        )


def _level_weights(pairs: object) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs if isinstance(pairs, list | tuple) else [pairs]:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise SpecificationError(f"level weights must be (level, variable) pairs, got {pair!r}")
        if not all(isinstance(v, str) and v for v in pair):
            raise SpecificationError(f"level weights must be (level, variable) names: {pair!r}")
        out.append((pair[0], pair[1]))
    if len({lv for lv, _ in out}) != len(out):
        raise SpecificationError("a weight is given twice for one level")
    return tuple(out)


def _prefix_pairs(pairs: object) -> tuple[tuple[str, PrefixValue], ...]:
    """The prefix as a tuple of (name, value) pairs, lists made tuples so the spec hashes."""
    if isinstance(pairs, Mapping):
        pairs = tuple(pairs.items())
    out = []
    for pair in pairs:
        name, value = pair
        if not isinstance(name, str):
            raise SpecificationError(f"a bayes prefix option name must be text, got {name!r}")
        if isinstance(value, list | tuple):
            value = tuple(value)
        if not _prefix_value(value):
            raise SpecificationError(f"bayes prefix option {name}() has a malformed value")
        out.append((name, value))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise SpecificationError("a bayes prefix option is given twice")
    return tuple(out)


def _prefix_value(value: object) -> bool:
    if isinstance(value, tuple):
        return all(isinstance(v, str) for v in value)
    return isinstance(value, bool | int | float | str)
