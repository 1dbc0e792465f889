"""Small helpers to write ModelSpecs by hand (the parser is built separately)."""

from __future__ import annotations

from bayesmixed.spec.model import Component, ModelSpec, RandomEquation, Term


def c(name: str) -> Component:
    return Component(name, "c")


def i(name: str, base="first") -> Component:
    return Component(name, "i", base)


def term(*comps) -> Term:
    return Term(tuple(Component(x) if isinstance(x, str) else x for x in comps))


def spec(response="y", fixed=(), random=(), **kw) -> ModelSpec:
    fixed = tuple(t if isinstance(t, Term) else term(t) for t in fixed)
    if kw.get("command") == "formula":  # the formula front end marks its specs so
        kw["command"] = "mixed"
        kw["syntax"] = "formula"
    return ModelSpec(response=response, fixed=fixed, random=tuple(random), **kw)


def level(*path, slopes=(), **kw) -> RandomEquation:
    terms = tuple(t if isinstance(t, Term) else term(t) for t in slopes)
    return RandomEquation(path=tuple(path), terms=terms, **kw)
