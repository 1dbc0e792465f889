"""ModelSpec -> Stata command line: the model written back in the user's language.

Two uses: a saved result records the command that reproduces it, and the
reliability tests re-parse the rendering of every spec they meet, so a spec
that re-parses to a different model (a front end that misread the input)
is caught.  A spec Stata cannot express (an lme4 ``(1 | a:b)`` grouping
without its parent level) raises :class:`NotSupportedError` rather than
rendering something close.
"""

from __future__ import annotations

from ..errors import NotSupportedError
from ..spec.model import Component, ModelSpec, RandomEquation, Term

_GLM_NAMES = {
    ("bernoulli", "logit"): "melogit",
    ("bernoulli", "probit"): "meprobit",
    ("bernoulli", "cloglog"): "mecloglog",
    ("poisson", "log"): "mepoisson",
}


def spec_to_stata(spec: ModelSpec) -> str:
    """The Stata command whose parse is ``spec`` (data-independent parts only)."""
    if spec.options.get("bayes"):
        raise NotSupportedError("rendering the bayes: prefix is not supported")
    name, glm_opts = _command(spec)
    words = [name, spec.response, *(_term(t) for t in spec.fixed)]
    if spec.sample_if is not None:
        words.append(f"if {spec.sample_if}")
    if spec.sample_in is not None:
        words.append(f"in {spec.sample_in[0]}/{spec.sample_in[1]}")
    fe_opts = ([] if spec.constant else ["noconstant"]) + glm_opts
    glob = _global_options(spec)
    if not spec.random:
        fe_opts += glob
    if fe_opts:
        words.append(", " + " ".join(fe_opts))
    previous: tuple[str, ...] = ()
    for i, eq in enumerate(spec.random):
        last = i == len(spec.random) - 1
        words.append(_equation(eq, previous, glob if last else []))
        previous = eq.path
    return " ".join(words)


def _command(spec: ModelSpec) -> tuple[str, list[str]]:
    if spec.command == "mixed":
        if spec.family != "gaussian" or spec.link != "identity":
            raise NotSupportedError("mixed with a non-Gaussian family")
        return "mixed", []
    opts = [f"offset({spec.offset})"] if spec.offset else []
    if spec.exposure:
        opts.append(f"exposure({spec.exposure})")
    fam = spec.family
    trials = "" if spec.trials is None else f" {spec.trials}"
    if spec.command in ("melogit", "meprobit", "mecloglog") and fam == "binomial":
        opts.append(f"binomial({spec.trials})")
    elif spec.command == "meglm" or _GLM_NAMES.get((fam, spec.link)) != spec.command:
        if spec.command != "meglm":
            if spec.command == "menbreg" and fam == "nbinomial":
                return spec.command, opts + _glm_options(spec)
            raise NotSupportedError(f"{spec.command} with family {fam}")
        disp = spec.options.get("dispersion")
        extra = f" {disp}" if fam == "nbinomial" and disp and disp != "mean" else ""
        opts += [f"family({fam}{trials}{extra})", f"link({spec.link})"]
    return spec.command, opts + _glm_options(spec)


def _glm_options(spec: ModelSpec) -> list[str]:
    out = []
    if spec.options.get("eform"):
        out.append(spec.options["eform"])
    if spec.options.get("intmethod"):
        out.append(f"intmethod({spec.options['intmethod']})")
    if spec.options.get("intpoints", 7) != 7:
        out.append(f"intpoints({spec.options['intpoints']})")
    return out


def _global_options(spec: ModelSpec) -> list[str]:
    out = ["reml"] if spec.reml else []
    if spec.options.get("display") == "stddeviations":
        out.append("stddeviations")
    if spec.options.get("level", 95.0) != 95.0:
        out.append(f"level({spec.options['level']:g})")
    if spec.options.get("base"):
        out.append("baselevels")
    if "log" in spec.options:
        out.append("log" if spec.options["log"] else "nolog")
    res = spec.residual
    if res.type != "independent" or res.by or res.t:
        inner = res.type + ("" if res.order is None else f" {res.order}")
        subs = ([f"t({res.t})"] if res.t else []) + ([f"by({res.by})"] if res.by else [])
        out.append(f"residuals({inner}{', ' + ' '.join(subs) if subs else ''})")
    return out


def _equation(eq: RandomEquation, previous: tuple[str, ...], glob: list[str]) -> str:
    path = tuple(p for p in eq.path if p != "_all") or ("_all",)
    parent = tuple(p for p in previous if p != "_all")
    if path != ("_all",) and path not in (parent + (path[-1],), parent):
        # Stata nests each level in the ones before it; lme4's crossed (1|a) + (1|b)
        # has no such reading (Stata writes it || _all: R.a || b:)
        raise NotSupportedError(
            f"the grouping {':'.join(eq.path)} after {':'.join(previous) or 'nothing'} "
            "has no Stata equivalent in this order"
        )
    if eq.factor is not None:
        return f"|| {eq.level}: R.{eq.factor}" + (f", {' '.join(glob)}" if glob else "")
    terms = " ".join(_term(t) for t in eq.terms)
    opts = ([] if eq.constant else ["noconstant"]) + [f"covariance({eq.covariance})"] + glob
    return f"|| {eq.level}:{' ' + terms if terms else ''}, {' '.join(opts)}"


def _term(term: Term) -> str:
    interacted = len(term.components) > 1
    return "#".join(_component(c, interacted) for c in term.components)


def _component(c: Component, interacted: bool) -> str:
    if c.kind == "c":
        return f"c.{c.name}" if interacted else c.name
    if c.base == "first":
        return f"i.{c.name}"
    if c.base == "none":
        return f"ibn.{c.name}"
    if isinstance(c.base, int):
        return f"ib{c.base}.{c.name}"
    return f"ib({c.base}).{c.name}"
