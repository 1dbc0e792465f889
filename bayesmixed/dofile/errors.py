"""The one error a do-file run raises: where it stopped, and why."""

from __future__ import annotations

from ..errors import BayesmixedError


class DoFileError(BayesmixedError):
    """A command of a do-file failed; the run stopped there and wrote nothing.

    Attributes
    ----------
    path : the do-file (the innermost one for ``do`` inside a do-file).
    line : the line the failing command starts on.
    command : the command as written (comments removed).
    reason : the underlying message (a :class:`BayesmixedError`'s text).
    """

    def __init__(self, path: str, line: int, command: str, reason: str) -> None:
        self.path, self.line, self.command, self.reason = path, line, command, reason
        super().__init__(f"{path}, line {line}: {reason}\n  . {command}")


class CommandError(BayesmixedError):
    """A command the runner does not know or cannot run as written."""
