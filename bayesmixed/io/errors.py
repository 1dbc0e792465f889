"""The two errors of saved-result files: one for reading, one for writing.

Both derive from :class:`bayesmixed.BayesmixedError`, so a caller that
catches the package's errors also catches a damaged or unwritable file.
"""

from __future__ import annotations

from ..errors import BayesmixedError


class ResultFileError(BayesmixedError):
    """A saved-result file that cannot be read: truncated, damaged, edited or foreign."""


class ResultSaveError(ResultFileError):
    """A result that could not be written: the message names the path and the cause.

    A subclass of :class:`ResultFileError` because ``save`` already raised that for
    objects that cannot be saved; catching either keeps working.
    """
