"""The model specification shared by every front end and every engine.

A :class:`ModelSpec` is what a Stata command line or an lme4 formula *means*
once the variable names have been resolved against a data set: the response,
the fixed-effects terms, the random-effects equations (highest level first, as
Stata writes them), the residual structure, the family and the estimation
options.  It holds names, never data, so that one spec can be fitted by the
ML engine, the GLMM engine and the Bayesian engine alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .covariance import CovStructure, get_structure
from .options import DisplayOptions, EstimationOptions

FactorBase = int | Literal["first", "last", "freq", "none"]
Syntax = Literal["stata", "formula"]


@dataclass(frozen=True)
class Component:
    """One variable inside a (possibly interacted) term.

    ``kind`` is ``"c"`` for a continuous variable and ``"i"`` for a factor
    variable whose levels become indicator columns; ``base`` is the omitted
    level of a factor (Stata's ``ib#.``), ``"first"`` by default.
    """

    name: str
    kind: Literal["c", "i"] = "c"
    base: FactorBase = "first"


@dataclass(frozen=True)
class Term:
    """A product of components: ``x``, ``i.dose``, ``i.dose#c.size``."""

    components: tuple[Component, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    def __str__(self) -> str:
        parts = []
        for c in self.components:
            if c.kind == "i":
                prefix = "i." if c.base == "first" else f"ib{c.base}."
                parts.append(prefix + c.name)
            else:
                parts.append(("c." if len(self.components) > 1 else "") + c.name)
        return "#".join(parts)


@dataclass(frozen=True)
class RandomEquation:
    """One ``|| level: varlist, options`` equation.

    ``path`` lists the grouping variables from the highest level down to this
    one, because Stata's levels are nested: ``|| region: || state:`` makes the
    state effects vary within region, so the groups are region-by-state
    combinations.  ``_all`` stands for one group containing every observation.
    ``factor`` is set for ``R.var`` equations, whose effects are one per level
    of ``var`` with identity covariance (crossed effects).
    """

    path: tuple[str, ...]
    terms: tuple[Term, ...] = ()
    constant: bool = True
    covariance: str = "independent"
    factor: str | None = None

    @property
    def level(self) -> str:
        """The grouping variable this equation's effects vary over."""
        return self.path[-1]

    @property
    def key(self) -> str:
        """The name results use for this equation: the level, or ``R.var``."""
        if self.factor is not None and self.level == "_all":
            return f"R.{self.factor}"
        return self.level

    @property
    def effect_names(self) -> tuple[str, ...]:
        """Names of the effects, in Stata's order (slopes first, then ``_cons``)."""
        if self.factor is not None:
            return (f"R.{self.factor}",)
        names = tuple(str(t) for t in self.terms)
        return names + (("_cons",) if self.constant else ())

    @property
    def structure(self) -> CovStructure:
        """The covariance structure of this equation's effects.

        With a single effect every structure is one variance: Stata fits
        ``|| g:, cov(exchangeable)`` with one random effect as Identity
        (:func:`~bayesmixed.spec.covariance.get_structure` makes that choice).
        """
        names = self.effect_names
        return get_structure(self.covariance, len(names), names)


@dataclass(frozen=True)
class ResidualSpec:
    """Stata's ``residuals(type [#], t(var) by(var))`` (the R-side structure)."""

    type: str = "independent"
    order: int | None = None
    t: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model: names only, ready for the design stage.

    ``sample_if`` is the parsed ``if`` expression (an object with an
    ``evaluate(frame) -> bool ndarray`` method) and ``sample_in`` the 1-based
    inclusive ``in`` range, both applied by the design stage before missing
    values are dropped listwise.  ``estimation`` holds the options an engine
    reads and ``display`` those only the printed result uses (see
    :mod:`.options`); ``syntax`` says which front end wrote the spec, because
    an lme4 formula follows R's rules downstream (a text column is a factor).
    None of the three takes part in ``==``: equal specs are the same model,
    whichever front end wrote it and however it is fitted or printed (an lme4
    formula fitted by Laplace equals the ``melogit`` command it translates).
    """

    response: str
    fixed: tuple[Term, ...]
    random: tuple[RandomEquation, ...]
    constant: bool = True
    family: str = "gaussian"
    link: str = "identity"
    residual: ResidualSpec = field(default_factory=ResidualSpec)
    reml: bool = False
    command: str = "mixed"
    sample_if: object | None = None
    sample_in: tuple[int, int] | None = None
    offset: str | None = None
    exposure: str | None = None
    trials: str | int | None = None
    estimation: EstimationOptions = field(default_factory=EstimationOptions, compare=False)
    display: DisplayOptions = field(default_factory=DisplayOptions, compare=False)
    syntax: Syntax = field(default="stata", compare=False)
    source: str = field(default="", compare=False)

    @property
    def variables(self) -> tuple[str, ...]:
        """Every data column the model reads, in first-use order."""
        seen: dict[str, None] = {self.response: None}
        for term in self.fixed:
            seen.update(dict.fromkeys(term.variables))
        for eq in self.random:
            seen.update(dict.fromkeys(v for v in eq.path if v != "_all"))
            for term in eq.terms:
                seen.update(dict.fromkeys(term.variables))
            if eq.factor:
                seen[eq.factor] = None
        for extra in (self.residual.t, self.residual.by, self.offset, self.exposure):
            if extra:
                seen[extra] = None
        if isinstance(self.trials, str):
            seen[self.trials] = None
        seen.update(dict.fromkeys(self.estimation.weight_variables))  # weights, vce(cluster)
        return tuple(seen)

    @property
    def levels(self) -> tuple[str, ...]:
        """Distinct grouping levels in Stata's order (highest first)."""
        return tuple(dict.fromkeys(eq.level for eq in self.random))
