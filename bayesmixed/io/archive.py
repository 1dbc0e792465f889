"""The container of a saved result: a zip of JSON, ``.npy`` and netCDF members.

Why this format: every member is an open, documented format that other tools
read (``json``, NumPy's ``.npy``, read by a strict parser that cannot unpickle,
netCDF for ArviZ draws), so a saved result outlives this package and loading one never
runs code from the file.  ``manifest.json`` lists each member with its SHA-256,
so a truncated download or a flipped bit is reported instead of silently
giving different estimates.

What the checksums do *not* do is prove who wrote the file: anyone who edits
a member can recompute its SHA-256 (they are not signed).  Against a
deliberately crafted file the defence is validation instead -- size limits
checked before reading (:mod:`.limits`), only the member names save() writes,
every member referenced by the result, and the structure and types of every
field checked on load -- so such a file is refused with
:class:`ResultFileError` or loads as a well-formed result; it never runs code
or makes a load need more memory than :class:`~.limits.ReadLimits` allows.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import ResultFileError, ResultSaveError
from .limits import DEFAULT_LIMITS, ReadLimits, check_listing, check_names, read_bounded
from .npy import read_npy

FORMAT = "bayesmixed-result"
VERSION = 1
MANIFEST = "manifest.json"
RESULT = "result.json"  # the result record; results_io.RESULT_MEMBER
_SHA256 = re.compile(r"[0-9a-f]{64}")

__all__ = ["ArchiveReader", "ArchiveWriter", "ResultFileError", "ResultSaveError"]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArchiveWriter:
    """Collects members in memory, then writes them with their checksums."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.members: dict[str, bytes] = {}

    def add_bytes(self, name: str, data: bytes) -> str:
        if name in self.members or name == MANIFEST:
            raise ValueError(f"duplicate archive member {name!r}")
        self.members[name] = data
        return name

    def add_json(self, name: str, obj: object) -> str:
        text = json.dumps(obj, allow_nan=False, indent=1, sort_keys=False)
        return self.add_bytes(name, text.encode("utf-8"))

    def add_array(self, array: np.ndarray) -> str:
        """Store ``array`` as ``arrays/<i>.npy`` and return its member name."""
        arr = np.asarray(array)
        if arr.dtype.hasobject:
            raise ResultFileError(f"cannot save an object array (dtype {arr.dtype})")
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        return self.add_bytes(f"arrays/{len(self.members)}.npy", buf.getvalue())

    def write(self, path: str | Path) -> Path:
        """Write the zip to ``path`` atomically (see :mod:`.atomic`); ResultSaveError on failure."""
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "members": {name: _sha256(data) for name, data in self.members.items()},
        }
        return atomic_write(path, lambda handle: self._zip(handle, manifest))

    def _zip(self, handle, manifest: dict) -> None:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
            for name, data in self.members.items():
                zf.writestr(name, data)


class ArchiveReader:
    """Reads and verifies every member up front; later reads cannot fail on I/O.

    Records which members the decoder asks for, so :meth:`check_all_used` can
    refuse a file that carries members the result never refers to.
    """

    def __init__(self, path: str | Path, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.members, manifest, self._record = _read_verified(self.path, limits)
        self.kind: str = manifest["kind"]
        self.used: set[str] = set()

    def json(self, name: str) -> object:
        data = self._get(name)
        return self._record if name == RESULT else _parse_json(data, name, self.path)

    def bytes(self, name: str) -> bytes:
        return self._get(name)

    def array(self, name: str) -> np.ndarray:
        data = self._get(name)
        if not name.endswith(".npy"):
            raise ResultFileError(f"{self.path}: member {name!r} is not an array")
        try:
            return read_npy(data, name)
        except ResultFileError as exc:
            raise ResultFileError(f"{self.path}: {exc}") from exc

    def check_all_used(self) -> None:
        """Refuse members the result never referred to: save() writes none."""
        unused = sorted(set(self.members) - self.used)
        if unused:
            raise ResultFileError(
                f"{self.path}: members {', '.join(unused[:5])} are not part of the result; "
                "the file was modified after it was saved"
            )

    def _get(self, name: object) -> bytes:
        if not isinstance(name, str) or name not in self.members:
            raise ResultFileError(f"{self.path}: refers to a missing member {str(name)[:80]!r}")
        self.used.add(name)
        return self.members[name]


def _read_verified(path: Path, limits: ReadLimits) -> tuple[dict[str, bytes], dict, object]:
    """Every member but the manifest (checksum-verified), the manifest, the parsed record."""
    if not path.exists():
        raise ResultFileError(f"no saved result at {path}")
    if path.is_dir():
        raise ResultFileError(f"{path} is a folder, not a saved result")
    try:
        with zipfile.ZipFile(path) as zf:
            return _read_members(zf, path, limits)
    except ResultFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError) as exc:
        raise ResultFileError(
            f"{path} is not a readable bayesmixed result file (truncated or damaged: {exc})"
        ) from exc
    except (zlib.error, NotImplementedError, ValueError, RuntimeError) as exc:
        # a damaged deflate stream, or a compression method / encryption save() never uses
        raise ResultFileError(f"{path}: damaged compressed data ({exc})") from exc


