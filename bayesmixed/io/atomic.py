"""Write a file so that readers see the old file or the new one, never a mix.

Why not a fixed ``<path>.part``: two saves to one path would share it (a
reader then saw "Bad CRC"), a symlink planted under that predictable name
would redirect the write, and a failed save left it behind.  Instead each
write goes to its own temporary file made by :func:`tempfile.mkstemp` in the
target's folder (created with ``O_EXCL``, so it is never an existing file or
link), is flushed to disk with ``fsync`` and then renamed over the target
with :func:`os.replace`, which is atomic within one file system.  On any
failure the temporary file is removed and a :class:`ResultSaveError` says
what failed and where.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import ResultSaveError

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "the path is a folder",
}


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a fresh temporary file, then move it to ``path``.

    Parameters
    ----------
    path : the file to create or replace.
    write : fills the open binary handle; it must not close it.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ResultSaveError
        When ``path`` is a folder, its folder is missing or unwritable, or the
        disk is full; the target is then unchanged and no temporary file remains.
    """
    path = Path(path)
    if path.is_dir():
        raise ResultSaveError(f"cannot save to {path}: it is a folder; give a file name")
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _error(path, "create a temporary file in its folder", exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _error(path, "write it", exc) from exc
        raise
    _sync_folder(folder)
    return path


def _error(path: Path, step: str, exc: OSError) -> ResultSaveError:
    reason = _REASONS.get(exc.errno or 0, exc.strerror or str(exc))
    return ResultSaveError(f"cannot save to {path}: failed to {step}: {reason} ({exc})")


@functools.cache
def _default_mode() -> int:
    """The mode an ordinary ``open(path, "w")`` would give (mkstemp makes it 0600).

    Read once: ``os.umask`` can only be read by setting it, which must not race
    with other threads creating files.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; best effort (some systems cannot open folders)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_default_mode()  # read the umask at import, before any thread saves
