"""Size limits on a saved result, and a reader that cannot be talked past them.

Why: a zip states each member's size in its headers, and those headers are
written by whoever made the file.  A 3 MB file can hold gigabytes of zeros
(a "zip bomb"), and a header can understate what its compressed stream
expands to.  So the listing is checked *before* anything is read (member
count, each declared size, their total) and every member is then read
through :func:`read_bounded`, which stops one byte past the declared size
whatever the stream holds.

The defaults are generous for real results: a saved result holds its
estimates and its numeric design (``y``, ``X``, one ``Z`` and code vector
per random-effects block), so a million observations with fifty fixed
effects make a 400 MB member.  A larger result can be read by passing
``limits=ReadLimits(...)`` with higher values to :func:`bayesmixed.io.load`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ResultFileError

KIB, MIB, GIB = 2**10, 2**20, 2**30
_CHUNK = MIB
# the only member names save() writes; anything else is not from this package
_MEMBER_NAME = re.compile(
    r"manifest\.json|result\.json|arrays/\d{1,9}\.npy|idata/[\w.\-/]{1,200}\.nc"
)


@dataclass(frozen=True)
class ReadLimits:
    """Bounds applied while reading a saved result.

    Attributes
    ----------
    max_members : members in the zip.  save() writes one per array (about
        twenty for a two-level model) plus one per ArviZ group.
    max_manifest_bytes : ``manifest.json``, about 100 bytes per member.
    max_json_bytes : ``result.json``.  Parsed JSON takes several times its
        size in memory, so it has its own, smaller bound; it grows only with
        non-numeric row labels (a few tens of bytes per row).
    max_member_bytes : any one ``.npy`` or netCDF member, uncompressed.
    max_total_bytes : all members together, uncompressed: the memory a load
        needs before the result itself is built.
    """

    max_members: int = 4096
    max_manifest_bytes: int = 1 * MIB
    max_json_bytes: int = 64 * MIB
    max_member_bytes: int = 1 * GIB
    max_total_bytes: int = 2 * GIB

    def member_cap(self, name: str) -> int:
        """The largest size allowed for the member ``name``."""
        if name == "manifest.json":
            return self.max_manifest_bytes
        if name.endswith(".json"):
            return self.max_json_bytes
        return self.max_member_bytes


DEFAULT_LIMITS = ReadLimits()


def check_listing(zf: zipfile.ZipFile, path: Path, limits: ReadLimits) -> None:
    """Refuse a zip whose listing alone shows it is not a result (before any read).

    Checks the number of members, that no name is listed twice, and every
    declared uncompressed size against ``limits``.
    """
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ResultFileError(
            f"{path}: {len(infos)} members, more than the {limits.max_members} a result may have"
        )
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise ResultFileError(f"{path}: the zip lists a member twice; it was not written by save()")
    total = 0
    for info in infos:
        _check_size(path, info.filename, info.file_size, limits.member_cap(info.filename))
        total += info.file_size
    if total > limits.max_total_bytes:
        raise ResultFileError(
            f"{path}: the members expand to {total:,} bytes, more than the limit of "
            f"{limits.max_total_bytes:,} (ReadLimits.max_total_bytes)"
        )


def check_names(names: list[str], path: Path) -> None:
    """Refuse member names save() never writes (``evil.py``, ``../x.npy``)."""
    bad = [n for n in names if not _MEMBER_NAME.fullmatch(n)]
    if bad:
        raise ResultFileError(
            f"{path}: unexpected member {bad[0][:80]!r}; it was not written by save()"
        )


def read_bounded(zf: zipfile.ZipFile, name: str, path: Path, limits: ReadLimits) -> bytes:
    """Read one member, refusing it as soon as it passes its declared or allowed size.

    ``zipfile`` already stops at the declared size; reading in chunks and
    counting keeps the bound even if that ever changes, and a member that
    expands past its header is damaged anyway.
    """
    info = zf.getinfo(name)
    cap = min(info.file_size, limits.member_cap(name))
    _check_size(path, name, info.file_size, limits.member_cap(name))
    chunks, size = [], 0
    with zf.open(info) as stream:
        while chunk := stream.read(min(_CHUNK, cap + 1 - size)):
            size += len(chunk)
            if size > cap:
                raise ResultFileError(
                    f"{path}: member {name!r} expands past its declared size; the file is damaged"
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _check_size(path: Path, name: str, size: int, cap: int) -> None:
    if size > cap:
        raise ResultFileError(
            f"{path}: member {name!r} declares {size:,} bytes, more than the limit of {cap:,} "
            "(see bayesmixed.io.ReadLimits)"
        )
