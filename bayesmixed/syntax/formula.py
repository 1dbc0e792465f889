"""lme4 formulas -> :class:`~bayesmixed.spec.model.ModelSpec`.

``formula_scan`` splits the formula into its fixed pieces and its
``(expr | group)`` terms; formulae parses the fixed part and each random
``expr`` (so ``x*z``, ``0 + x``, ``x - 1`` mean what they mean in formulae);
the grouping factor is read here, because its grammar is tiny
(``g``, ``g1:g2``, ``g1/g2``) and its meaning is the whole point:

* ``(x | g)`` -- one equation, correlated effects (unstructured);
* ``(x || g)`` -- one equation, independent effects (lme4 splits it into
  uncorrelated terms; one equation with independent covariance is the same
  model);
* ``(1 | g1/g2)`` -- ``g1`` and ``g2`` within ``g1``: paths ``("g1",)`` and
  ``("g1", "g2")``; ``(1 | g1:g2)`` is the second alone.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import pandas as pd

from ..errors import (
    DataError,
    FormulaError,
    NotSupportedError,
    SpecificationError,
    VariableError,
)
from ..spec.family import REGISTRY, get_family, glm_commands
from ..spec.model import Component, ModelSpec, RandomEquation, Term
from ..spec.options import EstimationOptions
from .diagnostics import suggest, with_caret
from .formula_scan import FTok, Piece, random_bar, scan, split_pieces, split_tilde
from .glm_options import DEFAULT_LINK, LINKS

# every registered family by its own name, plus R's names (binomial on 0/1 is Bernoulli)
_FAMILIES = {
    **{name: name for name in REGISTRY},
    "normal": "gaussian",
    "binomial": "bernoulli",
    "negativebinomial": "nbinomial",
}
_COMMANDS = {("gaussian", "identity"): "mixed", **{fl: c for c, fl in glm_commands().items()}}


class _Context:
    """The formula, its data and error helpers for one translation."""

    def __init__(self, formula: str, data: pd.DataFrame) -> None:
        self.formula = formula
        self.data = data
        self.names = [c for c in data.columns if isinstance(c, str)]

    def error(self, message: str, col: int | None) -> FormulaError:
        return FormulaError(message, self.formula, col)

    def require(self, name: str, start: int = 0) -> str:
        if name not in self.names:
            message = f"variable '{name}' not found in the data{suggest(name, self.names)}"
            raise _variable_error(message, self.formula, self.locate(name, start))
        return name

    def locate(self, text: str, start: int = 0) -> int | None:
        """Column of the first NAME token ``text`` at or after ``start``."""
        for tok in scan(self.formula):
            if tok.col >= start and tok.text.strip("`") == text:
                return tok.col
        return None


def _variable_error(message: str, source: str, col: int | None) -> VariableError:
    return VariableError(with_caret(message, source, col))


def formula_to_spec(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = False,
    family: str = "gaussian",
    link: str | None = None,
) -> ModelSpec:
    """Translate an lme4 formula (``y ~ x + (x | g)``) into a ModelSpec."""
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError("the formula is empty")
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a pandas DataFrame")
    ctx = _Context(formula, data)
    fam, lnk, command = _family_link(family, link, reml)
    lhs, rhs = split_tilde(formula, scan(formula))
    response = _response(ctx, lhs)
    fixed_pieces, random = [], []
    for piece in split_pieces(formula, rhs):
        bar = random_bar(formula, piece)
        if bar is None:
            _reject_bars(ctx, piece)
            fixed_pieces.append(piece)
        else:
            if piece.sign == "-":
                raise ctx.error("a random-effects term cannot be subtracted", piece.start)
            random.extend(_random_term(ctx, piece, bar))
    constant, fixed = _fixed(ctx, response, fixed_pieces)
    return ModelSpec(
        response=response,
        fixed=fixed,
        random=tuple(random),
        constant=constant and get_family(fam, lnk).has_constant,  # cutpoints absorb it
        family=fam,
        link=lnk,
        reml=reml,
        command=command,
        estimation=_estimation(fam),
        syntax="formula",  # R's rules (text columns are factors) apply downstream
        source=formula,
    )


def _estimation(family: str) -> EstimationOptions:
    """glmer's default for non-Gaussian models: the Laplace approximation (``nAGQ = 1``)."""
    if family == "gaussian":
        return EstimationOptions()
    return EstimationOptions(intmethod="laplace", intpoints=1)


def _family_link(family: str, link: str | None, reml: bool) -> tuple[str, str, str]:
    fam = _FAMILIES.get(str(family).lower().replace("_", "").replace(" ", ""))
    if fam is None:
        raise SpecificationError(f"unknown family '{family}'; use {', '.join(_FAMILIES)}")
    lnk = DEFAULT_LINK[fam] if link is None else str(link).lower()
    if lnk not in LINKS:
        raise SpecificationError(f"unknown link '{link}'; use {', '.join(LINKS)}")
    if reml and fam != "gaussian":
        raise SpecificationError("REML is only defined for gaussian models")
    return fam, lnk, _COMMANDS.get((fam, lnk), "meglm")


