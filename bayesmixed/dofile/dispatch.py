"""Command name -> handler, with Stata's minimal abbreviations.

Each handler takes ``(session, text, line)`` and returns the text Stata would print
(possibly empty).  ``do`` is handled by the runner, which owns files and line numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from . import data_cmds, graph_cmds, model_cmds
from .errors import CommandError
from .session import ModelEntry, Session, Unavailable

Handler = Callable[[Session, str, int], str]


def _data(fn) -> Handler:
    return lambda session, text, line: fn(session, text)


def _replace(session: Session, text: str, line: int) -> str:
    return data_cmds.cmd_generate(session, text, replace=True)


def _clear(session: Session, text: str, line: int) -> str:
    if text.split() != ["clear"]:
        raise CommandError("clear takes no arguments here")
    session.data, session.data_name, session.sortvars = None, "", []
    session.data_token += 1
    return ""


# (full name, shortest abbreviation, handler)
TABLE: list[tuple[str, int, Handler]] = [
    ("use", 3, _data(data_cmds.cmd_use)),
    ("describe", 1, _data(data_cmds.cmd_describe)),
    ("codebook", 8, _data(data_cmds.cmd_codebook)),
    ("summarize", 2, _data(data_cmds.cmd_summarize)),
    ("sort", 4, _data(data_cmds.cmd_sort)),
    ("generate", 1, _data(data_cmds.cmd_generate)),
    ("replace", 7, _replace),
    ("clear", 5, _clear),
    ("regress", 3, model_cmds.cmd_regress),
    ("estimates", 3, model_cmds.cmd_estimates),
    ("lrtest", 6, model_cmds.cmd_lrtest),
    ("estat", 5, model_cmds.cmd_estat),
    ("predict", 7, model_cmds.cmd_predict),
    ("graph", 2, graph_cmds.cmd_graph),
    ("twoway", 2, graph_cmds.cmd_graph),
    ("scatter", 2, graph_cmds.cmd_graph),
    ("line", 4, graph_cmds.cmd_graph),
    ("bayes", 5, model_cmds.cmd_model),
    *[(name, len(name), model_cmds.cmd_model) for name in model_cmds.MODEL_COMMANDS],
]


def find_handler(word: str) -> Handler:
    """The handler of a command word (``bayes,`` and ``bayes:`` count as ``bayes``)."""
    word = word.rstrip(",:")
    for full, minimum, handler in TABLE:
        if len(word) >= minimum and full.startswith(word):
            return handler
    raise CommandError(f"command '{word}' is not supported by the do-file runner")


def execute(session: Session, text: str, line: int) -> None:
    """Run one command; ``quietly`` runs it and keeps its output out of the log."""
    words = text.split(None, 1)
    quiet = words[0] in ("quietly", "qui", "quiet", "quietl")
    if quiet:
        if len(words) < 2:
            raise CommandError("quietly: which command?")
        text = words[1].lstrip(":").strip()
    before = len(session.log)
    printed = find_handler(text.split(None, 1)[0])(session, text, line)
    if quiet:
        for entry in session.log[before:]:
            if isinstance(entry, ModelEntry):
                entry.quiet = True
        kept = (ModelEntry, Unavailable)  # a missing Bayesian twin is news even when quiet
        session.log[before:] = [e for e in session.log[before:] if isinstance(e, kept)]
    else:
        session.say(text, printed, line)
        # the echo belongs before what the command itself logged (a model, a figure)
        session.log.insert(before, session.log.pop())
