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
from ..spec.family import get_family, glm_commands
from ..spec.model import Component, ModelSpec, RandomEquation, Term
from ..spec.options import DEFAULT_INTPOINTS, DEFAULT_LEVEL

_GLM_NAMES = {fl: c for c, fl in glm_commands().items()}  # (family, link) -> me* command


def spec_to_stata(spec: ModelSpec) -> str:
    """The Stata command whose parse is ``spec`` (data-independent parts only)."""
    if spec.estimation.bayes:
        raise NotSupportedError("rendering the bayes: prefix is not supported")
    name, glm_opts = _command(spec)
    words = [name, spec.response, *(_term(t) for t in spec.fixed)]
    if spec.sample_if is not None:
        words.append(f"if {spec.sample_if}")
    if spec.sample_in is not None:
        words.append(f"in {spec.sample_in[0]}/{spec.sample_in[1]}")
    if spec.estimation.weight is not None:
        words.append("[{}={}]".format(*spec.estimation.weight))
    fe_opts = ([] if spec.constant else ["noconstant"]) + glm_opts
    glob = _global_options(spec) + _vce_options(spec)
    if not spec.random:
        fe_opts += glob
    if fe_opts:
        words.append(", " + " ".join(fe_opts))
    previous: tuple[str, ...] = ()
    level_weights = dict(spec.estimation.level_weights)
    for i, eq in enumerate(spec.random):
        last = i == len(spec.random) - 1
        kind = spec.estimation.level_weight_kind
        own = [f"{kind}({level_weights.pop(eq.level)})"] if eq.level in level_weights else []
        words.append(_equation(eq, previous, own + (glob if last else [])))
        previous = eq.path
    return " ".join(words)


def _command(spec: ModelSpec) -> tuple[str, list[str]]:
    if spec.command == "mixed":
        if not get_family(spec.family, spec.link).closed_form:
            raise NotSupportedError("mixed with a non-Gaussian family")
        return "mixed", []
    opts = [f"offset({spec.offset})"] if spec.offset else []
    if spec.exposure:
        opts.append(f"exposure({spec.exposure})")
    fam = spec.family
    trials = "" if spec.trials is None else f" {spec.trials}"
    fixed = glm_commands().get(spec.command)
    if fixed is not None and get_family(fam).uses_trials and get_family(fixed[0]).binary:
        opts.append(f"binomial({spec.trials})")
    elif spec.command == "meglm" or _GLM_NAMES.get((fam, spec.link)) != spec.command:
        if spec.command != "meglm":
            raise NotSupportedError(f"{spec.command} with family {fam}")
        disp = spec.estimation.dispersion
        extra = f" {disp}" if disp != "mean" else ""  # only nbinomial takes another
        opts += [f"family({fam}{trials}{extra})", f"link({spec.link})"]
    return spec.command, opts + _glm_options(spec)


def _glm_options(spec: ModelSpec) -> list[str]:
    est = spec.estimation
    out = [spec.display.eform] if spec.display.eform else []
    if est.intmethod:
        out.append(f"intmethod({est.intmethod})")
    if est.intpoints != DEFAULT_INTPOINTS:
        out.append(f"intpoints({est.intpoints})")
    return out


def _global_options(spec: ModelSpec) -> list[str]:
    out = ["reml"] if spec.reml else []
    shown = spec.display
    if shown.stddeviations:
        out.append("stddeviations")
    if shown.level != DEFAULT_LEVEL:
        out.append(f"level({shown.level:g})")
    if shown.base:
        out.append("baselevels")
    if shown.log is not None:
        out.append("log" if shown.log else "nolog")
    res = spec.residual
    if res.type != "independent" or res.by or res.t:
        inner = res.type + ("" if res.order is None else f" {res.order}")
        subs = ([f"t({res.t})"] if res.t else []) + ([f"by({res.by})"] if res.by else [])
        out.append(f"residuals({inner}{', ' + ' '.join(subs) if subs else ''})")
    return out


def _vce_options(spec: ModelSpec) -> list[str]:
    est = spec.estimation
    out = [] if est.vce == "oim" else [f"vce({est.vce}{' ' + est.cluster if est.cluster else ''})"]
    return out + ([f"pwscale({est.pwscale})"] if est.pwscale else [])


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
