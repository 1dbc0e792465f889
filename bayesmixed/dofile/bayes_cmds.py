"""``bayesstats`` and ``bayestest`` in a do-file, after a ``bayes:`` fit.

``bayesstats summary [items] [, clevel(#) hpd]``, ``bayesstats ess [items]``,
``bayesstats grubin [items]``, ``bayesstats ic [names]`` (the active fit, or stored
``bayes:`` estimates by name) and ``bayestest interval spec`` dispatch to
:mod:`bayesmixed.postestimation.bayesstats` and :mod:`.bayestest`; items are
Stata's parameter names in braces or expressions in parentheses.
``bayestest model names [, prior(numlist)]`` compares stored ``bayes:`` fits by their
marginal likelihoods (:func:`bayesmixed.postestimation.bayestest.model`).
``bayesgraph kind items`` draws :mod:`bayesmixed.plot.bayes_graphs` into the report.
``bayespredict items, saving(name)`` keeps posterior predictive replicates in the
session and ``bayesstats ppvalues items [using name]`` gives their p-values
(:mod:`bayesmixed.postestimation.bayes_ppvalues`; without ``using``, drawn on the spot).
"""

from __future__ import annotations

import re

from ..errors import NotSupportedError
from .bayes_post_cmds import posterior_options
from .errors import CommandError
from .session import Session

# each subcommand's shortest abbreviation
_SUBCOMMANDS = {"summary": 4, "ess": 3, "grubin": 6, "ic": 2, "ppvalues": 3}


def _bayes_estimate(session: Session, what: str, name: str = "."):
    est = session.require_estimate(what) if name == "." else session.estimate(name)
    if not est.bayes:
        raise CommandError(f"{what}: the estimates {name} are not from a bayes: fit")
    return est


def _subcommand(word: str, table: dict[str, int], command: str) -> str:
    for full, minimum in table.items():
        if len(word) >= minimum and full.startswith(word):
            return full
    raise NotSupportedError(f"{command} {word} is not available (available: {', '.join(table)})")


def cmd_bayesstats(session: Session, text: str, line: int) -> str:
    from ..postestimation import bayesstats

    parts = text.split(None, 2)
    if len(parts) < 2:
        raise CommandError("bayesstats: say which statistic (summary, ess, grubin, ic, ppvalues)")
    sub = _subcommand(parts[1].rstrip(","), _SUBCOMMANDS, "bayesstats")
    rest = parts[2] if len(parts) > 2 else ""
    if sub == "ic":
        names = rest.replace(",", " ").split() or ["."]
        results = [_bayes_estimate(session, "bayesstats ic", n).result for n in names]
        return str(bayesstats.ic(results, ["active" if n == "." else n for n in names]))
    if sub == "ppvalues":
        return _ppvalues(session, rest)
    body, _, options = _split_options(rest)
    result = _bayes_estimate(session, f"bayesstats {sub}").result
    spec = body.strip() or None
    if sub == "summary":
        level, hpd = posterior_options(options, "bayesstats summary")
        return str(bayesstats.summary(result, spec, level, hpd))
    if options.strip():
        raise CommandError(f"bayesstats {sub}: option(s) not allowed: {options.strip()}")
    return str(getattr(bayesstats, sub)(result, spec))


_USING = re.compile(r"^(.*?)\s+using\s+(\S+)\s*$", re.S)
_RSEED = re.compile(r"^\s*rseed\(\s*(\d+)\s*\)\s*$")


def _ppvalues(session: Session, text: str) -> str:
    """``bayesstats ppvalues items [using name] [, rseed(#)]``."""
    from ..postestimation.bayes_ppvalues import ppvalues

    body, _, options = _split_options(text)
    result = _bayes_estimate(session, "bayesstats ppvalues").result
    seed = _seed(session, options, "bayesstats ppvalues")
    match = _USING.match(" " + body.strip())
    if match is None:
        return str(ppvalues(result, body, seed=seed))
    name = match.group(2)
    if name not in session.predictions:
        known = ", ".join(session.predictions) or "none"
        raise CommandError(
            f"bayesstats ppvalues: no predictions saved as '{name}' (saved: {known}); "
            f"run bayespredict ..., saving({name}) first, or omit 'using' to draw them here"
        )
    return str(ppvalues(result, match.group(1), using=session.predictions[name]))


def _seed(session: Session, options: str, what: str) -> int:
    if not options.strip():
        return session.seed or 0
    match = _RSEED.match(options)
    if match is None:
        raise CommandError(f"{what}: option(s) not allowed: {options.strip()} (rseed(#))")
    return int(match.group(1))


_SAVING = re.compile(r"saving\(\s*([A-Za-z_][\w.]*)\s*(?:,\s*replace\s*)?\)")