def _response(ctx: _Context, lhs: list[FTok]) -> str:
    if len(lhs) != 1 or lhs[0].kind != "NAME":
        col = lhs[0].col if lhs else 0
        raise ctx.error("the left of '~' must be one variable (the response)", col)
    name = ctx.require(lhs[0].text.strip("`"))
    series = ctx.data[name]
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        raise _variable_error(f"response '{name}' is not numeric", ctx.formula, lhs[0].col)
    return name


def _reject_bars(ctx: _Context, piece: Piece) -> None:
    for i, tok in enumerate(piece.tokens):
        if tok.kind in ("|", "||"):
            raise ctx.error("a random-effects term must be parenthesized: (expr | group)", tok.col)
        if tok.kind in ("^", "**"):
            if i == 0 or piece.tokens[i - 1].kind != ")":
                raise ctx.error(
                    f"'{tok.text}' on a single variable has no effect in a formula; "
                    "use (a + b)^2 for interactions",
                    tok.col,
                )


# ----------------------------------------------------------------- fixed part


def _fixed(ctx: _Context, response: str, pieces: list[Piece]) -> tuple[bool, tuple[Term, ...]]:
    text = _join(ctx.formula, pieces) or "1"
    start = pieces[0].start if pieces else len(ctx.formula)
    model = _describe(ctx, text, start)
    intercept = _formulae().Intercept
    constant = any(isinstance(t, intercept) for t in model.terms)
    terms = tuple(_term(ctx, t, start) for t in model.terms if not isinstance(t, intercept))
    for term in terms:
        if response in term.variables:
            raise ctx.error(f"the response '{response}' also appears on the right", start)
    return constant, terms


def _join(formula: str, pieces: list[Piece]) -> str:
    """Rebuild a sum from its pieces (R's ``^`` is formulae's ``**``).

    formulae resolves ``a + b + c ...`` by recursion, one level per ``+``, so
    a long sum (2,000 regressors) is regrouped into nested parentheses of
    at most ``_CHUNK`` terms -- the same terms, as ``+`` is a set union --
    and the depth grows with the logarithm of the length instead.  Pieces
    with numbers (``0``, ``1``) or a minus sign stay outside the groups.
    """
    out: list[str] = []
    run: list[str] = []
    for piece in pieces:
        body = " ".join("**" if t.kind == "^" else t.text for t in piece.tokens)
        if len(pieces) > _CHUNK and piece.sign == "+" and _groupable(piece):
            run.append(body)
            continue
        if run:
            out.append(("+ " if out else "") + _grouped(run))
            run = []
        out.append(body if not out and piece.sign == "+" else f"{piece.sign} {body}")
    if run:
        out.append(("+ " if out else "") + _grouped(run))
    return " ".join(out)


_CHUNK = 16


def _groupable(piece: Piece) -> bool:
    return all(t.kind not in ("NUMBER", "-") for t in piece.tokens)


def _grouped(bodies: list[str]) -> str:
    while len(bodies) > _CHUNK:
        bodies = [f"({' + '.join(bodies[i : i + _CHUNK])})" for i in range(0, len(bodies), _CHUNK)]
    return " + ".join(bodies)


@functools.cache
def _formulae() -> SimpleNamespace:
    """formulae's parser and term classes, imported at the first lme4 formula.

    Why not at module level: formulae imports scipy.interpolate and scipy.optimize, 0.34 s
    of ``import bayesmixed`` (``-X importtime``) that Stata commands never use.
    """
    import formulae
    from formulae.parser import ParseError
    from formulae.resolver import ResolverError
    from formulae.scanner import ScanError
    from formulae.terms.call import Call
    from formulae.terms.terms import Intercept
    from formulae.terms.variable import Variable

    return SimpleNamespace(
        describe=formulae.model_description,
        errors=(ScanError, ParseError, ResolverError),
        Call=Call,
        Intercept=Intercept,
        Variable=Variable,
    )


def _describe(ctx: _Context, text: str, start: int):
    fm = _formulae()
    try:
        return fm.describe(text)
    except RecursionError:
        # Nesting and long sums are bounded before this call; this is a
        # backstop for shapes they miss (thousands of subtracted terms).
        raise ctx.error(f"the formula is too complex to parse: '{text[:60]}...'", start) from None
    except fm.errors as exc:
        raise ctx.error(f"cannot parse '{text}': {exc}", start) from None
    except (TypeError, ValueError, AttributeError) as exc:
        # formulae reports some malformed input (``x - 0``, ``x * 0``) through
        # Python errors from its term algebra rather than its own exceptions.
        raise ctx.error(f"cannot interpret '{text}': {exc}", start) from None


