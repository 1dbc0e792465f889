"""Where a report may be written, and how it replaces an older one without losing anything.

A report folder is *replaced*, not merged into: stale figures of an earlier run must not
survive beside a new page.  Replacing means deleting, so only a folder this package wrote
may be replaced -- one that carries our marker file (:data:`MARKER`, with the fixed text
:data:`MARKER_TEXT`), or an empty one.  Anything else (a website with an ``index.html``,
the current directory, a file) is refused *before* any model is fitted, with a message
that says why and what to do: an hour of sampling must not end in "cannot write here".

The new report is built in a fresh hidden sibling folder and renamed into place only when
complete, so an aborted run (an error, Ctrl-C) leaves the previous report as it was.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

from ..errors import BayesmixedError

MARKER = ".bayesmixed-report"
MARKER_TEXT = (
    "This folder is a report written by bayesmixed.  bayesmixed replaces the whole folder\n"
    "when it writes a new report here; keep nothing of your own in it.\n"
)
# a report written before the marker existed: exactly these names, and our stylesheet
_LEGACY_NAMES = {"index.html", "figures"}
_LEGACY_SIGN = "table.bm-compare"


class DestinationError(BayesmixedError):
    """The report cannot be written where asked; nothing was fitted or written."""


def check_destination(out: str | os.PathLike[str]) -> None:
    """Refuse a destination the report could not be written to, or would have to clobber.

    Called before the first command runs.  Accepted: a new folder under a writable
    folder, an empty folder, or a report folder of ours.

    Raises
    ------
    DestinationError
        ``out`` is a file or a link, a non-empty folder we did not write, the current
        directory or one above it, or in a folder that cannot be written to.
    """
    out = Path(out)
    shown = str(out)
    if out.is_symlink():
        raise DestinationError(
            f"report folder {shown} is a symbolic link; give the real folder's path"
        )
    if out.exists() and not out.is_dir():
        raise DestinationError(
            f"report folder {shown} exists and is a file; give a folder name such as report/"
        )
    if out.is_dir():
        _check_not_here(out, shown)
        if _has_entries(out) and not is_ours(out):
            raise DestinationError(
                f"report folder {shown} already exists and was not written by bayesmixed "
                f"(it has no {MARKER} file); the report replaces its whole folder, which would "
                "delete what is in it, so it was left untouched.  Choose a new or empty folder "
                "(e.g. report/)"
            )
    _check_writable(out, shown)


def _has_entries(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except OSError as err:
        raise DestinationError(f"cannot read report folder {folder}: {err.strerror}") from err


def _check_not_here(out: Path, shown: str) -> None:
    """A folder the user stands in cannot be swapped for another (EBUSY, or a lost cwd)."""
    here = Path.cwd().resolve()
    target = out.resolve()
    if target == here or target in here.parents:
        raise DestinationError(
            f"report folder {shown} is the current directory or one above it; the report "
            "replaces its whole folder, so choose a sub-folder instead (e.g. report/)"
        )


def _check_writable(out: Path, shown: str) -> None:
    """The report is built beside ``out`` and renamed into place: try that folder now.

    A probe folder is created and removed at once, because permission bits do not tell
    (root passes every ``os.access`` test, read-only and virtual file systems fail later).
    """
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # a folder to be created: its nearest existing ancestor
    if not parent.is_dir():
        raise DestinationError(f"cannot create report folder {shown}: {parent} is a file")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".bayesmixed-probe-", dir=parent))
    except OSError as err:
        raise DestinationError(
            f"cannot write report folder {shown}: {parent} is not writable ({err.strerror or err})"
        ) from err


def is_ours(folder: Path) -> bool:
    """Whether ``folder`` is a report bayesmixed wrote (our marker, or an older report)."""
    marker = folder / MARKER
    try:
        if marker.is_file():
            return marker.read_text(encoding="utf-8") == MARKER_TEXT
        names = {p.name for p in folder.iterdir()}
        if names - _LEGACY_NAMES or "index.html" not in names:
            return False
        if (folder / "figures").exists() and not _only_pngs(folder / "figures"):
            return False
        with open(folder / "index.html", encoding="utf-8", errors="replace") as page:
            return _LEGACY_SIGN in page.read(20_000)
    except OSError:
        return False


def _only_pngs(folder: Path) -> bool:
    return folder.is_dir() and all(p.suffix == ".png" and p.is_file() for p in folder.iterdir())


def mark(folder: Path) -> None:
    """Sign ``folder`` as ours, so a later run may replace it."""
    (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


def swap_in(tmp: Path, out: Path) -> None:
    """Move the finished report ``tmp`` to ``out``, replacing an older report there.

    The old folder is first renamed aside and restored if the second rename fails, so
    ``out`` never holds a mix: it is the complete old report, the complete new one, or,
    between the two renames, absent.
    """
    os.chmod(tmp, 0o755)
    if out.is_dir() and not _has_entries(out):
        out.rmdir()  # an empty folder: nothing to keep
    if not out.exists():
        tmp.rename(out)
        return
    check_destination(out)  # still ours? (it may have changed while the models ran)
    old = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
