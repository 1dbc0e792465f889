"""ModelSpec <-> JSON: the model a saved result was fitted to, in readable form.

The ``if`` qualifier is stored as its source text and re-parsed on load with
the same expression parser the command went through, so the file holds no
serialized objects and a reader in another language sees ``"math3 > 10"``.
Every field is checked on the way back: a file that names an unknown
covariance structure or a malformed term is refused rather than loaded as a
different model.
"""

from __future__ import annotations

from ..errors import BayesmixedError
from ..spec.covariance import resolve_name
from ..spec.model import Component, ModelSpec, RandomEquation, ResidualSpec, Term
from ..spec.options import DisplayOptions, EstimationOptions
from ..syntax.expr import IfExpr
from ..syntax.expr_parser import parse_if
from ..syntax.lexer import TokenStream
from .archive import ResultFileError
from .options_json import (
    display_from_dict,
    estimation_from_dict,
    options_from_legacy,
    options_to_dict,
    syntax_from_json,
)
from .values import from_plain_json

_FACTOR_BASES = ("first", "last", "freq", "none")


def spec_to_dict(spec: ModelSpec) -> dict:
    """A JSON-ready dict of every field of ``spec`` (options included)."""
    return {
        "response": spec.response,
        "fixed": [_term_to_list(t) for t in spec.fixed],
        "random": [equation_to_dict(eq) for eq in spec.random],
        "constant": spec.constant,
        "family": spec.family,
        "link": spec.link,
        "residual": {
            "type": spec.residual.type,
            "order": spec.residual.order,
            "t": spec.residual.t,
            "by": spec.residual.by,
        },
        "reml": spec.reml,
        "command": spec.command,
        "if": None if spec.sample_if is None else _if_text(spec.sample_if),
        "in": None if spec.sample_in is None else list(spec.sample_in),
        "offset": spec.offset,
        "exposure": spec.exposure,
        "trials": spec.trials,
        **options_to_dict(spec.estimation, spec.display),
        "syntax": spec.syntax,
        "source": spec.source,
    }


def spec_from_dict(d: object) -> ModelSpec:
    """Rebuild a spec, refusing anything that is not exactly what ``spec_to_dict`` writes.

    A spec saved before the options were typed holds one ``options`` dict in
    place of ``estimation``, ``display`` and ``syntax``; it is read too.
    """
    try:
        estimation, display, syntax = _options(d)
        return ModelSpec(
            response=as_str(d["response"]),
            fixed=tuple(_term_from_list(t) for t in as_list(d["fixed"])),
            random=tuple(equation_from_dict(e) for e in as_list(d["random"])),
            constant=_bool(d["constant"]),
            family=as_str(d["family"]),
            link=as_str(d["link"]),
            residual=_residual_from_dict(d["residual"]),
            reml=_bool(d["reml"]),
            command=as_str(d["command"]),
            sample_if=None if d["if"] is None else parse_if_text(as_str(d["if"])),
            sample_in=None if d["in"] is None else _in_range(d["in"]),
            offset=_opt_str(d["offset"]),
            exposure=_opt_str(d["exposure"]),
            trials=_trials(d["trials"]),
            estimation=estimation,
            display=display,
            syntax=syntax,
            source=as_str(d["source"]),
        )
    except ResultFileError:
        raise
    except (KeyError, TypeError, ValueError, BayesmixedError) as exc:
        # BayesmixedError: an if qualifier that no longer parses, an unknown structure
        raise ResultFileError(f"the saved model specification is malformed ({exc!r})") from exc


def _options(d: dict) -> tuple[EstimationOptions, DisplayOptions, str]:
    """The typed options of a saved spec, from today's entries or an older file's dict."""
    if "options" in d:
        if {"estimation", "display", "syntax"} & set(d):
            raise ValueError("both the old options dict and typed options")
        return options_from_legacy(from_plain_json(d["options"]))
    return (
        estimation_from_dict(d["estimation"]),
        display_from_dict(d["display"]),
        syntax_from_json(d["syntax"]),
    )


def parse_if_text(text: str) -> IfExpr:
    """Parse an ``if`` expression on its own, the whole text and nothing else."""
    stream = TokenStream(text)
    expr = parse_if(stream)
    if not stream.at("EOF"):
        stream.fail("unexpected text after the if expression")
    return expr


def _if_text(expr: object) -> str:
    if not isinstance(expr, IfExpr):
        raise ResultFileError(f"cannot save an if qualifier of type {type(expr).__name__}")
    return expr.text


def _term_to_list(term: Term) -> list[dict]:
    return [{"name": c.name, "kind": c.kind, "base": c.base} for c in term.components]


def _term_from_list(items: object) -> Term:
    comps = []
    for c in as_list(items):
        kind = c["kind"]
        if kind not in ("c", "i"):
            raise ValueError(f"component kind {kind!r}")
        base = c["base"]
        if not (isinstance(base, int) and not isinstance(base, bool)) and base not in _FACTOR_BASES:
            raise ValueError(f"factor base {base!r}")
        comps.append(Component(as_str(c["name"]), kind, base))
    if not comps:
        raise ValueError("empty term")
    return Term(tuple(comps))


def equation_to_dict(eq: RandomEquation) -> dict:
    """One random-effects equation as JSON (also inside a saved design's blocks)."""
    return {
        "path": list(eq.path),
        "terms": [_term_to_list(t) for t in eq.terms],
        "constant": eq.constant,
        "covariance": eq.covariance,
        "factor": eq.factor,
    }


def equation_from_dict(d: object) -> RandomEquation:
    """The inverse of :func:`equation_to_dict`; ValueError on anything malformed."""
    path = tuple(as_str(p) for p in as_list(d["path"]))
    if not path:
        raise ValueError("empty random-effects path")
    cov = as_str(d["covariance"])
    try:
        if resolve_name(cov) != cov:
            raise ValueError(f"covariance {cov!r}")
    except BayesmixedError as exc:
        raise ValueError(str(exc)) from exc
    return RandomEquation(
        path=path,
        terms=tuple(_term_from_list(t) for t in as_list(d["terms"])),
        constant=_bool(d["constant"]),
        covariance=cov,
        factor=_opt_str(d["factor"]),
    )


def _residual_from_dict(d: object) -> ResidualSpec:
    order = d["order"]
    if order is not None and (not isinstance(order, int) or isinstance(order, bool)):
        raise ValueError(f"residual order {order!r}")
    return ResidualSpec(as_str(d["type"]), order, _opt_str(d["t"]), _opt_str(d["by"]))


def _in_range(value: object) -> tuple[int, int]:
    a, b = as_list(value)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (a, b)):
        raise ValueError(f"in range {value!r}")
    return (a, b)


def _trials(value: object) -> str | int | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"trials {value!r}")


def as_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, found {value!r}")
    return value


def _opt_str(value: object) -> str | None:
    return None if value is None else as_str(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true/false, found {value!r}")
    return value


def as_list(value: object) -> list:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, found {value!r}")
    return value
