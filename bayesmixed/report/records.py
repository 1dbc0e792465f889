"""The records of a do-file run that the report renders: models, output, figures.

They live here, below :mod:`bayesmixed.dofile`, so that the report reads a run's
log without importing the runner, and the runner writes its report by importing
this package downward (the stage order of ``tests/test_architecture.py``).
:mod:`bayesmixed.dofile.session` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Estimate:
    """A fitted model with what Stata keeps beside it in ``e()``."""

    result: object
    command: str  # the command line as written
    data_token: int  # which ``use`` the data came from (predict checks it)
    bayes: bool = False
    name: str = "."
    unavailable: str = ""  # why a ``bayes:`` fit could not be made (then ``result`` is None)


@dataclass
class Heading:
    title: str


@dataclass
class Output:
    command: str
    text: str
    line: int = 0


@dataclass
class Figure:
    command: str
    name: str
    png: bytes
    caption: str = ""


@dataclass
class ModelEntry:
    """A fitted model in the log: the report pairs each ``bayes:`` fit with its ML twin."""

    estimate: Estimate
    text: str
    line: int = 0
    quiet: bool = False
    notes: list[str] = field(default_factory=list)  # the sampler's convergence warnings


@dataclass
class Unavailable:
    """A ``bayes:`` twin this version's engine refuses: the report says so, in its place."""

    command: str
    reason: str
    line: int = 0


Entry = Heading | Output | Figure | ModelEntry | Unavailable
