"""Command name -> handler, with Stata's minimal abbreviations.

Each handler takes ``(session, text, line)`` and returns the text Stata would print
(possibly empty).  ``do`` is handled by the runner, which owns files and line numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from . import (
    bayes_cmds,
    data_cmds,
    data_more,
    graph_cmds,
    macros,
    margins_cmds,
    model_cmds,
)
from .errors import CommandError
from .session import ModelEntry, Output, Session, Unavailable

Handler = Callable[[Session, str, int], str]


def _data(fn) -> Handler:
    return lambda session, text, line: fn(session, text)


def _replace(session: Session, text: str, line: int) -> str:
    return data_cmds.cmd_generate(session, text, replace=True)


def _clear(session: Session, text: str, line: int) -> str:
    if text.split()[1:] not in ([], ["all"], ["*"]):
        raise CommandError("clear: 'clear' or 'clear all'")
    if text.split()[1:]:
        session.current, session.stored = None, {}
    session.data, session.data_name, session.sortvars = None, "", []
    session.data_token += 1
    return ""


# (full name, shortest abbreviation, handler)
TABLE: list[tuple[str, int, Handler]] = [
    ("use", 3, _data(data_cmds.cmd_use)),
    ("describe", 1, _data(data_cmds.cmd_describe)),
    ("codebook", 8, _data(data_cmds.cmd_codebook)),
    ("summarize", 2, _data(data_cmds.cmd_summarize)),
    ("count", 3, _data(data_cmds.cmd_count)),
    ("sort", 4, _data(data_cmds.cmd_sort)),
    ("generate", 1, _data(data_cmds.cmd_generate)),
    ("replace", 7, _replace),
    ("clear", 5, _clear),
    ("import", 3, data_more.cmd_import),
    ("save", 4, data_more.cmd_save),
    ("export", 6, data_more.cmd_export),
    ("log", 3, data_more.cmd_log),
    ("keep", 4, data_more.cmd_keep),
    ("drop", 4, data_more.cmd_drop),
    ("rename", 3, data_more.cmd_rename),
    ("egen", 4, data_more.cmd_egen),
    ("preserve", 8, data_more.cmd_preserve),
    ("restore", 7, data_more.cmd_restore),
    ("label", 2, data_more.cmd_label),
    ("xtset", 5, data_more.cmd_xtset),
    ("list", 1, data_more.cmd_list),
    ("tabulate", 2, data_more.cmd_tabulate),
    ("set", 3, data_more.cmd_set),
    ("version", 4, data_more.cmd_version),
    ("macro", 5, data_more.cmd_macro),
    ("local", 3, macros.cmd_local),
    ("global", 2, macros.cmd_global),
    ("display", 2, macros.cmd_display),
    ("regress", 3, model_cmds.cmd_regress),
    ("estimates", 3, model_cmds.cmd_estimates),
    ("lrtest", 6, model_cmds.cmd_lrtest),
    ("estat", 5, model_cmds.cmd_estat),
    ("test", 2, model_cmds.cmd_test),
    ("testparm", 8, model_cmds.cmd_testparm),
    ("lincom", 6, model_cmds.cmd_lincom),
    ("bayesstats", 10, bayes_cmds.cmd_bayesstats),
    ("bayestest", 9, bayes_cmds.cmd_bayestest),
    ("bayesgraph", 7, bayes_cmds.cmd_bayesgraph),
    ("bayespredict", 12, bayes_cmds.cmd_bayespredict),
    ("predict", 7, model_cmds.cmd_predict),
    ("margins", 7, margins_cmds.cmd_margins),
    ("marginsplot", 11, margins_cmds.cmd_marginsplot),
    ("contrast", 8, margins_cmds.cmd_contrast),
    ("pwcompare", 9, margins_cmds.cmd_pwcompare),
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
    raise CommandError(
        f"command '{word}' is not supported by the do-file runner; supported: "
        f"{', '.join(supported())}"
    )


def supported() -> list[str]:
    """Every command and prefix a do-file may use, for the error message."""
    names = [full for full, _, _ in TABLE]
    names += ["do", "run", "by", "bysort", "quietly", "noisily", "capture", "exit"]
    names += ["foreach", "forvalues", "if", "else", "continue"]
    return sorted(dict.fromkeys(names))


def execute(session: Session, text: str, line: int) -> None:
    """Run one command, log what it printed (unless quiet) and write it to the log sinks."""
    words = text.split(None, 1)
    if by_prefix(text):
        from .data_more import run_by

        before = len(session.log)
        printed = run_by(session, text, line, find_handler)
    else:
        before = len(session.log)
        printed = find_handler(words[0])(session, text, line)
    if session.quiet:
        for entry in session.log[before:]:
            if isinstance(entry, ModelEntry):
                entry.quiet = True
        kept = (ModelEntry, Unavailable)  # a missing Bayesian twin is news even when quiet
        session.log[before:] = [e for e in session.log[before:] if isinstance(e, kept)]
        return
    session.say(text, printed, line)
    # the echo belongs before what the command itself logged (a model, a figure)
    session.log.insert(before, session.log.pop())
    _write_output(session, session.log[before:])


def by_prefix(text: str) -> bool:
    word = text.split(None, 1)[0]
    head = text.split(":", 1)[0]
    return (
        ":" in text
        and (word in ("by", "bys", "byso", "bysor", "bysort") or word.startswith(("by,", "bys,")))
        and "||" not in head
    )


def _write_output(session: Session, entries: list) -> None:
    """What the command printed, as the log shows it below the echoed command."""
    parts: list[str] = []
    for entry in entries:
        if isinstance(entry, Output) and entry.text:
            parts.append(entry.text)
        elif isinstance(entry, ModelEntry):
            parts.append(entry.text)
            parts += [f"warning: {note}" for note in entry.notes]
        elif isinstance(entry, Unavailable):
            parts.append(f"note: not available in this version: {entry.reason}")
    text = "\n".join(p.rstrip("\n") for p in parts)
    if text:
        session.write(text + "\n")
