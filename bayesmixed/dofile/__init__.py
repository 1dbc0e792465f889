"""Run Stata do-files: the workshop's commands with Stata's semantics.

``run_do(path, out=None, draws=None)`` executes a do-file against one current dataset
and the active/stored estimates, stops at the first failing command with its line
number, and (with ``out``) writes an HTML report folder only after the whole run
succeeded.
"""

from .errors import CommandError, DoFileError
from .lexer import DoCommand, split_commands
from .runner import run_do
from .session import Session

__all__ = ["CommandError", "DoCommand", "DoFileError", "Session", "run_do", "split_commands"]
