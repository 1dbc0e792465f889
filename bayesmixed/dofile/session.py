"""The state a do-file runs against, as Stata keeps it.

One current dataset, the active estimates (``e()``) and the stored ones, and a log of
what each command printed or drew.  The log is data: the report renders it after
the whole run succeeded, which is how a failed run leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..report.records import (
    Entry,
    Estimate,
    Figure,
    Heading,
    ModelEntry,
    Output,
    Unavailable,
)
from .errors import CommandError

__all__ = [
    "Entry",
    "Estimate",
    "Figure",
    "Heading",
    "ModelEntry",
    "Output",
    "Session",
    "Unavailable",
]


@dataclass
class Session:
    """Current data, estimates and output of a run.

    ``draws`` and ``chains`` override the MCMC settings of every ``bayes:`` command
    (the CLI's ``--draws``/``--chains``); ``progressbar`` turns the sampler's bar on or
    off; ``until_converged`` adds chains to a ``bayes:`` fit until R-hat and ESS meet
    their targets; ``progress`` receives one line per command.  With ``strict``, a ``bayes:`` model
    the engine does not support stops the run; otherwise it becomes an
    :class:`Unavailable` note in the log and the run goes on.
    """

    base_dir: Path = field(default_factory=Path.cwd)
    draws: int | None = None
    chains: int | None = None
    default_chains: int | None = None  # a bayes: prefix without nchains() (the CLI's 2)
    until_converged: bool = False
    progressbar: bool = False
    strict: bool = False
    progress: Callable[[str], None] | None = None
    data: pd.DataFrame | None = None
    data_name: str = ""
    data_token: int = 0
    data_changed: bool = False
    sortvars: list[str] = field(default_factory=list)
    current: Estimate | None = None
    stored: dict[str, Estimate] = field(default_factory=dict)
    log: list[Entry] = field(default_factory=list)
    depth: int = 0
    figure_count: int = 0
    sinks: list = field(default_factory=list)  # where the Stata-style log is written
    log_file: object = None  # the file of ``log using`` (also in ``sinks``)
    quiet: int = 0  # > 0 inside ``quietly``/``capture``: nothing is printed or logged
    block_depth: int = 0  # > 0 inside a loop or braces block: commands are not echoed
    loop_depth: int = 0  # > 0 inside foreach/forvalues (where ``continue`` may stand)
    locals: dict[str, str] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)
    rc: int = 0  # ``_rc`` after ``capture``
    seed: int | None = None  # ``set seed``: passed to every ``bayes:`` fit
    preserved: tuple | None = None  # ``preserve``: (data, name, token, sortvars, changed)
    var_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    value_label_of: dict[str, str] = field(default_factory=dict)
    panel: tuple[str, str | None] | None = None  # ``xtset panelvar [timevar]``
    results: dict[str, float] = field(default_factory=dict)  # ``r()`` of the last command
    margins: object = None  # the last ``margins`` result, which ``marginsplot`` draws
    predictions: dict = field(default_factory=dict)  # ``bayespredict ..., saving(name)``

    def require_data(self) -> pd.DataFrame:
        if self.data is None:
            raise CommandError("no dataset in use: start with 'use NAME, clear'")
        return self.data

    def require_estimate(self, what: str) -> Estimate:
        if self.current is None:
            raise CommandError(f"{what}: last estimates not found (fit a model first)")
        return usable(self.current, what)

    def estimate(self, name: str) -> Estimate:
        """A stored estimate by name; ``.`` is the active one."""
        if name == ".":
            return self.require_estimate("estimates")
        if name not in self.stored:
            known = ", ".join(self.stored) or "none stored yet"
            raise CommandError(f"estimation result '{name}' not found (stored: {known})")
        return usable(self.stored[name], f"estimates {name}")

    def say(self, command: str, text: str, line: int = 0) -> None:
        self.log.append(Output(command, text, line))

    def write(self, text: str) -> None:
        """Append ``text`` to the Stata-style log (stdout, ``--log``, ``log using``)."""
        for sink in self.sinks:
            sink.write(text)
            sink.flush()

    def set_data(self, frame: pd.DataFrame, name: str | None = None) -> None:
        """Replace the current dataset by a changed version of it."""
        self.data = frame
        if name is not None:
            self.data_name = name
        self.data_changed = True

    def new_figure_name(self, stem: str) -> str:
        self.figure_count += 1
        return f"fig{self.figure_count:02d}_{stem}.png"


def usable(est: Estimate, what: str) -> Estimate:
    """``est``, unless it stands for a ``bayes:`` fit that could not be made."""
    if est.unavailable:
        raise CommandError(
            f"{what}: the estimates come from '{est.command}', which this version cannot "
            f"fit ({est.unavailable})"
        )
    return est
