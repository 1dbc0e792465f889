"""Syntax tree + data -> :class:`~bayesmixed.spec.model.ModelSpec`.

The resolver is the only part of the Stata front end that looks at the data:
it expands wildcards and ranges, checks every variable exists (pointing at it
in the command), checks types, and turns Stata's nesting of ``||`` levels
into explicit paths so later stages never have to re-read the command.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..errors import DataError, NotSupportedError, SpecificationError, StataSyntaxError
from ..spec.family import get_family
from ..spec.model import ModelSpec, RandomEquation, ResidualSpec, Term
from ..spec.options import EstimationOptions
from .ast import Command, Equation, InRange
from .diagnostics import with_caret
from .expr import walk_vars
from .option_args import Named, OptionError
from .options import EquationOptions, Interpreted, interpret
from .terms import check_continuous, expand_term, expand_terms
from .varlist import Columns
from .weight_options import weight_kind


def resolve(command: Command, data: pd.DataFrame) -> ModelSpec:
    """Check ``command`` against ``data`` and build the model specification."""
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a pandas DataFrame")
    interp = interpret(command)
    cols = Columns(data, command.source)
    response = _response(command, cols, data)
    fixed = tuple(expand_terms(command.fixed, cols, data))
    _check_response_not_regressor(response, fixed, command)
    random = _equations(command, interp, cols, data)
    _check_qualifiers(command, cols)
    name = "mixed" if command.name == "xtmixed" else command.name
    return ModelSpec(
        response=response,
        fixed=fixed,
        random=random,
        # cutpoints absorb the constant of an ordinal model (the family says so)
        constant=interp.fe_constant and get_family(interp.family, interp.link).has_constant,
        family=interp.family,
        link=interp.link,
        residual=_residual(interp, cols),
        reml=interp.reml,
        command=name,
        sample_if=command.if_,
        sample_in=_in_range(command.in_, len(data), command.source),
        offset=_named(interp.offset, cols),
        exposure=_named(interp.exposure, cols),
        trials=_trials(interp.trials, cols),
        estimation=_weighting(command, interp, cols, random),
        display=interp.display,
        syntax="stata",
        source=command.source,
    )


def _response(command: Command, cols: Columns, data: pd.DataFrame) -> str:
    ref = command.depvar
    names = cols.expand(ref)
    if len(names) != 1:
        raise cols.fail(
            f"'{ref.text}' matches {', '.join(names)}; the dependent variable must be one", ref.col
        )
    check_continuous(names[0], data[names[0]], ref.col, cols)
    return names[0]


def _check_response_not_regressor(response: str, fixed: tuple[Term, ...], command: Command):
    for term in fixed:
        if response in term.variables:
            raise SpecificationError(
                f"the dependent variable '{response}' also appears among the regressors "
                f"in: {command.source}"
            )


# ------------------------------------------------------------ random part


def _equations(
    command: Command, interp: Interpreted, cols: Columns, data: pd.DataFrame
) -> tuple[RandomEquation, ...]:
    stack: list[str] = []
    out = []
    for eq, opts in zip(command.equations, interp.equations, strict=True):
        path = _path(eq, stack, cols)
        out.append(_equation(eq, opts, path, cols, data))
    return tuple(out)


def _path(eq: Equation, stack: list[str], cols: Columns) -> tuple[str, ...]:
    """Enclosing levels, top down: ``|| region: || state:`` nests state in region.

    ``_all`` is one group holding everything, so levels below it are not
    nested in anything and it must come first.
    """
    if eq.level == "_all":
        if stack:
            raise StataSyntaxError(
                "_all equations must come before the other levels", cols.source, eq.col
            )
        return ("_all",)
    cols.require(eq.level, eq.col, "level variable")
    if stack and stack[-1] == eq.level:
        return tuple(stack)
    if eq.level in stack:
        raise StataSyntaxError(
            f"level '{eq.level}' appears again below a lower level; equations for one "
            "level must be adjacent",
            cols.source,
            eq.col,
        )
    stack.append(eq.level)
    return tuple(stack)


def _equation(
    eq: Equation,
    opts: EquationOptions,
    path: tuple[str, ...],
    cols: Columns,
    data: pd.DataFrame,
) -> RandomEquation:
    if any(p.prefix is not None and p.prefix.kind == "R" for t in eq.terms for p in t.parts):
        return _factor_equation(eq, opts, path, cols)
    terms: list[Term] = []
    seen: set[tuple] = set()
    for written in eq.terms:
        for term in expand_term(written, cols, data):
            if any(c.kind == "i" for c in term.components):
                raise NotSupportedError(
                    with_caret(
                        "factor variables are not allowed in a random-effects equation; "
                        "write c.x#c.z for products or use R.varname",
                        cols.source,
                        written.col,
                    )
                )
            _check_repeat(term, seen, written.col, cols)
            terms.append(term)
    covariance = opts.covariance or "independent"
    return RandomEquation(path, tuple(terms), opts.constant, covariance)


def _check_repeat(term: Term, seen: set[tuple], col: int | None, cols: Columns) -> None:
    """A random slope may appear once per equation (Stata refuses ``|| g: x x``).

    Unlike a repeated fixed-effect covariate, which the design drops as
    collinear, a repeated random effect would make the covariance matrix
    singular; ``x#z`` and ``z#x`` count as the same effect.
    """
    key = tuple(sorted((c.name, c.kind) for c in term.components))
    if key in seen:
        name = "#".join(c.name for c in term.components)
        raise SpecificationError(
            with_caret(f"'{name}' is repeated in the random-effects equation", cols.source, col)
        )
    seen.add(key)


def _factor_equation(
    eq: Equation, opts: EquationOptions, path: tuple[str, ...], cols: Columns
) -> RandomEquation:
    """``level: R.var`` -- one effect per level of var, identity covariance."""
    term = eq.terms[0]
    part = term.parts[0]
    if len(eq.terms) != 1 or len(term.parts) != 1 or part.prefix.kind != "R":
        raise StataSyntaxError(
            "R.varname must be the only variable in its equation", cols.source, eq.col
        )
    names = [n for ref in part.variables for n in cols.expand(ref)]
    if len(names) != 1:
        raise StataSyntaxError("R. takes exactly one variable", cols.source, part.col)
    if opts.covariance not in (None, "identity"):
        raise NotSupportedError(
            with_caret(
                "R.varname equations support only covariance(identity)",
                cols.source,
                opts.cov_col,
            )
        )
    return RandomEquation(path, (), False, "identity", factor=names[0])


# --------------------------------------------------------------- qualifiers


def _check_qualifiers(command: Command, cols: Columns) -> None:
    if command.if_ is not None:
        for var in walk_vars(command.if_.root):
            cols.require(var.name, var.col)


def _weighting(
    command: Command, interp: Interpreted, cols: Columns, random: tuple[RandomEquation, ...]
) -> EstimationOptions:
    """The estimation options with the weights and the vce cluster variable checked by name."""
    est = interp.estimation
    weight = None
    if command.weight is not None:
        try:
            kind, name = weight_kind(command.weight)
        except OptionError as exc:
            raise StataSyntaxError(exc.message, command.source, exc.col) from None
        weight = (kind, cols.require(name, command.weight.col, "weight variable"))
    given = [
        (eq.level, o.level_weight)
        for eq, o in zip(random, interp.equations, strict=True)
        if o.level_weight is not None
    ]
    levels = tuple(
        (level, cols.require(var.name, var.col, "weight variable")) for level, (_, var) in given
    )
    level_kind = given[0][1][0] if given else "pweight"
    cluster = _named(interp.cluster, cols)
    try:
        return replace(
            est,
            weight=weight,
            level_weights=levels,
            level_weight_kind=level_kind,
            cluster=cluster,
            pwscale=interp.pwscale,
        )
    except SpecificationError as exc:
        raise StataSyntaxError(str(exc), command.source, None) from None


def _in_range(rng: InRange | None, n: int, source: str) -> tuple[int, int] | None:
    if rng is None:
        return None
    first, last = _obs(rng.first, n), _obs(rng.last, n)
    if not 1 <= first <= last <= n:
        raise DataError(
            with_caret(
                f"observation range {rng.first}/{rng.last} is empty or outside 1..{n}",
                source,
                rng.col,
            )
        )
    return first, last


def _obs(value: int | str, n: int) -> int:
    if value == "f":
        return 1
    if value == "l":
        return n
    return value if value > 0 else n + 1 + value


def _named(value: Named | None, cols: Columns) -> str | None:
    return None if value is None else cols.require(value.name, value.col)


def _trials(value: int | Named | None, cols: Columns) -> int | str | None:
    return _named(value, cols) if isinstance(value, Named) else value


def _residual(interp: Interpreted, cols: Columns) -> ResidualSpec:
    res = interp.residual
    if not res:
        return ResidualSpec()
    return ResidualSpec(res["type"], res["order"], _named(res["t"], cols), _named(res["by"], cols))
