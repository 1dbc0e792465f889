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

from dataclasses import dataclass, field, replace

from ..bayes_options import INTEGER_MINIMUM, PriorSyntaxError, split_prior_option
from ..errors import NotSupportedError, SpecificationError, StataSyntaxError
from ..spec.covariance import resolve_name
from ..spec.dfmethod import REML_ONLY, DFMethod
from ..spec.options import DisplayOptions, EstimationOptions
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
from .weight_options import parse_level_weight, parse_pwscale, parse_vce, weight_word

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
    "dfmethod": "dfm",
    "vce": "vce",
    "pwscale": "pwscale",
}
RE_OPTIONS = {"covariance": "cov", "noconstant": "nocons", "pweight": "pw", "fweight": "fw"}
FE_OPTIONS = {"noconstant": "nocons"}
KNOWN_UNSUPPORTED = (
    "collinear emiterate emtolerance emonly emlog emdots "
    "iterate tolerance ltolerance nrtolerance nonrtolerance difficult technique matsqrt matlog "
    "nostderr nolrtest noretable nofetable estmetric noheader nogroup startvalues from "
    "constraints startgrid noestimate dnumerical coeflegend small"
).split()
BAYES_OPTIONS = (
    "prior nchains mcmcsize burnin thinning rseed initial initall nomleinitial initrandom "
    "dryrun clevel hpd saving blocksummary block gibbs adaptation scale covariance "
    "showreffects noshow show dots nodots notable noheader melabel remargl batch eform or irr"
).split()
MIXED_ONLY = ("mle", "reml", "residuals", "dfmethod", "pwscale")