def cmd_bayespredict(session: Session, text: str, line: int) -> str:
    """``bayespredict {_ysim} (label:@func({_ysim})) ..., saving(name[, replace]) [rseed(#)]``.

    The replicates stay in the session under ``name`` (no file is written), for
    ``bayesstats ppvalues ... using name``.
    """
    from ..postestimation.bayes_ppvalues import predictions

    rest = text.split(None, 1)[1] if len(text.split(None, 1)) > 1 else ""
    body, _, options = _split_options(rest)
    saving = _SAVING.search(options)
    if saving is None:
        raise CommandError(
            "bayespredict: give saving(name); for posterior means of predictions use "
            "predict after bayes:"
        )
    name = saving.group(1).removesuffix(".dta")
    if name in session.predictions and "replace" not in saving.group(0):
        raise CommandError(f"bayespredict: predictions '{name}' already saved; add replace")
    seed = _seed(session, _SAVING.sub("", options).replace(",", " "), "bayespredict")
    result = _bayes_estimate(session, "bayespredict").result
    pred = predictions(result, body, seed=seed)
    session.predictions[name] = pred
    n_chain, n_draw, n_obs = pred.ysim.shape
    return (
        f"(predictions of {n_obs:,} observations from {n_chain * n_draw:,} posterior draws "
        f"kept in this session as '{name}'; no file is written)\n"
    )


def _split_options(text: str) -> tuple[str, str, str]:
    """The items before the first comma outside braces and parentheses, and the options."""
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            return text[:i], ",", text[i + 1 :]
    return text, "", ""


_TITLE = re.compile(r"\bti(?:t|tl|tle)?\(\s*\"?([^\")]*)\"?\s*\)")


def cmd_bayesgraph(session: Session, text: str, line: int) -> str:
    """``bayesgraph kind {param} ... | _all [, title("...")]``: a figure in the report."""
    from ..plot.bayes_graphs import bayesgraph, kind_name
    from ..plot.twoway import to_png
    from .session import Figure

    parts = text.split(None, 2)
    if len(parts) < 2:
        raise CommandError("bayesgraph: say which graph (diagnostics, trace, ac, histogram, ...)")
    kind = kind_name(parts[1].rstrip(","))
    body, _, options = _split_options(parts[2] if len(parts) > 2 else "")
    match = _TITLE.search(options)
    if _TITLE.sub("", options).strip():
        raise CommandError(f"bayesgraph: option(s) not allowed: {_TITLE.sub('', options).strip()}")
    if not body.strip():
        raise CommandError("bayesgraph: name the parameters ({math5:math3} ...) or _all")
    result = _bayes_estimate(session, f"bayesgraph {kind}").result
    title = match.group(1).strip() if match else ""
    fig = bayesgraph(result, kind, body.strip(), title)
    name = session.new_figure_name(f"bayesgraph_{kind}")
    session.log.append(Figure(text, name, to_png(fig), title or text))
    return ""


def cmd_bayestest(session: Session, text: str, line: int) -> str:
    from ..postestimation.bayestest import interval, parse_interval

    parts = text.split(None, 2)
    if len(parts) < 2:
        raise CommandError("bayestest: say which test (interval, model)")
    sub = _subcommand(parts[1].rstrip(","), {"interval": 3, "model": 5}, "bayestest")
    rest = parts[2] if len(parts) > 2 else ""
    if sub == "model":
        return _bayestest_model(session, rest)
    result = _bayes_estimate(session, "bayestest interval").result
    specs, joint, inclusive = parse_interval(rest)
    return str(interval(result, specs, joint, inclusive))


_PRIOR = re.compile(r"^\s*prior\(\s*([^)]*)\)\s*$")


def _bayestest_model(session: Session, text: str) -> str:
    """``bayestest model [names] [, prior(numlist)]``: ``all``/``*`` are every stored
    ``bayes:`` estimate, ``.`` the active one, no names the active one alone."""
    from ..postestimation.bayestest import model

    body, _, options = _split_options(text)
    names = body.split() or ["."]
    if names in (["all"], ["*"]):
        names = [n for n, est in session.stored.items() if est.bayes]
    prior = None
    if options.strip():
        match = _PRIOR.match(options)
        if match is None:
            raise CommandError(f"bayestest model: option(s) not allowed: {options.strip()}")
        try:
            prior = [float(v) for v in match.group(1).replace(",", " ").split()]
        except ValueError:
            raise CommandError("bayestest model: prior() takes numbers") from None
    results = [_bayes_estimate(session, "bayestest model", n).result for n in names]
    labels = ["active" if n == "." else n for n in names]
    return str(model(results, labels, prior, session.seed or 0))