def _term(ctx: _Context, term, start: int) -> Term:
    return Term(tuple(_component(ctx, c, start) for c in term.components))


def _component(ctx: _Context, comp, start: int) -> Component:
    fm = _formulae()
    if isinstance(comp, fm.Variable) and not isinstance(comp.name, str):
        raise ctx.error(f"'{comp.name}' is not a term: only 0 and 1 are allowed as numbers", start)
    if isinstance(comp, fm.Variable):
        if getattr(comp, "level", None) is not None:
            raise _unsupported(ctx, f"'{comp.name}[...]' (level selection)", comp.name, start)
        name = ctx.require(comp.name, start)
        return Component(name, _kind(ctx.data[name]))
    if isinstance(comp, fm.Call) and _is_factor_call(comp):
        name = ctx.require(comp.call.args[0].name, start)
        return Component(name, "i")
    raise _unsupported(ctx, f"the transformation '{comp.name}'", comp.name.split("(")[0], start)


def _is_factor_call(comp) -> bool:
    call = comp.call
    return (
        call.callee == "C"
        and len(call.args) == 1
        and not call.kwargs
        and type(call.args[0]).__name__ == "LazyVariable"
    )


def _kind(series: pd.Series) -> str:
    """Numbers (and bools, as 0/1) are continuous; strings and categoricals are factors."""
    numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
    if numeric and not isinstance(series.dtype, pd.CategoricalDtype):
        return "c"
    return "i"


def _unsupported(ctx: _Context, what: str, token: str, start: int) -> NotSupportedError:
    message = f"{what} is not supported; create the variable in the data first"
    return NotSupportedError(with_caret(message, ctx.formula, ctx.locate(token, start)))


# ---------------------------------------------------------------- random part


def _random_term(ctx: _Context, piece: Piece, bar: FTok) -> list[RandomEquation]:
    inner_start, inner_end = piece.tokens[0].end, piece.tokens[-1].col
    expr = ctx.formula[inner_start : bar.col].strip()
    if not expr:
        raise ctx.error("missing effects before the bar: write (1 | group)", bar.col)
    model = _describe(ctx, _random_expr(ctx, piece, bar, expr), inner_start)
    intercept = _formulae().Intercept
    constant = any(isinstance(t, intercept) for t in model.terms)
    terms = tuple(_term(ctx, t, inner_start) for t in model.terms if not isinstance(t, intercept))
    for term in terms:
        if any(c.kind == "i" for c in term.components):
            raise _unsupported(ctx, "a factor in a random-effects term", term.variables[0], bar.col)
    if not terms and not constant:
        raise ctx.error(
            "empty random-effects term: it has neither an intercept nor slopes", bar.col
        )
    k = len(terms) + constant
    cov = "independent" if bar.kind == "||" or k == 1 else "unstructured"
    paths = _group_paths(ctx, [t for t in piece.tokens if bar.end <= t.col < inner_end], bar)
    return [RandomEquation(path, terms, constant, cov) for path in paths]


def _random_expr(ctx: _Context, piece: Piece, bar: FTok, expr: str) -> str:
    """The effects before the bar, with a repeated effect refused.

    formulae (like R) would silently merge ``(x + x | g)`` into one slope;
    Stata refuses a repeated random-effects variable, and so does this
    package, pointing at the repeat.
    """
    inner = piece.tokens[1 : piece.tokens.index(bar)]
    pieces = split_pieces(ctx.formula, [*inner, FTok("EOF", "", bar.col, bar.col)])
    seen: set[tuple[str, ...]] = set()
    for item in pieces:
        key = (item.sign, *(t.text for t in item.tokens))
        if key in seen and any(t.kind == "NAME" for t in item.tokens):
            text = ctx.formula[item.start : item.end]
            raise ctx.error(f"'{text}' is repeated in the random-effects term", item.start)
        seen.add(key)
    return _join(ctx.formula, pieces) if len(pieces) > _CHUNK else expr


def _group_paths(ctx: _Context, tokens: list[FTok], bar: FTok) -> list[tuple[str, ...]]:
    """``g`` -> [(g,)]; ``a:b`` -> [(a, b)]; ``a/b`` -> [(a,), (a, b)]."""
    if not tokens:
        raise ctx.error("missing grouping factor after the bar", bar.end)
    names: list[str] = []
    paths: list[tuple[str, ...]] = []
    expect_name = True
    for tok in tokens:
        if expect_name != (tok.kind == "NAME") or (not expect_name and tok.kind not in ":/"):
            raise ctx.error(
                "the grouping factor must be g, g1:g2 or g1/g2 (variable names only)", tok.col
            )
        if tok.kind == "NAME":
            names.append(ctx.require(tok.text.strip("`"), tok.col))
        elif tok.kind == "/":
            paths.append(tuple(names))
        expect_name = not expect_name
    if expect_name:
        raise ctx.error("the grouping factor ends with an operator", tokens[-1].col)
    paths.append(tuple(names))
    return paths
