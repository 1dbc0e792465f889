"""``margins``, ``marginsplot``, ``contrast`` and ``pwcompare`` in a do-file.

Each runs on the active estimates and the data in memory, as Stata's do:
the estimation-sample rows of the current dataset are the ones the model was
fitted on (the dataset must be the one the estimates came from, as for
``predict``).  ``margins ... if ... in ...`` averages over the estimation-sample
rows the qualifiers keep, read on the data in memory.  ``marginsplot`` draws the
last ``margins`` into the report, like a ``graph`` command.
"""

from __future__ import annotations

import re

from ..errors import NotSupportedError
from ..plot.marginsplot import marginsplot
from ..plot.twoway import to_png
from ..postestimation.margins_spec import split_options
from ..results.base import ResultKind, kind_of
from .errors import CommandError
from .session import Figure, Session

PLOT_OPTIONS = (
    "title", "subtitle", "ytitle", "xtitle", "legend", "noci", "recast", "ciopts", "plotopts",
    "xlabel", "ylabel", "name", "scheme", "note", "xdimension", "plotdimension", "by",
)  # fmt: skip


def after_command(text: str) -> str:
    """The text after the command word (``margins, at(...)`` -> ``, at(...)``)."""
    word = re.match(r"\s*[^\s,]+", text)
    return text[word.end() :].strip() if word else ""


def _target(session: Session, text: str, what: str, bayes: bool = False):
    """The active fit, the current data, and the text after the command word.

    A likelihood fit, or with ``bayes`` a ``bayes:`` fit too (``margins`` summarises
    the posterior of each margin; ``contrast`` and ``pwcompare`` are Wald tests).
    """
    frame = session.require_data()
    est = session.require_estimate(what)
    kind = kind_of(est.result)
    if kind is None or (not bayes and (est.bayes or not kind.likelihood)):
        raise CommandError(
            f"{what} needs a likelihood fit (mixed, me*): for bayes: fits summarize the "
            "posterior of the predictions"
        )
    if est.data_token != session.data_token:
        raise CommandError(f"{what}: the active estimates were fitted on another dataset")
    body = after_command(text)
    head = body.partition(",")[0]
    if what != "margins" and re.search(r"(?:^|\s)(?:if|in)\s", f" {head} "):
        raise NotSupportedError(
            f"{what}: if and in are not supported yet (margins ... if ... averages over "
            "a subsample)"
        )
    return est.result, frame, body


def cmd_margins(session: Session, text: str, line: int) -> str:
    result, frame, body = _target(session, text, "margins", bayes=True)
    out = result.margins(body, data=frame)
    # marginsplot draws delta-method margins; after bayes: it says so (None: no margins)
    session.margins = None if kind_of(result) is ResultKind.BAYES else out
    return str(out)


def cmd_contrast(session: Session, text: str, line: int) -> str:
    result, frame, body = _target(session, text, "contrast")
    return str(result.contrast(body, data=frame))


def cmd_pwcompare(session: Session, text: str, line: int) -> str:
    result, frame, body = _target(session, text, "pwcompare")
    return str(result.pwcompare(body, data=frame))


def cmd_marginsplot(session: Session, text: str, line: int) -> str:
    if session.margins is None:
        raise CommandError("marginsplot: previous command was not margins (run margins first)")
    body = after_command(text)
    words, options = split_options(body if body.strip().startswith(",") else "," + body)
    title = ""
    for name, arg in options:
        if not any(full.startswith(name) and len(name) >= 2 for full in PLOT_OPTIONS):
            raise CommandError(f"marginsplot: option {name} not allowed")
        if "title".startswith(name) and name.startswith("ti"):
            title = (arg or "").split(",")[0].strip().strip('"')
    if words:
        raise CommandError(f"marginsplot: unexpected '{words}'")
    fig = marginsplot(session.margins, title=title)
    name = session.new_figure_name("marginsplot")
    session.log.append(Figure(text, name, to_png(fig), title or fig.get_suptitle()))
    return ""
