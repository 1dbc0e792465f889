"""Read a do-file's text the way Stata users' files are actually encoded.

Stata 14 and later write do-files in UTF-8; Stata 13 and earlier wrote them in the
computer's own 8-bit encoding -- Windows-1252 on Windows, Latin-1 elsewhere -- and
workshops still hand out such files, with accented names in comments and labels
(``* caf\\xe9``).  Stata 14 itself reads an old file without complaint, so a Stata user
expects it to run here too rather than to fail on a byte they cannot see.  Commands are
ASCII in every one of these encodings; only comments and strings differ, so reading an
old file as Windows-1252 (a superset of Latin-1's printable characters) loses nothing
that matters.

The order is UTF-8 first (a Latin-1 file with accents is almost never valid UTF-8, so
the guess is safe), dropping a byte-order mark that Windows editors put at the start
(which otherwise glues itself to the first command: ``\\ufeffuse`` is unknown); then
UTF-16 when a UTF-16 byte-order mark says so (Notepad's "Unicode"); then Windows-1252;
then Latin-1, which decodes any byte.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import BayesmixedError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_source(path: Path) -> str:
    """The text of the do-file at ``path``.

    Raises
    ------
    BayesmixedError
        The file cannot be read (permissions, a folder, an I/O error), or is a UTF-16
        file that is not valid UTF-16.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise BayesmixedError(f"cannot read do-file {path}: {err.strerror or err}") from err
    return decode(raw, str(path))


def decode(raw: bytes, name: str = "do-file") -> str:
    """Decode a do-file's bytes: UTF-8 (BOM dropped), UTF-16 by BOM, else Windows-1252."""
    if raw.startswith(_UTF16_BOMS):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as err:
            raise BayesmixedError(
                f"{name} starts with a UTF-16 byte-order mark but is not valid UTF-16 "
                f"(byte {err.start}); save it as UTF-8"
            ) from err
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")