@dataclass
class EquationOptions:
    constant: bool = True
    covariance: str | None = None
    cov_col: int | None = None
    noconstant_col: int | None = None
    pweight: Named | None = None
    fweight: Named | None = None

    @property
    def level_weight(self) -> tuple[str, Named] | None:
        """(kind, variable) of the equation's ``pweight()`` or ``fweight()``, or None."""
        if self.pweight is not None:
            return "pweight", self.pweight
        return None if self.fweight is None else ("fweight", self.fweight)


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
    estimation: EstimationOptions = field(default_factory=EstimationOptions)
    display: DisplayOptions = field(default_factory=DisplayOptions)
    cluster: Named | None = None  # vce(cluster var); the variable is checked by the resolver
    pwscale: str | None = None  # applied with the weights, which the resolver reads


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
            elif full in ("pweight", "fweight"):
                self._level_weight(out, opt, full)
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

    def _level_weight(self, out: EquationOptions, opt: Option, kind: str) -> None:
        """``pweight(var)`` or ``fweight(var)``: one per equation, one kind per command."""
        if out.level_weight is not None:
            raise OptionError("a weight option is given twice for one equation", opt.col)
        if kind == "fweight" and self.command != "mixed":
            message = f"fweight() at higher levels is not supported yet for {self.command}"
            raise NotSupportedError(with_caret(message, self.source, opt.col))
        earlier = {e.level_weight[0] for e in self.result.equations if e.level_weight}
        if earlier - {kind}:
            raise OptionError(
                "fweight() and pweight() may not be mixed: Stata takes one kind of weight",
                opt.col,
            )
        setattr(out, kind, parse_level_weight(opt, kind))

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

    def _display(self, col: int | None, **changes: object) -> None:
        """Set display options; a value DisplayOptions refuses gets a caret at ``col``."""
        try:
            self.result.display = replace(self.result.display, **changes)
        except SpecificationError as exc:
            raise OptionError(str(exc), col) from None

    def _opt_variance(self, opt: Option) -> None:
        require_no_arg(opt, "variance")
        self._display(opt.col, stddeviations=False)

    def _opt_stddeviations(self, opt: Option) -> None:
        require_no_arg(opt, "stddeviations")
        self._display(opt.col, stddeviations=True)

    def _opt_level(self, opt: Option) -> None:
        self._display(opt.arg_col, level=float(number_arg(opt, "level")))

    def _opt_baselevels(self, opt: Option) -> None:
        require_no_arg(opt, "baselevels")
        self._display(opt.col, base=True)

    def _opt_allbaselevels(self, opt: Option) -> None:
        require_no_arg(opt, "allbaselevels")
        self._display(opt.col, base=True)

    def _opt_residuals(self, opt: Option) -> None:
        self.result.residual = parse_residuals(opt, self.source)

    def _opt_nolog(self, opt: Option) -> None:
        require_no_arg(opt, "nolog")
        self._display(opt.col, log=False)

    def _opt_log(self, opt: Option) -> None:
        require_no_arg(opt, "log")
        self._display(opt.col, log=True)

    def _opt_dfmethod(self, opt: Option) -> None:
        try:
            method = DFMethod.parse(opt.text or "")
        except SpecificationError as exc:
            col = opt.arg_col if opt.arg_col is not None else opt.col
            raise OptionError(str(exc), col) from None
        self._display(opt.col, dfmethod=str(method))

    def _opt_vce(self, opt: Option) -> None:
        vce, cluster = parse_vce(opt)
        self.result.cluster = cluster
        self.result.estimation = replace(
            self.result.estimation, vce=vce, cluster=None if cluster is None else cluster.name
        )

    def _opt_pwscale(self, opt: Option) -> None:
        self.result.pwscale = parse_pwscale(opt)

    # -- end ----------------------------------------------------------------

    def finish(self, command: Command) -> None:
        dfm = self.result.display.dfmethod
        if dfm is not None and DFMethod.parse(dfm).name in REML_ONLY and not self.result.reml:
            message = f"dfmethod({dfm}) is only available with REML estimation; add the reml option"
            raise OptionError(message, self.seen["dfmethod"].col)
        self._check_vce(command)
        if self.command in GLM_COMMANDS:
            finish_glm(self.command, self.glm, self.result)
        if command.prefix is not None:
            prefix = tuple(_bayes_options(command.prefix.options).items())
            self.result.estimation = replace(self.result.estimation, bayes_prefix=prefix)

    def _check_vce(self, command: Command) -> None:
        """Stata's rules: no robust SEs with dfmethod(); here also none with REML.

        The REML criterion is not a sum of independent cluster contributions (it
        integrates the fixed effects out over all clusters at once), so the
        cluster sandwich has no REML reading; Stata refuses weights with REML too.
        """
        robust = "vce" in self.seen and self.result.estimation.vce != "oim"
        weighted = command.weight is not None or any(e.level_weight for e in self.result.equations)
        fweighted = any(e.fweight for e in self.result.equations)
        if fweighted and self.result.display.dfmethod is not None:
            raise OptionError(
                "dfmethod() is not available with fweight() at higher levels yet: its counting "
                "rules would count the groups as given, not their copies",
                self.seen["dfmethod"].col,
            )
        if fweighted and self.result.estimation.vce == "cluster":
            raise OptionError(
                "vce(cluster) is not available with fweight() at higher levels (whether the "
                "copies of a group share its cluster is not defined); vce(robust) is",
                self.seen["vce"].col,
            )
        if robust and self.result.display.dfmethod is not None:
            raise OptionError(
                "vce(robust) and vce(cluster) may not be combined with dfmethod()",
                self.seen["vce"].col,
            )
        if self.result.reml and (robust or weighted):
            what = "vce(" + self.result.estimation.vce + ")" if robust else "weights"
            raise OptionError(
                f"{what} not allowed with reml; fit by ML (the default)", self.seen["reml"].col
            )
        pweighted = any(e.pweight for e in self.result.equations) or (
            command.weight is not None and weight_word(command.weight.kind) == "pweight"
        )
        if self.result.pwscale is not None and not pweighted:
            raise OptionError("pwscale() needs sampling weights", self.seen["pwscale"].col)


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
    if opt.name == "prior":  # read here for the caret; names resolve against the design
        try:
            split_prior_option(opt.text or "")
        except PriorSyntaxError as exc:
            col = opt.arg_col + exc.offset if opt.arg_col is not None else opt.col
            raise OptionError(str(exc), col) from None
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
