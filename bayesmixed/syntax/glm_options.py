"""Options of the ``me*`` commands: family, link, exposure, eform, quadrature.

Each ``me*`` command fixes a family and link (``melogit`` is Bernoulli with a
logit link); ``meglm`` takes them from ``family()`` and ``link()``.  Reporting
options that only make sense for one link (``or`` for logit, ``irr`` for log)
are checked against the final link rather than silently accepted.
"""

from __future__ import annotations

from dataclasses import replace

from ..spec.family import REGISTRY, get_family, glm_commands
from ..spec.options import DEFAULT_INTPOINTS
from .ast import Option
from .option_args import Named, OptionError, int_arg, match, name_arg, require_no_arg, word_arg

# every me* command comes from the family registry; meglm takes family() and link()
GLM_COMMANDS = {**glm_commands(), "meglm": ("gaussian", "identity")}
GLM_OPTIONS = {
    "family": "family",
    "link": "link",
    "binomial": "binomial",
    "exposure": "exp",
    "offset": "off",
    "or": "or",
    "irr": "irr",
    "eform": "eform",
    "intmethod": "intm",
    "intpoints": "intp",
}
FAMILIES = {name: cls.abbreviation for name, cls in REGISTRY.items()}  # Stata's family() words
LINKS = {
    "identity": "iden",
    "log": "log",
    "logit": "logit",
    "probit": "probit",
    "cloglog": "cloglog",
}
DEFAULT_LINK = {name: cls.links[0] for name, cls in REGISTRY.items()}
INTMETHODS = {"mvaghermite": "mv", "mcaghermite": "mc", "ghermite": "gh", "laplace": "lap"}


def _commands_where(test) -> tuple[str, ...]:
    """The me* commands whose (family, link) pass ``test``, and meglm."""
    fixed = [c for c, (f, link) in glm_commands().items() if test(REGISTRY[f], link)]
    return (*fixed, "meglm")


_ALLOWED = {
    "family": ("meglm",),
    "link": ("meglm",),
    "binomial": tuple(c for c in _commands_where(lambda f, _: f.binary) if c != "meglm"),
    "exposure": _commands_where(lambda f, link: link == "log"),
    "or": _commands_where(lambda f, link: link in f.eform.get("or", ())),
    "irr": _commands_where(lambda f, link: link in f.eform.get("irr", ())),
}


def is_glm_option(name: str) -> bool:
    return match(name, GLM_OPTIONS) is not None


def apply_glm_option(command: str, opt: Option, store: dict) -> None:
    """Record one ``me*`` option in ``store`` after checking it fits ``command``."""
    full = match(opt.name, GLM_OPTIONS)
    if command not in _ALLOWED.get(full, GLM_COMMANDS):
        raise OptionError(f"option '{opt.name}' is not allowed with {command}", opt.col)
    key = "eform" if full in ("or", "irr", "eform") else full
    if key in store:
        raise OptionError(f"option '{opt.name}' conflicts with an earlier option", opt.col)
    store[key] = (_value(full, opt), opt)


def _value(full: str, opt: Option) -> object:
    if full in ("or", "irr", "eform"):
        require_no_arg(opt, full)
        return full
    if full == "family":
        return _family(opt)
    if full == "link":
        return _lookup(word_arg(opt, "link"), LINKS, "link", opt)
    if full == "intmethod":
        return _lookup(word_arg(opt, "intmethod"), INTMETHODS, "integration method", opt)
    if full == "intpoints":
        return int_arg(opt, "intpoints")
    if full == "binomial":
        return _trials(opt, list(opt.args or ()))
    return name_arg(opt, full)  # exposure, offset


def _lookup(word: str, table: dict[str, str], what: str, opt: Option) -> str:
    full = match(word, table)
    if full is None:
        raise OptionError(f"unknown {what} '{word}'; use {', '.join(table)}", opt.arg_col)
    return full


def _family(opt: Option) -> tuple[str, object]:
    args = list(opt.args or ())
    if not args or args[0].kind != "NAME":
        raise OptionError("family() needs a family name", opt.arg_col or opt.col)
    family = _lookup(args[0].text, FAMILIES, "family", opt)
    rest = args[1:]
    if family == "binomial":
        return family, (_trials(opt, rest) if rest else None)
    if family == "nbinomial" and rest:
        if len(rest) != 1 or rest[0].text not in ("mean", "constant"):
            raise OptionError("family(nbinomial) takes 'mean' or 'constant'", rest[0].col)
        if rest[0].text == "constant":
            # the engines fit the mean parametrisation only: refuse rather than fit that
            raise OptionError("family(nbinomial constant) is not supported yet", rest[0].col)
        return family, rest[0].text
    if rest:
        raise OptionError(f"unexpected '{rest[0].text}' in family()", rest[0].col)
    return family, None


def _trials(opt: Option, args: list) -> int | Named:
    if len(args) != 1 or args[0].kind not in ("NUMBER", "NAME"):
        raise OptionError("the number of trials must be a whole number or a variable", opt.arg_col)
    token = args[0]
    if token.kind == "NAME":
        return Named(token.text, token.col)
    if not token.text.isdigit() or int(token.text) < 1:
        raise OptionError("the number of trials must be a whole number >= 1", token.col)
    return int(token.text)


def finish_glm(command: str, store: dict, result) -> None:
    """Fill family, link, trials, offset, exposure and quadrature options."""
    family, link = GLM_COMMANDS[command]
    trials, dispersion = None, "mean"
    if "family" in store:
        (family, extra), _ = store["family"]
        link = DEFAULT_LINK[family]
        if family == "binomial":
            trials = extra
        elif family == "nbinomial":
            dispersion = extra or "mean"
    if "binomial" in store:
        family, trials = "binomial", store["binomial"][0]
    if family == "binomial" and trials in (None, 1):
        family, trials = "bernoulli", None
    if "link" in store:
        link = store["link"][0]
    _check_eform(store, family, link)
    result.family, result.link, result.trials = family, link, trials
    result.offset = store["offset"][0] if "offset" in store else None
    result.exposure = store["exposure"][0] if "exposure" in store else None
    if result.exposure is not None and link != "log":
        raise OptionError("exposure() needs a log link", store["exposure"][1].col)
    result.display = replace(result.display, eform=_stored(store, "eform"))
    result.estimation = replace(
        result.estimation,
        intmethod=_stored(store, "intmethod"),
        intpoints=_stored(store, "intpoints", DEFAULT_INTPOINTS),
        dispersion=dispersion,
    )


def _stored(store: dict, key: str, default: object = None) -> object:
    return store[key][0] if key in store else default


def _check_eform(store: dict, family: str, link: str) -> None:
    if "eform" not in store:
        return
    value, opt = store["eform"]
    allowed = get_family(family, link).eform.get(value)
    if value == "or" and not allowed:
        raise OptionError("option 'or' needs a logit link", opt.col)
    if value == "irr" and not allowed:
        raise OptionError("option 'irr' needs a Poisson or negative binomial model", opt.col)
