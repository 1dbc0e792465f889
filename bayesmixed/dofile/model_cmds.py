"""Estimation and postestimation commands of a do-file.

``regress``, ``mixed``/``me*`` (with the ``bayes:`` prefix), ``estimates
store|restore|table``, ``lrtest``, ``estat``, ``test``, ``testparm``, ``lincom``,
``predict``.  Fitting goes through the
public API (:func:`bayesmixed.api.stata`), so a do-file gets exactly the numbers the
Python calls give, and the ``bayes:`` prefix works here the day the API supports it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import api
from ..errors import NotSupportedError
from ..results.base import ResultKind, kind_of
from ..results.format import fmt_g
from ..spec.family import glm_commands
from .args import expand_varlist, parse_args
from .errors import CommandError
from .predict import predict_columns
from .regress import fit_ols
from .session import Estimate, ModelEntry, Session, Unavailable

MODEL_COMMANDS = ("mixed", "xtmixed", *glm_commands(), "meglm")
PREDICT_KINDS = {
    "xb": 2,
    "fitted": 3,
    "residuals": 3,
    "reffects": 3,
    "reses": 4,
    "stdp": 4,
    "rstandard": 3,
    "mu": 2,
    "pr": 2,
    "eta": 3,
    "relevel": 5,
    "outcome": 7,
}


# ------------------------------------------------------------------ estimation
def cmd_regress(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, {"vce": 3, "robust": 1, "cluster": 2})
    if len(args.words) < 1:
        raise CommandError("regress: give the dependent variable and the regressors")
    names = expand_varlist(args.words, frame)
    cluster, robust = _vce(args, frame)
    sample = frame if args.if_ is None else frame[args.if_.evaluate(frame)]
    result = fit_ols(sample, names[0], names[1:], cluster, robust)
    _activate(session, result, text, line)
    return ""


def _vce(args, frame) -> tuple[str | None, bool]:
    cluster = args.option_text("cluster")
    vce = args.option_text("vce")
    robust = args.has("robust")
    if vce is not None:
        words = vce.split()
        if words and "cluster".startswith(words[0]) and len(words[0]) >= 2 and len(words) == 2:
            cluster = words[1]
        elif words and "robust".startswith(words[0]) and len(words) == 1:
            robust = True
        elif words != ["ols"]:
            raise CommandError(f"vce({vce}) not supported: use vce(cluster var) or vce(robust)")
    if cluster is not None:
        cluster = expand_varlist([cluster], frame)[0]
    return cluster, robust


def cmd_model(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    if not _has_bayes_prefix(text):
        _activate(session, fit_command(text, frame, None), text, line)
        return ""
    try:
        with warnings.catch_warnings():
            # the same messages come back from result.check() and go into the report
            warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"bayesmixed\.")
            result = fit_command(text, frame, session)
    except NotSupportedError as err:
        if session.strict:
            raise
        _unavailable(session, text, line, str(err))
        return ""
    notes = result.check() if kind_of(result) is ResultKind.BAYES else []
    _activate(session, result, text, line, bayes=True, notes=notes)
    if session.progress is not None:
        for note in notes:
            session.progress(f"  warning: {note}")
    return ""


def _has_bayes_prefix(text: str) -> bool:
    return text.split(None, 1)[0].rstrip(",:") == "bayes"


def fit_command(text: str, frame: pd.DataFrame, session: Session | None) -> object:
    """Fit through the API; a session's ``--draws``/``--chains`` override the prefix.

    ``draws`` sets the tuning steps too: the CLI's one knob for "how long may it run".
    """
    if session is None:
        return api.stata(text, frame)
    options: dict[str, object] = {"progressbar": session.progressbar}
    if session.draws is not None:
        options.update(draws=session.draws, tune=session.draws)
    if session.chains is not None:
        options["chains"] = session.chains
    elif session.default_chains is not None and _has_bayes_prefix(text):
        prefix = text.split(":", 1)[0]
        if "nchains" not in prefix:
            options["chains"] = session.default_chains
    if session.until_converged and _has_bayes_prefix(text):
        options["until_converged"] = True
    if session.seed is not None and _has_bayes_prefix(text):
        options["seed"] = session.seed
    return api.stata(text, frame, **options)


def _unavailable(session: Session, text: str, line: int, reason: str) -> None:
    """Record a ``bayes:`` twin the engine refuses; later uses of ``e()`` fail loudly."""
    session.current = Estimate(None, text, session.data_token, True, unavailable=reason)
    session.log.append(Unavailable(text, reason, line))
    if session.progress is not None:
        session.progress(f"  not available in this version, noted in the report: {reason}")


def _activate(
    session: Session,
    result,
    text: str,
    line: int,
    bayes: bool = False,
    notes: list[str] | None = None,
) -> None:
    est = Estimate(result, text, session.data_token, bayes)
    session.current = est
    session.log.append(ModelEntry(est, str(result), line, notes=notes or []))


# ------------------------------------------------------------------ estimates
def cmd_estimates(session: Session, text: str, line: int) -> str:
    words = text.split(None, 2)
    sub = words[1] if len(words) > 1 else ""
    rest = words[2] if len(words) > 2 else ""
    if sub in ("store", "sto"):
        return _store(session, rest)
    if sub in ("restore", "res"):
        est = session.estimate(_one_name(rest, "estimates restore"))
        session.current = est
        return ""
    if sub in ("table", "tab"):
        args = parse_args(text, 2, {"se": 2, "b": 1})
        names = args.words or ["."]
        return estimates_table([(n, session.estimate(n)) for n in names], args.has("se"))
    raise CommandError(f"estimates {sub}: not supported (use store, restore or table)")


def _one_name(rest: str, what: str) -> str:
    parts = rest.split()
    if len(parts) != 1:
        raise CommandError(f"{what}: give exactly one name")
    return parts[0]


def _store(session: Session, rest: str) -> str:
    name = _one_name(rest, "estimates store")
    if session.current is None:
        session.require_estimate("estimates store")  # raises: nothing to store
    est = session.current  # an unavailable bayes: fit is stored as such, used nowhere
    session.stored[name] = Estimate(
        est.result, est.command, est.data_token, est.bayes, name, est.unavailable
    )
    est.name = name
    return ""


def coef_se(result) -> tuple[pd.Series, pd.Series]:
    """Point estimates and standard errors (posterior mean and sd for Bayesian fits)."""
    if kind_of(result) is ResultKind.BAYES:
        summ = result.summary()
        fixed = summ.xs(result.design.spec.response, level="equation")
        return fixed["mean"], fixed["sd"]
    return result.coef, result.se


def _likelihood_fit(result: object) -> bool:
    """A mixed or me* fit by ML/REML (not ``regress``, not a posterior)."""
    kind = kind_of(result)
    return kind is not None and kind.likelihood


def estimates_table(items: list[tuple[str, Estimate]], se: bool) -> str:
    """Coefficients side by side, as ``estimates table a b [, se]``."""
    columns = [(name, *coef_se(est.result)) for name, est in items]
    names = list(dict.fromkeys(n for _, coef, _ in columns for n in coef.index))
    width = 13 + 13 * len(columns)
    lines = ["-" * width, f"{'Variable':>12} |" + "".join(f"{n[:12]:>13}" for n, *_ in columns)]
    lines.append("-" * 13 + "+" + "-" * (width - 14))
    for var in names:
        lines.append(f"{var[:12]:>12} |" + "".join(_cell(c, var) for _, c, _ in columns))
        if se:
            lines.append(f"{'':>12} |" + "".join(_cell(s, var) for _, _, s in columns))
    lines.append("-" * width)
    if se:
        lines.append(f"{'Legend: b/se (Bayesian fits: posterior mean/sd)':>{width}}")
    return "\n".join(lines)


def _cell(values: pd.Series, var: str) -> str:
    if var not in values.index:
        return f"{'':>13}"
    return f"{fmt_g(float(values[var])):>13}"


# ------------------------------------------------------------------ tests and estat
def cmd_lrtest(session: Session, text: str, line: int) -> str:
    from ..postestimation.lrtest import lrtest

    args = parse_args(text, 1, {})
    names = args.words + ["."] * (2 - len(args.words))
    if len(names) != 2:
        raise CommandError("lrtest: give one or two stored estimation names")
    a, b = (session.estimate(n) for n in names)
    for est in (a, b):
        if est.bayes or not _likelihood_fit(est.result):
            raise CommandError("lrtest needs two likelihood fits (not regress, not bayes:)")
    labels = tuple(e.name if n == "." else n for n, e in zip(names, (a, b), strict=True))
    return str(lrtest(a.result, b.result, names=labels))


def cmd_estat(session: Session, text: str, line: int) -> str:
    from ..postestimation import estat

    words = text.replace(",", " , ").split()
    if len(words) < 2:
        raise CommandError("estat: say which statistic (ic, group, icc ...)")
    sub = {"gr": "group", "gro": "group", "grou": "group"}.get(words[1], words[1])
    est = session.require_estimate(f"estat {sub}")
    if sub == "ic":
        return estat.format_estat_ic(estat.estat_ic(est.result))
    if sub == "group":
        return estat.format_estat_group(est.result)
    if sub in ("icc", "sd") and est.bayes:  # the posterior, in bayesstats' layout
        from .bayes_post_cmds import estat_after_bayes

        return estat_after_bayes(est.result, sub, words[2:])
    if sub == "icc":
        if kind_of(est.result) is None:  # ML and Bayesian fits alike; not regress
            raise NotSupportedError("estat icc is available after mixed-model fits only")
        return estat.format_estat_icc(est.result.estat_icc())
    if sub == "df":  # small-sample dfs of a mixed (LMM) fit
        from ..postestimation.dfmethod import estat_df_command
        from ..results.mixed import MixedResult

        if not isinstance(est.result, MixedResult):
            raise NotSupportedError("estat df is available after mixed (linear) fits only")
        shown, posted = estat_df_command(est.result, text)
        if posted is not None:  # estat df, post: e() now carries the method's dfs
            session.current = replace(est, result=posted)
        return shown
    if sub == "sd":  # random-effect SDs and correlations with delta-method SEs
        from ..postestimation.estat_sd import format_estat_sd

        if kind_of(est.result) is None or est.bayes:
            raise NotSupportedError("estat sd is available after mixed and me* fits only")
        if len(words) > 2:
            raise CommandError(f"estat sd: options not supported ({' '.join(words[2:])})")
        return format_estat_sd(est.result)
    if sub in ("recovariance", "recov", "wcorrelation", "wcorr"):
        compute = {"recov": "recovariance", "wcorr": "wcorrelation"}.get(sub, sub)
        if kind_of(est.result) is None:
            raise NotSupportedError(f"estat {compute} is available after mixed-model fits only")
        return str(getattr(estat, f"estat_{compute}")(est.result))
    raise NotSupportedError(
        f"estat {sub} is not available yet "
        "(available: ic, group, icc, df, sd, recovariance, wcorrelation)"
    )


# ------------------------------------------------------------------ test, testparm, lincom
LINCOM_EFORM = {"or": "or", "irr": "irr", "eform": "eform", "ef": "eform"}


def _wald_target(session: Session, text: str) -> tuple[object, str, list[str]]:
    """The active likelihood fit, the command's argument text and its option words."""
    word = re.match(r"\s*([A-Za-z]+)", text)
    what = word.group(1) if word else "test"
    est = session.require_estimate(what)
    if est.bayes or not _likelihood_fit(est.result):
        raise CommandError(
            f"{what} needs a likelihood fit (mixed, me*): for bayes: fits read the posterior "
            "summaries"
        )
    body, _, options = text[word.end() if word else 0 :].partition(",")
    return est.result, body.strip(), re.findall(r"\w+(?:\([^)]*\))?", options)


