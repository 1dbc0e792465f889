"""Meaning of the options of a parsed command (still no data).

Stata puts options in three places: after the fixed part (``noconstant`` and,
leniently, the global options), after each random equation (``covariance()``,
``noconstant``) and after the last equation, where the equation's own options
and the global ones (``reml``, ``variance``...) mix.  This module sorts each
written option into its place, expands Stata's abbreviations, checks values,
and refuses anything it does not know: an ignored option would silently fit
a different model from the one written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..bayes_options import INTEGER_MINIMUM
from ..errors import NotSupportedError, SpecificationError, StataSyntaxError
from ..spec.covariance import resolve_name
from ..validate import whole_number
from .ast import Command, Equation, Option
from .diagnostics import with_caret
from .glm_options import GLM_COMMANDS, apply_glm_option, finish_glm, is_glm_option
from .option_args import (
    Named,
    OptionError,
    match,
    number_arg,
    parse_residuals,
    require_no_arg,
    word_arg,
)

# full name -> shortest accepted abbreviation
GLOBAL_OPTIONS = {
    "mle": "ml",
    "reml": "reml",
    "variance": "var",
    "stddeviations": "stddev",
    "level": "l",
    "baselevels": "base",
    "allbaselevels": "allbase",
    "residuals": "res",
    "nolog": "nolog",
    "log": "log",
}
RE_OPTIONS = {"covariance": "cov", "noconstant": "nocons"}
FE_OPTIONS = {"noconstant": "nocons"}
KNOWN_UNSUPPORTED = (
    "vce dfmethod pwscale collinear fweight pweight emiterate emtolerance emonly emlog emdots "
    "iterate tolerance ltolerance nrtolerance nonrtolerance difficult technique matsqrt matlog "
    "nostderr nolrtest noretable nofetable estmetric noheader nogroup startvalues from "
    "constraints startgrid noestimate dnumerical coeflegend small"
).split()
BAYES_OPTIONS = (
    "prior nchains mcmcsize burnin thinning rseed initial initall nomleinitial initrandom "
    "dryrun clevel hpd saving blocksummary block gibbs adaptation scale covariance "
    "showreffects noshow show dots nodots notable noheader melabel remargl batch eform or irr"
).split()
MIXED_ONLY = ("mle", "reml", "residuals")


@dataclass
class EquationOptions:
    constant: bool = True
    covariance: str | None = None
    cov_col: int | None = None
    noconstant_col: int | None = None


@dataclass
class Interpreted:
    """Everything the options say, ready for the resolver."""

    fe_constant: bool = True
    equations: list[EquationOptions] = field(default_factory=list)
    reml: bool = False
    family: str = "gaussian"
    link: str = "identity"
    residual: dict = field(default_factory=dict)  # type, order, t: Named, by: Named
    offset: Named | None = None
    exposure: Named | None = None
    trials: int | Named | None = None
    options: dict = field(default_factory=dict)


def interpret(command: Command) -> Interpreted:
    """Sort and check every option of ``command``; raise on anything unknown."""
    try:
        return _interpret(command)
    except OptionError as exc:
        raise StataSyntaxError(exc.message, command.source, exc.col) from None


def _interpret(command: Command) -> Interpreted:
    name = "mixed" if command.name == "xtmixed" else command.name
    state = _State(name, command.source)
    for opt in command.fe_options:
        state.apply_fe(opt)
    last = len(command.equations) - 1
    for i, eq in enumerate(command.equations):
        state.result.equations.append(state.apply_equation(eq, is_last=i == last))
    state.finish(command)
    return state.result


class _State:
    def __init__(self, command: str, source: str) -> None:
        self.command = command
        self.source = source
        self.seen: dict[str, Option] = {}
        self.result = Interpreted()
        self.result.options = {
            "display": "variance",
            "level": 95.0,
            "base": False,
            "syntax": "stata",
        }
        self.glm: dict = {}

    # -- placement ----------------------------------------------------------

    def apply_fe(self, opt: Option) -> None:
        if match(opt.name, FE_OPTIONS):
            require_no_arg(opt, "noconstant")
            self.result.fe_constant = False
        elif not self.apply_global(opt):
            if match(opt.name, RE_OPTIONS):
                raise OptionError(
                    f"option '{opt.name}' belongs after a random-effects equation", opt.col
                )
            self.unknown(opt)

    def apply_equation(self, eq: Equation, is_last: bool) -> EquationOptions:
        out = EquationOptions()
        for opt in eq.options:
            full = match(opt.name, RE_OPTIONS)
            if full == "noconstant":
                require_no_arg(opt, "noconstant")
                out.constant, out.noconstant_col = False, opt.col
            elif full == "covariance":
                if out.covariance is not None:
                    raise OptionError("covariance() given twice for one equation", opt.col)
                out.covariance = _covariance(opt)
                out.cov_col = opt.arg_col
            elif self.is_global(opt):
                if not is_last:
                    raise OptionError(
                        f"option '{opt.name}' must come after the last random-effects equation",
                        opt.col,
                    )
                self.apply_global(opt)
            else:
                self.unknown(opt)
        if not out.constant and not eq.terms:
            raise OptionError(
                f"the equation for '{eq.level}' is empty: it has neither a constant "
                "nor random slopes",
                out.noconstant_col,
            )
        return out

    def is_global(self, opt: Option) -> bool:
        return bool(match(opt.name, GLOBAL_OPTIONS)) or is_glm_option(opt.name)

    def unknown(self, opt: Option) -> None:
        if opt.name in KNOWN_UNSUPPORTED:
            message = f"option '{opt.name}' is not supported yet"
            raise NotSupportedError(with_caret(message, self.source, opt.col))
        raise OptionError(f"unknown option '{opt.name}' for {self.command}", opt.col)

    # -- global options -----------------------------------------------------

    def apply_global(self, opt: Option) -> bool:
        full = match(opt.name, GLOBAL_OPTIONS)
        if full is None:
            if not is_glm_option(opt.name):
                return False
            if self.command not in GLM_COMMANDS:
                raise OptionError(
                    f"option '{opt.name}' is not allowed with {self.command}", opt.col
                )
            apply_glm_option(self.command, opt, self.glm)
            return True
        if full in MIXED_ONLY and self.command != "mixed":
            raise OptionError(f"option '{opt.name}' is only allowed with mixed", opt.col)
        self._once(full, opt)
        getattr(self, f"_opt_{full}")(opt)
        return True

    def _once(self, full: str, opt: Option) -> None:
        clashes = {"mle": "reml", "reml": "mle", "variance": "stddeviations"}
        clashes["stddeviations"] = "variance"
        if full in self.seen:
            raise OptionError(f"option '{full}' given twice", opt.col)
        other = clashes.get(full)
        if other in self.seen:
            raise OptionError(f"options '{other}' and '{full}' cannot be combined", opt.col)
        self.seen[full] = opt

    def _opt_mle(self, opt: Option) -> None:
        require_no_arg(opt, "mle")
        self.result.reml = False

    def _opt_reml(self, opt: Option) -> None:
        require_no_arg(opt, "reml")
        self.result.reml = True

    def _opt_variance(self, opt: Option) -> None:
        require_no_arg(opt, "variance")
        self.result.options["display"] = "variance"

    def _opt_stddeviations(self, opt: Option) -> None:
        require_no_arg(opt, "stddeviations")
        self.result.options["display"] = "stddeviations"

    def _opt_level(self, opt: Option) -> None:
        value = number_arg(opt, "level")
        if not 10 <= value <= 99.99:
            raise OptionError("level() must be between 10 and 99.99", opt.arg_col)
        self.result.options["level"] = float(value)

    def _opt_baselevels(self, opt: Option) -> None:
        require_no_arg(opt, "baselevels")
        self.result.options["base"] = True

    def _opt_allbaselevels(self, opt: Option) -> None:
        require_no_arg(opt, "allbaselevels")
        self.result.options["base"] = True

    def _opt_residuals(self, opt: Option) -> None:
        self.result.residual = parse_residuals(opt, self.source)

    def _opt_nolog(self, opt: Option) -> None:
        require_no_arg(opt, "nolog")
        self.result.options["log"] = False

    def _opt_log(self, opt: Option) -> None:
        require_no_arg(opt, "log")
        self.result.options["log"] = True

    # -- end ----------------------------------------------------------------

    def finish(self, command: Command) -> None:
        if self.command in GLM_COMMANDS:
            finish_glm(self.command, self.glm, self.result)
        self.result.options["bayes"] = command.prefix is not None
        if command.prefix is not None:
            self.result.options["bayes_options"] = _bayes_options(command.prefix.options)


def _covariance(opt: Option) -> str:
    word = word_arg(opt, "covariance")
    try:
        return resolve_name(word)
    except SpecificationError as exc:
        raise OptionError(str(exc), opt.arg_col) from None


def _bayes_options(options: tuple[Option, ...]) -> dict:
    out: dict = {}
    for opt in options:
        if opt.name not in BAYES_OPTIONS:
            raise OptionError(f"unknown option '{opt.name}' for the bayes prefix", opt.col)
        value = _bayes_value(opt)
        if opt.name == "prior":
            out.setdefault("prior", []).append(value)
        elif opt.name in out:
            raise OptionError(f"option '{opt.name}' given twice", opt.col)
        else:
            out[opt.name] = value
    return out


def _bayes_value(opt: Option) -> object:
    if opt.name in INTEGER_MINIMUM:
        return _bayes_integer(opt)
    if opt.args is None:
        return True
    if len(opt.args) == 1 and opt.args[0].kind == "NUMBER":
        value = float(opt.args[0].text)
        return int(value) if value.is_integer() and "." not in opt.args[0].text else value
    return opt.text


def _bayes_integer(opt: Option) -> int:
    """``mcmcsize(500)``, ``rseed(1)``...: a whole number, checked with a caret here."""
    text = opt.text if opt.text is not None else ""
    value: object = text
    for convert in (int, float):
        try:
            value = convert(text)
            break
        except ValueError:
            continue
    try:
        shown = text or "nothing"
        return whole_number(value, f"option {opt.name}()", INTEGER_MINIMUM[opt.name], shown)
    except SpecificationError as exc:
        raise OptionError(str(exc), opt.arg_col if opt.arg_col is not None else opt.col) from None
