"""Run a do-file: every command in order, stop at the first failure, report at the end.

Nothing is written until the whole run succeeded; the report folder is then built in a
temporary sibling folder and renamed into place (see :mod:`bayesmixed.report`), so a
failed run leaves the previous report, or none, never half of a new one.  The report
folder is checked before the first command runs (:func:`bayesmixed.report.check_destination`)
and Ctrl-C passes through untouched, so an interrupted run writes nothing either.  A
do-file's encoding is detected as Stata users' files need (:mod:`.source`).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ..errors import BayesmixedError
from ..validate import optional_whole_number
from .control import ExitDo, build_tree, return_code, run_items, run_prefixed
from .data_more import restore_preserved
from .dispatch import execute
from .errors import CommandError, DoFileError
from .lexer import split_commands
from .session import ModelEntry, Session, Unavailable
from .source import read_source

MAX_DEPTH = 10


def run_do(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    draws: int | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    chains: int | None = None,
    default_chains: int | None = None,
    progressbar: bool | None = None,
    strict: bool = False,
    until_converged: bool = False,
    log: list[TextIO] | None = None,
) -> Session:
    """Run the do-file at ``path``; with ``out``, write the HTML report folder there.

    Parameters
    ----------
    draws : MCMC draws (and tuning steps) of every ``bayes:`` model, overriding the
        do-file's ``mcmcsize()``/``burnin()``; ``None`` keeps them.
    progress : called with one line per command as it starts (the CLI prints them).
    chains : MCMC chains of every ``bayes:`` model, overriding ``nchains()``.
    default_chains : chains of a ``bayes:`` model whose prefix has no ``nchains()``
        (``None``: the engine's default, 4); both CLI commands pass the same value.
    progressbar : the sampler's progress bar; ``None`` shows it only on a terminal
        (a bar redrawn into a log file or CI output is just noise).
    strict : stop at a ``bayes:`` model the engine does not support.  By default the
        run goes on and the report shows, where that fit would be, that this Bayesian
        twin is not available in this version -- nothing is drawn in its place, and a
        later command that needs those estimates (``predict``, ``estimates table`` ...)
        stops the run with the reason.  Unknown commands, syntax errors and unknown
        variables always stop the run.
    log : text streams (``sys.stdout``, an open file) that receive the log as ``stata -b``
        writes it: each command echoed as ``. command``, then its output.
    until_converged : add chains to each ``bayes:`` fit while R-hat > 1.01 or bulk ESS
        < 400 (:mod:`bayesmixed.engines.bayes.extend`); the workshop asks for it.

    Returns
    -------
    Session
        The final state: current data, active and stored estimates, and the log the
        report was built from.

    Raises
    ------
    DoFileError
        The first command that failed, with its file, line number and reason.
    """
    from ..report import check_destination, write_report

    path = Path(path)
    draws = optional_whole_number(draws, "draws")
    chains = optional_whole_number(chains, "chains")
    if out is not None:
        check_destination(Path(out))
    if progressbar is None:
        progressbar = sys.stderr.isatty()
    tracker = None if progress is None else BayesProgress(progress, count_bayes(path))
    session = Session(
        base_dir=path.parent,
        draws=draws,
        chains=chains,
        default_chains=optional_whole_number(default_chains, "default_chains"),
        until_converged=until_converged,
        progressbar=progressbar,
        strict=strict,
        progress=tracker,
    )
    session.sinks = list(log or [])
    start = time.perf_counter()
    try:
        run_file(session, path)
    except DoFileError as err:
        code = return_code(err.__cause__ or err)
        session.write(f"{err.reason}\nr({code});\n\nend of do-file\n")
        raise
    finally:
        _close_log(session)
        if tracker is not None:
            tracker.finish()
    session.write("\nend of do-file\n")
    if out is not None:
        if progress is not None:
            progress(f"writing the report to {out}")
        meta = _run_facts(session, time.perf_counter() - start)
        title = f"bayesmixed: {path.name}"
        write_report(session.log, Path(out), title=title, facts=meta, progress=progress)
    return session


_BAYES = re.compile(r"^(?:(?:qui(?:etly)?|cap(?:ture)?|noi(?:sily)?)\s*:?\s+)*bayes\b")


def _is_bayes(text: str) -> bool:
    """A ``bayes:`` command, behind any quietly/capture/noisily prefixes."""
    return bool(_BAYES.match(text.strip()))


def count_bayes(path: Path) -> int:
    """The ``bayes:`` commands written in the do-file (0 if it cannot be read here: the
    run itself then reports why)."""
    try:
        return sum(_is_bayes(c.text) for c in split_commands(read_source(path)))
    except (BayesmixedError, OSError):
        return 0


class BayesProgress:
    """The per-command progress callback, plus one line per ``bayes:`` model.

    Each ``bayes:`` model (by far the slowest commands) gets a line with its number out of
    those written in the do-file and an estimate of the time left for the Bayesian models:
    the mean time of those finished so far times the number still to run, counting this
    one.  A model's time runs from its progress line to the next command's.
    """

    def __init__(self, sink: Callable[[str], None], total: int):
        self.sink, self.total = sink, total
        self.durations: list[float] = []
        self.started: float | None = None

    def __call__(self, line: str) -> None:
        now = time.perf_counter()
        self.finish(now)
        self.sink(line)
        text = line.split(": ", 1)[1] if ": " in line else line
        if _is_bayes(text):
            self.started = now
            self.sink(self._status(len(self.durations) + 1))

    def _status(self, index: int) -> str:
        of = f" of {self.total}" if index <= self.total else ""
        head = f"  bayes: model {index}{of}"
        if not self.durations:
            return f"{head}; time left estimated after the first model"
        left = max(self.total - index + 1, 1)
        mean = sum(self.durations) / len(self.durations)
        return (
            f"{head}; {len(self.durations)} done in {sum(self.durations):.0f} s, "
            f"about {_duration(mean * left)} left for the Bayesian models"
        )

    def finish(self, now: float | None = None) -> None:
        """Close the running ``bayes:`` model's clock (at the next command or the end)."""
        if self.started is not None:
            self.durations.append((now or time.perf_counter()) - self.started)
            self.started = None


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _run_facts(session: Session, seconds: float) -> list[str]:
    """What a reader of the report needs to know about how it was made."""
    fits = [e for e in session.log if isinstance(e, ModelEntry)]
    n_bayes = sum(e.estimate.bayes for e in fits)
    n_missing = sum(isinstance(e, Unavailable) for e in session.log)
    facts = [f"{len(fits) - n_bayes} frequentist fits, {n_bayes} Bayesian fits."]
    if n_missing:
        facts[0] += (
            f" {n_missing} Bayesian twin(s) not available in this version of bayesmixed "
            "(marked where they would be)."
        )
    if n_bayes:
        draws = session.draws and f"{session.draws} tuning steps and {session.draws} draws each"
        chains = session.chains and f"{session.chains} chain{'s' * (session.chains != 1)}"
        given = ", ".join(x for x in (chains, draws) if x) or "the do-file's MCMC settings"
        facts.append(f"MCMC (NUTS) for each Bayesian model: {given}.")
    facts.append(
        f"Run in {seconds:.0f} s on {os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d %H:%M')}."
    )
    return facts


def run_file(session: Session, path: Path) -> None:
    """Execute ``path`` within ``session`` (``do`` inside a do-file lands here too)."""
    if not path.is_file():
        raise BayesmixedError(f"do-file not found: {path}")
    try:
        commands = split_commands(read_source(path))
    except BayesmixedError as err:
        line, reason = _line_of(err)
        raise DoFileError(str(path), line, "(reading the file)", reason) from err
    items = build_tree(commands, str(path))
    saved, preserved = session.block_depth, session.preserved
    session.block_depth = 0  # a called do-file's commands are echoed, as Stata does
    try:
        run_items(session, path, items, _run_one)
    except ExitDo:
        pass
    finally:
        session.block_depth = saved
    if session.preserved is not None and session.preserved is not preserved:
        # Stata restores data this do-file preserved and left unrestored when it ends
        restore_preserved(session)
        session.preserved = preserved


def _line_of(err: BayesmixedError) -> tuple[int, str]:
    """The line a lexer message starts with (``line 3: ...``), and the message without it."""
    text = str(err)
    if text.startswith("line ") and ":" in text:
        head = text[5 : text.index(":")]
        if head.isdigit():
            return int(head), text[text.index(":") + 1 :].strip()
    return 0, text


def _run_one(session: Session, path: Path, text: str, line: int) -> None:
    if run_prefixed(session, text, line, lambda rest: _run_one(session, path, rest, line)):
        return
    word = text.split(None, 1)[0]
    if word in ("do", "run"):
        target = _do_target(path, text)
        if session.depth >= MAX_DEPTH:
            raise CommandError(
                f"do: nesting deeper than {MAX_DEPTH} files (a do-file calls itself?)"
            )
        session.depth += 1
        try:
            run_file(session, target)
        finally:
            session.depth -= 1
        return
    execute(session, text, line)


def _do_target(path: Path, text: str) -> Path:
    parts = text.split(None, 1)
    if len(parts) != 2:
        raise CommandError("do: give the do-file to run")
    name = parts[1].strip().strip('"')
    target = Path(name)
    if not target.suffix:
        target = target.with_suffix(".do")
    return target if target.is_absolute() else path.parent / target


def _close_log(session: Session) -> None:
    """Close a ``log using`` file the do-file left open (Stata closes it at the end too)."""
    if session.log_file is not None:
        session.sinks.remove(session.log_file)
        session.log_file.close()
        session.log_file = None