def cmd_test(session: Session, text: str, line: int) -> str:
    from ..postestimation.wald import test

    result, body, options = _wald_target(session, text)
    return str(test(result, body, _small_option("test", options)))


def cmd_testparm(session: Session, text: str, line: int) -> str:
    from ..postestimation.wald import testparm

    result, body, options = _wald_target(session, text)
    return str(testparm(result, body, _small_option("testparm", options)))


def _small_option(what: str, options: list[str]) -> bool | None:
    """``small`` (F with the fit's dfmethod() ddf) is the one option; ``None`` when absent.

    After ``mixed ..., dfmethod()`` (or ``estat df, post``) the F test is the default.
    """
    other = [o for o in options if o != "small"]
    if other:
        raise NotSupportedError(f"{what}: options not supported yet ({', '.join(other)})")
    return True if options else None


def cmd_lincom(session: Session, text: str, line: int) -> str:
    from ..postestimation.wald import lincom

    est = session.require_estimate("lincom")
    if est.bayes:  # the posterior of the combination, draw by draw
        from .bayes_post_cmds import lincom_after_bayes

        return lincom_after_bayes(est.result, text)
    result, body, options = _wald_target(session, text)
    level, eform = None, None
    for opt in options:
        level_match = re.fullmatch(r"l(?:e|ev|eve|evel)?\(\s*([0-9.]+)\s*\)", opt)
        if level_match:
            level = float(level_match.group(1))
        elif opt in LINCOM_EFORM:
            eform = LINCOM_EFORM[opt]
        else:
            raise CommandError(f"lincom: option '{opt}' not allowed (or, irr, eform, level(#))")
    return str(lincom(result, body, level, eform))