def _read_members(zf: zipfile.ZipFile, path: Path, limits: ReadLimits):
    """Verify the listing, then ``result.json``, then only the members it refers to."""
    check_listing(zf, path, limits)
    manifest = _manifest(zf, path, limits)
    listed = manifest["members"]
    found = {n for n in zf.namelist() if n != MANIFEST}
    if found != set(listed):
        extra = sorted(found ^ set(listed))
        raise ResultFileError(
            f"{path}: members do not match the manifest ({', '.join(extra[:5])}); "
            "the file was modified after it was saved"
        )
    check_names(list(listed), path)
    if RESULT not in listed:
        raise ResultFileError(f"{path} is not a bayesmixed result file (no {RESULT})")
    out = {RESULT: _read_checked(zf, RESULT, listed[RESULT], path, limits)}
    record = _parse_json(out[RESULT], RESULT, path)
    unreferenced = sorted(set(listed) - referenced_members(record) - {RESULT})
    if unreferenced:  # refused before reading them: save() writes no such member
        raise ResultFileError(
            f"{path}: members {', '.join(unreferenced[:5])} are not part of the result; "
            "the file was modified after it was saved"
        )
    for name, digest in listed.items():
        if name != RESULT:
            out[name] = _read_checked(zf, name, digest, path, limits)
    return out, manifest, record


def _read_checked(zf: zipfile.ZipFile, name: str, digest: str, path: Path, limits) -> bytes:
    data = read_bounded(zf, name, path, limits)
    if _sha256(data) != digest:
        raise ResultFileError(
            f"{path}: checksum mismatch in {name!r}; the file is corrupted "
            "(the checksum catches damage, not deliberate edits)"
        )
    return data


def _parse_json(data: bytes, name: str, path: Path) -> object:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ResultFileError(f"{path}: member {name!r} is not valid JSON") from exc


def referenced_members(record: object) -> set[str]:
    """Member names the result record refers to (``$array`` values, ArviZ ``member``s).

    Walked with an explicit stack: a crafted record may nest deeper than Python's
    recursion limit.
    """
    refs, stack = set(), [record]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("$array", "member") and isinstance(value, str):
                    refs.add(value)
                stack.append(value)
    return refs


def _manifest(zf: zipfile.ZipFile, path: Path, limits: ReadLimits) -> dict:
    if MANIFEST not in zf.namelist():
        raise ResultFileError(f"{path} is not a bayesmixed result file (no {MANIFEST})")
    try:
        manifest = json.loads(read_bounded(zf, MANIFEST, path, limits).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ResultFileError(f"{path}: the manifest is damaged") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ResultFileError(f"{path} is not a bayesmixed result file")
    version = manifest.get("version")
    if type(version) is not int or version != VERSION:
        raise ResultFileError(
            f"{path} was saved by format version {str(version)[:20]}; "
            f"this bayesmixed reads version {VERSION}"
        )
    if set(manifest) != {"format", "version", "kind", "members"}:
        raise ResultFileError(f"{path}: the manifest has unexpected fields")
    kind, members = manifest["kind"], manifest["members"]
    if not isinstance(kind, str) or not isinstance(members, dict):
        raise ResultFileError(f"{path}: the manifest is damaged")
    if not all(isinstance(v, str) and _SHA256.fullmatch(v) for v in members.values()):
        raise ResultFileError(f"{path}: the manifest's checksums are damaged")
    return manifest