# ------------------------------------------------------------------ predict
def _outcome(text: str | None) -> float | str:
    """``outcome(#2)`` (the second category) or ``outcome(3)`` (the value 3)."""
    text = (text or "").strip()
    if text.startswith("#"):
        return text
    try:
        return float(text)
    except ValueError:
        raise CommandError(f"predict: outcome({text}) must be a value or #k") from None


def cmd_predict(session: Session, text: str, line: int) -> str:
    frame = session.require_data()
    args = parse_args(text, 1, PREDICT_KINDS)
    est = session.require_estimate("predict")
    if est.data_token != session.data_token:
        raise CommandError("predict: the active estimates were fitted on another dataset")
    kinds = [k for k in args.options if k not in ("relevel", "outcome")]
    if args.has("relevel"):
        raise NotSupportedError("predict, relevel() is not available yet")
    if len(kinds) > 1:
        raise CommandError(f"predict: options {', '.join(kinds)} may not be combined")
    kind = kinds[0] if kinds else "xb"
    if not args.words:
        raise CommandError("predict: give the name of the new variable")
    for name in args.words:
        if name in frame.columns:
            raise CommandError(f"predict: variable '{name}' already defined")
    outcome = _outcome(args.option_text("outcome")) if args.has("outcome") else None
    columns = predict_columns(est.result, kind, outcome)
    if len(columns) != len(args.words):
        raise CommandError(
            f"predict {kind}: this model gives {len(columns)} variable(s) "
            f"({', '.join(str(c.name) for c in columns)}); you named {len(args.words)}"
        )
    keep = np.ones(len(frame), bool) if args.if_ is None else args.if_.evaluate(frame)
    new = frame.copy()
    for name, col in zip(args.words, columns, strict=True):
        values = col.reindex(new.index).to_numpy(dtype=float)
        new[name] = np.where(keep, values, np.nan)
    session.data = new
    session.data_changed = True
    missing = int(new[args.words[0]].isna().sum())
    return f"({missing} missing values generated)" if missing else ""
